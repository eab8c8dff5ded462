"""commsldr._memory: glibc keeps freed activations for reuse (no mmap per large tensor)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt is glibc's")

# bytes glibc holds in mmap-ed blocks after allocating a 64 MiB tensor (mallinfo2().hblkhd)
_PROBE = """
import ctypes, sys
import torch
from commsldr._memory import reuse_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
applied = reuse_freed_memory() if sys.argv[1] == "reuse" else False
x = torch.empty(16 * 2**20, dtype=torch.float32)
print(int(applied), libc.mallinfo2().hblkhd >= x.nbytes)
"""


def _probe(mode: str, **env: str) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True).stdout.split()
    return out[0], out[1]


@glibc
def test_large_tensor_comes_from_the_heap_once_applied():
    assert _probe("plain") == ("0", "True")  # glibc default: a 64 MiB block is mmap-ed
    assert _probe("reuse") == ("1", "False")  # now from the heap, reusable after free


@glibc
def test_environment_opt_out():
    assert _probe("reuse", COMMSLDR_RELEASE_MEMORY="1") == ("0", "True")


def test_idempotent():
    from commsldr._memory import reuse_freed_memory

    assert reuse_freed_memory() == reuse_freed_memory()
