"""Every shipped scenario validates; the cheap ones run at tiny size through the CLI."""

from __future__ import annotations

import json

import pytest

from commsldr.cli import main as cli_main
from commsldr.scenario import list_scenarios, load_scenario
from commsldr.scenario.load import scenarios_dir

SHIPPED = [
    "quickstart", "awgn_snr_sweep", "rayleigh_block_fading", "doppler_time_varying",
    "gilbert_elliott_bursty", "cellular_trace_uplink", "digital_vs_analog",
    "nr_link_adaptation", "paper_cifar10", "baselines_quick", "baselines_cifar10",
    "harq_retransmission", "learning_policies", "learning_policies_trace",
]


def test_all_shipped_scenarios_are_listed():
    assert set(SHIPPED) <= set(list_scenarios())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_validates(name):
    loaded = load_scenario(scenarios_dir() / f"{name}.yaml")
    assert loaded.scenario.name == name and loaded.points


CHEAP = ["awgn_snr_sweep", "gilbert_elliott_bursty", "cellular_trace_uplink", "digital_vs_analog"]


@pytest.mark.parametrize("name", CHEAP)
def test_cheap_scenarios_run_at_tiny_size(name, tiny_overrides, tmp_path):
    sets = list(tiny_overrides)
    argv = ["run", name, "--quiet", "--out", str(tmp_path / name)]
    for s in sets:
        argv += ["--set", s]
    assert cli_main(argv) == 0
    res = json.loads((tmp_path / name / "results.json").read_text())
    assert res["rows"] and all(0 <= r["accuracy"] <= 1 for r in res["rows"])
    assert any((tmp_path / name / "figures").glob("*.png"))
