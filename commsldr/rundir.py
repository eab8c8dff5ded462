"""Run directories that cannot be redirected or shared.

A run directory is written by one process at a time and never through a symbolic link:

* **Claim** (:func:`claim_run_dir`): the directory is created if missing, opened with
  ``O_DIRECTORY | O_NOFOLLOW`` and locked with ``flock(LOCK_EX | LOCK_NB)`` on that descriptor for
  the rest of the process (the kernel drops the lock when the process ends, ``kill -9``
  included). A second run on the same directory — two ``--out DIR`` started together, or a
  ``--resume`` while the run still goes — is refused with the holder's name; the emptiness check
  for ``--out`` happens under the lock, so of two synchronised starts exactly one gets the
  directory.
* **No links inside**: after the claim, any symbolic link anywhere inside the directory is
  refused (:func:`refuse_links`), so ``--overwrite`` and ``--resume`` never write through one.
* **Files**: whole files are written to a temporary file inside the directory and renamed over
  the name (:mod:`commsldr._atomic`; a rename replaces a link, it never follows it); appended files
  are opened with ``O_NOFOLLOW`` (:func:`open_append`); a file started afresh is unlinked and
  created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (:func:`create_fresh`).

* **Checks without a claim** (``commsldr run --check``): :func:`check_run_dir` refuses what
  :func:`claim_run_dir` would refuse (a file or a link, a directory that already holds files) with
  the same message, and :func:`probe_creatable` tells whether a directory that does not exist yet
  can be created by creating and removing a temporary one in its nearest existing folder
  (``os.access`` answers yes to root everywhere, ``/proc`` included).

Reference: ``open(2)`` (``O_NOFOLLOW``, ``O_EXCL``), ``flock(2)``, ``rename(2)``.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

from commsldr.errors import UserError

try:  # POSIX; elsewhere (Windows) run directories are created but not locked
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunDirError", "check_run_dir", "claim_run_dir", "create_fresh", "discard_run_dir",
           "open_append", "probe_creatable", "refuse_links", "release_run_dir"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_HELD: dict[str, int] = {}  # run directory (resolved) -> the locked descriptor of this process
_HOLDS_FILES = "{path} already holds files; choose a new directory or pass --overwrite"


class RunDirError(UserError):
    """A run directory that is in use, holds links, or cannot be created."""


def _lock(path: Path, key: str) -> None:
    resolved = str(path.resolve())
    if resolved in _HELD:
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise RunDirError(key, f"{path} is a symbolic link; give the real directory") from None
        raise RunDirError(key, f"cannot open {path}: {exc.strerror or exc}") from None
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RunDirError(key, f"{path} is in use by another commsldr run; wait for it to end "
                               f"or choose another directory") from None
    _HELD[resolved] = fd


def release_run_dir(path: str | os.PathLike[str]) -> None:
    """Drop this process's lock on ``path`` (it is dropped at exit anyway)."""
    fd = _HELD.pop(str(Path(path).resolve()), None)
    if fd is not None:
        os.close(fd)


def discard_run_dir(path: str | os.PathLike[str]) -> None:
    """Delete a run directory this process created and holds (a run that stopped with an error
    before it could finish: no partial directory is left), then drop its lock."""
    path = Path(path)
    if str(path.resolve()) in _HELD and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)  # never follows links (rmtree's own guarantee)
    release_run_dir(path)


def refuse_links(path: str | os.PathLike[str], key: str = "--out") -> None:
    """Raise :class:`RunDirError` if any entry inside ``path`` (recursively) is a symbolic link."""
    stack = [Path(path)]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError as exc:
            raise RunDirError(key, f"cannot read {d}: {exc.strerror or exc}") from None
        for e in entries:
            if e.is_symlink():
                raise RunDirError(key, f"{e.path} is a symbolic link; a run directory may not "
                                       f"contain links (remove it)")
            if e.is_dir(follow_symlinks=False):
                stack.append(Path(e.path))


