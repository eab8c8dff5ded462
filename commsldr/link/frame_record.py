"""What the simulator's frame loops share: one PHY call, and the per-frame records they fill.

:func:`deliver_frames` calls ``phy.deliver`` with only the keywords the PHY takes and checks
what it returns (:func:`check_phy_result`); :func:`choose_point` asks the policy for the
frame's operating point and checks its answer (a plug-in's mistake is one error naming it, not
an ``IndexError`` deep inside, nor a silently wrong point);
:class:`FrameRecords` accumulates the per-frame records (point, group, bits, attempt, outcome,
MCS, capacity) and the lost images of a run and turns them into one
:class:`~commsldr.link.sim_result.SimulationResult`. The static fast path, the one-process loop
of :func:`commsldr.link.simulate` and the HARQ-timing loop of :mod:`commsldr.link.harq_loop`
all build their result here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from commsldr.link.phy import PHY, PHYResult, state_array
from commsldr.link.sim_result import SimulationResult
from commsldr.link.table import OperatingPointTable
from commsldr_channels import LinkState

__all__ = ["FrameRecords", "check_phy_result", "choose_point", "deliver_frames",
           "fallback_correct", "snr_or_nan"]


def _label(obj: Any, kind: str) -> str:
    """``"policy 'name'"`` for messages: the class's own registered name (not one inherited from
    a registered parent), else the class name."""
    name = getattr(obj, "__dict__", {}).get("name") or vars(type(obj)).get("name")
    return f"{kind} {name if isinstance(name, str) and name else type(obj).__name__!r}"


def check_phy_result(phy: Any, result: Any, num_frames: int) -> PHYResult:
    """``result`` of ``phy.deliver`` for ``num_frames`` frames, checked: a
    :class:`~commsldr.link.phy.PHYResult` (or an object with its fields) with one
    ``delivered`` decision per frame.

    Raises:
        TypeError: not a ``PHYResult`` (the message names the PHY and what it returned).
        ValueError: ``delivered`` does not hold one decision per frame.
    """
    if not isinstance(result, PHYResult) and not all(
            hasattr(result, f) for f in ("delivered", "capacity_bits", "mcs_index")):
        text = repr(result)
        text = text if len(text) <= 80 else text[:77] + "..."
        raise TypeError(f"{_label(phy, 'PHY')}: deliver() returned {text} "
                        f"({type(result).__name__}); it must return a commsldr.link.PHYResult "
                        f"(delivered, capacity_bits, channel_uses, mcs_index, error_prob: one "
                        f"entry per frame)")
    shape = np.shape(result.delivered)
    if shape != (num_frames,):
        raise ValueError(f"{_label(phy, 'PHY')}: deliver() returned delivered of shape "
                         f"{shape} for {num_frames} frames; it must hold one decision per frame "
                         f"(shape ({num_frames},))")
    return result


def choose_point(policy: Any, table: OperatingPointTable, csi: Any) -> int:
    """The table index of the operating point ``policy`` chooses for ``csi``
    (:meth:`commsldr.adapt.Policy.choose` checks a ``choose_index`` answer itself).

    Raises:
        ValueError: ``choose`` returned a point not in the table (the message names the
            policy, what it returned and the table's points).
    """
    point = policy.choose(csi)
    try:
        return table.index_of(point)
    except (KeyError, TypeError):  # not a point of the table (or not even hashable)
        text = repr(point)
        text = text if len(text) <= 80 else text[:77] + "..."
        raise ValueError(f"{_label(policy, 'policy')}: choose() returned {text}, which is not "
                         f"one of the table's {len(table.points)} operating points (e.g. "
                         f"{table.points[0]})") from None


def deliver_frames(phy: PHY, bits: np.ndarray, states: LinkState, g_phy: torch.Generator,
                   csi_state: LinkState | None, retransmission: np.ndarray | None = None,
                   harq_process: np.ndarray | None = None) -> PHYResult:
    """``phy.deliver``; ``csi_state`` is passed only when there is one, ``retransmission`` and
    ``harq_process`` only to a PHY with a soft-combining HARQ process (``phy.harq.combining``).

    Input:
        bits: int ``[F]`` — packet bits per frame; states: the ``F`` frames' link state.
        csi_state: the transmitter's ``F`` SNR estimates, or ``None``.
        retransmission: bool ``[F]`` — whether each frame re-sends an earlier packet.
        harq_process: int ``[F]`` — the HARQ process of each frame (parallel processes).

    Output:
        :class:`~commsldr.link.phy.PHYResult` of the ``F`` frames.
    """
    kwargs: dict[str, Any] = {}
    if csi_state is not None:
        kwargs["csi_state"] = csi_state
    harq = getattr(phy, "harq", None)
    if retransmission is not None and harq is not None and getattr(harq, "combining", False):
        kwargs["retransmission"] = retransmission
        if harq_process is not None:
            kwargs["harq_process"] = harq_process
    return check_phy_result(phy, phy.deliver(bits, states, g_phy, **kwargs), len(bits))


def fallback_correct(table: OperatingPointTable, fallback: str, images: np.ndarray) -> int:
    """Lost ``images`` (indices) that the fallback decision gets right: none for ``"error"``,
    those of the table's prior class for ``"prior"``."""
    if fallback == "error" or images.size == 0:
        return 0
    return int(np.count_nonzero(table.labels[images] == table.prior_class))


def snr_or_nan(states: LinkState) -> np.ndarray:
    """The frames' SNR (dB), ``NaN`` where the channel state has none (a capacity trace)."""
    snr = state_array(states, "snr_db")
    return np.full(len(states), np.nan) if snr is None else snr


@dataclass
class FrameRecords:
    """Per-frame records of one simulation and its image counts (frames not used: ``-1``/0).

    Attributes:
        point_index / group / packet_bits / generated / attempt / mcs_index: int64 ``[F]``.
        delivered: bool ``[F]``; num_correct: int64 ``[F]``; capacity_bits: float ``[F]``.
        images_delivered / images_correct_delivered: counts over delivered packets.
        lost: image indices of every lost packet; lost_generated: their generation frames
            (``None``: not tracked).
        with_generated: whether the result reports ``generated`` (the frame loops do).
    """

    point_index: np.ndarray
    group: np.ndarray
    packet_bits: np.ndarray
    generated: np.ndarray
    attempt: np.ndarray
    delivered: np.ndarray
    num_correct: np.ndarray
    mcs_index: np.ndarray
    capacity_bits: np.ndarray
    images_delivered: int = 0
    images_correct_delivered: int = 0
    lost: list[np.ndarray] = field(default_factory=list)
    lost_generated: list[int] | None = None
    with_generated: bool = True

    @classmethod
    def empty(cls, num_frames: int, track_lost_generated: bool = False) -> FrameRecords:
        """Records of ``num_frames`` frames, none used yet."""
        n = int(num_frames)
        return cls(point_index=np.full(n, -1, dtype=np.int64), group=np.full(n, -1, dtype=np.int64),
                   packet_bits=np.full(n, -1, dtype=np.int64), generated=np.full(n, -1, dtype=np.int64),
                   attempt=np.zeros(n, dtype=np.int64), delivered=np.zeros(n, dtype=bool),
                   num_correct=np.zeros(n, dtype=np.int64), mcs_index=np.full(n, -1, dtype=np.int64),
                   capacity_bits=np.zeros(n), lost_generated=[] if track_lost_generated else None)

    def record(self, t: int, *, point: int, group: int, bits: int, generated: int, attempt: int,
               delivered: bool, capacity_bits: float, mcs_index: int, num_correct: int,
               images_per_packet: int) -> None:
        """Frame ``t`` sent packet ``group`` (generated in frame ``generated``) at ``point``."""
        self.point_index[t], self.group[t], self.packet_bits[t] = point, group, bits
        self.generated[t], self.attempt[t], self.delivered[t] = generated, attempt, delivered
        self.capacity_bits[t], self.mcs_index[t] = capacity_bits, mcs_index
        if delivered:
            self.num_correct[t] = num_correct
            self.images_delivered += images_per_packet
            self.images_correct_delivered += int(num_correct)

    def lose(self, images: np.ndarray, generated: int | None = None) -> None:
        """A packet of ``images`` is lost (fallback decision)."""
        self.lost.append(images)
        if self.lost_generated is not None and generated is not None:
            self.lost_generated.append(int(generated))

    def result(self, table: OperatingPointTable, states: LinkState, fallback: str,
               images_per_packet: int, *, pending_packets: int = 0,
               extra: dict[str, Any] | None = None) -> SimulationResult:
        """The :class:`~commsldr.link.sim_result.SimulationResult` of these records."""
        lost_images = np.concatenate(self.lost) if self.lost else np.zeros(0, dtype=np.int64)
        kw: dict[str, Any] = {}
        if self.with_generated:
            kw["images_pending"] = int(pending_packets) * images_per_packet
            kw["generated"] = self.generated
        if self.lost_generated is not None:
            kw["lost_generated"] = np.asarray(self.lost_generated, dtype=np.int64)
        if extra is not None:
            kw["extra"] = extra
        return SimulationResult(
            snr_db=snr_or_nan(states), capacity_bits=self.capacity_bits,
            point_index=self.point_index, group=self.group, packet_bits=self.packet_bits,
            attempt=self.attempt, delivered=self.delivered, num_correct=self.num_correct,
            mcs_index=self.mcs_index, images_per_packet=images_per_packet, fallback=fallback,
            images_delivered=self.images_delivered,
            images_correct_delivered=self.images_correct_delivered,
            images_lost=int(lost_images.size),
            images_correct_fallback=fallback_correct(table, fallback, lost_images), **kw,
        )
