"""Metrics: Wilson against published values, per-trace bookkeeping, pooling over seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from commsldr.adapt import aggregate, bootstrap_interval, policy_metrics, wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [  # Newcombe, Stat. Med. 17 (1998), Table I, method 3 (Wilson without continuity correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe(k, n, low, high):
    lo, hi = wilson_interval(k, n, 0.95)
    assert lo == pytest.approx(low, abs=6e-5)
    assert hi == pytest.approx(high, abs=6e-5)


def test_wilson_rejects_bad_input():
    with pytest.raises(ValueError, match="trials"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 3)


def test_bootstrap_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = rng.normal(0.7, 0.05, 10)
    big = rng.normal(0.7, 0.05, 1000)
    a = bootstrap_interval(small, generator=np.random.default_rng(1))
    b = bootstrap_interval(big, generator=np.random.default_rng(1))
    assert a[0] < small.mean() < a[1] and b[0] < big.mean() < b[1]
    assert b[1] - b[0] < (a[1] - a[0]) / 3


def test_policy_metrics_bookkeeping():
    m = policy_metrics(
        point_index=np.array([0, 0, 1, 1, 2, 0]),
        delivered=np.array([1, 1, 0, 1, 1, 0], dtype=bool),
        correct=np.array([2, 1, 0, 2, 2, 0]),
        packet_bits=np.array([100, 100, 200, 200, 300, 100]),
        images_per_frame=2,
        capacity_bits=np.array([150, 150, 150, 250, 400, 50]),
    )
    assert m.accuracy == 7 / 12 and m.images == 12 and m.correct == 7
    assert m.delivered_rate == 4 / 6 and m.outage_probability == pytest.approx(2 / 6)
    assert m.capacity_violations == 2 / 6
    assert m.switches_per_1000 == 3 * 1000 / 5
    assert m.mean_bits_per_image == 1000 / 6 / 2
    assert m.accuracy_low < m.accuracy < m.accuracy_high
    no_cap = policy_metrics(point_index=np.zeros(3), delivered=np.ones(3, bool),
                            correct=np.ones(3), packet_bits=np.ones(3), images_per_frame=1)
    assert math.isnan(no_cap.capacity_violations)
    with pytest.raises(ValueError, match="correct"):
        policy_metrics(point_index=np.zeros(3), delivered=np.ones(3, bool), correct=np.full(3, 3),
                       packet_bits=np.ones(3), images_per_frame=2)
    with pytest.raises(ValueError, match="delivered has 2 frames"):
        policy_metrics(point_index=np.zeros(3), delivered=np.ones(2, bool), correct=np.ones(3),
                       packet_bits=np.ones(3), images_per_frame=1)


def test_aggregate_pools_counts():
    def one(c, n):
        return policy_metrics(point_index=np.zeros(n), delivered=np.ones(n, bool),
                              correct=np.r_[np.ones(c), np.zeros(n - c)], packet_bits=np.ones(n),
                              images_per_frame=1)

    a = aggregate([one(30, 100), one(60, 100)], ci="wilson")
    assert a.accuracy == 0.45 and a.images == 200
    assert (a.accuracy_low, a.accuracy_high) == wilson_interval(90, 200)
    b = aggregate([one(30, 100), one(60, 100), one(45, 100)], ci="bootstrap",
                  generator=np.random.default_rng(0))
    assert b.accuracy_low <= 0.45 <= b.accuracy_high
    with pytest.raises(ValueError, match="auto, t, block-bootstrap, bootstrap, wilson"):
        aggregate([one(1, 2)], ci="normal")
