"""User errors: one exception family the command line turns into a short message and exit code 2.

Everything the user can get wrong (a scenario key, a training flag, a file, a checkpoint) raises
a :class:`UserError` (or a subclass, e.g. :class:`~commsldr.scenario.ScenarioError`) whose message
names the key or file and says what is allowed. :func:`show` cuts any echoed value to about 200
characters, so a huge or self-referencing value never floods a message (or memory).
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from typing import Any

__all__ = ["ECHO_CHARS", "UserError", "cut", "did_you_mean", "show"]

#: longest echo of a user value in a message
ECHO_CHARS = 200

_repr = reprlib.Repr()
_repr.maxlevel = 4
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 8
_repr.maxstring = _repr.maxother = ECHO_CHARS
_repr.maxlong = 60


def show(value: Any, limit: int = ECHO_CHARS) -> str:
    """``repr(value)`` bounded in time, memory and length (at most ``limit`` characters).

    Nested containers are cut after 8 entries and 4 levels (``reprlib``), so even a billion-laughs
    structure of shared lists prints in microseconds.
    """
    text = _repr.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cut(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters (``...`` marks the cut)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class UserError(ValueError):
    """A mistake in the user's input. ``key`` names the offending key, flag or file (may be ``""``).

    The message is ``"<key>: <what is wrong and what is allowed>"``, cut to 600 characters.
    """

    def __init__(self, key: str, message: str) -> None:
        if not key.isprintable():  # a key with a newline or control character stays one line
            key = key.encode("unicode_escape").decode("ascii")
        text = f"{key}: {message}" if key else message
        if len(text) > 3 * ECHO_CHARS:
            text = text[: 3 * ECHO_CHARS - 3] + "..."
        super().__init__(text)
        self.key = key
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes, whatever the subclass
        return (_rebuild, (type(self), self.key, self.message))


def _rebuild(cls: type[UserError], key: str, message: str) -> UserError:
    err = cls.__new__(cls)
    UserError.__init__(err, key, message)
    return err
