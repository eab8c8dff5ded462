"""One clear line for a full disk (naming the file) and for a read-only model cache."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from commsldr._atomic import atomic_write
from commsldr.cli.main import _report
from commsldr.errors import UserError
from commsldr.scenario.assets import cache_lock
from commsldr.scenario.plan import Job
from commsldr.scenario.store import RowStore


def _full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_names_the_file_of_an_atomic_write(tmp_path, capsys):
    target = tmp_path / "results.json"
    with pytest.raises(OSError) as info:
        atomic_write(target, _full)
    assert info.value.filename == str(target) and info.value.errno == errno.ENOSPC
    assert not list(tmp_path.iterdir())  # no temporary file left
    assert _report(info.value, "run") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(target) in err and "no space left" in err


def test_a_full_disk_names_jobs_jsonl(tmp_path, monkeypatch):
    store = RowStore(tmp_path / "jobs.jsonl", resume=False)
    monkeypatch.setattr(os, "fsync", _full)
    with pytest.raises(OSError) as info:
        store.append(Job("k", "sim", 0, "ray", 0, "fixed"), {"x": 1})
    assert info.value.filename == str(tmp_path / "jobs.jsonl")


def test_a_read_only_cache_that_lacks_an_entry_is_one_user_error(tmp_path, monkeypatch):
    from filelock import FileLock

    def refuse(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", self.lock_file)

    monkeypatch.setattr(FileLock, "acquire", refuse)
    with pytest.raises(UserError, match=r"^model.cache_dir: the cache is read-only and lacks"):
        with cache_lock(tmp_path / "models" / "ce-123", log=lambda m: None):
            pass


def test_check_accepts_an_existing_read_only_cache(tmp_path, monkeypatch):
    from commsldr.scenario import load_scenario

    cache = tmp_path / "cache"
    cache.mkdir()
    real = os.access
    # as if cache/ belonged to someone else (root passes every os.access check)
    monkeypatch.setattr(os, "access", lambda p, m, *a, **k: False if Path(p) == cache
                        else real(p, m, *a, **k))
    raw = {"name": "ro", "data": {"train_per_class": 8, "test_per_class": 4},
           "model": {"recipe": "ce", "cache_dir": str(cache),
                     "train": {"epochs": 1, "latent_dim": 4}},
           "channels": {"a": {"type": "awgn", "snr_db": 5.0}},
           "policies": {"f": {"type": "fixed", "k": 4, "scale": 1.0}}}
    assert load_scenario(raw).points
    raw["model"]["cache_dir"] = str(cache / "missing" / "deeper")  # must be created: checked
    raw["outputs"] = {"dir": str(tmp_path / "runs")}
    with pytest.raises(UserError, match="model.cache_dir"):
        load_scenario(raw)


def test_ctrl_c_during_train_says_where_the_epochs_are(tmp_path, monkeypatch, capsys):
    import commsldr.train.recipes as recipes
    from commsldr.cli import main

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(recipes, "run_recipe", interrupted)
    out = tmp_path / "train"
    assert main(["train", "--recipe", "ce", "--dataset", "synthetic", "--out", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("commsldr train: interrupted; every finished epoch is saved under")
    assert str(out) in err[-1] and "--resume" in err[-1]
