"""Labels may hold any character YAML allows, dots included: overrides, sweeps over one channel
and over every channel (``channels.*``), and the figures' key matching."""

from __future__ import annotations

import pytest

from commsldr.report import plots
from commsldr.scenario import load_scenario
from commsldr.scenario.load import set_dotted

LABELS = ["naka-m0.5", "a.b.c", "ray leigh", "ü/ß:1", "x*y"]


def _raw():
    return {"name": "t", "extends": "base/synthetic.yaml",
            "channels": {lbl: {"type": "rayleigh-block", "mean_snr_db": 5.0} for lbl in LABELS},
            "policies": {"f.1": {"type": "fixed", "k": 16, "scale": 1.0}}}


def test_star_sweep_with_dotted_labels():
    raw = _raw()
    raw["sweep"] = {"channels.*.mean_snr_db": [0.0, 10.0]}
    loaded = load_scenario(raw)
    for point, snr in zip(loaded.points, (0.0, 10.0), strict=True):
        assert list(point.scenario.channels) == LABELS
        assert all(c.params["mean_snr_db"] == snr for c in point.scenario.channels.values())


@pytest.mark.parametrize("label", LABELS)
def test_one_channel_sweep_and_override(label):
    raw = _raw()
    raw["sweep"] = {f"channels.{label}.mean_snr_db": [1.0, 2.0]}
    loaded = load_scenario(raw, [f"channels.{label}.coherence_frames=3"])
    for point, snr in zip(loaded.points, (1.0, 2.0), strict=True):
        chans = point.scenario.channels
        assert list(chans) == LABELS
        assert chans[label].params == {"mean_snr_db": snr, "coherence_frames": 3}
        assert all(c.params == {"mean_snr_db": 5.0} for k, c in chans.items() if k != label)


def test_longest_existing_key_wins():
    raw = {"channels": {"a": {"x": 1}, "a.b": {"x": 2}}}
    set_dotted(raw, "channels.a.b.x", 5)
    assert raw == {"channels": {"a": {"x": 1}, "a.b": {"x": 5}}}
    set_dotted(raw, "channels.a.y", 6)
    assert raw["channels"]["a"] == {"x": 1, "y": 6}


def test_figures_match_keys_of_dotted_labels():
    row = {"policy": "f.1", "policy_type": "fixed"}
    assert plots._applies("channels.naka-m0.5.mean_snr_db", row, "naka-m0.5")
    assert not plots._applies("channels.naka-m0.5.mean_snr_db", row, "naka-m0")
    assert plots._applies("policies.f.1.margin", row, "c")
    assert not plots._applies("policies.f.margin", row, "c")
    results = {"sweep_keys": ["channels.naka-m0.5.mean_snr_db"]}
    assert plots._snr_key(results, "naka-m0.5") == "channels.naka-m0.5.mean_snr_db"
    assert plots._snr_key(results, "naka-m0") is None


@pytest.mark.parametrize("label", ["a=b", "x.y=z w", "=cmd", "k=1 = s1"])
def test_set_addresses_labels_that_contain_equals(label):
    """``--set`` splits KEY=VALUE at the first ``=`` unless a longer key names an existing label
    containing ``=``; values keep their own ``=`` (``description=x=y``)."""
    raw = _raw()
    raw["channels"][label] = {"type": "rayleigh-block", "mean_snr_db": 5.0}
    raw["policies"][label] = {"type": "fixed", "k": 16, "scale": 1.0}
    loaded = load_scenario(raw, [f"channels.{label}.coherence_frames=3",
                                 f"policies.{label}.scale=0.5",
                                 f"sweep.channels.{label}.mean_snr_db=[1.0, 2.0]",
                                 "description=x=y"])
    for point, snr in zip(loaded.points, (1.0, 2.0), strict=True):
        sc = point.scenario
        assert sc.channels[label].params == {"mean_snr_db": snr, "coherence_frames": 3}
        assert all(c.params == {"mean_snr_db": 5.0} for k, c in sc.channels.items() if k != label)
        assert sc.policies[label].params["scale"] == 0.5
        assert sc.policies["f.1"].params["scale"] == 1.0
        assert sc.description == "x=y"
