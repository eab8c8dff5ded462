r"""Sphinx roles and directives of docstrings, turned into Markdown (the API pages) or plain text
(``commsldr describe``).

Docstrings are written Sionna-style with reStructuredText roles: ``:math:`\sigma^2```,
``:class:`~commsldr.link.PHY```, ``.. math::`` blocks. The API pages are Markdown (mkdocstrings),
so ``docs/hooks/griffe_roles.py`` runs :func:`to_markdown` on every docstring at build time
(math becomes ``$…$``/``$$…$$`` for arithmatex and KaTeX, references become code); the terminal
gets :func:`to_text` (math as its TeX source, references as names).

This module imports nothing from the rest of the package, so the documentation build loads it
by path without importing torch.
"""

from __future__ import annotations

import re
import textwrap

__all__ = ["to_markdown", "to_text", "ROLE"]

ROLE = re.compile(r":(?:py:)?(math|class|func|meth|attr|mod|data|exc|obj|const|ref|term|doc)"
                  r":`((?:[^`\\]|\\.)*)`")
"""A Sphinx role with its content, e.g. ``:class:`~a.B```; group 1 the role, 2 the content."""

_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
          "rho sigma tau upsilon phi chi psi omega").split()
_TEX_TEXT: dict[str, str] = {
    **{"\\" + g: chr(0x3B1 + i + (1 if i >= 17 else 0)) for i, g in enumerate(_GREEK)},
    **{"\\" + g.capitalize(): chr(0x391 + i + (1 if i >= 17 else 0)) for i, g in enumerate(_GREEK)},
    "\\cdot": "·", "\\times": "×", "\\leq": "≤", "\\le": "≤", "\\geq": "≥", "\\ge": "≥",
    "\\neq": "≠", "\\ne": "≠", "\\approx": "≈", "\\pm": "±", "\\infty": "∞", "\\sum": "Σ",
    "\\sqrt": "√", "\\in": "∈", "\\to": "→", "\\sim": "~", "\\ldots": "…", "\\dots": "…",
    "\\cos": "cos ", "\\sin": "sin ", "\\log": "log ", "\\exp": "exp ", "\\max": "max ",
    "\\min": "min ", "\\qquad": "  ", "\\quad": " ", "\\,": " ", "\\;": " ", "\\!": "",
}
"""TeX commands shown as Unicode by :func:`to_text` (Greek letters, common operators, spaces)."""
_TEX_WORD = re.compile("|".join(
    re.escape(k) + (r"(?![A-Za-z])" if k[-1].isalpha() else "")
    for k in sorted(_TEX_TEXT, key=len, reverse=True)))


def _tex_text(tex: str) -> str:
    return _TEX_WORD.sub(lambda m: _TEX_TEXT[m.group(0)], tex)


_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<arg>.*)$")


def _reference(content: str) -> str:
    """``~a.b.C`` → ``C``; ``title <a.b.C>`` → ``title``; ``a.b.C`` stays."""
    m = re.fullmatch(r"(.*?)\s*<([^>]+)>", content, flags=re.S)
    if m and m.group(1):
        return m.group(1)
    target = m.group(2) if m else content
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target.lstrip("!")


def _math_blocks(text: str, open_: str, close: str) -> str:
    """Replace each ``.. math::`` directive (its indented body) by ``open_ body close``."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group("indent")
        body = [m.group("arg")] if m.group("arg").strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or
                                  len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            i -= 1  # give trailing blank lines back to the text
            body.pop()
        tex = textwrap.dedent("\n".join(b for b in body)).strip("\n")
        if tex.lstrip().startswith(":"):  # directive options (:label: ...)
            tex = "\n".join(x for x in tex.split("\n") if not x.lstrip().startswith(":"))
        out.append(f"{indent}{open_}")
        out.extend(f"{indent}{x}" if x.strip() else "" for x in tex.split("\n"))
        out.append(f"{indent}{close}")
    return "\n".join(out)


def to_markdown(text: str) -> str:
    r"""A docstring's Sphinx markup as Markdown for mkdocstrings with arithmatex.

    ``:math:`x``` → ``$x$``; a ``.. math::`` block → ``$$`` … ``$$`` (same indentation);
    ``:class:`~a.B``` (and ``func``, ``meth``, ``attr``, ``mod``, ``data``, ``exc``, ``obj``) →
    ```B```.

    Input:
        text: the docstring.

    Output:
        str.
    """
    text = _math_blocks(text, "$$", "$$")

    def repl(m: re.Match[str]) -> str:
        role, content = m.group(1), m.group(2)
        if role == "math":
            return f"${content.strip()}$"
        return f"`{_reference(content)}`"

    return ROLE.sub(repl, text)


def to_text(text: str) -> str:
    r"""A docstring's Sphinx markup as plain text for a terminal.

    ``:math:`x``` → ``x`` (its TeX source, Greek letters and common operators as Unicode); a
    ``.. math::`` block → its indented TeX;
    ``:class:`~a.B``` → ``B``; ````code```` → ``code``.

    Input:
        text: the docstring.

    Output:
        str.
    """
    text = _math_blocks(text, "\x00", "\x00")
    text = re.sub(r"\x00([^\x00]*)\x00", lambda m: _tex_text(m.group(1)), text)

    def repl(m: re.Match[str]) -> str:
        role, content = m.group(1), m.group(2)
        return _tex_text(content.strip()) if role == "math" else _reference(content)

    text = ROLE.sub(repl, text)
    return re.sub(r"``([^`]+)``", r"\1", text)
