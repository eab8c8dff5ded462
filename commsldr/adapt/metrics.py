"""Policy metrics from per-frame records, and confidence intervals.

Per trace (one seed): accuracy (correct images / images sent), delivered-image rate, outage
probability (frames lost / frames), capacity violations (frames whose packet exceeded the true
frame capacity), switches per 1000 frames, mean bits per image (packet bits incl. header and CRC,
divided by the images it carries). Each trace's accuracy carries its standard error from the
moving-block bootstrap over frames (:mod:`commsldr.adapt.intervals`). Over seeds,
:func:`aggregate` gives the interval over independent replications (Student t on the per-seed
accuracies) or, with few seeds, the block bootstrap's; Wilson's only on request (right where
frames are independent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri, stdtrit

from commsldr.adapt.intervals import (
    AUTO_MIN_SEEDS,
    CI_METHODS,
    ratio_standard_error,
    student_t_interval,
)

__all__ = [
    "PolicyMetrics",
    "policy_metrics",
    "metrics_from_simulation",
    "aggregate",
    "wilson_interval",
    "bootstrap_interval",
    "frame_outcomes",
    "interval_from_counts",
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

    ``accuracy_low``/``accuracy_high`` bound ``accuracy`` at the stated confidence, by the method
    named in ``ci_method``.
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
    accuracy_se: float = float("nan")
    """standard error of ``accuracy`` from the moving-block bootstrap over frames (seeds
    combined as independent); ``nan`` where unknown"""
    block_frames: float = float("nan")
    """block length of that bootstrap in frames (mean over seeds)"""
    ci_method: str = "block-bootstrap"
    """how ``accuracy_low``/``accuracy_high`` were computed: ``t`` (Student t over seeds),
    ``block-bootstrap`` (over frames), ``bootstrap`` (over seeds) or ``wilson``"""
    seeds: int = 1
    """independent replications pooled"""

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
        confidence: level of the interval on accuracy (moving-block bootstrap over frames).
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
    se, ell = ratio_standard_error(cor, np.full(t, float(images_per_frame)))
    low, high = _normal_interval(n_correct / images, se, confidence, t / ell)
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
        accuracy_se=se,
        block_frames=float(ell),
    )


def _normal_interval(center: float, se: float, confidence: float, blocks: float,
                     ) -> tuple[float, float]:
    """``center ± q·se`` clipped to [0, 1]; ``q`` the Student t quantile with ``blocks − 1``
    degrees of freedom (the bootstrap's independent blocks; the normal one for many)."""
    df = max(blocks - 1.0, 1.0)
    half = float(stdtrit(df, 0.5 + confidence / 2)) * se
    return max(0.0, center - half), min(1.0, center + half)


def frame_outcomes(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per sent frame of a ``SimulationResult``: ``(correct, images)`` whose sums are the run's
    correct decisions and images done.

    A delivered frame counts its packet's images and correct decisions; the images of lost
    packets (and the fallback decisions right for them) are spread evenly over the frames whose
    transmission failed. The series feeds the block bootstrap's variance; the totals are exact.
    """
    sent = np.asarray(result.attempt) > 0
    dlv = np.asarray(result.delivered, dtype=bool)[sent]
    m = float(result.images_per_packet)
    images = np.where(dlv, m, 0.0)
    correct = np.where(dlv, np.asarray(result.num_correct, dtype=np.float64)[sent], 0.0)
    failed = int(np.count_nonzero(~dlv))
    if failed and result.images_lost:
        images[~dlv] = result.images_lost / failed
        correct[~dlv] = result.images_correct_fallback / failed
    return correct, images


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
    se, ell = ratio_standard_error(*frame_outcomes(result))
    low, high = _normal_interval(correct / images, se, confidence, int(sent.sum()) / ell)
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
        accuracy_se=se,
        block_frames=float(ell),
    )


def aggregate(
    per_seed: Sequence[PolicyMetrics],
    *,
    ci: str = "auto",
    confidence: float = 0.95,
    generator: np.random.Generator | None = None,
) -> PolicyMetrics:
    r"""Combine per-seed metrics: pooled counts, frame-weighted rates, an interval on accuracy.

    Intervals (``ci``), see :mod:`commsldr.adapt.intervals`:

    * ``"auto"`` (default): ``"t"`` with at least :data:`~commsldr.adapt.intervals.AUTO_MIN_SEEDS`
      seeds, else ``"block-bootstrap"``.
    * ``"t"``: Student t over the per-seed accuracies (independent replications): half-width
      :math:`t_{S-1,1-\alpha/2}\,s/\sqrt S`, centred on the pooled accuracy.
    * ``"block-bootstrap"``: the pooled accuracy :math:`\sum c/\sum n` with the standard error
      :math:`\sqrt{\sum_s w_s^2\,\mathrm{se}_s^2}`, :math:`w_s` = the seed's share of images and
      :math:`\mathrm{se}_s` its moving-block-bootstrap standard error (seeds are independent);
      Student t quantile with the bootstrap's blocks minus one degrees of freedom.
    * ``"bootstrap"``: percentile bootstrap over the per-seed accuracies (needs ``generator``;
      meaningful from ~10 seeds).
    * ``"wilson"``: Wilson over the pooled images; right only where frames (and the images of a
      packet) are independent, 3–5× too narrow on Doppler fading.

    Input:
        per_seed: the metrics of each seed (independent runs).
        ci: one of :data:`~commsldr.adapt.intervals.CI_METHODS`.
        confidence: the level :math:`1-\alpha`.
        generator: draws the seed bootstrap (``ci="bootstrap"`` only).

    Output:
        :class:`PolicyMetrics`; ``ci_method`` says which interval was used, ``seeds`` how many.
    """
    if not per_seed:
        raise ValueError("aggregate: no metrics")
    if ci not in CI_METHODS:
        raise ValueError(f"unknown ci method {ci!r}; valid: {', '.join(CI_METHODS)}")
    images = sum(m.images for m in per_seed)
    correct = sum(m.correct for m in per_seed)
    frames = sum(m.frames for m in per_seed)
    seeds = sum(m.seeds for m in per_seed)
    w = np.array([m.frames for m in per_seed], dtype=np.float64) / frames
    wi = np.array([m.images for m in per_seed], dtype=np.float64) / images
    se_seed = np.array([m.accuracy_se for m in per_seed], dtype=np.float64)
    se = float(np.sqrt(np.sum(wi**2 * se_seed**2)))
    blocks = np.array([m.frames / m.block_frames if m.block_frames > 0 else math.nan
                       for m in per_seed])

    def mean(attr: str) -> float:
        return float(np.sum(w * np.array([getattr(m, attr) for m in per_seed])))

    method = ci
    if ci == "auto":
        method = "t" if len(per_seed) >= AUTO_MIN_SEEDS else "block-bootstrap"
    accuracy = correct / images
    accs = [m.accuracy for m in per_seed]
    if method == "t":
        if len(per_seed) < 2:
            raise ValueError("aggregate: ci='t' needs at least 2 seeds")
        lo_t, hi_t = student_t_interval(accs, confidence)
        half = (hi_t - lo_t) / 2  # centred on the pooled accuracy (= the seeds' mean when
        low, high = max(0.0, accuracy - half), min(1.0, accuracy + half)  # they hold equal images)
    elif method == "block-bootstrap":
        if not np.isfinite(se):
            raise ValueError("aggregate: ci='block-bootstrap' needs each seed's accuracy_se "
                             "(metrics from policy_metrics or metrics_from_simulation)")
        low, high = _normal_interval(accuracy, se, confidence, float(np.nansum(blocks)))
    elif method == "wilson":
        low, high = wilson_interval(correct, images, confidence)
    else:
        if generator is None:
            raise ValueError("aggregate: ci='bootstrap' needs a generator")
        low, high = bootstrap_interval(accs, confidence, generator=generator)
    return PolicyMetrics(
        accuracy=accuracy,
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
        accuracy_se=se,
        block_frames=_mean_finite([m.block_frames for m in per_seed]),
        ci_method=method,
        seeds=seeds,
    )


def interval_from_counts(
    correct: Sequence[int],
    total: Sequence[int],
    *,
    ci: str = "auto",
    confidence: float = 0.95,
    accuracy_se: Sequence[float] | None = None,
    block_frames: Sequence[float] | None = None,
) -> tuple[float, float, str]:
    """Interval on the pooled accuracy of seeds known by their counts (e.g. analog rows).

    As :func:`aggregate`; where the block bootstrap is asked for (or chosen by ``auto``) but the
    seeds' standard errors are unknown, Student t over the seeds is used (Wilson with one seed:
    nothing else is known then, and the method says so).

    Input:
        correct: per seed, correct decisions.
        total: per seed, decisions (> 0).
        ci: as :func:`aggregate` (``bootstrap`` is not offered here).
        confidence: the level.
        accuracy_se: per seed, the standard error of its accuracy (block bootstrap), if known.
        block_frames: per seed, that bootstrap's block length in frames.

    Output:
        ``(low, high, method used)``.
    """
    if not correct or len(correct) != len(total):
        raise ValueError("interval_from_counts: one count of each kind per seed")
    nan = float("nan")
    se = list(accuracy_se) if accuracy_se is not None else [nan] * len(correct)
    bl = list(block_frames) if block_frames is not None else [nan] * len(correct)
    per_seed = [PolicyMetrics(accuracy=c / n, accuracy_low=nan, accuracy_high=nan,
                              delivered_rate=nan, outage_probability=nan, capacity_violations=nan,
                              switches_per_1000=nan, mean_bits_per_image=nan, images=int(n),
                              correct=int(c), frames=int(n), accuracy_se=e, block_frames=b)
                for c, n, e, b in zip(correct, total, se, bl, strict=True)]
    method = ci
    if ci == "auto":
        method = "t" if len(per_seed) >= AUTO_MIN_SEEDS else "block-bootstrap"
    if method == "block-bootstrap" and not all(np.isfinite(se)):
        method = "t"
    if method in ("t", "bootstrap") and len(per_seed) < 2:
        method = "wilson"
    if method == "bootstrap":
        method = "t"
    agg = aggregate(per_seed, ci=method, confidence=confidence)
    return agg.accuracy_low, agg.accuracy_high, method


def _pooled_latency(per_seed: Sequence[PolicyMetrics]) -> float:
    """Mean latency over all delivered images of the seeds (``inf`` if none was delivered)."""
    w = np.array([m.delivered_rate * m.images for m in per_seed], dtype=np.float64)
    lat = np.array([m.latency_frames for m in per_seed], dtype=np.float64)
    ok = (w > 0) & np.isfinite(lat)
    return float(np.sum(w[ok] * lat[ok]) / np.sum(w[ok])) if ok.any() else float("inf")


def _mean_finite(values: list[float]) -> float:
    """Mean of the values that are not NaN (``np.nanmean``), and NaN without a warning when
    there are none (analog rows have no frame blocks)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")
