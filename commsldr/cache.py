"""Where commsldr caches what it computes: trained models, operating-point tables, decoded
datasets, torchvision downloads. One place per user, whatever the working directory:

``$COMMSLDR_CACHE`` if set, else ``$XDG_CACHE_HOME/commsldr``, else ``~/.cache/commsldr``.

A scenario's ``model.cache_dir`` overrides it for that scenario's models and tables. This module
imports nothing heavy (``commsldr list`` and the scenario schema use it).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root", "resolve_cache_dir"]


def cache_root() -> Path:
    """The user's commsldr cache directory (see the module docstring)."""
    env = os.environ.get("COMMSLDR_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "commsldr"


def resolve_cache_dir(configured: str | os.PathLike[str] | None) -> Path:
    """``configured`` (a scenario's ``model.cache_dir``) or, when empty, :func:`cache_root`."""
    return Path(configured).expanduser() if configured else cache_root()
