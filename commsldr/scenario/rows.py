"""The result schema of a run, defined once: :class:`Row` (one line of ``results.csv`` and
``per_seed.csv``) and :class:`SectionResult` (what one part of a run adds to ``results.json``).

Every scheme and every job kind writes its results as :class:`Row` objects; the CSV and JSON
columns are :meth:`Row.to_dict`, in this order:

=========================  ==========================================================================
column                     meaning
=========================  ==========================================================================
``point``                  index of the sweep point (``results.json["sweep_values"][point]``)
``scheme``                 the scheme's label (``split-ae``, ``split-ae-analog`` or a ``schemes`` key)
``channel``                the channel's label (a key of the ``channels`` section)
``policy``                 the policy's label (analog rows: ``analog`` or ``analog (k=K)``)
``policy_type``            the policy's registered type (``analog`` for analog rows); not in
                           ``per_seed.csv``
``seed``                   the seed (``per_seed.csv`` only)
*sweep keys*               one column per swept key (e.g. ``channels.*.mean_snr_db``), its value
``mean_capacity_bits``     mean true capacity of a frame, bits (PHY's ``frame_capacity_bits``)
``mean_snr_db``            *realised* mean SNR of the drawn channel states, dB (NaN for
                           capacity-only channels); the configured mean SNR is the swept key's
                           column (e.g. ``channels.*.mean_snr_db``), which the figures plot
``accuracy``               images classified correctly at the server / images generated
``accuracy_low``           lower end of the confidence interval on ``accuracy``
``accuracy_high``          upper end of the confidence interval on ``accuracy``
``delivered_rate``         packets delivered / packets sent
``outage_probability``     frames whose chosen packet exceeded the capacity / frames
``capacity_violations``    frame-weighted rate of capacity violations (NaN without a capacity)
``switches_per_1000``      operating-point switches per 1000 frames
``mean_bits_per_image``    packet bits (header and CRC included) per image sent
``images``                 images generated
``correct``                images classified correctly
``frames``                 frames simulated
``latency_frames``         mean delivery latency in frames (absent for analog rows)
``accuracy_se``            standard error of ``accuracy`` from the moving-block bootstrap over
                           frames, seeds combined (absent for analog rows)
``block_frames``           that bootstrap's block length in frames (mean over seeds)
``ci_method``              how the interval was computed: ``t`` (Student t over seeds),
                           ``block-bootstrap`` (over frames), ``bootstrap`` (over seeds),
                           ``wilson`` (pooled images; :mod:`commsldr.adapt.intervals`)
``seeds``                  independent runs behind the row (1 in ``per_seed.csv``)
``scheme_type``            the scheme's registered type
``sensor_macs``            mean multiply-accumulates the sensor spent per image (absent for the
                           split autoencoder's analog curve)
``channel_uses_per_image`` complex channel uses one image gets
=========================  ==========================================================================

A column whose value is ``None`` is left out of the row (an empty cell in CSV). NaN is written as
``null`` in JSON and as an empty cell in CSV (:mod:`commsldr.report.results`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from commsldr.adapt.metrics import PolicyMetrics

__all__ = ["Row", "SectionResult", "JobRow", "Timeline", "SweepValue"]

#: A swept value: whatever YAML gave for the swept key (a number, a string, a list, ...).
SweepValue = object
#: The row a job writes to ``jobs.jsonl`` (plain JSON values; its layout is the job kind's).
JobRow = dict[str, object]
#: ``{channel: {line label: per-frame trace}}`` (``timeline.json``).
Timeline = dict[str, dict[str, object]]


@dataclass(frozen=True)
class Row:
    """One result row: a scheme and policy on one channel at one sweep point (over all seeds,
    or of one seed in ``per_seed.csv``). The columns are documented in this module's docstring.
    """

    point: int
    scheme: str
    channel: str
    policy: str
    sweep: Mapping[str, SweepValue]
    mean_capacity_bits: float
    mean_snr_db: float
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
    scheme_type: str
    channel_uses_per_image: float
    policy_type: str | None = None
    seed: int | None = None
    latency_frames: float | None = None
    sensor_macs: float | None = None
    accuracy_se: float | None = None
    block_frames: float | None = None
    ci_method: str | None = None
    seeds: int | None = None

    @classmethod
    def digital(cls, *, point: int, scheme: str, channel: str, policy: str,
                sweep: Mapping[str, SweepValue], mean_capacity_bits: float, mean_snr_db: float,
                metrics: PolicyMetrics, cost: Mapping[str, object],
                policy_type: str | None = None, seed: int | None = None) -> Row:
        """A row of a digital scheme: the simulator's metrics (:class:`PolicyMetrics`) and the
        cost columns ``cost`` (``scheme_type``, ``sensor_macs``, ``channel_uses_per_image``)."""
        return cls(point=point, scheme=scheme, channel=channel, policy=policy, sweep=sweep,
                   mean_capacity_bits=mean_capacity_bits, mean_snr_db=mean_snr_db,
                   accuracy=metrics.accuracy, accuracy_low=metrics.accuracy_low,
                   accuracy_high=metrics.accuracy_high, delivered_rate=metrics.delivered_rate,
                   outage_probability=metrics.outage_probability,
                   capacity_violations=metrics.capacity_violations,
                   switches_per_1000=metrics.switches_per_1000,
                   mean_bits_per_image=metrics.mean_bits_per_image, images=metrics.images,
                   correct=metrics.correct, frames=metrics.frames,
                   latency_frames=metrics.latency_frames, scheme_type=str(cost["scheme_type"]),
                   sensor_macs=_float(cost["sensor_macs"]),
                   channel_uses_per_image=_float(cost["channel_uses_per_image"]),
                   policy_type=policy_type, seed=seed, accuracy_se=metrics.accuracy_se,
                   block_frames=metrics.block_frames, ci_method=metrics.ci_method,
                   seeds=metrics.seeds)

    @classmethod
    def analog(cls, *, point: int, scheme: str, channel: str, policy: str,
               sweep: Mapping[str, SweepValue], correct: int, total: int,
               accuracy_low: float, accuracy_high: float, scheme_type: str,
               channel_uses_per_image: float, mean_capacity_bits: float = float("nan"),
               mean_snr_db: float = float("nan"), sensor_macs: float | None = None,
               ci_method: str | None = None, seeds: int | None = None) -> Row:
        """A row of an analog transmission: every image arrives (no packets, no outage), one
        image per frame; ``correct`` of ``total`` images classified correctly."""
        return cls(point=point, scheme=scheme, channel=channel, policy=policy, sweep=sweep,
                   mean_capacity_bits=mean_capacity_bits, mean_snr_db=mean_snr_db,
                   accuracy=correct / total, accuracy_low=accuracy_low,
                   accuracy_high=accuracy_high, delivered_rate=1.0, outage_probability=0.0,
                   capacity_violations=float("nan"), switches_per_1000=0.0,
                   mean_bits_per_image=float("nan"), images=total, correct=correct,
                   frames=total, scheme_type=scheme_type,
                   channel_uses_per_image=channel_uses_per_image, policy_type="analog",
                   sensor_macs=sensor_macs, ci_method=ci_method, seeds=seeds)

    def to_dict(self) -> dict[str, object]:
        """The row's columns in the schema's order (``None`` columns left out; a sweep key that
        names a column keeps the sweep's place and the column's value).

        Output:
            ``dict[str, object]``: column name → value (units in the names: ``_bits``, ``_db``,
            ``_frames``, ``_macs``), one line of ``results.csv`` / ``per_seed.csv``.
        """
        out: dict[str, object] = {"point": self.point, "scheme": self.scheme,
                                  "channel": self.channel, "policy": self.policy}
        for name in ("policy_type", "seed"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.sweep)
        for name in _TAIL:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


_TAIL = ("mean_capacity_bits", "mean_snr_db", "accuracy", "accuracy_low", "accuracy_high",
         "delivered_rate", "outage_probability", "capacity_violations", "switches_per_1000",
         "mean_bits_per_image", "images", "correct", "frames", "latency_frames", "accuracy_se",
         "block_frames", "ci_method", "seeds", "scheme_type", "sensor_macs",
         "channel_uses_per_image")


def _float(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


@dataclass
class SectionResult:
    """What one section of a run (a scheme's simulations, an analog curve, a plug-in's job kind)
    adds to the results: its rows, per-seed rows, timeline lines and, with the ``regret`` figure,
    the cumulative correct-count curves ``{(point, channel, policy, seed): curve}``
    (:func:`commsldr.adapt.regret.correct_curve`)."""

    rows: list[Row] = field(default_factory=list)
    per_seed: list[Row] = field(default_factory=list)
    timeline: Timeline = field(default_factory=dict)
    curves: dict[tuple[object, ...], object] = field(default_factory=dict)
