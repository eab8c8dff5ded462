"""Frame-by-frame link simulator over an operating-point table.

Each frame ``t`` the sensor has one new packet of ``m`` images (a *group* of the table, see
:class:`~commsldr.link.table.OperatingPointTable`); which group goes in which frame is a seeded
permutation of the groups, re-drawn each time all groups have been used. The sender picks an
operating point from a policy (``reset()``, ``choose(csi) -> OperatingPoint``), the PHY decides
delivery, and the receiver's outcome is read from the table: a delivered packet's images are
classified exactly as the server would classify them after decoding (the table's ``correct``);
a lost packet's images get the fallback decision (``"error"``: counted wrong; ``"prior"``: the
most frequent training class is output) and are counted separately.

Retransmission (``max_attempts > 1``): a lost packet is re-sent in the next frames, with the
bytes (and operating point) of its first transmission, until delivered, out of attempts, or older
than ``deadline_frames`` frames; packets generated meanwhile wait in a FIFO queue and are dropped
(fallback) once older than the deadline. One transmission per frame. A PHY with HARQ soft
combining (``phy.harq.combining``: :class:`~commsldr.link.nr.NRPHY` or
:class:`~commsldr.link.bittrue.BitTruePHY` with ``harq={"type": "chase" | "ir"}``) is told which
transmissions are retransmissions and combines them with the earlier copies; otherwise each copy
is decoded on its own (plain ARQ).

The transmitter's link adaptation sees the CSI the policy sees: when a CSI model is given and
it has ``transmitter_snr_db()`` (:class:`TransmitterCSILike`; every ``commsldr.adapt`` CSI model
does), the PHY is called with ``csi_state`` holding those per-frame SNR estimates, so e.g.
:class:`~commsldr.link.nr.NRPHY` picks its MCS from the delayed or noisy estimate (frames without
an estimate, e.g. all of them with ACK/NACK-only CSI, follow the rule of
:meth:`commsldr.adapt.csi.CSIModel.transmitter_snr_db`). Without a CSI model (or with one that
lacks the method) the PHY adapts to the true SNR. Delivery is always decided on the true state.

Fast path: with a *static* policy (attribute ``static = True``, e.g. the policy ``fixed`` of :mod:`commsldr.adapt`) and no
retransmission, every frame is computed at once with array arithmetic (millions of frames per
second); a CSI model given there only informs the PHY's link adaptation. Otherwise a frame loop
runs; for PHYs without memory (``ShannonPHY``, ``NRPHY`` with inner-loop adaptation) the PHY's
outcomes for every (frame, point) pair are still drawn in one vectorised call, with independent
draws per pair (only one point is used per frame, and the choice at ``t`` depends on earlier
outcomes only, so the outcomes have the right joint distribution).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from commsldr.link.frame_record import FrameRecords, choose_point, deliver_frames
from commsldr.link.harq_loop import (
    HARQFeedback,
    HARQTiming,
    notify_harq_feedback,
    simulate_harq_loop,
)
from commsldr.link.phy import PHY, PHYResult
from commsldr.link.sim_result import SimulationResult
from commsldr.link.table import OperatingPoint, OperatingPointTable
from commsldr.scalars import check_integer
from commsldr_channels import LinkState

__all__ = [
    "FALLBACKS",
    "PolicyLike",
    "CSIModelLike",
    "TransmitterCSILike",
    "transmitter_csi_state",
    "SimulationResult",
    "HARQTiming",
    "HARQFeedback",
    "simulate",
    "frame_schedule",
]

FALLBACKS = ("error", "prior")
#: the name this module's callers knew ``deliver_frames`` by
_deliver = deliver_frames


@runtime_checkable
class PolicyLike(Protocol):
    """What the simulator needs from a policy (``commsldr.adapt`` policies satisfy it)."""

    def reset(self) -> None: ...

    def choose(self, csi: Any) -> OperatingPoint: ...


@runtime_checkable
class CSIModelLike(Protocol):
    """What the simulator needs from a CSI model (``commsldr.adapt.csi.CSIModel``)."""

    def reset(self, state: Any, generator: np.random.Generator) -> None: ...

    def observe(self, t: int, packet_bits: np.ndarray | None = None) -> Any: ...

    def feedback(self, delivered: bool, packet_bits: float) -> None: ...


@runtime_checkable
class TransmitterCSILike(Protocol):
    """A CSI model that also says what the transmitter's own link adaptation knows.

    ``transmitter_snr_db()`` (called after ``reset``) returns the SNR estimate in dB the
    transmitter holds in each of the ``F`` frames, ``float [F]`` and finite (frames without a
    fresh estimate already filled in), or ``None`` when there is no SNR (capacity traces).
    """

    def transmitter_snr_db(self) -> np.ndarray | None: ...


def transmitter_csi_state(csi_model: Any, num_frames: int) -> LinkState | None:
    """The ``csi_state`` the PHY gets: the CSI model's per-frame SNR estimates as a LinkState.

    Args:
        csi_model: a reset CSI model, or ``None``.
        num_frames: ``F``, the trace length.

    Returns:
        ``LinkState(snr_db=float32 [F])``, or ``None`` (no CSI model, one without
        ``transmitter_snr_db``, or no SNR): the PHY then adapts to the true state.

    Raises:
        ValueError: the estimates have the wrong length or are not finite.
    """
    if csi_model is None or not isinstance(csi_model, TransmitterCSILike):
        return None
    est = csi_model.transmitter_snr_db()
    if est is None:
        return None
    est = np.asarray(est, dtype=np.float64).reshape(-1)
    if est.shape[0] != num_frames:
        raise ValueError(f"csi_model: transmitter_snr_db() gave {est.shape[0]} frames, the "
                         f"link state has {num_frames}")
    if not np.all(np.isfinite(est)):
        raise ValueError("csi_model: transmitter_snr_db() must be finite in every frame")
    return LinkState(snr_db=torch.as_tensor(est, dtype=torch.float32))


def frame_schedule(num_groups: int, num_frames: int, generator: np.random.Generator) -> np.ndarray:
    """Group index of every frame: concatenated seeded permutations of ``range(num_groups)``.

    Every group is used once before any is used again. ``int64 [num_frames]``.
    """
    if num_groups < 1:
        raise ValueError("num_groups: the table has no packet group")
    reps = -(-num_frames // num_groups)
    return np.concatenate([generator.permutation(num_groups) for _ in range(reps)])[:num_frames]


def _generators(seed: int) -> tuple[np.random.Generator, np.random.Generator, torch.Generator]:
    """Independent streams (schedule, CSI, PHY) derived from one seed."""
    ss = np.random.SeedSequence(int(seed))
    a, b, c = ss.spawn(3)
    phy_seed = int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return np.random.default_rng(a), np.random.default_rng(b), torch.Generator().manual_seed(phy_seed)


def simulate(
    table: OperatingPointTable,
    states: LinkState,
    phy: PHY,
    policy: PolicyLike,
    *,
    images_per_packet: int = 1,
    csi_model: CSIModelLike | None = None,
    fallback: str = "error",
    max_attempts: int = 1,
    deadline_frames: int = 1,
    seed: int = 0,
    packet_interval_frames: int = 1,
    harq_timing: HARQTiming | dict | None = None,
) -> SimulationResult:
    """Simulate ``F = len(states)`` frames; see the module docstring for the model.

    Args:
        table: the operating-point table (per point and image: exact bits, correctness).
        states: the channel's link state for the ``F`` frames (from ``Channel.states``).
        phy: the PHY deciding delivery; its ``reset()``, if it has one (a PHY with memory
            across frames, e.g. :class:`~commsldr.link.nr.NRPHY` with outer-loop adaptation),
            is called first.
        policy: chooses the operating point per frame (``reset()``, ``choose(csi)``).
        images_per_packet: ``m``; the table must hold packets for this ``m``
            (:meth:`OperatingPointTable.packets`).
        csi_model: what the sender's policy knows (``commsldr.adapt.create_csi_model(...)``);
            required for a non-static policy. It is given the exact packet sizes of the frame's
            images at every point (the sender holds its images). Its per-frame SNR estimates
            (:func:`transmitter_csi_state`) are the PHY's ``csi_state``: the PHY's own link
            adaptation sees the same CSI as the policy (without a CSI model, the true SNR).
            With a static policy it only does that.
        fallback: ``"error"`` (lost images count as errors) or ``"prior"`` (the table's
            ``prior_class`` is output for them).
        max_attempts: transmissions per packet (1 = no retransmission).
        deadline_frames: a packet generated in frame ``t`` may be sent up to frame
            ``t + deadline_frames - 1``.
        seed: derives the schedule, CSI-error and PHY random streams.
        packet_interval_frames: the sensor generates a packet in frames ``0, n, 2n, ...``
            (``n`` = this value); a frame with nothing queued sends nothing (``attempt`` 0),
            which leaves room for retransmissions.
        harq_timing: ``None`` (one stop-and-wait process, retransmission in the next frame) or
            :class:`~commsldr.link.harq_loop.HARQTiming` / ``{rtt_frames, processes, repick}``:
            HARQ round-trip time, parallel processes and re-picks of the menu point
            (:mod:`commsldr.link.harq_loop`).

    The counts (``images_per_packet``, ``max_attempts``, ``deadline_frames``,
    ``packet_interval_frames``) and ``seed`` (``>= 0``) are whole numbers: an integral float such
    as ``2.0`` counts as ``2``; ``1.5``, NaN, inf and ``bool`` raise a ``ValueError`` naming the
    argument.

    Every transmission's ACK/NACK reaches ``csi_model.feedback`` and, where defined,
    ``csi_model.harq_feedback`` / ``policy.harq_feedback``
    (:class:`~commsldr.link.harq_loop.HARQFeedback`: attempt number, process, final).

    Returns:
        :class:`SimulationResult`.

    Input:
        table (:class:`OperatingPointTable`): ``bits`` ``int64 [P, N]``, ``correct`` ``bool [P, N]``.
        states (:class:`~commsldr_channels.LinkState`): ``F`` frames.
        phy (:class:`~commsldr.link.phy.PHY`), policy: as above.

    Output:
        :class:`SimulationResult`: per-frame arrays ``[F]`` (``delivered`` bool, ``packet_bits``
        int64 bits, ``capacity_bits`` float64 bits, ``point_index`` int64, ``mcs_index`` int64) and
        the metrics ``accuracy = (correct delivered + correct fallback) / images generated``,
        ``delivered_image_rate``, ``outage``, ``mean_bits_per_image`` (bits).
    """
    if fallback not in FALLBACKS:
        raise ValueError(f"fallback: must be one of {FALLBACKS}, got {fallback!r}")
    if fallback == "prior" and table.prior_class is None:
        raise ValueError("fallback: 'prior' needs a table built with the training labels (prior_class)")
    # whole numbers (2.0 from YAML is 2; 1.5, NaN and inf are refused, never truncated)
    images_per_packet = check_integer("images_per_packet", images_per_packet, low=1)
    max_attempts = check_integer("max_attempts", max_attempts, low=1)
    deadline_frames = check_integer("deadline_frames", deadline_frames, low=1)
    packet_interval_frames = check_integer("packet_interval_frames", packet_interval_frames, low=1)
    seed = check_integer("seed", seed, low=0)
    if not isinstance(policy, PolicyLike):
        raise TypeError("policy: needs reset() and choose(csi)")
    groups, packet_bits = table.packets(images_per_packet)
    num_frames = len(states)
    g_sched, g_csi, g_phy = _generators(seed)
    schedule = frame_schedule(groups.shape[0], num_frames, g_sched)
    static = bool(getattr(policy, "static", False))
    policy.reset()
    if callable(getattr(phy, "reset", None)):  # a PHY with memory (NR outer loop) starts afresh
        phy.reset()
    if csi_model is None and not static:
        raise ValueError(
            "csi_model: an adaptive policy needs a CSI model, e.g. "
            "commsldr.adapt.create_csi_model('perfect')"
        )
    csi_state = None
    if csi_model is not None:
        csi_model.reset(states, g_csi)
        csi_state = transmitter_csi_state(csi_model, num_frames)
    if harq_timing is not None:
        timing = HARQTiming.parse(harq_timing)
        if timing.repick and csi_model is None:
            raise ValueError("harq_timing.repick: re-picking needs a CSI model (the policy "
                             "observes the retransmission's frame)")
        return simulate_harq_loop(table, states, phy, policy, csi_model, groups, packet_bits,
                                   schedule, g_phy, fallback, images_per_packet, int(max_attempts),
                                   int(deadline_frames), csi_state, int(packet_interval_frames),
                                   timing)
    if static and max_attempts == 1 and int(packet_interval_frames) == 1:
        return _simulate_static(table, states, phy, policy, groups, packet_bits, schedule, g_phy,
                                fallback, images_per_packet, csi_state)
    return _simulate_loop(table, states, phy, policy, csi_model, groups, packet_bits, schedule,
                          g_phy, fallback, images_per_packet, int(max_attempts), int(deadline_frames),
                          csi_state, int(packet_interval_frames))


def _simulate_static(table: OperatingPointTable, states: LinkState, phy: PHY, policy: PolicyLike,
                     groups: np.ndarray, packet_bits: np.ndarray, schedule: np.ndarray,
                     g_phy: torch.Generator, fallback: str, m: int,
                     csi_state: LinkState | None) -> SimulationResult:
    p = choose_point(policy, table, None)
    bits = packet_bits[p, schedule]
    res: PHYResult = deliver_frames(phy, bits, states, g_phy, csi_state)
    correct = table.correct[p][groups[schedule]].sum(axis=1)
    num_correct = np.where(res.delivered, correct, 0)
    n = len(states)
    rec = FrameRecords(point_index=np.full(n, p, dtype=np.int64), group=schedule, packet_bits=bits,
                       generated=np.arange(n), attempt=np.ones(n, dtype=np.int64),
                       delivered=res.delivered, num_correct=num_correct, mcs_index=res.mcs_index,
                       capacity_bits=res.capacity_bits,
                       images_delivered=int(np.count_nonzero(res.delivered)) * m,
                       images_correct_delivered=int(num_correct.sum()),
                       lost=[groups[schedule[~res.delivered]].reshape(-1)], with_generated=False)
    return rec.result(table, states, fallback, m)


def _simulate_loop(table: OperatingPointTable, states: LinkState, phy: PHY, policy: PolicyLike,
                   csi_model: CSIModelLike | None, groups: np.ndarray, packet_bits: np.ndarray,
                   schedule: np.ndarray, g_phy: torch.Generator, fallback: str, m: int,
                   max_attempts: int, deadline: int, csi_state: LinkState | None,
                   interval: int = 1) -> SimulationResult:
    n = len(states)
    num_points = packet_bits.shape[0]
    stateless = bool(getattr(phy, "stateless", False))
    if stateless:
        # Outcome of every (frame, point) pair in one call (independent draws per pair).
        bits_all = packet_bits[:, schedule].T.reshape(-1)  # frame-major [F * P]
        rep = torch.arange(n).repeat_interleave(num_points)
        pre = deliver_frames(phy, bits_all, states[rep], g_phy,
                             None if csi_state is None else csi_state[rep])
    rec = FrameRecords.empty(n)
    queue: deque[int] = deque()  # frames whose packet waits (generation frame = its index)
    active: tuple[int, int, int] | None = None  # (generation frame, point, attempts so far)
    for t in range(n):
        if t % interval == 0:
            queue.append(t)
        # Drop what is past its deadline.
        if active is not None and t - active[0] >= deadline:
            rec.lose(groups[schedule[active[0]]])
            active = None
        while queue and t - queue[0] >= deadline:
            rec.lose(groups[schedule[queue.popleft()]])
        if active is None:
            if not queue:  # nothing to send in this frame
                continue
            gen = queue.popleft()
            sizes = packet_bits[:, schedule[gen]]
            csi = csi_model.observe(t, packet_bits=sizes.astype(np.float64)) if csi_model else None
            p = choose_point(policy, table, csi)
            active = (gen, p, 0)
        gen, p, tries = active
        g = schedule[gen]
        if stateless and g == schedule[t]:  # pre-drawn for this frame's own packet sizes
            j = t * num_points + p
            ok = bool(pre.delivered[j])
            cap, mcs = pre.capacity_bits[j], pre.mcs_index[j]
        else:
            r = deliver_frames(phy, packet_bits[p, g : g + 1], states[t], g_phy,
                               None if csi_state is None else csi_state[t], np.array([tries > 0]))
            ok = bool(r.delivered[0])
            cap, mcs = r.capacity_bits[0], r.mcs_index[0]
        rec.record(t, point=p, group=g, bits=packet_bits[p, g], generated=gen, attempt=tries + 1,
                   delivered=ok, capacity_bits=cap, mcs_index=mcs,
                   num_correct=int(table.correct[p, groups[g]].sum()) if ok else 0,
                   images_per_packet=m)
        notify_harq_feedback(csi_model, policy, HARQFeedback(
            frame=t, feedback_frame=t + 1, process=0, attempt=tries + 1, delivered=ok,
            final=ok or tries + 1 >= max_attempts or t + 1 - gen >= deadline, packet_bits=float(packet_bits[p, g]),
            point_index=int(p), mcs_index=int(rec.mcs_index[t])))
        if ok:
            active = None
        elif tries + 1 >= max_attempts:
            rec.lose(groups[g])
            active = None
        else:
            active = (gen, p, tries + 1)
    pending = len(queue) + (active is not None)
    return rec.result(table, states, fallback, m, pending_packets=pending)
