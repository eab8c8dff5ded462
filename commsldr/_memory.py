"""Keep freed memory for reuse instead of handing it back to the OS (glibc ``mallopt``).

glibc serves every allocation above its mmap threshold (at most 32 MiB) with a fresh ``mmap`` and
unmaps it again on ``free``. A CPU training step allocates and frees activations of 15–120 MB
each, so every step pays the page faults of touching that memory anew: on the fast CIFAR recipe
(airnet, batch 1024, bf16, 2 threads) that is about 13 % of the step. PyTorch's CPU performance
guide recommends swapping the allocator (jemalloc, tcmalloc) for this reason; glibc's own
``mallopt`` gives the same effect without a new dependency:

* ``M_MMAP_MAX = 0``: large blocks come from the heap, not from ``mmap``;
* ``M_TRIM_THRESHOLD = 1 GiB``: free memory at the top of the heap is kept unless more than that.

The process keeps its peak memory for its lifetime (a training process does anyway). Numbers are
unchanged: only where the bytes live changes. :func:`reuse_freed_memory` is called by the
training entry point (:func:`commsldr.train.run_recipe`); it does nothing outside glibc or when
the environment sets ``COMMSLDR_RELEASE_MEMORY=1``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

__all__ = ["reuse_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_TRIM_THRESHOLD_BYTES = 1 << 30

_applied: bool | None = None


def reuse_freed_memory() -> bool:
    """Tell glibc's ``malloc`` to keep freed blocks for reuse (once per process).

    Returns whether the setting is in effect: False on non-glibc systems (macOS, Windows, musl)
    and when ``COMMSLDR_RELEASE_MEMORY=1``.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("COMMSLDR_RELEASE_MEMORY", "") == "1":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES))
    return _applied
