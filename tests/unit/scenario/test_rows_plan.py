"""The result schema (``Row``) and the run plan's registries: column order, absent columns,
de-duplication of jobs across sections, a plug-in job kind and section."""

from __future__ import annotations

import math

import pytest

from commsldr.adapt.metrics import PolicyMetrics
from commsldr.scenario import load_scenario
from commsldr.scenario import plan as plan_mod
from commsldr.scenario.jobs import JobContext, run_job
from commsldr.scenario.plan import Job, RunAssets, Section, job_kind, plan_run, register_job_kind
from commsldr.scenario.rows import Row, SectionResult
from commsldr.scenario.sections import SPLIT_AE_ANALOG, plan_jobs

METRICS = PolicyMetrics(accuracy=0.5, accuracy_low=0.4, accuracy_high=0.6, delivered_rate=0.9,
                        outage_probability=0.1, capacity_violations=0.05, switches_per_1000=3.0,
                        mean_bits_per_image=120.0, images=10, correct=5, frames=10,
                        latency_frames=1.0)
COST = {"scheme": "x", "scheme_type": "jpeg", "sensor_macs": 7.0, "channel_uses_per_image": 64.0}


def test_digital_row_columns_in_schema_order():
    row = Row.digital(point=1, scheme="jpeg", channel="ray", policy="oracle",
                      policy_type="oracle", sweep={"channels.*.mean_snr_db": 5.0},
                      mean_capacity_bits=300.0, mean_snr_db=5.1, metrics=METRICS, cost=COST)
    d = row.to_dict()
    assert list(d) == ["point", "scheme", "channel", "policy", "policy_type",
                       "channels.*.mean_snr_db", "mean_capacity_bits", "mean_snr_db",
                       *METRICS.to_dict(), "scheme_type", "sensor_macs",
                       "channel_uses_per_image"]
    assert {k: d[k] for k in METRICS.to_dict()} == METRICS.to_dict()
    assert d["scheme"] == "jpeg" and d["scheme_type"] == "jpeg"


def test_per_seed_row_has_seed_and_no_policy_type():
    row = Row.digital(point=0, scheme="split-ae", channel="ray", policy="fixed", seed=3,
                      sweep={}, mean_capacity_bits=1.0, mean_snr_db=2.0, metrics=METRICS,
                      cost=COST)
    d = row.to_dict()
    assert list(d)[:5] == ["point", "scheme", "channel", "policy", "seed"]
    assert "policy_type" not in d and d["seed"] == 3


@pytest.mark.parametrize("correct,total", [(0, 10), (7, 10), (40, 40)])
def test_analog_row_every_image_arrives(correct, total):
    d = Row.analog(point=0, scheme=SPLIT_AE_ANALOG, channel="ray", policy="analog (k=8)",
                   sweep={"frames": 99}, correct=correct, total=total, accuracy_low=0.0,
                   accuracy_high=1.0, scheme_type=SPLIT_AE_ANALOG,
                   channel_uses_per_image=4).to_dict()
    assert d["accuracy"] == correct / total and d["images"] == d["frames"] == total
    assert d["delivered_rate"] == 1.0 and d["outage_probability"] == 0.0
    assert math.isnan(d["mean_capacity_bits"]) and math.isnan(d["capacity_violations"])
    # absent, not NaN: an empty CSV cell, no JSON key
    assert "latency_frames" not in d and "sensor_macs" not in d
    # a swept key that names a column keeps the sweep's place and takes the column's value
    assert list(d).index("frames") == list(d).index("policy_type") + 1


class _Twice(Section):
    """Plans the same ``echo`` job twice (one with the timeline), in two cells."""

    def __init__(self):
        self.jobs = [Job("k1", "echo", 0, "ray", 0), Job("k1", "echo", 0, "ray", 0,
                                                          timeline=True)]
        self.cells = 2

    def assemble(self, rows):
        return SectionResult()


def _echo(ctx, job):
    return {"seed": job.seed, "extra": ctx.extra["echo"]}


def test_plugin_kind_and_section_are_planned_and_run(monkeypatch):
    monkeypatch.setattr(plan_mod, "_BUILDERS", [lambda loaded, assets: [_Twice()]])
    monkeypatch.setattr(plan_mod, "_KINDS", dict(plan_mod._KINDS))
    register_job_kind("echo", _echo)
    register_job_kind("echo", _echo)  # the same function again: a no-op
    with pytest.raises(ValueError, match="already registered"):
        register_job_kind("echo", lambda ctx, job: {})
    loaded = load_scenario("quickstart")
    plan = plan_run(loaded, RunAssets("t"))
    assert [j.key for j in plan.jobs] == ["k1"] and plan.jobs[0].timeline and plan.cells == 2
    assert run_job(JobContext(points=[], extra={"echo": 5}), plan.jobs[0]) == {"seed": 0,
                                                                              "extra": 5}
    with pytest.raises(ValueError, match="unknown job kind 'nope'"):
        job_kind("nope")


def test_schemes_sections_follow_the_assets():
    """A ``schemes`` entry is planned once prepared: its jobs carry its label, its keys differ
    from the split autoencoder's, and the split jobs stay the same."""
    from commsldr.scenario.plan import SchemeRef

    loaded = load_scenario("baselines_quick")
    alone = plan_jobs(loaded, "table")
    refs = {"jpeg": SchemeRef("j"), "webp": SchemeRef("w"), "edge-label": SchemeRef("e"),
            "analog-jscc": SchemeRef("a", analog=True, sensor_macs=1.0,
                                     channel_uses_per_image=256.0)}
    full = plan_jobs(loaded, "table", refs)
    assert {j.key for j in alone.jobs} < {j.key for j in full.jobs}
    by = {}
    for j in full.jobs:
        by.setdefault((j.kind, j.scheme), []).append(j)
    n = len(loaded.points) * 2 * 2  # points × channels × seeds
    assert len(by[("sim", "jpeg")]) == len(by[("sim", "webp")]) == n * 2  # two policies
    assert len(by[("sim", "edge-label")]) == n  # its own one policy
    assert len(by[("scheme-analog", "analog-jscc")]) == n
    assert full.cells == len(full.jobs)
