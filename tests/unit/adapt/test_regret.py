"""Regret against a reference: the closed forms."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from commsldr.adapt.regret import correct_curve, cumulative_regret, regret_summary


def _res(c):
    return SimpleNamespace(num_correct=np.asarray(c))


def test_cumulative_regret_and_curve():
    ref, pol = _res([1, 1, 0, 1, 1]), _res([0, 1, 1, 0, 1])
    assert cumulative_regret(ref, pol).tolist() == [1, 1, 0, 1, 1]
    assert correct_curve(ref, points=3) == {"frames": [1, 3, 5], "correct": [1, 2, 4]}
    assert correct_curve(ref)["frames"] == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="same trace"):
        cumulative_regret(ref, _res([1, 1]))


def test_summary_is_the_mean_and_t_interval_of_paired_differences():
    rng = np.random.default_rng(0)
    curves, ref_c, pol_c = {}, [], []
    for s in range(4):
        r, p = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
        curves[(0, "ch", "oracle", s)] = correct_curve(_res(r), points=50)
        curves[(0, "ch", "pol", s)] = correct_curve(_res(p), points=50)
        ref_c.append(np.cumsum(r))
        pol_c.append(np.cumsum(p))
    out = regret_summary(curves, {"oracle": "oracle", "hindsight": "missing"})
    assert len(out) == 1 and out[0]["policy"] == "pol" and out[0]["seeds"] == 4
    d = np.array(ref_c) - np.array(pol_c)
    assert np.allclose(out[0]["regret"], d.mean(0))
    half = 3.182446305284263 * d.std(0, ddof=1) / 2.0  # t_{0.975, 3}
    assert np.allclose(np.array(out[0]["regret_high"]) - d.mean(0), half)
