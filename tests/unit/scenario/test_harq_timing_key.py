"""``link.harq_timing`` in a scenario: validated with one line naming the key, and passed to the
simulator (a round trip of 2 frames with 2 processes changes the run)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from commsldr.cli import main
from commsldr.link.synthetic_table import synthetic_table
from commsldr.scenario import load_scenario
from commsldr.scenario.jobs import simulate_policy
from commsldr.scenario.load import phy_class, phy_params
from commsldr_channels import create_channel

BASE = {
    "name": "harq-timing",
    "data": {"train_per_class": 20, "test_per_class": 10},
    "model": {"recipe": "ce", "train": {"epochs": 1, "latent_dim": 16}},
    "coding": {"scales": [0.5, 1.0]},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 3.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "max_attempts": 4, "deadline_frames": 8,
             "packet_interval_frames": 2},
    "policies": {"fixed": {"type": "fixed", "k": 16, "scale": 1.0}},
    "seeds": [0],
    "frames": 400,
}


def _scenario(tmp_path, harq_timing):
    raw = {**BASE, "link": {**BASE["link"], **({} if harq_timing is None else
                                                 {"harq_timing": harq_timing})}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_scenario(path).scenario, path


def _run(sc):
    table = synthetic_table(variants=(16,), scales=(1.0,), num_images=200)
    states = create_channel("rayleigh-block", mean_snr_db=3.0).states(
        sc.frames, generator=torch.Generator().manual_seed(0))
    phy = phy_class(sc.link.phy)(**phy_params(sc))
    result, _ = simulate_policy(sc, table, states, phy, "fixed", seed=0)
    return result


def test_round_trip_and_processes_reach_the_simulator(tmp_path):
    sc, _ = _scenario(tmp_path, {"rtt_frames": 2, "processes": 2})
    assert sc.link.harq_timing == {"rtt_frames": 2, "processes": 2}
    default = _run(_scenario(tmp_path, None)[0])
    timed = _run(sc)
    assert 0 < default.delivered.mean() < 1  # a lossy link: retransmissions happen
    assert np.any(default.attempt > 1) and np.any(timed.attempt > 1)
    # with a 2-frame round trip a NACKed packet is re-sent 2 frames later, not in the next one
    same = (default.attempt.shape == timed.attempt.shape
            and np.array_equal(default.attempt, timed.attempt)
            and np.array_equal(default.delivered, timed.delivered))
    assert not same
    # the explicit defaults are the one-process loop, frame by frame
    ones = _run(_scenario(tmp_path, {"rtt_frames": 1, "processes": 1})[0])
    np.testing.assert_array_equal(ones.attempt, default.attempt)
    np.testing.assert_array_equal(ones.delivered, default.delivered)


@pytest.mark.parametrize("value, words", [
    ({"rtt_frames": 0}, ["link.harq_timing.rtt_frames", ">= 1"]),
    ({"processes": 2.5}, ["link.harq_timing.processes", ">= 1"]),
    ({"processes": 17}, ["link.harq_timing.processes", "<= 16"]),
    ({"repick": "yes"}, ["link.harq_timing.repick", "true or false"]),
    ({"rtt": 2}, ["link.harq_timing", "unknown key", "rtt_frames"]),
    ([2, 2], ["link.harq_timing", "mapping"]),
])
def test_bad_values_exit_2_with_one_line_naming_the_key(value, words, tmp_path, capsys):
    _, path = _scenario(tmp_path, None)
    raw = yaml.safe_load(path.read_text())
    raw["link"]["harq_timing"] = value
    path.write_text(yaml.safe_dump(raw))
    assert main(["run", str(path), "--check"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) <= 2, err
    for w in words:
        assert w in err, (w, err)
