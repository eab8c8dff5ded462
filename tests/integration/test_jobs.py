"""Jobs and backends: de-duplication, stable keys, identical results for any backend, worker count
and completion order, incremental rows and resume."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from commsldr.cli import main as cli_main
from commsldr.scenario import load_scenario
from commsldr.scenario.backends import PoolBackend, SerialBackend, make_backend
from commsldr.scenario.runner import run_scenario
from commsldr.scenario.sections import plan_jobs
from commsldr.scenario.store import ROWS_FILE, RowStore

TINY = {
    "name": "tiny-jobs",
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0},
                 "dop": {"type": "doppler-fading", "mean_snr_db": 5.0, "speed_mps": 3.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 60000.0, "images_per_packet": 2},
    "csi": {"type": "noisy", "std_db": 1.0},
    "sweep": {"channels.*.mean_snr_db": [0.0, 10.0]},
}
FILES = ("results.csv", "per_seed.csv", "timeline.json")
QUIET = {"progress": False, "plot": False, "log": lambda *_: None}


@pytest.fixture(scope="module")
def tiny(tiny_overrides):
    return load_scenario(TINY, [*tiny_overrides, "seeds=[0, 1]"])


@pytest.fixture(scope="module")
def serial_run(tiny, tmp_path_factory):
    return run_scenario(tiny, out=tmp_path_factory.mktemp("serial") / "run", jobs=1, **QUIET)


def _same_files(a: Path, b: Path) -> None:
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_margin_sweep_of_one_policy_resimulates_only_that_policy():
    """The tutorial's margin sweep: 18 points × 2 channels × 3 seeds × 5 policies = 540 cells;
    the four unswept policies only depend on the SNR (6 × 2 × 3 × 4 = 144), the swept one on
    both (18 × 2 × 3 = 108): 252 jobs."""
    loaded = load_scenario("quickstart", ["policies.greedy={type: capacity-greedy}",
                                          "sweep.policies.greedy.margin=[0.0, 0.1, 0.3]"])
    plan = plan_jobs(loaded, "table")
    assert plan.cells == 540
    assert len(plan.jobs) == 252
    # a CSI sweep leaves the Oracle (always perfect CSI) alone
    csi = load_scenario("quickstart", ["sweep={csi.std_db: [0.5, 1.0, 2.0]}"])
    plan = plan_jobs(csi, "table")
    assert plan.cells == 3 * 2 * 3 * 4
    assert len(plan.jobs) == 2 * 3 * (3 * 3 + 1)
    # a different table gives different keys
    assert not {j.key for j in plan.jobs} & {j.key for j in plan_jobs(csi, "other").jobs}


def test_job_keys_are_stable_across_processes_and_jobs_pickle_small():
    plan = plan_jobs(load_scenario("quickstart"), "table-id")
    code = ("import json; from commsldr.scenario import load_scenario; "
            "from commsldr.scenario.sections import plan_jobs; "
            "print(json.dumps([j.key for j in plan_jobs(load_scenario('quickstart'), "
            "'table-id').jobs]))")
    env = dict(os.environ, PYTHONHASHSEED="12345",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                           os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [j.key for j in plan.jobs]
    assert len(plan.jobs) == 6 * 2 * 3 * 4
    assert max(len(pickle.dumps(j)) for j in plan.jobs) < 400


class _Reversed(SerialBackend):
    """Finishes jobs in the reverse order."""

    def run(self, ctx, jobs, on_done, idle=None):
        super().run(ctx, list(reversed(jobs)), on_done, idle)


class _Killed(SerialBackend):
    """Dies after ``n`` jobs, like a run killed mid-sweep."""

    def __init__(self, n):
        self.n = n

    def run(self, ctx, jobs, on_done, idle=None):
        super().run(ctx, jobs[: self.n], on_done, idle)
        raise KeyboardInterrupt


def test_pool_and_any_order_give_identical_files(tiny, serial_run, tmp_path, monkeypatch):
    pool = run_scenario(tiny, out=tmp_path / "pool", jobs=2, **QUIET)
    _same_files(serial_run.run_dir, pool.run_dir)
    assert pool.results["jobs"]["backend"] == "local"
    import commsldr.scenario.backends as backends

    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: _Reversed())
    rev = run_scenario(tiny, out=tmp_path / "rev", **QUIET)
    _same_files(serial_run.run_dir, rev.run_dir)
    assert isinstance(make_backend("local", jobs=3), PoolBackend)
    with pytest.raises(ValueError, match="unknown backend"):
        make_backend("mpi")


def test_killed_run_resumes_without_redoing_finished_jobs(tiny, serial_run, tmp_path,
                                                          monkeypatch):
    import commsldr.scenario.backends as backends

    run_dir = tmp_path / "killed"
    n_jobs = serial_run.results["jobs"]["unique"]
    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: _Killed(5))
    lines = []
    with pytest.raises(KeyboardInterrupt):
        run_scenario(tiny, out=run_dir, **{**QUIET, "log": lines.append})
    assert lines[-1] == (f"interrupted: 5 of {n_jobs} jobs done; continue with: "
                         f"commsldr run --resume {run_dir}")
    rows = (run_dir / ROWS_FILE).read_text().splitlines()
    assert len(rows) == 5 and not (run_dir / "results.csv").exists()
    # a kill in the middle of a write leaves a cut line: it is ignored and recomputed
    with open(run_dir / ROWS_FILE, "a") as f:
        f.write(rows[0][:-1] + "\n" + rows[1][: len(rows[1]) // 2])
    monkeypatch.undo()
    assert cli_main(["run", "--resume", str(run_dir), "--jobs", "1", "--quiet",
                     "--no-plot"]) == 0
    res = json.loads((run_dir / "results.json").read_text())
    assert res["jobs"] == {"unique": n_jobs, "cells": n_jobs, "ran": n_jobs - 5,
                           "backend": "serial"}
    # the provenance keeps the command that started the run (its --set shaped config.yaml)
    first = json.loads((run_dir / "provenance.json").read_text())
    assert res["provenance"]["first_run"] == first
    assert res["provenance"]["overrides"] == first["overrides"]
    _same_files(serial_run.run_dir, run_dir)
    store = RowStore(run_dir / ROWS_FILE, resume=True)
    assert len(store.rows) == n_jobs and store.ignored_lines == 2
    # resuming a finished run redoes nothing
    again = run_scenario(tiny, out=run_dir, resume=True, **QUIET)
    assert again.results["jobs"]["ran"] == 0
    _same_files(serial_run.run_dir, run_dir)


def test_cli_run_flags_are_checked(tmp_path, capsys):
    assert cli_main(["run"]) == 2
    assert "either SCENARIO or --resume" in capsys.readouterr().err
    assert cli_main(["run", "--resume", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert cli_main(["run", "quickstart", "--jobs", "0"]) == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err
    assert cli_main(["run", "quickstart", "--device", "tpu"]) == 2
    assert "--device" in capsys.readouterr().err
    assert cli_main(["run", "quickstart", "--address", "auto"]) == 2
    assert "--address is for --backend ray" in capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():
        assert cli_main(["run", "quickstart", "--device", "cuda"]) == 2
        assert "no CUDA device" in capsys.readouterr().err
