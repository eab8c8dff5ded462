"""Run directories: never written through a symbolic link, never shared by two runs.

The race test starts two processes on the same ``--out`` at a barrier, 100 times: exactly one of
each pair gets the directory (``commsldr.rundir``: created, locked with ``flock`` and checked
under the lock).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest
import yaml

from commsldr.logs import run_log
from commsldr.rundir import RunDirError, claim_run_dir, create_fresh, open_append, release_run_dir
from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario.plan import Job
from commsldr.scenario.runner import make_run_dir, run_scenario
from commsldr.scenario.store import RowStore


@pytest.fixture(scope="module")
def loaded(tiny_scenario):
    return load_scenario(tiny_scenario())


def _victim(tmp_path: Path) -> Path:
    v = tmp_path / "victim.txt"
    v.write_text("precious\n")
    return v


@pytest.mark.parametrize("name", ["config.yaml", "jobs.jsonl", "run.log", "figures",
                                  "results.csv", "sub/deeper.txt"])
def test_overwrite_refuses_a_run_dir_with_a_link_inside(tmp_path, loaded, name):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "old.txt").write_text("old run")
    victim = _victim(tmp_path)
    (out / name).symlink_to(victim if name != "figures" else tmp_path)
    with pytest.raises(ScenarioError, match="symbolic link"):
        make_run_dir(loaded.scenario, out, overwrite=True)
    assert victim.read_text() == "precious\n"


def test_out_itself_a_link_is_refused(tmp_path, loaded):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ScenarioError, match="symbolic link"):
        make_run_dir(loaded.scenario, tmp_path / "link", overwrite=True)


def test_resume_refuses_links_before_touching_anything(tmp_path, loaded):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(loaded.scenario.to_dict()))
    victim = _victim(tmp_path)
    (run / "jobs.jsonl").symlink_to(victim)
    with pytest.raises(RunDirError, match="jobs.jsonl is a symbolic link"):
        run_scenario(loaded, out=run, resume=True, progress=False, plot=False)
    assert victim.read_text() == "precious\n"


def test_file_writers_never_follow_links(tmp_path):
    victim = _victim(tmp_path)
    d = tmp_path / "d"
    d.mkdir()
    for name in ("a.log", "jobs.jsonl", "run.log"):
        (d / name).symlink_to(victim)
    with pytest.raises(RunDirError, match="symbolic link"):
        open_append(d / "a.log")
    with pytest.raises(RunDirError, match="symbolic link"):
        RowStore(d / "jobs.jsonl", resume=True).append(Job("k", "sim", 0, "c", 0), {"x": 1})
    with pytest.raises(RunDirError, match="symbolic link"):
        with run_log(d / "run.log"):
            pass
    # a fresh file replaces the link itself, it never truncates the target
    with create_fresh(d / "jobs.jsonl") as fh:
        fh.write("new\n")
    assert not (d / "jobs.jsonl").is_symlink() and (d / "jobs.jsonl").read_text() == "new\n"
    store = RowStore(d / "jobs.jsonl", resume=False)
    store.append(Job("k", "sim", 0, "c", 0), {"x": 1})
    assert victim.read_text() == "precious\n"


def test_figures_never_go_through_a_link(tmp_path):
    from commsldr.report.plots import plot_run

    victim_dir = tmp_path / "elsewhere"
    victim_dir.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "figures").symlink_to(victim_dir)
    with pytest.raises(ValueError, match="symbolic link"):
        plot_run(run)
    assert list(victim_dir.iterdir()) == []


def test_a_run_dir_in_use_is_refused(tmp_path):
    out = tmp_path / "busy"
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()

    def hold():
        claim_run_dir(out)
        ready.set()
        done.wait(30)

    p = ctx.Process(target=hold)
    p.start()
    try:
        assert ready.wait(30)
        with pytest.raises(RunDirError, match="in use by another commsldr run"):
            claim_run_dir(out, overwrite=True)
        with pytest.raises(RunDirError, match="in use"):
            claim_run_dir(out, resume=True)
    finally:
        done.set()
        p.join(30)
    claim_run_dir(out)  # free again once the holder ended
    release_run_dir(out)


def _racer(root: str, rounds: int, barrier, results) -> None:
    won = []
    for i in range(rounds):
        out = Path(root) / f"out{i}"
        barrier.wait(30)
        try:
            claim_run_dir(out)
            (out / "config.yaml").write_text(f"{os.getpid()}\n")  # what the runner does next
            won.append(i)
        except RunDirError:
            pass
        barrier.wait(30)  # both attempts are over before the winner lets go
        release_run_dir(out)
    results.put(won)


def test_synchronised_starts_never_share_a_directory(tmp_path):
    rounds = 100
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(str(tmp_path), rounds, barrier, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    wins = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    per_round = [sum(i in w for w in wins) for i in range(rounds)]
    assert per_round == [1] * rounds  # 0 shared, 0 lost
