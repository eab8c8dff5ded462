"""Worker processes that never outlive the process that started them.

A pool worker calls :func:`die_with_parent` first thing (the pools' ``initializer``):

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment its
  parent ends, however it ends (``kill -9`` included);
* everywhere, a daemon thread polls ``os.getppid()`` once per :data:`POLL_S` seconds and ends the
  worker when the parent is gone (re-parenting changes ``getppid()``), covering platforms without
  ``prctl`` and the window between ``fork`` and the ``prctl`` call.

:func:`pool_context` returns the ``multiprocessing`` context the pools use (``fork`` where the
platform has it, else ``spawn``).

Processes that a worker library starts on its own (a local Ray instance: raylet, GCS, its
agents) are not pool workers; :class:`TreeReaper` starts a small watchdog process
(:mod:`commsldr._reaper`) that kills every process started below this one after the watchdog,
once this process ends without saying ``done`` (Linux; a no-op elsewhere).

Reference: ``prctl(2)``, Linux man-pages (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import BaseContext
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["POLL_S", "TreeReaper", "die_with_parent", "pool_context", "worker_initializer"]

#: seconds between two checks of the parent by the watchdog thread
POLL_S = 0.5
_PR_SET_PDEATHSIG = 1


def _watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(POLL_S)


def die_with_parent(parent: int | None = None) -> None:
    """Make this process end when its parent ends (call it in a freshly started worker).

    Input:
        parent (int | None): the parent's pid (default ``os.getppid()`` now). Passing the pid the
            parent had before starting the worker also catches a parent that died before this call.
    """
    parent = os.getppid() if parent is None else int(parent)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="commsldr-parent-watch",
                     daemon=True).start()


def worker_initializer(parent: int, init: Callable[..., Any] | None, *args: Any) -> None:
    """A pool ``initializer``: :func:`die_with_parent`, then ``init(*args)`` if given."""
    die_with_parent(parent)
    if init is not None:
        init(*args)


def pool_context() -> BaseContext:
    """The ``multiprocessing`` context of the pools: ``fork`` where available, else ``spawn``."""
    fork = "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if fork else "spawn")


class TreeReaper:
    """While active, a watchdog kills every process started below this one if this one dies.

    ``with TreeReaper(): ray.init(...)`` -- on ``kill -9`` of this process the watchdog
    (:mod:`commsldr._reaper`, a separate process in its own session that notices the end through
    the closed pipe) sends ``SIGKILL`` to each descendant that appeared after it started, within
    about 0.2 s. Leaving the ``with`` block normally (or by an exception) tells it ``done``: it
    exits and kills nothing, so the library's own shutdown runs as usual. Linux only (``/proc``);
    elsewhere a no-op.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TreeReaper:
        if sys.platform.startswith("linux") and self._proc is None:
            script = Path(__file__).with_name("_reaper.py")
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(script), str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True)
            if self._proc.stdout is not None:  # "ready": what starts from now on is watched
                self._proc.stdout.readline()
                self._proc.stdout.close()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(b"done\n")
            proc.stdin.close()
        except OSError:  # the watchdog is gone already
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck watchdog
            proc.kill()
            proc.wait()
