"""Cumulative regret of a policy against a reference on the same realised trace.

Two simulations with the same seed see the same channel draws, images and PHY streams, so their
per-frame counts of correctly classified delivered images, ``c_t`` (policy) and ``c*_t``
(reference), are paired. The cumulative regret after ``t`` frames is

.. math:: R(t) = \\sum_{\\tau < t} \\left(c^*_\\tau - c_\\tau\\right),

in images. References: the Oracle (perfect current CSI; an upper bound of every causal policy in
expectation) and the best fixed point in hindsight (:mod:`commsldr.adapt.hindsight`; the
classical bandit regret, which a learning policy drives to ``o(t)`` on a stationary channel:
``R(t)/t → 0``, sublinear growth). Lattimore & Szepesvári, *Bandit Algorithms*, ch. 4 (2020).

A run stores each simulation's cumulative correct count at a few frames
(:func:`correct_curve`), and :func:`regret_summary` turns those into mean regret curves with an
interval over the independent seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["cumulative_regret", "correct_curve", "regret_summary", "CURVE_POINTS"]

#: frames at which a run keeps the cumulative correct count (evenly spaced, last frame included)
CURVE_POINTS = 100


def cumulative_regret(reference: Any, result: Any) -> np.ndarray:
    """``R(t)`` for ``t = 1..F``, ``float64 [F]``, of two simulations on the same trace.

    Args:
        reference: :class:`~commsldr.link.simulator.SimulationResult` (or anything with
            ``num_correct [F]``) of the reference.
        result: the same of the policy.
    """
    ref = np.asarray(reference.num_correct, dtype=np.float64)
    pol = np.asarray(result.num_correct, dtype=np.float64)
    if ref.shape != pol.shape:
        raise ValueError(f"reference has {ref.shape[0]} frames, result {pol.shape[0]}: "
                         "regret needs the same trace")
    return np.cumsum(ref - pol)


def correct_curve(result: Any, points: int = CURVE_POINTS) -> dict[str, list[int]]:
    """The cumulative correct count ``C(t) = Σ_{τ<t} c_τ`` at ``points`` frames (JSON-able).

    Returns:
        ``{"frames": [t_1, ..., F], "correct": [C(t_1), ..., C(F)]}`` (``t`` counts frames).
    """
    c = np.cumsum(np.asarray(result.num_correct, dtype=np.int64))
    n = c.shape[0]
    t = np.unique(np.linspace(1, n, num=min(points, n)).round().astype(np.int64))
    return {"frames": t.tolist(), "correct": c[t - 1].tolist()}


def _interval(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t interval over axis 0 (seeds); the mean twice for one seed."""
    mean = x.mean(axis=0)
    n = x.shape[0]
    if n < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def regret_summary(curves: Mapping[tuple[Any, ...], Mapping[str, Sequence[int]]],
                   references: Mapping[str, str], *, confidence: float = 0.95
                   ) -> list[dict[str, Any]]:
    """Mean cumulative regret curves with a t-interval over seeds.

    Args:
        curves: ``{(point, channel, policy, seed): correct_curve(...)}``.
        references: ``{"oracle": policy label, "hindsight": policy label}`` (either may be
            missing): the reference policy of each kind.
        confidence: the interval's level.

    Returns:
        One entry per (point, channel, policy, reference kind), the reference itself excluded:
        ``{"point", "channel", "policy", "reference", "frames", "regret", "regret_low",
        "regret_high", "seeds"}`` (regret in images, mean over seeds).
    """
    groups: dict[tuple[Any, Any, Any], dict[Any, Mapping[str, Sequence[int]]]] = {}
    for (point, channel, policy, seed), curve in curves.items():
        groups.setdefault((point, channel, policy), {})[seed] = curve
    out: list[dict[str, Any]] = []
    for (point, channel, policy), by_seed in groups.items():
        for kind, ref_label in references.items():
            if policy == ref_label:
                continue
            ref = groups.get((point, channel, ref_label))
            if ref is None:
                continue
            seeds = sorted(s for s in by_seed if s in ref)
            if not seeds:
                continue
            frames = np.asarray(by_seed[seeds[0]]["frames"])
            diffs = np.stack([np.asarray(ref[s]["correct"], np.float64)
                              - np.asarray(by_seed[s]["correct"], np.float64) for s in seeds])
            mean, low, high = _interval(diffs, confidence)
            out.append({"point": point, "channel": channel, "policy": policy, "reference": kind,
                        "frames": frames.tolist(), "regret": mean.tolist(),
                        "regret_low": low.tolist(), "regret_high": high.tolist(),
                        "seeds": len(seeds)})
    return out
