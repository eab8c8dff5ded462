"""scripts/study_corrected.py: the combined interval (closed form), the paper-axis interpolation,
and the per-distortion / per-entry-std metrics."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


@pytest.fixture(scope="module")
def mod():
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("study_corrected", SCRIPTS / "study_corrected.py")
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        yield m
    finally:
        sys.path.remove(str(SCRIPTS))


def test_paper_axis_interpolation(mod):
    row = {"acc@10b": 0.5, "acc@10b_paper_entropy_bits": 2.0,
           "acc@20b": 0.8, "acc@20b_paper_entropy_bits": 12.0,
           "acc@28b": 0.9, "acc@28b_paper_entropy_bits": 16.0}
    assert mod.paper_axis_accuracy(row, [10.0, 20.0, 28.0], 13.93) == pytest.approx(
        0.8 + 0.1 * (13.93 - 12.0) / 4.0)
    assert mod.paper_axis_accuracy(row, [10.0, 20.0, 28.0], 1.0) is None  # not bracketed
    assert mod.paper_axis_accuracy(row, [10.0, 20.0, 28.0], 40.0) is None


def test_combined_interval_closed_form(mod):
    a = {"0": {"m": 0.90}, "1": {"m": 0.91}, "2": {"m": 0.92}}
    b = {"0": {"m": 0.89}, "1": {"m": 0.89}, "2": {"m": 0.89}}
    row = mod.judge({"A": a, "B": b}, 10000, [("c", "A", "B", "m", +1)])[0]
    diffs = [0.01, 0.02, 0.03]
    t_half = 4.302652729911275 * 0.01 / math.sqrt(3)
    var = sum(p * (1 - p) + q * (1 - q) for p, q in [(0.90, 0.89), (0.91, 0.89), (0.92, 0.89)])
    test_half = 1.96 * math.sqrt(var / 10000 / 9)
    half = math.sqrt(t_half ** 2 + test_half ** 2)
    assert row["mean"] == pytest.approx(sum(diffs) / 3)
    assert row["t_half"] == pytest.approx(t_half, rel=1e-6)
    assert row["test_half"] == pytest.approx(test_half, rel=1e-9)
    assert (row["lo"], row["hi"]) == pytest.approx((0.02 - half, 0.02 + half), rel=1e-6)
    assert row["verdict"] == ("holds" if 0.02 - half > 0 else "inconclusive")
    # the combined interval is never narrower than either part
    assert row["hi"] - row["mean"] >= max(t_half, test_half)


def test_derived_metrics(mod):
    row = {"float_acc": 0.9, "latent_std": [0.1, 0.3],
           "distortions": {"rotation": 0.6, "flip": 0.7, "color_jitter": 0.8, "noise": 0.2}}
    d = mod.derived(row, [])
    assert d["mean_latent_std"] == pytest.approx(0.2)
    assert d["distorted_acc_paper"] == pytest.approx(0.7)  # noise left out
    assert d["distortion_noise"] == 0.2 and d["acc@paper_low"] is None
