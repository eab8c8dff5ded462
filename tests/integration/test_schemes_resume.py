"""Every scheme runs as jobs through the backends: a run killed part-way resumes without redoing
a finished job of any kind (split autoencoder, its analog curve, image codecs, edge label, analog
JSCC) and writes the files of an uninterrupted run."""

from __future__ import annotations

import json

import pytest

from commsldr.scenario import load_scenario
from commsldr.scenario.backends import SerialBackend
from commsldr.scenario.runner import run_scenario
from commsldr.scenario.store import ROWS_FILE

OWN = {"greedy": {"type": "capacity-greedy"}, "oracle": {"type": "oracle"}}
TINY = {
    "name": "tiny_resume",
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 400000.0, "images_per_packet": 1},
    "csi": {"type": "perfect"},
    "analog": {"enabled": True},
    "schemes": {
        "jpeg": {"type": "jpeg", "qualities": [5, 50], "policies": OWN},
        "edge-label": {"type": "edge-label", "policies": OWN},
        "analog-jscc": {"type": "analog-jscc", "channel_uses": 16, "epochs": 1},
    },
    "sweep": {"channels.*.mean_snr_db": [0.0, 25.0]},
}
FILES = ("results.csv", "per_seed.csv", "timeline.json")
QUIET = {"progress": False, "plot": False, "log": lambda *_: None}
KINDS = {("sim", "split-ae"), ("analog", "split-ae"), ("sim", "jpeg"), ("sim", "edge-label"),
         ("scheme-analog", "analog-jscc")}


class _Recording(SerialBackend):
    """Runs jobs in this process and records which ones it ran."""

    def __init__(self):
        self.ran = []

    def run(self, ctx, jobs, on_done, idle=None):
        self.ran += list(jobs)
        super().run(ctx, jobs, on_done, idle)


class _KilledAfterEveryKind(SerialBackend):
    """Runs the first job of every (kind, scheme) and then a few more, then dies like a run
    killed mid-sweep (the rows of the jobs it finished are in ``jobs.jsonl``)."""

    def __init__(self):
        self.ran = []

    def run(self, ctx, jobs, on_done, idle=None):
        first = {}
        for j in jobs:
            first.setdefault((j.kind, j.scheme), j)
        chosen = list(first.values()) + [j for j in jobs if j not in first.values()][:3]
        self.ran += chosen
        super().run(ctx, chosen, on_done, idle)
        raise KeyboardInterrupt


@pytest.fixture(scope="module")
def loaded(tiny_overrides):
    return load_scenario(TINY, [*tiny_overrides, "seeds=[0, 1]"])


def test_every_scheme_is_a_job_and_resume_redoes_none(loaded, tmp_path, monkeypatch):
    import commsldr.scenario.backends as backends

    whole = _Recording()
    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: whole)
    ref = run_scenario(loaded, out=tmp_path / "whole", **QUIET)
    # every scheme's work went through the backend, as jobs of every kind
    assert {(j.kind, j.scheme) for j in whole.ran} == KINDS
    assert len(whole.ran) == ref.results["jobs"]["unique"] == len({j.key for j in whole.ran})
    assert {r["scheme"] for r in ref.results["rows"]} == {"split-ae", "split-ae-analog", "jpeg",
                                                          "edge-label", "analog-jscc"}

    killed = _KilledAfterEveryKind()
    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: killed)
    run_dir = tmp_path / "killed"
    with pytest.raises(KeyboardInterrupt):
        run_scenario(loaded, out=run_dir, **QUIET)
    done = {j.key for j in killed.ran}
    assert {(j.kind, j.scheme) for j in killed.ran} == KINDS
    assert not (run_dir / "results.csv").exists()

    rest = _Recording()
    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: rest)
    res = run_scenario(loaded, out=run_dir, resume=True, **QUIET).results
    # the resumed run ran exactly the jobs the killed one had not finished
    assert not done & {j.key for j in rest.ran}
    assert done | {j.key for j in rest.ran} == {j.key for j in whole.ran}
    assert res["jobs"]["ran"] == len(whole.ran) - len(done)
    lines = [json.loads(x) for x in (run_dir / ROWS_FILE).read_text().splitlines()]
    assert len(lines) == len(whole.ran) and len({x["key"] for x in lines}) == len(lines)
    for name in FILES:
        assert (run_dir / name).read_bytes() == (ref.run_dir / name).read_bytes(), name

    again = _Recording()
    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: again)
    assert run_scenario(loaded, out=run_dir, resume=True, **QUIET).results["jobs"]["ran"] == 0
    assert again.ran == []