def probe_creatable(path: str | os.PathLike[str], key: str) -> None:
    """Raise :class:`RunDirError` naming ``key`` unless ``path`` is a directory or one can be
    created there.

    For a ``path`` that does not exist, its nearest existing folder gets a temporary
    subdirectory that is removed at once, so the answer is what ``mkdir`` does (a read-only or
    virtual file system, permissions, a quota), not what ``os.access`` guesses (yes, for root,
    everywhere). Nothing is left behind. An existing directory is accepted as it is (a
    read-only model cache may be complete).
    """
    shown = os.fspath(path)
    parent = Path(path).expanduser().absolute()
    try:
        if parent.is_dir():
            return
        if parent.exists() or parent.is_symlink():
            raise RunDirError(key, f"{shown} exists and is not a directory")
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            raise RunDirError(key, f"cannot create {shown}: {parent} is not a directory")
        os.rmdir(tempfile.mkdtemp(prefix=".commsldr-probe-", dir=parent))
    except RunDirError:
        raise
    except OSError as exc:
        raise RunDirError(key, f"cannot create {shown}: {parent} does not accept new "
                               f"directories ({exc.strerror or exc})") from None


def check_run_dir(path: str | os.PathLike[str], *, key: str = "--out", overwrite: bool = False) -> None:
    """Without creating or locking anything, raise the :class:`RunDirError` that
    :func:`claim_run_dir` would raise for ``path`` (``commsldr run --check --out DIR``): a link,
    a file, a directory that holds files (without ``overwrite``) or holds a link, a directory
    that cannot be created."""
    path = Path(path)
    try:
        _refuse_non_directory(path, key)
        if not path.exists():
            probe_creatable(path, key)
            return
        holds_files = any(path.iterdir())
    except OSError as exc:  # e.g. a name too long, a folder that cannot be read
        raise RunDirError(key, f"cannot access {path}: {exc.strerror or exc}") from None
    if holds_files and not overwrite:
        raise RunDirError(key, _HOLDS_FILES.format(path=path))
    refuse_links(path, key)


def _refuse_non_directory(path: Path, key: str) -> None:
    if path.is_symlink():
        raise RunDirError(key, f"{path} is a symbolic link; give the real directory")
    if path.exists() and not path.is_dir():
        raise RunDirError(key, f"{path} exists and is not a directory")


def claim_run_dir(path: str | os.PathLike[str], *, key: str = "--out", fresh: bool = False,
                  overwrite: bool = False, resume: bool = False) -> Path:
    """Create (if needed), lock and check a run directory for this process.

    Input:
        path (path-like): the run directory.
        key (str): the flag or key named in messages (``--out``, ``--resume``, ``outputs.dir``).
        fresh (bool): ``path`` was just created by this process with an exclusive ``mkdir``.
        overwrite (bool): a directory that already holds files may be reused.
        resume (bool): the directory is an interrupted run being finished.

    Output:
        Path: ``path``, locked until the process ends (or :func:`release_run_dir`).

    Raises:
        RunDirError: ``path`` is a file or a link, in use by another run, holds files (without
        ``overwrite``/``resume``) or contains a link.
    """
    path = Path(path)
    _refuse_non_directory(path, key)
    if not resume:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(key, f"cannot create {path}: {exc.strerror or exc}") from None
    _lock(path, key)
    try:
        if not (fresh or overwrite or resume) and any(path.iterdir()):
            raise RunDirError(key, _HOLDS_FILES.format(path=path))
        refuse_links(path, key)
    except BaseException:
        release_run_dir(path)
        raise
    return path


def _open(path: Path, flags: int, mode: str) -> IO[str]:
    try:
        fd = os.open(path, flags | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RunDirError(str(path), "is a symbolic link; refusing to write through it") from None
        raise
    return os.fdopen(fd, mode, encoding="utf-8")


def open_append(path: str | os.PathLike[str]) -> IO[str]:
    """``path`` opened for appending text (created if missing), never through a symbolic link."""
    return _open(Path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, "a")


def create_fresh(path: str | os.PathLike[str]) -> IO[str]:
    """An empty ``path`` for writing text: whatever entry had the name (a file or a link) is
    unlinked, then the file is created with ``O_EXCL`` (never through a link)."""
    path = Path(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return _open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, "w")
