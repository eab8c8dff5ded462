"""``jobs.jsonl`` rows carry a checksum of key, kind and row: a damaged, edited or incomplete row
is reported and its job runs again; it is never used and never fatal."""

from __future__ import annotations

import json
import logging

import pytest

from commsldr.scenario.plan import Job
from commsldr.scenario.store import RowStore, row_checksum

JOBS = [Job(key=f"k{i}", kind="sim", point=0, channel="ray", seed=i, policy="fixed")
        for i in range(4)]
ROW = {"metrics": {"accuracy": 0.5, "images": 10}, "mean_snr_db": 9.5, "nan": float("nan")}


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "jobs.jsonl"
    store = RowStore(path, resume=False)
    for job in JOBS:
        store.append(job, {**ROW, "seed": job.seed})
    return path


def _lines(path):
    return path.read_text().splitlines()


def test_rows_round_trip_with_their_checksum(store_path):
    store = RowStore(store_path, resume=True)
    assert set(store.rows) == {j.key for j in JOBS} and store.problems == []
    rec = json.loads(_lines(store_path)[0])
    assert rec["sum"] == row_checksum(rec["key"], rec["kind"], rec["row"])
    assert all(store.done(j) for j in JOBS)


@pytest.mark.parametrize("damage, reason", [
    (lambda r: r["row"]["metrics"].update(accuracy=0.99), "checksum mismatch"),  # tampered
    (lambda r: r.update(key="k9"), "checksum mismatch"),  # a row moved to another job
    (lambda r: r.pop("row"), "missing or mistyped"),  # valid JSON, fields missing
    (lambda r: r.update(row=[1, 2]), "missing or mistyped"),
    (lambda r: r.pop("sum"), "no checksum"),  # an older run's row
])
def test_a_damaged_row_is_reported_and_its_job_runs_again(store_path, caplog, damage, reason):
    lines = _lines(store_path)
    rec = json.loads(lines[1])
    damage(rec)
    lines[1] = json.dumps(rec)
    store_path.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="commsldr.run"):
        store = RowStore(store_path, resume=True)
    assert not store.done(JOBS[1]) and all(store.done(j) for j in JOBS if j is not JOBS[1])
    assert store.problems == [f"line 2: {reason}" if reason != "missing or mistyped"
                              else "line 2: missing or mistyped key/kind/row"]
    assert "jobs.jsonl: 1 row(s) not trusted (line 2:" in caplog.text
    assert "their jobs run again" in caplog.text
    # the job's new row is appended and trusted on the next resume
    store.append(JOBS[1], {**ROW, "seed": 1})
    again = RowStore(store_path, resume=True)
    assert again.done(JOBS[1]) and again.rows["k1"]["metrics"]["accuracy"] == 0.5


@pytest.mark.parametrize("garbage", ["{", "[]", "null", "\x00\xff", '{"key": 1, "kind": "sim"}'])
def test_garbage_lines_are_never_fatal(store_path, garbage):
    with open(store_path, "a") as f:
        f.write(garbage + "\n")
    store = RowStore(store_path, resume=True)
    assert len(store.rows) == len(JOBS) and len(store.problems) == 1
