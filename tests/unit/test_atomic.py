"""commsldr._atomic: atomic writes with the permissions of an ordinary open(path, "w")."""

from __future__ import annotations

import os
import stat

import pytest
import torch

from commsldr._atomic import atomic_torch_save, atomic_write, atomic_write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set a umask for the test and restore the old one afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda m: os.umask(m)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o027, 0o077, 0o000])
def test_new_file_gets_0666_minus_umask(tmp_path, umask, mask):
    umask(mask)
    ours = tmp_path / "ours.json"
    atomic_write_text(ours, "{}")
    plain = tmp_path / "plain.json"
    with open(plain, "w") as fh:  # what the usual open() gives under this umask
        fh.write("{}")
    assert _mode(ours) == 0o666 & ~mask == _mode(plain)
    ckpt = tmp_path / "sub" / "model.pt"
    atomic_torch_save({"x": torch.zeros(2)}, ckpt)
    assert _mode(ckpt) == 0o666 & ~mask


def test_replacing_keeps_the_existing_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "result.json"
    path.write_text("old")
    os.chmod(path, 0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o640


def test_failed_write_leaves_target_and_no_temp(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write_text(path, "old")

    def boom(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, boom)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
