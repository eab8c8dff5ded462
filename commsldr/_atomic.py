"""Atomic file writes: a temporary file in the target directory, flushed and fsynced, then
:func:`os.replace` — a reader sees the old file or the new one, never a torn write, and two
writers of the same path never share a temporary file.

The file gets the permissions an ordinary ``open(path, "w")`` would give it: those of the file it
replaces, or ``0o666 & ~umask`` for a new file (:func:`tempfile.mkstemp` alone would leave it
owner-only, ``0o600``, which breaks shared run directories).

The one implementation used by checkpoints, latent statistics, operating-point tables, dataset
caches and result files. Temporary files are named ``.<name>.<pid>.<random>.tmp``; a process killed
mid-write leaves one behind, and :func:`remove_stale_temp_files` (called when training starts and
when a cache is used) deletes those whose process is gone.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_torch_save",
           "remove_stale_temp_files"]

_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def _current_umask() -> int:
    """The process umask, read without changing it where ``/proc`` allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting and restoring it
    os.umask(mask)
    return mask


def _target_mode(path: Path) -> int:
    """Mode for ``path``: that of the existing file, else ``0o666 & ~umask``."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_current_umask()


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(fh)`` on a binary temporary file next to ``path``, then move it into place.

    Parent directories are created; the file's mode is that of the file it replaces, or
    ``0o666 & ~umask`` for a new one. On any error the temporary file is removed and the error
    re-raised (``path`` is left as it was).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, _target_mode(path))
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # e.g. a full disk: name the file
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save(obj)`` to ``path`` atomically."""
    import torch

    return atomic_write(path, lambda fh: torch.save(obj, fh))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or unknown: keep its file
    return True


def remove_stale_temp_files(directory: str | os.PathLike[str], recursive: bool = False) -> list[Path]:
    """Delete the temporary files of :func:`atomic_write` left in ``directory`` by processes that
    no longer run (killed mid-write). Files of live processes are kept.

    Returns:
        The paths removed.
    """
    root = Path(directory)
    if not root.is_dir():
        return []
    removed = []
    for p in (root.rglob(".*.tmp") if recursive else root.glob(".*.tmp")):
        m = _TEMP.match(p.name)
        if m and p.is_file() and not _alive(int(m.group(1))):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed
