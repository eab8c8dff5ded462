"""The study's statistics: intervals over seeds and over the test set, and the verdict rule
(see ``study_report.py``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from study_config import BUDGETS_BITS, NUM_CLASSES


def add_rate_mean(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with ``rate_mean``: the screening score (rule ``rate-mean``), the mean accuracy
    over :data:`BUDGETS_BITS` with an infeasible budget counted as chance."""
    accs = [result.get(f"acc@{b:g}b") for b in BUDGETS_BITS]
    return {**result, "rate_mean": float(np.mean([1 / NUM_CLASSES if a is None else a
                                                   for a in accs]))}


def t_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % Student-t interval of ``values`` (n >= 2)."""
    from scipy import stats

    a = np.asarray(values, dtype=float)
    m = float(a.mean())
    half = float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a)))
    return m, m - half, m + half


def accuracy_interval(values: list[float], n_test: int) -> tuple[float, float, float]:
    """Mean and 95 % interval of accuracies over seeds: Student t for several seeds, the test
    set's binomial interval for one (the tables' †)."""
    if len(values) > 1:
        return t_interval(values)
    m = float(values[0])
    half = 1.96 * math.sqrt(m * (1 - m) / n_test)
    return m, m - half, m + half


#: the y label of every accuracy figure with a band
BAND_LABEL = "test accuracy (%), band: 95 % interval (within 0–100)"


def accuracy_band(values: list[float], n_test: int) -> tuple[float, float, float]:
    """:func:`accuracy_interval` in percent with the interval cut to [0, 100] (an accuracy
    cannot leave it; with two or three seeds the t interval often does), for the figures."""
    m, lo, hi = accuracy_interval(values, n_test)
    return 100 * m, max(0.0, 100 * lo), min(100.0, 100 * hi)


def binomial_diff_interval(p_a: float, p_b: float, n: int) -> tuple[float, float, float]:
    """Difference of two accuracies on ``n`` test images each, 95 % normal interval."""
    d = p_a - p_b
    half = 1.96 * math.sqrt((p_a * (1 - p_a) + p_b * (1 - p_b)) / n)
    return d, d - half, d + half


def test_set_diff_interval(pairs: list[tuple[float, float]], n: int) -> tuple[float, float, float]:
    """Mean over seeds of the differences ``p_a - p_b`` (accuracies on the same ``n`` test images)
    and its 95 % normal interval from test-set sampling alone: each accuracy a binomial
    proportion, the seeds' draws independent. For a mean of proportions on the same images (the
    distortions' mean, the screen's mean over budgets) the binomial variance of the mean's value
    is an upper bound, so the interval is conservative there."""
    d = float(np.mean([a - b for a, b in pairs]))
    var = sum(a * (1 - a) + b * (1 - b) for a, b in pairs) / n / len(pairs) ** 2
    half = 1.96 * math.sqrt(var)
    return d, d - half, d + half


#: metrics that are not accuracies (no binomial test-set interval)
NON_PROPORTIONS = ("quant_loss", "participation_ratio")


def verdict(lo: float, hi: float, direction: int) -> str:
    """The stated rule: the interval on the claimed side of zero, the other side, or neither."""
    lo, hi = (lo, hi) if direction > 0 else (-hi, -lo)
    if lo > 0:
        return "holds"
    if hi < 0:
        return "refuted"
    return "inconclusive"
