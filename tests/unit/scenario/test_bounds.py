"""Every number of a scenario is bounded to a documented range; numbers written as text are
refused by name; YAML 1.2 floats (``1e5``) are numbers; CSV cells are never formulas."""

from __future__ import annotations

import csv
import io

import pytest

from commsldr.csv_cells import safe_cell
from commsldr.report.results import _csv_text
from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario.bounds import (
    MAX_KEY_DEPTH,
    MAX_MAGNITUDE,
    SCENARIO_BOUNDS,
    check_bounds,
    check_key_depth,
    check_ranges,
)
from commsldr.scenario.files import parse_override, parse_yaml
from commsldr_channels import create_channel
from commsldr_channels._validate import BOUNDS
from commsldr_channels.base import ChannelParameterError

BASE = {
    "name": "tiny",
    "data": {"train_per_class": 20, "test_per_class": 10},
    "model": {"recipe": "ce", "train": {"epochs": 1, "latent_dim": 16}},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0},
                 "dop": {"type": "doppler-fading", "mean_snr_db": 10.0, "speed_mps": 3.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5},
    "policies": {"fixed": {"type": "fixed", "k": 16, "scale": 1.0}},
    "seeds": [0],
    "frames": 50,
}


def _set(path: str, value):
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    node = raw
    *parents, last = path.split(".")
    for p in parents:
        node[p] = dict(node.get(p) or {})
        node = node[p]
    node[last] = value
    return raw


@pytest.mark.parametrize("path", [p for p in SCENARIO_BOUNDS if not p.endswith("[]")])
def test_named_bounds_hold_at_both_ends(path):
    lo, hi, integer = SCENARIO_BOUNDS[path]
    check_ranges(_set(path, lo))
    check_ranges(_set(path, hi))
    above = hi + 1 if integer else hi * 2
    below = lo - 1 if integer else (lo / 2 if lo > 0 else lo - 1)
    for bad in (above, below):
        with pytest.raises(ScenarioError, match=rf"^{path}: must be in \["):
            check_ranges(_set(path, bad))


@pytest.mark.parametrize("value", [1e308, -1e308, 10**400, MAX_MAGNITUDE * 1.01])
@pytest.mark.parametrize("path", ["channels.ray.mean_snr_db", "policies.fixed.scale",
                                  "link.snr_gap_db", "csi.delay_frames"])
def test_any_huge_number_anywhere_is_named(path, value):
    with pytest.raises(ScenarioError, match=rf"^{path}: "):
        check_bounds(_set(path, value))


@pytest.mark.parametrize("text", ["1e5", "100000", " 1.0e+5"])
def test_numbers_written_as_text_get_a_hint(text):
    with pytest.raises(ScenarioError, match=r"^link.bandwidth_hz: expected a number.*1\.0e\+5"):
        check_bounds(_set("link.bandwidth_hz", text))


def test_yaml_12_floats_are_numbers():
    assert parse_yaml("[1e5, 3.5e9, 30e3, -2E-3, 10, '1e5', 1.5]", "x") == \
        [1e5, 3.5e9, 30e3, -2e-3, 10, "1e5", 1.5]


def test_set_key_depth():
    check_key_depth(".".join(["a"] * MAX_KEY_DEPTH))
    with pytest.raises(ScenarioError, match=r"^--set: .*nests 2000 levels; at most 32"):
        parse_override(".".join(["a"] * 2000) + "=1")


@pytest.mark.parametrize("name, params", [
    ("rayleigh-block", {"mean_snr_db": "10"}),
    ("awgn", {"snr_db": "10"}),
    ("doppler-fading", {"carrier_hz": "3.5e9"}),
    ("rayleigh-block", {"coherence_frames": True}),
])
def test_channel_parameters_refuse_numeric_strings_and_bools(name, params):
    with pytest.raises(ChannelParameterError, match=f"^{next(iter(params))}: expected"):
        create_channel(name, **params)


@pytest.mark.parametrize("param", sorted(BOUNDS))
def test_channel_bounds_are_enforced_where_a_model_takes_the_parameter(param):
    lo, hi = BOUNDS[param]
    from commsldr_channels import _validate as check

    check.finite(param, lo)
    check.finite(param, hi)
    with pytest.raises(ChannelParameterError, match=rf"^{param}: must be in"):
        check.finite(param, hi * 2 if hi > 0 else hi + 1)


def test_scenario_with_extreme_snr_is_refused_before_any_work():
    raw = _set("channels.ray.mean_snr_db", 1e10)
    with pytest.raises(ScenarioError, match=r"channels.ray.mean_snr_db.*\[-200, 200\]"):
        load_scenario(raw)


def test_block_fading_with_a_huge_coherence_uses_memory_of_the_frames_only():
    import torch

    ch = create_channel("rayleigh-block", coherence_frames=10**12)
    s = ch.states(7, generator=torch.Generator().manual_seed(0))
    assert s.gain.shape == (7,) and torch.all(s.gain == s.gain[0])


@pytest.mark.parametrize("text, shown", [("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
                                         ("+1", "'+1"), ("-x", "'-x"), ("@SUM(1)", "'@SUM(1)"),
                                         ("\tx", "'\tx"), ("plain", "plain")])
def test_csv_cells_are_never_formulas(text, shown):
    assert safe_cell(text) == shown
    assert safe_cell(-3.5) == -3.5
    rows = list(csv.reader(io.StringIO(_csv_text([{text: text, "accuracy": -0.5}]))))
    assert rows == [[shown, "accuracy"], [shown, "-0.5"]]


def test_synthetic_data_that_cannot_fit_is_refused():
    with pytest.raises(ScenarioError, match=r"^data: .*synthetic images per class need"):
        check_bounds(_set("data.test_per_class", 10**6))
