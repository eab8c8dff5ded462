"""Intervals on accuracy: closed forms, and coverage on correlated channels.

The coverage tests simulate many independent runs of a time-correlated channel whose true
accuracy is known in closed form (and checked against the grand mean of all runs, a very long
run), then count how often the nominal 95 % interval holds it. Each frame carries ``M`` images;
a delivered frame classifies each right with probability 0.8, a lost one's fallback with 0.1.
With 1000 repetitions the binomial standard error of a coverage is 0.7 points: an exact 95 %
process falls below 93 % with probability 0.2 %. Wilson's interval, which treats every image as
an independent trial, covers a third of the time: the reason the default is no longer Wilson.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.adapt import aggregate, policy_metrics
from commsldr.adapt.intervals import (
    autocorrelation,
    block_bootstrap_variance,
    block_length,
    interval_label,
    ratio_standard_error,
    student_t_interval,
)
from commsldr_channels import create_channel

M = 4
P_DELIVERED, P_FALLBACK = 0.8, 0.1


def test_student_t_matches_the_table():
    lo, hi = student_t_interval([1.0, 2.0, 3.0], 0.95)
    half = 4.302652729749464 / math.sqrt(3)  # t_{2, 0.975}, s = 1
    assert (lo, hi) == pytest.approx((2 - half, 2 + half), rel=1e-9)
    with pytest.raises(ValueError, match="at least 2"):
        student_t_interval([0.5])


def test_block_bootstrap_variance_closed_forms():
    x = np.random.default_rng(0).normal(size=101)
    assert block_bootstrap_variance(x, 1) == pytest.approx(np.var(x) / x.size, rel=1e-12)
    # blocks of the whole series: a single block mean, no variance
    assert block_bootstrap_variance(x, x.size) == pytest.approx(0.0, abs=1e-18)
    # a period-2 series has block means 0 for even blocks
    alt = np.tile([1.0, -1.0], 50)
    assert block_bootstrap_variance(alt, 2) == pytest.approx(0.0, abs=1e-18)
    with pytest.raises(ValueError, match="block"):
        block_bootstrap_variance(x, 0)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_autocorrelation_and_block_length_of_ar1(phi):
    rng = np.random.default_rng(1)
    n = 20000
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    rho = autocorrelation(x, 5)
    assert rho[0] == 1.0
    assert rho[1:] == pytest.approx(phi ** np.arange(1, 6), abs=0.03)
    ell = block_length(x)
    # Politis-White: l = (2 G^2 / (4/3 g^2))^(1/3) n^(1/3), G/g = 2 phi / (1 - phi^2) for AR(1)
    ratio = 2 * phi / (1 - phi**2)
    expected = max(1.0, (1.5 * ratio**2) ** (1 / 3) * n ** (1 / 3))
    assert ell == pytest.approx(expected, rel=0.35, abs=2)


def test_iid_standard_error_is_binomial():
    rng = np.random.default_rng(2)
    c = rng.binomial(1, 0.3, 50000).astype(float)
    se, ell = ratio_standard_error(c, np.ones_like(c))
    assert ell <= 4
    assert se == pytest.approx(math.sqrt(0.3 * 0.7 / c.size), rel=0.1)


def test_labels_say_which_interval():
    assert interval_label("t", 8) == "95% CI (Student t over 8 seeds)"
    assert interval_label("block-bootstrap", 2, 0.9) == \
        "90% CI (moving-block bootstrap over frames, 2 seeds)"
    assert "frames independent" in interval_label("wilson")


def _run(channel, frames: int, seed: int, threshold_db: float):
    states = channel.states(frames, generator=torch.Generator().manual_seed(seed))
    ok = states.snr_db.numpy() > threshold_db
    if states.erased is not None:
        ok &= ~states.erased.numpy()
    rng = np.random.default_rng(seed)
    correct = np.where(ok, rng.binomial(M, P_DELIVERED, frames), rng.binomial(M, P_FALLBACK, frames))
    return policy_metrics(point_index=np.zeros(frames), delivered=ok, correct=correct,
                          packet_bits=np.ones(frames), images_per_frame=M)


def _coverage(channel, truth: float, *, frames: int, seeds: int, reps: int, threshold_db: float):
    hits = {"auto": 0, "wilson": 0}
    means, methods = [], set()
    for r in range(reps):
        per_seed = [_run(channel, frames, 1000 * r + s, threshold_db) for s in range(seeds)]
        for ci in hits:
            a = aggregate(per_seed, ci=ci)
            hits[ci] += a.accuracy_low <= truth <= a.accuracy_high
            methods.add(a.ci_method)
        means.append(a.accuracy)
    # the very long run: all repetitions together estimate the truth to within a few 0.001
    grand, se = float(np.mean(means)), float(np.std(means, ddof=1) / math.sqrt(reps))
    assert abs(grand - truth) < 4 * se + 1e-9, (grand, truth, se)
    return hits["auto"] / reps, hits["wilson"] / reps, methods


@pytest.mark.slow
@pytest.mark.parametrize(("seeds", "frames", "method"),
                         [(2, 2000, "block-bootstrap"), (5, 500, "t")])
def test_coverage_on_gilbert_elliott(seeds, frames, method):
    p_gb, p_bg = 0.02, 0.1  # bad bursts of 10 frames, good runs of 50
    channel = create_channel("gilbert-elliott", p_gb=p_gb, p_bg=p_bg, erasure_prob_good=0.0,
                             erasure_prob_bad=1.0)
    pi_bad = p_gb / (p_gb + p_bg)
    truth = (1 - pi_bad) * P_DELIVERED + pi_bad * P_FALLBACK
    auto, wilson, methods = _coverage(channel, truth, frames=frames, seeds=seeds, reps=1000,
                                      threshold_db=-math.inf)
    assert methods == {method, "wilson"}
    assert auto >= 0.93, auto
    assert wilson < 0.6, wilson


@pytest.mark.slow
def test_coverage_on_doppler_fading():
    mean_snr_db, threshold_db = 10.0, 5.0
    # Rayleigh: |h|^2 ~ Exp(1), delivered when |h|^2 > 10^((5 - 10)/10)
    p_ok = math.exp(-(10 ** ((threshold_db - mean_snr_db) / 10)))
    truth = p_ok * P_DELIVERED + (1 - p_ok) * P_FALLBACK
    channel = create_channel("doppler-fading", mean_snr_db=mean_snr_db, doppler_hz=4.0,
                             frame_s=0.01, num_sinusoids=32)  # coherence ~10 frames
    auto, wilson, methods = _coverage(channel, truth, frames=1000, seeds=2, reps=1000,
                                      threshold_db=threshold_db)
    assert methods == {"block-bootstrap", "wilson"}
    assert auto >= 0.93, auto
    assert wilson < 0.6, wilson
