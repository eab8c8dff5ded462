"""The cell's user error (kept apart so that the config and the schedulers can both raise it)."""

from __future__ import annotations

from commsldr.errors import UserError

__all__ = ["CellConfigError"]


class CellConfigError(UserError):
    """A bad cell parameter (the message names the key and what is allowed)."""
