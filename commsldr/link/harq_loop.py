r"""HARQ timing in the link simulator: round-trip time, parallel HARQ processes, re-picks, and
the HARQ feedback that CSI models and policies see.

``simulate(..., harq_timing=HARQTiming(rtt_frames=R, processes=N, repick=...))`` runs this
frame loop instead of the single stop-and-wait process of :func:`commsldr.link.simulate`:

* a packet sent in frame :math:`t` is ACKed or NACKed in time for frame :math:`t + R`
  (``rtt_frames``; 1 = the next frame, the default loop's timing). Its HARQ process is busy
  until then; a NACKed packet may be re-sent from frame :math:`t + R` on;
* ``processes`` = :math:`N` stop-and-wait processes run in parallel (TS 38.321 Sec. 5.4.2):
  while one waits for its feedback, a free one sends the next queued packet. Each frame sends
  one transmission: a due retransmission first (oldest packet first), else a new packet if a
  process is free. With :math:`R > 1` and :math:`N < R` the link idles while every process
  waits (the classic stop-and-wait throughput loss, :math:`N/R` of the frames at most);
* ``max_attempts`` (or ``harq.max_transmissions``) and ``deadline_frames`` hold per packet: a
  packet still undelivered after its last transmission's NACK, or whose deadline passed, is
  lost (fallback decision) and counted in :attr:`SimulationResult.packet_loss_rate` and in
  :meth:`SimulationResult.latency_percentile_frames` (as never arriving);
* ``repick``: a retransmission asks the policy again (the CSI it observes has ``attempt > 1``);
  a different menu point re-encodes the images (new bytes, so the PHY's HARQ process restarts
  without combining; the attempt count and deadline go on). The MCS of a retransmission is the
  PHY's matter (``harq.retransmission_mcs``, :class:`~commsldr.link.harq.HARQConfig`).

**HARQ feedback hook.** After every transmission's feedback arrives (frame :math:`t + R`) the
simulator calls ``csi_model.feedback(delivered, packet_bits)`` (the existing ACK/NACK hook) and
then ``harq_feedback(fb)`` on the CSI model and on the policy *if they define it*, with a
:class:`HARQFeedback` (frame, process, attempt number, ACK/NACK, whether the packet is final).
The default loop of :func:`commsldr.link.simulate` calls the same hook (``rtt_frames = 1``,
process 0), so a learning policy gets it in every simulation.

**Saturated queue.** With one packet per frame (``packet_interval_frames = 1``) every
retransmission takes a frame from a new packet: the queue grows by one per retransmission and
packets expire at their deadline, so raising ``max_attempts`` only moves losses from "out of
attempts" to "past the deadline" (``tests/unit/link/test_harq_loop.py``). Leave room with
``packet_interval_frames > 1`` or more processes than the RTT needs.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from commsldr.link.frame_record import FrameRecords, choose_point, deliver_frames
from commsldr.link.phy import PHY
from commsldr.link.sim_result import SimulationResult
from commsldr.link.table import OperatingPointTable
from commsldr_channels import LinkState

__all__ = ["HARQTiming", "HARQFeedback", "notify_harq_feedback", "simulate_harq_loop"]


@dataclass(frozen=True)
class HARQTiming:
    """HARQ timing of the link simulator (module docstring).

    Args:
        rtt_frames: HARQ round-trip time in frames (>= 1): feedback of frame ``t`` arrives
            for frame ``t + rtt_frames``.
        processes: parallel HARQ processes (>= 1; NR allows up to 16).
        repick: a retransmission asks the policy for its menu point again.
    """

    rtt_frames: int = 1
    processes: int = 1
    repick: bool = False

    def __post_init__(self) -> None:
        for name in ("rtt_frames", "processes"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"harq_timing.{name}: must be an integer >= 1, got {v!r}")
        if not isinstance(self.repick, bool):
            raise ValueError(f"harq_timing.repick: must be true or false, got {self.repick!r}")

    @classmethod
    def parse(cls, value: HARQTiming | dict | None) -> HARQTiming:
        """From ``None`` (defaults), a mapping ``{rtt_frames, processes, repick}`` or an instance."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"harq_timing: expected a mapping {{rtt_frames, processes, repick}}, "
                             f"got {value!r}")
        unknown = set(value) - {"rtt_frames", "processes", "repick"}
        if unknown:
            raise ValueError(f"harq_timing: unknown key(s) {sorted(unknown)}; allowed: rtt_frames, "
                             "processes, repick")
        return cls(**value)


@dataclass(frozen=True)
class HARQFeedback:
    """What the transmitter learns about one transmission when its ACK/NACK arrives.

    Attributes:
        frame: the frame the transmission was sent in.
        feedback_frame: the frame the ACK/NACK arrives for (``frame + rtt_frames``).
        process: its HARQ process id (``0 .. processes - 1``).
        attempt: 1 for a first transmission, 2.. for retransmissions of the packet.
        delivered: ACK (``True``) or NACK.
        final: no further transmission of this packet follows (ACK, out of attempts, or past
            its deadline).
        packet_bits: size of the packet sent (bits).
        point_index: table index of its operating point.
        mcs_index: the PHY's MCS for the transmission (``-1`` where not applicable).
    """

    frame: int
    feedback_frame: int
    process: int
    attempt: int
    delivered: bool
    final: bool
    packet_bits: float
    point_index: int
    mcs_index: int


