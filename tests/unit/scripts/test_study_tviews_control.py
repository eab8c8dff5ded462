"""scripts/study_tviews_control.py: the paired per-image interval (closed form) and its rule."""

from __future__ import annotations

import math

import pytest
import torch


@pytest.fixture(scope="module")
def mod(load_script):
    return load_script("study_tviews_control")


def test_paired_interval_is_the_normal_interval_of_the_differences(mod):
    # 1000 images: A right on 600, B right on 500; they differ on 150 (A only 125, B only 25)
    a = torch.zeros(1000, dtype=torch.bool)
    b = torch.zeros(1000, dtype=torch.bool)
    a[:600] = True
    b[:475] = True
    b[600:625] = True
    d = a.double() - b.double()
    mean, sd = float(d.mean()), float(d.std(unbiased=True))
    out = mod.paired(a, b)
    assert out["mean_points"] == pytest.approx(round(100 * mean, 2)) == 10.0
    assert out["half_width_points"] == pytest.approx(round(100 * 1.96 * sd / math.sqrt(1000), 2))
    assert out["verdict"] == "holds"
    assert mod.paired(b, a)["verdict"] == "refuted"


def test_equal_models_are_inconclusive(mod):
    a = torch.tensor([True, False] * 50)
    assert mod.paired(a, a) == {"mean_points": 0.0, "half_width_points": 0.0,
                                "verdict": "inconclusive"}
