"""The scenario runner end to end on a tiny scenario, with the real model, table and simulator."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from commsldr.cli import main as cli_main
from commsldr.scenario import load_scenario
from commsldr.scenario.runner import prepare_table, run_scenario

TINY = {
    "name": "tiny",
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0},
                 "dop": {"type": "doppler-fading", "mean_snr_db": 5.0, "speed_mps": 3.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 60000.0, "images_per_packet": 2},
    "csi": {"type": "noisy", "std_db": 1.0},
    "sweep": {"channels.*.mean_snr_db": [0.0, 10.0]},
}


@pytest.fixture(scope="module")
def tiny(tiny_overrides):
    return load_scenario(TINY, tiny_overrides)


@pytest.fixture(scope="module")
def first_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "a"
    return run_scenario(tiny, out=out, progress=False, log=lambda *_: None)


def test_run_writes_config_results_and_figures(first_run, tiny):
    d = first_run.run_dir
    for name in ("config.yaml", "results.json", "results.csv", "per_seed.csv", "timeline.json"):
        assert (d / name).is_file(), name
    for fig in ("accuracy_vs_snr", "accuracy_vs_capacity", "accuracy_vs_rate", "timeline"):
        assert (d / "figures" / f"{fig}.png").stat().st_size > 10_000, fig
    res = json.loads((d / "results.json").read_text())
    assert len(res["rows"]) == 2 * 2 * 4  # sweep points × channels × policies
    assert {r["policy"] for r in res["rows"]} == {"fixed", "greedy", "sat", "oracle"}
    for r in res["rows"]:
        assert 0 <= r["accuracy_low"] <= r["accuracy"] <= r["accuracy_high"] <= 1
        assert r["images"] == 80 * 2 and r["frames"] == 80
    # the resolved config is itself a valid scenario giving the same grid
    again = load_scenario(d / "config.yaml")
    assert [p.values for p in again.points] == [p.values for p in tiny.points]
    # every run directory has a run.log with the status lines, time-stamped
    log = (d / "run.log").read_text()
    assert f"commsldr.run: run: {d}" in log and "commsldr.run: done in" in log
    assert "model: " in log and "figures: " in log
    # capacity grows with SNR
    ray = [r for r in res["rows"] if r["channel"] == "ray" and r["policy"] == "oracle"]
    assert ray[0]["mean_capacity_bits"] < ray[1]["mean_capacity_bits"]


def test_same_seed_gives_identical_results(first_run, tiny, tmp_path):
    second = run_scenario(tiny, out=tmp_path / "b", progress=False, plot=False,
                          log=lambda *_: None)
    assert second.results["per_seed"] == first_run.results["per_seed"]
    assert second.results["timeline"] == first_run.results["timeline"]


def test_a_different_seed_changes_the_channel_draws(first_run, tiny_overrides, tmp_path):
    other = load_scenario(TINY, [*tiny_overrides, "seeds=[1]"])
    res = run_scenario(other, out=tmp_path / "c", progress=False, plot=False,
                       log=lambda *_: None).results
    a = first_run.results["timeline"]["ray"]["oracle"]["capacity_bits"]
    b = res["timeline"]["ray"]["oracle"]["capacity_bits"]
    assert a != b
    caps_a = [r["mean_capacity_bits"] for r in first_run.results["per_seed"]]
    caps_b = [r["mean_capacity_bits"] for r in res["per_seed"]]
    assert caps_a != caps_b


def test_plot_redraws_from_the_result_files(first_run, tmp_path):
    out = tmp_path / "figs"
    assert cli_main(["plot", str(first_run.run_dir), "--out", str(out),
                     "--figures", "accuracy_vs_snr", "timeline", "--formats", "png", "pdf"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["accuracy_vs_snr.pdf", "accuracy_vs_snr.png", "timeline.pdf", "timeline.png"]
    assert cli_main(["plot", str(tmp_path)]) == 2  # not a run directory


def _simulate_all(tiny, policies, csi):
    from commsldr.adapt import PointMenu, create_csi_model
    from commsldr.link.phy import ShannonPHY
    from commsldr.link.simulator import simulate
    from commsldr_channels import create_channel

    table = prepare_table(tiny, log=lambda *_: None, progress=False)
    phy = ShannonPHY(bandwidth_hz=60000.0)
    menu = PointMenu.from_table(table, images_per_packet=2)
    states = create_channel("rayleigh-block", mean_snr_db=6.0).states(
        1500, generator=torch.Generator().manual_seed(3))
    out = {}
    for name, policy in policies.items():
        policy.bind(menu, phy)
        model = "perfect" if policy.requires_perfect_csi else csi
        out[name] = simulate(table, states, phy, policy, images_per_packet=2,
                             csi_model=None if getattr(policy, "static", False)
                             else create_csi_model(model), seed=0)
    return table, out


def test_oracle_bounds_every_policy_on_the_same_draws(tiny):
    from commsldr.adapt import CapacityGreedy, Fixed, Oracle, OutageAware, ScaleAndTruncation

    table, res = _simulate_all(tiny, {
        "oracle": Oracle(), "fixed": Fixed(8, 0.5), "greedy": CapacityGreedy(0.0),
        "sat": ScaleAndTruncation(0.0, 0.05), "outage": OutageAware(snr_std_db=1.0),
    }, csi="delayed")
    acc = table.accuracy()

    def expected(r):  # table accuracy of the point sent, if delivered
        return np.where(r.delivered, acc[r.point_index], 0.0)

    oracle = expected(res.pop("oracle"))
    for name, r in res.items():
        assert np.all(oracle >= expected(r) - 1e-12), name


def test_greedy_with_perfect_csi_and_zero_margin_never_violates(tiny):
    from commsldr.adapt import CapacityGreedy

    table, res = _simulate_all(tiny, {"greedy": CapacityGreedy(0.0)}, csi="perfect")
    r = res["greedy"]
    _, packet_bits = table.packets(2)
    violated = r.packet_bits > r.capacity_bits
    # a violation only where not even the cheapest point's packet fits
    assert np.all(packet_bits[:, r.group[violated]].min(axis=0) > r.capacity_bits[violated])
    assert violated.sum() < len(violated)


def test_cli_run_check_and_bad_scenario(capsys, tmp_path):
    assert cli_main(["run", "quickstart", "--check"]) == 0
    assert "name: quickstart" in capsys.readouterr().out
    assert cli_main(["run", "quickstart", "--check", "--set", "frames=0"]) == 2
    assert "frames: must be >= 1" in capsys.readouterr().err
    assert cli_main(["list", "policies"]) == 0
    assert "oracle" in capsys.readouterr().out
    assert cli_main(["list", "scenarios"]) == 0
    assert "quickstart" in capsys.readouterr().out.split()


def test_retransmission_and_csi_reach_the_simulator(tiny_overrides, tmp_path):
    """``link.max_attempts`` / ``link.deadline_frames`` and the scenario's CSI model reach
    simulate() for every policy — the static one included, whose NR link adaptation sees the
    noisy CSI: each per-seed row equals a direct simulate() with those settings."""
    from commsldr.adapt import PointMenu, create_csi_model, create_policy
    from commsldr.adapt.metrics import metrics_from_simulation
    from commsldr.link import NRPHY
    from commsldr.link.simulator import simulate
    from commsldr.scenario.jobs import JobContext, channel_states

    link = {"phy": "nr", "num_allocated_re": 24, "images_per_packet": 2,
            "max_attempts": 3, "deadline_frames": 4}
    raw = {**TINY, "link": link, "channels": {"ray": TINY["channels"]["ray"]}, "sweep": {}}
    loaded = load_scenario(raw, [*tiny_overrides, "policies={fixed: {type: fixed, k: 8, "
                                                   "scale: 0.5}, greedy: {type: capacity-greedy}}"])
    res = run_scenario(loaded, out=tmp_path / "arq", progress=False, plot=False,
                       log=lambda *_: None).results
    sc = loaded.scenario
    table = prepare_table(loaded, log=lambda *_: None, progress=False)
    states = channel_states(JobContext(points=[sc]), sc, "ray", 0)
    assert [r["policy"] for r in res["per_seed"]] == ["fixed", "greedy"]
    for row in res["per_seed"]:
        pc = sc.policies[row["policy"]]

        def direct(csi, max_attempts, pc=pc):
            policy, phy = create_policy(pc.type, **pc.params), NRPHY(num_allocated_re=24)
            policy.bind(PointMenu.from_table(table, images_per_packet=2), phy)
            return simulate(table, states, phy, policy, images_per_packet=2, csi_model=csi,
                            max_attempts=max_attempts, deadline_frames=4, seed=0)

        arq = direct(create_csi_model("noisy", std_db=1.0), 3)
        expected = metrics_from_simulation(arq, sc.outputs.confidence).to_dict()
        assert {k: row[k] for k in expected} == expected, row["policy"]
        assert arq.attempt.max() > 1  # packets were re-sent
        once = metrics_from_simulation(direct(create_csi_model("noisy", std_db=1.0), 1),
                                       sc.outputs.confidence).to_dict()
        assert once != expected
        if row["policy"] == "fixed":  # the static policy's PHY adapted to the noisy estimate
            perfect = direct(create_csi_model("perfect"), 3)
            assert not np.array_equal(perfect.mcs_index, arq.mcs_index)


def test_transform_coding_reaches_the_table(tiny, tiny_overrides):
    """coding.transform: klt builds a table whose coders code KLT coefficients: same grid, its
    own cache entry, and at the coarsest scale no worse than per-entry coding on this model."""
    klt = load_scenario({**TINY, "coding": {"transform": "klt"}}, tiny_overrides)
    plain = prepare_table(tiny, log=lambda *_: None, progress=False)
    table = prepare_table(klt, log=lambda *_: None, progress=False)
    assert table.meta["transform"] == "klt" and plain.meta.get("transform", "none") == "none"
    assert table.meta["cache_key"] != plain.meta["cache_key"]
    assert [p.scale for p in table.points] == [p.scale for p in plain.points]
    assert table.bits.shape == plain.bits.shape
    assert not np.array_equal(table.bits, plain.bits)
