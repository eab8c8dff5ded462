"""Reading torch files that may come from anyone: ``weights_only=True`` and one clear line.

``torch.load(..., weights_only=True)`` refuses a pickle that would import or call anything other
than tensors and plain containers, but its message advises re-running with
``weights_only=False`` — the one thing that would execute the file's code. :func:`load_tensors`
loads with ``weights_only=True`` and turns every failure into a short reason that never gives
that advice: "holds pickled code or objects (posix.system); refused without running it",
"truncated or not a torch file", ...
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

__all__ = ["describe_load_error", "load_tensors"]

_GLOBAL = re.compile(r"(?:GLOBAL|global|function)\s+([\w.]+)")


#: how a file written by ``torch.save`` starts: a zip archive (the format since torch 1.6) or a
#: pickle of protocol 2 or later (the legacy format)
_TORCH_HEADERS = (b"PK\x03\x04", b"\x80")


def _not_torch(path: str | os.PathLike[str] | None) -> str | None:
    """Why the file at ``path`` is not a torch file by its first bytes, or None (it may be)."""
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    if not head:
        return "it is empty, not a torch file"
    if head.startswith(_TORCH_HEADERS):
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not a torch file (neither a zip archive nor a pickle)"
    if text.lstrip()[:1] in ("{", "["):
        return "it is a JSON or text file, not a torch file"
    return "it is a text file, not a torch file"


def describe_load_error(exc: BaseException, path: str | os.PathLike[str] | None = None) -> str:
    """A one-line reason for a failed ``torch.load(weights_only=True)``, without torch's advice.

    Input:
        exc (BaseException): what ``torch.load`` raised.
        path (path-like, optional): the file; its first bytes tell a file that is no torch file
            at all (text, JSON, empty) from a torch file that cannot be loaded.

    Output:
        str: e.g. ``"it holds pickled code or objects (posix.system), which are never loaded;
        only tensors and plain containers are allowed"``.
    """
    if (reason := _not_torch(path)) is not None:
        return reason
    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) or "weights_only" in text or "Weights only" in text:
        m = _GLOBAL.search(text)
        what = f" ({m.group(1)})" if m else ""
        return (f"it holds pickled code or objects{what}, which are never loaded (not executed); "
                f"only tensors and plain containers are allowed")
    if isinstance(exc, (EOFError, RuntimeError)) and ("zip" in text.lower() or "EOF" in text
                                                       or "central directory" in text
                                                       or isinstance(exc, EOFError)):
        return "it is truncated or not a torch file"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"it cannot be read ({type(exc).__name__}: {first[:200]})"


def load_tensors(path: str | os.PathLike[str]) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)``; failures raise ``ValueError``
    with :func:`describe_load_error`'s reason (``OSError`` such as a missing file passes through).

    Input:
        path (path-like): a file written by ``torch.save``.

    Output:
        Any: the loaded object (tensors, dicts, lists, numbers, strings).
    """
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - every unpickling failure becomes one line
        raise ValueError(f"{path}: {describe_load_error(exc, path)}") from None