def notify_harq_feedback(csi_model: Any, policy: Any, fb: HARQFeedback) -> None:
    """Give one transmission's feedback to the CSI model (``feedback(delivered, packet_bits)``
    and, if defined, ``harq_feedback(fb)``) and to the policy (``harq_feedback(fb)`` if defined)."""
    if csi_model is not None:
        csi_model.feedback(fb.delivered, fb.packet_bits)
        hook = getattr(csi_model, "harq_feedback", None)
        if callable(hook):
            hook(fb)
    hook = getattr(policy, "harq_feedback", None)
    if callable(hook):
        hook(fb)


def _with_attempt(csi: Any, attempt: int, process: int) -> Any:
    """The CSI observation, marked with the attempt number and process when it has the fields."""
    if dataclasses.is_dataclass(csi) and hasattr(csi, "attempt"):
        return dataclasses.replace(csi, attempt=attempt, harq_process=process)
    return csi


def simulate_harq_loop(table: OperatingPointTable, states: LinkState, phy: PHY, policy: Any,
                       csi_model: Any, groups: np.ndarray, packet_bits: np.ndarray,
                       schedule: np.ndarray, g_phy: torch.Generator, fallback: str, m: int,
                       max_attempts: int, deadline: int, csi_state: LinkState | None,
                       interval: int, timing: HARQTiming) -> SimulationResult:
    """The frame loop with HARQ timing (module docstring); arguments as the default loop's."""
    n = len(states)
    rtt, nproc = int(timing.rtt_frames), int(timing.processes)
    rec = FrameRecords.empty(n, track_lost_generated=True)
    process = np.full(n, -1, dtype=np.int64)
    queue: deque[int] = deque()
    # per process: None (free) or {"gen", "p", "tries", "ready" (first frame it may send again),
    # "waiting" (feedback not yet arrived), "ok"}
    procs: list[dict[str, Any] | None] = [None] * nproc
    events: dict[int, list[tuple[int, HARQFeedback]]] = {}

    def lose(pid: int) -> None:
        pr = procs[pid]
        rec.lose(groups[schedule[pr["gen"]]], pr["gen"])
        procs[pid] = None

    for t in range(n):
        if t % interval == 0:
            queue.append(t)
        for pid, fb in events.pop(t, []):  # ACK/NACKs arriving for this frame
            pr = procs[pid]
            final = fb.delivered or pr["tries"] >= max_attempts or t - pr["gen"] >= deadline
            notify_harq_feedback(csi_model, policy, dataclasses.replace(fb, final=final))
            pr["waiting"] = False
            if fb.delivered:
                procs[pid] = None
            elif final:
                lose(pid)
        for pid in range(nproc):  # retransmissions past their deadline
            pr = procs[pid]
            if pr is not None and not pr["waiting"] and t - pr["gen"] >= deadline:
                lose(pid)
        while queue and t - queue[0] >= deadline:
            g0 = queue.popleft()
            rec.lose(groups[schedule[g0]], g0)
        due = [pid for pid in range(nproc) if procs[pid] is not None and not procs[pid]["waiting"]
               and procs[pid]["ready"] <= t]
        if due:
            pid = min(due, key=lambda i: procs[i]["gen"])
            pr = procs[pid]
            retx = True
            if timing.repick and csi_model is not None:
                sizes = packet_bits[:, schedule[pr["gen"]]]
                csi = _with_attempt(csi_model.observe(t, packet_bits=sizes.astype(np.float64)),
                                    pr["tries"] + 1, pid)
                p_new = choose_point(policy, table, csi)
                retx = p_new == pr["p"]
                pr["p"] = p_new
        else:
            free = [pid for pid in range(nproc) if procs[pid] is None]
            if not (free and queue):
                continue  # nothing to send in this frame
            pid = free[0]
            gen = queue.popleft()
            sizes = packet_bits[:, schedule[gen]]
            csi = None
            if csi_model is not None:
                csi = _with_attempt(csi_model.observe(t, packet_bits=sizes.astype(np.float64)), 1, pid)
            procs[pid] = pr = {"gen": gen, "p": choose_point(policy, table, csi), "tries": 0}
            retx = False
        gen, p, g = pr["gen"], pr["p"], schedule[pr["gen"]]
        r = deliver_frames(phy, packet_bits[p, g : g + 1], states[t], g_phy,
                           None if csi_state is None else csi_state[t], np.array([retx]),
                           np.array([pid]) if nproc > 1 else None)
        ok = bool(r.delivered[0])
        pr["tries"] += 1
        rec.record(t, point=p, group=g, bits=packet_bits[p, g], generated=gen, attempt=pr["tries"],
                   delivered=ok, capacity_bits=r.capacity_bits[0], mcs_index=r.mcs_index[0],
                   num_correct=int(table.correct[p, groups[g]].sum()) if ok else 0,
                   images_per_packet=m)
        process[t] = pid
        pr["waiting"], pr["ready"], pr["last_ok"] = True, t + rtt, ok
        events.setdefault(t + rtt, []).append((pid, HARQFeedback(
            frame=t, feedback_frame=t + rtt, process=pid, attempt=pr["tries"], delivered=ok,
            final=ok, packet_bits=float(packet_bits[p, g]), point_index=int(p),
            mcs_index=int(rec.mcs_index[t]))))
    # packets whose ACK is still on its way were delivered; the rest are pending
    pending = len(queue) + sum(1 for pr in procs if pr is not None and not pr["last_ok"])
    return rec.result(table, states, fallback, m, pending_packets=pending,
                      extra={"harq_process": process, "rtt_frames": rtt, "processes": nproc})
