"""The result of one link simulation: per-frame records and summary metrics
(:func:`commsldr.link.simulate`, :func:`commsldr.link.harq_loop.simulate_harq`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SimulationResult"]


@dataclass
class SimulationResult:
    """Per-frame records and summary metrics of one simulation.

    Per-frame arrays (``[F]``; ``point_index``/``packet_bits``/``group`` are ``-1`` in frames
    that sent nothing):

    Attributes:
        snr_db: true SNR of the frame (``nan`` for capacity-only channels).
        capacity_bits: what the PHY could carry in the frame.
        point_index: table index of the operating point of the packet sent.
        group: table group (images) of the packet sent.
        packet_bits: size of the packet sent (header + CRC + payload).
        attempt: 1 for a first transmission, 2.. for retransmissions, 0 if nothing was sent.
        delivered: the packet sent in the frame got through.
        num_correct: correctly classified images of the delivered packet (0 if lost).
        mcs_index: the PHY's MCS (``-1`` where not applicable).
        images_generated: images the sensor produced (``m`` per frame).
        images_delivered / images_correct_delivered: over delivered packets.
        images_lost / images_correct_fallback: images that never arrived (lost or expired) and
            how many of them the fallback decision got right.
        images_pending: images still queued at the end (not counted in the metrics).
        fallback: the fallback rule used.
        images_per_packet: ``m``.
        generated: frame in which the packet sent in each frame was generated (``-1`` where
            nothing was sent); ``None`` = the frame itself (no retransmission).
        lost_generated: generation frames of the packets that never arrived (out of attempts
            or past the deadline); ``None`` when not recorded.
    """

    snr_db: np.ndarray
    capacity_bits: np.ndarray
    point_index: np.ndarray
    group: np.ndarray
    packet_bits: np.ndarray
    attempt: np.ndarray
    delivered: np.ndarray
    num_correct: np.ndarray
    mcs_index: np.ndarray
    images_per_packet: int
    fallback: str
    images_delivered: int
    images_correct_delivered: int
    images_lost: int
    images_correct_fallback: int
    images_pending: int = 0
    generated: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    lost_generated: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames ``F``."""
        return int(self.delivered.shape[0])

    @property
    def images_done(self) -> int:
        """Images with a final outcome (delivered or lost)."""
        return self.images_delivered + self.images_lost

    @property
    def accuracy(self) -> float:
        """End-to-end accuracy: correct decisions (delivered or fallback) / images done."""
        n = self.images_done
        return (self.images_correct_delivered + self.images_correct_fallback) / n if n else 0.0

    @property
    def accuracy_delivered(self) -> float:
        """Accuracy over delivered images only (``nan`` if none)."""
        n = self.images_delivered
        return self.images_correct_delivered / n if n else float("nan")

    @property
    def delivered_image_rate(self) -> float:
        """Fraction of images that arrived."""
        n = self.images_done
        return self.images_delivered / n if n else 0.0

    @property
    def outage(self) -> float:
        """Fraction of transmissions that were lost."""
        sent = self.attempt > 0
        return float(np.mean(~self.delivered[sent])) if sent.any() else 0.0

    @property
    def mean_latency_frames(self) -> float:
        """Mean delivery latency of the delivered packets, in frames: delivery frame minus
        generation frame plus one (1 = delivered in the frame it was generated; ``inf`` if
        nothing was delivered: nothing ever arrived)."""
        if not self.delivered.any():
            return float("inf")
        t = np.flatnonzero(self.delivered)
        gen = t if self.generated is None else self.generated[t]
        return float(np.mean(t - gen + 1))

    @property
    def packet_loss_rate(self) -> float:
        """Packets that never arrived / packets with an outcome (delivered or lost); ``nan``
        when there is none. Unlike :attr:`mean_latency_frames` it counts the losses."""
        lost = self.images_lost // max(self.images_per_packet, 1)
        done = int(np.count_nonzero(self.delivered)) + lost
        return lost / done if done else float("nan")

    def latency_percentile_frames(self, q: float) -> float:
        """The ``q``-quantile (``0 < q <= 1``) of the delivery latency in frames over *every*
        packet with an outcome, a lost packet counting as never arriving (``+inf``): finite iff
        at least a fraction ``q`` of the packets arrived (``nan`` when no packet has an
        outcome). With a deadline of ``D`` frames a finite value is at most ``D``."""
        if not 0.0 < q <= 1.0:
            raise ValueError(f"q: must be in (0, 1], got {q}")
        t = np.flatnonzero(self.delivered)
        gen = t if self.generated is None else self.generated[t]
        lost = self.images_lost // max(self.images_per_packet, 1)
        lat = np.concatenate([(t - gen + 1).astype(np.float64), np.full(lost, np.inf)])
        if lat.size == 0:
            return float("nan")
        lat.sort()
        return float(lat[int(math.ceil(q * lat.size)) - 1])

    @property
    def mean_bits_per_image(self) -> float:
        """Mean packet bits (header + CRC + payload) per image over the transmissions."""
        sent = self.attempt > 0
        if not sent.any():
            return 0.0
        return float(self.packet_bits[sent].mean()) / self.images_per_packet

    def summary(self) -> dict[str, float | int | str]:
        """The summary metrics as a JSON-able dict."""
        return {
            "num_frames": self.num_frames,
            "images_per_packet": self.images_per_packet,
            "fallback": self.fallback,
            "accuracy": self.accuracy,
            "accuracy_delivered": self.accuracy_delivered,
            "delivered_image_rate": self.delivered_image_rate,
            "outage": self.outage,
            "mean_bits_per_image": self.mean_bits_per_image,
            "mean_latency_frames": self.mean_latency_frames,
            "packet_loss_rate": self.packet_loss_rate,
            "latency_p95_frames": self.latency_percentile_frames(0.95),
            "images_delivered": self.images_delivered,
            "images_lost": self.images_lost,
            "images_correct_delivered": self.images_correct_delivered,
            "images_correct_fallback": self.images_correct_fallback,
            "images_pending": self.images_pending,
        }

    def records(self) -> dict[str, np.ndarray]:
        """The per-frame records as a dict of equal-length arrays (for CSV / DataFrames)."""
        return {
            "frame": np.arange(self.num_frames),
            "snr_db": self.snr_db,
            "capacity_bits": self.capacity_bits,
            "point_index": self.point_index,
            "group": self.group,
            "packet_bits": self.packet_bits,
            "attempt": self.attempt,
            "delivered": self.delivered,
            "num_correct": self.num_correct,
            "mcs_index": self.mcs_index,
        }
