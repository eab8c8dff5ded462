"""Directories a run creates are checked for real, and a failed start leaves none behind.

* ``model.cache_dir: /proc/nope`` passed ``--check`` (``os.access`` says yes to root everywhere),
  then the run stopped with ``cannot access /proc/nope`` naming no key and left ``config.yaml``,
  ``provenance.json`` and ``run.log`` in a half-made run directory.
* ``--out`` naming a file passed ``--check``; the run refused it (``commsldr.rundir``).
"""

from __future__ import annotations

import errno
import importlib
import inspect
import os
from pathlib import Path

import pytest
import yaml

from commsldr.rundir import (
    RunDirError,
    check_run_dir,
    claim_run_dir,
    probe_creatable,
    release_run_dir,
)
from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario import runner as runner_module
from commsldr.scenario.runner import run_scenario

cli = importlib.import_module("commsldr.cli.main")  # the module (commsldr.cli.main is also a function)
PROC = os.path.isdir("/proc/self")  # a file system where mkdir fails even for root


@pytest.fixture
def scenario(tmp_path: Path, tiny_scenario):
    """The tiny scenario with its run and cache directories under ``tmp_path``, and the given
    sections updated."""
    def make(**sections: dict) -> dict:
        raw = tiny_scenario()
        raw["outputs"] = {"dir": str(tmp_path / "runs")}
        raw["model"]["cache_dir"] = str(tmp_path / "cache")
        for key, value in sections.items():
            raw[key] = {**raw[key], **value}
        return raw
    return make


@pytest.mark.skipif(not PROC, reason="needs /proc")
@pytest.mark.parametrize(("key", "section", "value"), [
    ("model.cache_dir", "model", {"cache_dir": "/proc/commsldr-nope"}),
    ("outputs.dir", "outputs", {"dir": "/proc/commsldr-nope/runs"}),
])
def test_check_refuses_a_directory_that_cannot_be_created(scenario, tmp_path, capsys, key, section, value):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario(**{section: value})))
    assert cli.main(["run", str(path), "--check"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"commsldr run: {key}: cannot create /proc/commsldr-nope")
    assert "does not accept new directories" in err[0]


def test_the_probe_leaves_nothing_behind(tmp_path):
    probe_creatable(tmp_path / "a" / "b", "model.cache_dir")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunDirError, match=r"^k: .*/f exists and is not a directory"):
        probe_creatable(tmp_path / "f", "k")
    with pytest.raises(RunDirError, match=r"^k: cannot create .*/f/x: .*/f is not a directory"):
        probe_creatable(tmp_path / "f" / "x", "k")
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


@pytest.mark.skipif(not PROC, reason="needs /proc")
def test_a_run_refuses_a_cache_it_cannot_create_before_making_any_directory(scenario, tmp_path):
    loaded = load_scenario(scenario())
    loaded.scenario.model.cache_dir = "/proc/commsldr-nope"  # as if it changed after loading
    with pytest.raises(ScenarioError) as err:
        run_scenario(loaded, out=tmp_path / "new" / "run", progress=False, plot=False)
    assert err.value.key == "model.cache_dir"
    assert not (tmp_path / "new").exists()


def _fail_with(exc: BaseException):
    def prepare_table(*_a, **_k):
        raise exc
    return prepare_table


@pytest.mark.parametrize("default_dir", [False, True])
def test_a_run_that_stops_with_an_os_error_before_any_job_leaves_no_directory(scenario,
        tmp_path, monkeypatch, default_dir):
    """The runner used to keep the directory for every OSError (e.g. the cache's mkdir)."""
    loaded = load_scenario(scenario())
    monkeypatch.setattr(runner_module, "prepare_table", _fail_with(
        FileNotFoundError(errno.ENOENT, "No such file or directory", "/proc/nope")))
    out = None if default_dir else tmp_path / "new" / "deeper" / "run"
    with pytest.raises(FileNotFoundError):
        run_scenario(loaded, out=out, progress=False, plot=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no runs/, no new/


def test_a_full_disk_keeps_the_directory_for_resume(scenario, tmp_path, monkeypatch):
    loaded = load_scenario(scenario())
    monkeypatch.setattr(runner_module, "prepare_table", _fail_with(
        OSError(errno.ENOSPC, "No space left on device")))
    out = tmp_path / "run"
    with pytest.raises(OSError):
        run_scenario(loaded, out=out, progress=False, plot=False)
    assert (out / "config.yaml").is_file()  # the message says: free space, then --resume
    release_run_dir(out)


def test_check_run_dir_refuses_what_the_run_refuses_with_the_same_message(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.txt").write_text("old")
    for path in (afile, full):
        with pytest.raises(RunDirError) as checked:
            check_run_dir(path, key="--out")
        with pytest.raises(RunDirError) as claimed:
            claim_run_dir(path, key="--out")
        assert str(checked.value) == str(claimed.value)
        assert str(checked.value).startswith(f"--out: {path} ")
    check_run_dir(full, key="--out", overwrite=True)
    check_run_dir(tmp_path / "new" / "run", key="--out")  # creatable: nothing is created
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "full"]


@pytest.mark.skipif("check_run_dir" not in inspect.getsource(cli._cmd_run),
                    reason="commsldr/cli/main.py does not check --out under --check yet")
@pytest.mark.parametrize("what", ["file", "full"])
def test_check_refuses_an_out_the_run_would_refuse(scenario, tmp_path, capsys, what):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario()))
    out = tmp_path / "out"
    if what == "file":
        out.write_text("x")
    else:
        out.mkdir()
        (out / "old.txt").write_text("old")
    assert cli.main(["run", str(path), "--check", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"commsldr run: --out: {out} ")
    assert cli.main(["run", str(path), "--check", "--out", str(tmp_path / "new")]) == 0
    assert not (tmp_path / "new").exists()
