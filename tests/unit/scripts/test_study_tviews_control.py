"""scripts/study_tviews_control.py: the paired per-image interval (closed form) and its rule."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


@pytest.fixture(scope="module")
def mod():
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("study_tviews_control",
                                                      SCRIPTS / "study_tviews_control.py")
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        yield m
    finally:
        sys.path.remove(str(SCRIPTS))


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
