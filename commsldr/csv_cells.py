"""CSV cells that a spreadsheet never runs as a formula.

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is a formula
to Excel, LibreOffice and Google Sheets (``=cmd|' /C calc'!A0``: "CSV injection"). Labels in a
result file come from the scenario (channel and policy labels, sweep keys), so every text cell
and column name that starts with one of those characters is written with a leading ``'``, which
spreadsheets show as text (OWASP, "CSV Injection"). Numbers are written as numbers: ``-3.5`` stays
``-3.5``.

Reference: OWASP Foundation, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_START", "safe_cell"]

#: first characters that make a spreadsheet read a cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, or ``"'" + value`` for a string starting with one of :data:`FORMULA_START`.

    Input:
        value (Any): a cell (numbers and other non-strings pass unchanged).

    Output:
        Any: the cell to write.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
