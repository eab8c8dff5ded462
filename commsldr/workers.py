"""Worker processes that never outlive the process that started them.

A pool worker calls :func:`die_with_parent` first thing (the pools' ``initializer``):

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment its
  parent ends, however it ends (``kill -9`` included);
* everywhere, a daemon thread polls ``os.getppid()`` once per :data:`POLL_S` seconds and ends the
  worker when the parent is gone (re-parenting changes ``getppid()``), covering platforms without
  ``prctl`` and the window between ``fork`` and the ``prctl`` call.

:func:`pool_context` returns the ``multiprocessing`` context the pools use (``fork`` where the
platform has it, else ``spawn``).

Reference: ``prctl(2)``, Linux man-pages (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any

__all__ = ["POLL_S", "die_with_parent", "pool_context", "worker_initializer"]

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
