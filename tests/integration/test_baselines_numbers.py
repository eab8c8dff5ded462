"""The baselines guide's numbers are the rendering of the stored numbers of a run by
scripts/baselines_numbers.py, and the script reads a real baselines run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scenario", ["baselines_quick", "baselines_cifar10"])
def test_page_block_is_generated_from_the_stored_numbers(scenario, load_script) -> None:
    s = load_script("baselines_numbers")
    path = s.numbers_path(scenario)
    if scenario == "baselines_quick":
        assert path.is_file(), "the quick baselines' numbers must be stored"
    elif not path.is_file():
        pytest.skip(f"no stored numbers for {scenario}")
    stored = json.loads(path.read_text())
    assert s.render(stored) in s.PAGE.read_text()
    acc = stored["accuracy"]
    assert acc and all(len(v) == len(stored["snr_db"]) for v in acc.values())
    assert all(0.0 <= a <= 1.0 for v in acc.values() for a in v)


def test_numbers_of_a_run(tiny_overrides, load_script, tmp_path) -> None:
    from commsldr.scenario import load_scenario
    from commsldr.scenario.runner import run_scenario

    loaded = load_scenario("baselines_quick", [
        *tiny_overrides,
        "policies={adaptive: {type: scale-and-truncation}, oracle: {type: oracle}}",
        "schemes={edge-label: {type: edge-label, label_coding: fixed,"
        " policies: {fixed: {type: fixed, k: 1, scale: 1.0}}}}",
        "sweep={channels.*.mean_snr_db: [0.0, 20.0]}"])
    out = run_scenario(loaded, out=tmp_path / "run", progress=False, plot=False,
                       log=lambda *_: None)
    s = load_script("baselines_numbers")
    n = s.numbers_of_run(out.run_dir)
    assert n["snr_db"] == [0.0, 20.0] and n["channels"] == ["rayleigh", "doppler"]
    assert set(n["accuracy"]) == {"split-ae/adaptive", "split-ae/oracle", "edge-label/fixed"}
    assert n["facts"]["smallest_packet_bits"]["edge-label"] == 96.0
    # the mean frame capacity grows with the SNR
    assert n["mean_capacity_bits"][0] < n["mean_capacity_bits"][1]
    n["environment"] = {"torch": "t", "threads": 1, "cores": 2}
    begin, end = s.markers("baselines_quick")
    block = s.render(n)
    assert block.startswith(begin) and block.endswith(end) and "| edge-label | fixed |" in block


def test_an_existing_run_keeps_its_overrides_and_threads(load_script, tmp_path) -> None:
    s = load_script("baselines_numbers")
    assert s.recorded_run(tmp_path) == ([], None)  # no provenance: nothing claimed
    root = f"data.root={tmp_path / 'cifar10-jpeg'}"  # a local absolute path
    (tmp_path / "provenance.json").write_text(json.dumps({
        "command": ["baselines_numbers.py", "baselines_cifar10", "--run", "--threads", "3",
                    "--set", root],
        "overrides": [root]}))
    overrides, threads = s.recorded_run(tmp_path)
    assert (overrides, threads) == ([root], 3)
    cmd = s._run_command("baselines_cifar10", overrides)
    assert cmd == "commsldr run baselines_cifar10 --jobs 1 --set 'data.root=PATH/cifar10-jpeg'"
