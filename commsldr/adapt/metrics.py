"""Policy metrics from per-frame records, and confidence intervals.

Per trace (one seed): accuracy (correct images / images sent), delivered-image rate, outage
probability (frames lost / frames), capacity violations (frames whose packet exceeded the true
frame capacity), switches per 1000 frames, mean bits per image (packet bits incl. header and CRC,
divided by the images it carries). Over seeds, :func:`aggregate` pools images for a Wilson
interval or bootstraps the per-seed accuracies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

__all__ = [
    "PolicyMetrics",
    "policy_metrics",
    "metrics_from_simulation",
    "aggregate",
    "wilson_interval",
    "bootstrap_interval",
]


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson, JASA 1927).

    ``(p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`` with ``z = Φ⁻¹(1 − α/2)``.
    """
    if trials <= 0:
        raise ValueError(f"trials must be > 0, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in [0, trials], got {successes} of {trials}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = float(ndtri(1.0 - (1.0 - confidence) / 2.0))
    p = successes / trials
    denom = 1.0 + z * z / trials
    center = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def bootstrap_interval(
    values: Sequence[float],
    confidence: float = 0.95,
    *,
    generator: np.random.Generator,
    num_resamples: int = 2000,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (Efron & Tibshirani, 1993)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("bootstrap_interval: no values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    idx = generator.integers(0, x.size, size=(num_resamples, x.size))
    means = x[idx].mean(axis=1)
    a = (1.0 - confidence) / 2.0
    return float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a))


@dataclass(frozen=True)
class PolicyMetrics:
    """Metrics of one policy over one or more traces.

    ``accuracy_low``/``accuracy_high`` bound ``accuracy`` at the stated confidence.
    """

    accuracy: float
    accuracy_low: float
    accuracy_high: float
    delivered_rate: float
    outage_probability: float
    capacity_violations: float
    switches_per_1000: float
    mean_bits_per_image: float
    images: int
    correct: int
    frames: int
    latency_frames: float = float("inf")
    """mean delivery latency of delivered packets in frames (1 = the frame it was generated;
    ``inf`` when nothing was delivered)"""

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def policy_metrics(
    *,
    point_index: np.ndarray,
    delivered: np.ndarray,
    correct: np.ndarray,
    packet_bits: np.ndarray,
    images_per_frame: int,
    capacity_bits: np.ndarray | None = None,
    confidence: float = 0.95,
) -> PolicyMetrics:
    """Metrics of one trace.

    Args:
        point_index: int array [T], the menu index chosen in each frame.
        delivered: bool array [T], whether frame t's packet arrived.
        correct: int array [T], how many of frame t's images the server classified correctly
            (fallback decisions of lost packets included).
        packet_bits: array [T], the size of frame t's packet in bits (header and CRC included).
        images_per_frame: m, the images carried by each packet.
        capacity_bits: array [T], the true capacity of each frame (None when the PHY has no such
            notion; violations are then reported as NaN).
        confidence: level of the Wilson interval on accuracy.
    """
    idx = np.asarray(point_index).reshape(-1)
    dlv = np.asarray(delivered, dtype=bool).reshape(-1)
    cor = np.asarray(correct, dtype=np.int64).reshape(-1)
    bits = np.asarray(packet_bits, dtype=np.float64).reshape(-1)
    t = idx.size
    if t == 0:
        raise ValueError("policy_metrics: no frames")
    for name, arr in (("delivered", dlv), ("correct", cor), ("packet_bits", bits)):
        if arr.size != t:
            raise ValueError(f"policy_metrics: {name} has {arr.size} frames, point_index has {t}")
    if images_per_frame < 1:
        raise ValueError(f"images_per_frame must be >= 1, got {images_per_frame}")
    if np.any(cor < 0) or np.any(cor > images_per_frame):
        raise ValueError("policy_metrics: correct must lie in [0, images_per_frame]")
    images = t * images_per_frame
    n_correct = int(cor.sum())
    low, high = wilson_interval(n_correct, images, confidence)
    if capacity_bits is None:
        violations = float("nan")
    else:
        cap = np.asarray(capacity_bits, dtype=np.float64).reshape(-1)
        if cap.size != t:
            raise ValueError(f"policy_metrics: capacity_bits has {cap.size} frames, expected {t}")
        violations = float(np.mean(bits > cap))
    switches = float(np.count_nonzero(idx[1:] != idx[:-1])) * 1000.0 / max(t - 1, 1)
    return PolicyMetrics(
        accuracy=n_correct / images,
        accuracy_low=low,
        accuracy_high=high,
        delivered_rate=float(dlv.mean()),
        outage_probability=float(1.0 - dlv.mean()),
        capacity_violations=violations,
        switches_per_1000=switches,
        mean_bits_per_image=float(bits.mean() / images_per_frame),
        images=images,
        correct=n_correct,
        frames=t,
    )


def metrics_from_simulation(result: Any, confidence: float = 0.95) -> PolicyMetrics:
    """Metrics of a ``commsldr.link.SimulationResult`` (frames that sent nothing are skipped).

    Accuracy counts the fallback decisions of lost images, over every image with an outcome
    (``images_delivered + images_lost``); capacity violations compare each sent packet with the
    frame's true capacity (``result.capacity_bits``).
    """
    sent = np.asarray(result.attempt) > 0
    images = int(result.images_done)
    correct = int(result.images_correct_delivered + result.images_correct_fallback)
    if images == 0 or not sent.any():
        raise ValueError("metrics_from_simulation: the simulation sent nothing")
    low, high = wilson_interval(correct, images, confidence)
    bits = np.asarray(result.packet_bits, dtype=np.float64)[sent]
    cap = np.asarray(result.capacity_bits, dtype=np.float64)[sent]
    idx = np.asarray(result.point_index)[sent]
    t = int(sent.sum())
    # accuracy, delivered-image rate, outage and bits per image are the SimulationResult's own
    # definitions (one place for each); switches and violations need the per-frame records.
    return PolicyMetrics(
        accuracy=float(result.accuracy),
        accuracy_low=low,
        accuracy_high=high,
        delivered_rate=float(result.delivered_image_rate),
        outage_probability=float(result.outage),
        capacity_violations=float(np.mean(bits > cap)),
        switches_per_1000=float(np.count_nonzero(idx[1:] != idx[:-1])) * 1000.0 / max(t - 1, 1),
        mean_bits_per_image=float(result.mean_bits_per_image),
        images=images,
        correct=correct,
        frames=t,
        latency_frames=float(getattr(result, "mean_latency_frames", float("inf"))),
    )


def aggregate(
    per_seed: Sequence[PolicyMetrics],
    *,
    ci: str = "wilson",
    confidence: float = 0.95,
    generator: np.random.Generator | None = None,
) -> PolicyMetrics:
    """Combine per-seed metrics: pooled counts, frame-weighted rates.

    ``ci="wilson"``: Wilson interval over all pooled images (treats images as independent; frames
    lost together make it optimistic when a packet carries many images). ``ci="bootstrap"``:
    percentile bootstrap over the per-seed accuracies (needs ``generator``; meaningful from ~5 seeds).
    """
    if not per_seed:
        raise ValueError("aggregate: no metrics")
    images = sum(m.images for m in per_seed)
    correct = sum(m.correct for m in per_seed)
    frames = sum(m.frames for m in per_seed)
    w = np.array([m.frames for m in per_seed], dtype=np.float64) / frames

    def mean(attr: str) -> float:
        return float(np.sum(w * np.array([getattr(m, attr) for m in per_seed])))

    if ci == "wilson":
        low, high = wilson_interval(correct, images, confidence)
    elif ci == "bootstrap":
        if generator is None:
            raise ValueError("aggregate: ci='bootstrap' needs a generator")
        low, high = bootstrap_interval([m.accuracy for m in per_seed], confidence, generator=generator)
    else:
        raise ValueError(f"unknown ci method {ci!r}; valid: wilson, bootstrap")
    return PolicyMetrics(
        accuracy=correct / images,
        accuracy_low=low,
        accuracy_high=high,
        delivered_rate=mean("delivered_rate"),
        outage_probability=mean("outage_probability"),
        capacity_violations=mean("capacity_violations"),
        switches_per_1000=mean("switches_per_1000"),
        mean_bits_per_image=mean("mean_bits_per_image"),
        images=images,
        correct=correct,
        frames=frames,
        latency_frames=_pooled_latency(per_seed),
    )


def _pooled_latency(per_seed: Sequence[PolicyMetrics]) -> float:
    """Mean latency over all delivered images of the seeds (``inf`` if none was delivered)."""
    w = np.array([m.delivered_rate * m.images for m in per_seed], dtype=np.float64)
    lat = np.array([m.latency_frames for m in per_seed], dtype=np.float64)
    ok = (w > 0) & np.isfinite(lat)
    return float(np.sum(w[ok] * lat[ok]) / np.sum(w[ok])) if ok.any() else float("inf")
