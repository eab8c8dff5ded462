"""What produced a result: library and dependency versions, the source's git commit, the
command line and its ``--set`` overrides (``results.json["provenance"]``).

Output of :func:`provenance`::

    {"commsldr": "0.1.0", "git_commit": "3f2c…" | null, "git_dirty": false | null,
     "python": "3.11.9", "torch": "2.5.1", "sionna": "2.0.0" | null, "numpy": "2.1.3",
     "platform": "Linux-6.1-x86_64", "command": ["commsldr", "run", …],
     "overrides": ["frames=500", …]}

``git_commit`` is that of the checkout the ``commsldr`` package is imported from (``null`` for
an installed wheel or without git); ``git_dirty`` says whether tracked files differ from it.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["provenance", "overrides_of"]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def overrides_of(command: Sequence[str]) -> list[str]:
    """The ``--set`` values of a command line (``--set K=V`` and ``--set=K=V``)."""
    out: list[str] = []
    it = iter(command)
    for arg in it:
        if arg == "--set":
            value = next(it, None)
            if value is not None:
                out.append(value)
        elif arg.startswith("--set="):
            out.append(arg[len("--set="):])
    return out


def provenance(command: Sequence[str] | None = None) -> dict[str, Any]:
    """The provenance record (see the module docstring).

    Input:
        command: the command line (default ``sys.argv``, its first entry shortened to the
            program's name).

    Output:
        dict of JSON values.
    """
    import commsldr

    cmd = list(sys.argv if command is None else command)
    if cmd and command is None:
        cmd[0] = Path(cmd[0]).name
    src = Path(commsldr.__file__).resolve().parent.parent
    commit = _git(["rev-parse", "HEAD"], src) if (src / ".git").exists() else None
    dirty = None
    if commit is not None:
        status = _git(["status", "--porcelain", "--untracked-files=no"], src)
        dirty = None if status is None else bool(status)
    torch_version = _version("torch")
    return {
        "commsldr": commsldr.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "python": platform.python_version(),
        "torch": torch_version,
        "sionna": _version("sionna") or _version("sionna-no-rt") or _version("sionna-phy"),
        "numpy": _version("numpy"),
        "platform": platform.platform(terse=True),
        "command": cmd,
        "overrides": overrides_of(cmd),
    }
