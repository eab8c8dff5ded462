r"""Uplink schedulers: who sends on which PRB in each slot (a registry kind: ``SCHEDULERS``).

A scheduler is bound once per run (:meth:`Scheduler.reset` with a :class:`SchedulerContext`),
then asked once per slot: :meth:`Scheduler.allocate` gets the slot's index in its frame and the
estimated SINR of every sensor on every PRB, ``float64 [N, P]`` (linear, at the power a
one-PRB grant would get), and returns the owner of every PRB, ``int64 [P]`` (``-1``: unused);
:meth:`Scheduler.update` then gets the owners and the SINR achieved on each owned PRB, and
:meth:`Scheduler.end_frame` the frame's grants. Every method works on whole arrays (no loop over
sensors).

* ``round-robin`` — channel-blind: sensors take turns, ``prbs_per_sensor`` contiguous PRBs each
  (default :math:`\max(1, \lfloor P/N \rfloor)`), continuing where the last slot stopped.
* ``proportional-fair`` — Sionna's :class:`~sionna.sys.PFSchedulerSUMIMO`: PRB :math:`p` goes to
  :math:`\arg\max_s \tilde R_s(p) / \bar T_s` with achievable rate
  :math:`\tilde R_s(p) = N_{RE}\log_2(1+\hat\gamma_{s,p})` and the :math:`\beta`-discounted
  throughput :math:`\bar T_s` (Jalali et al., VTC 2000).
* ``max-sinr`` — PRB :math:`p` to :math:`\arg\max_s \hat\gamma_{s,p}` (maximum throughput,
  no fairness).
* ``task-aware`` — ours; plans each frame's PRB-slots by the accuracy they buy (below).

**Task-aware objective.** At the first slot of a frame, for sensor :math:`s` and an allocation
of :math:`n` PRB-slots, the scheduler predicts the TBS the sensor's link adaptation will grant,
:math:`\mathrm{TBS}_s(n)` (EESM of the slot's estimated SINRs, the open-loop power per PRB of
an :math:`\lceil n/F\rceil`-PRB grant, ILLA on the project's NR tables), and the value

.. math::
    V_s(n) = a^\star\big(\mathrm{TBS}_s(n)\big)\,(1-\mathrm{TBLER}_s(n))
           + a_{fb}\,\mathrm{TBLER}_s(n),\qquad
    a^\star(B) = \max\{a_p : L_p \le B\}\ (a_{fb}\text{ if none fits})

— the accuracy of the best operating point of the sensor's menu that fits, times its delivery
probability (:math:`a_p`, :math:`L_p`: the menu's accuracy and expected packet bits). It
maximises :math:`\sum_s w_s V_s(n_s)` subject to :math:`\sum_s n_s \le P F`, greedily by the
best accuracy gain per PRB-slot (steps of :math:`V_s` only, so a sensor gets the PRBs its next
operating point needs; PRB-slots left once every sensor's best step is planned are shared
evenly as margin), with fairness weights
:math:`w_s = (\bar a_s + \epsilon)^{-\phi}`, :math:`\bar a_s` the discounted mean of the value
granted to sensor :math:`s` so far. ``fairness`` :math:`\phi = 0` maximises the cell's mean
accuracy; larger :math:`\phi` lifts the worst sensors (:math:`\phi = 1` is proportional
fairness on accuracy). The PRB-slots planned for a sensor are laid out contiguously over the
frame's slots (:func:`spread_counts`); within a slot each sensor gets the PRBs where its SINR is
highest relative to its own mean (:func:`place_prbs`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from commsldr.cell.errors import CellConfigError
from commsldr.errors import UserError, did_you_mean
from commsldr.link.sionna_guard import sionna_phy
from commsldr.registry import SCHEDULERS, check_params

__all__ = ["Scheduler", "SchedulerContext", "RoundRobin", "ProportionalFair", "MaxSINR",
           "TaskAware", "create_scheduler", "check_scheduler", "list_schedulers"]


@dataclass(frozen=True)
class SchedulerContext:
    """What a scheduler knows about the cell.

    Attributes:
        num_sensors: N.
        num_prb: P, PRBs per slot.
        slots_per_frame: F.
        re_per_prb: resource elements of one PRB-slot.
        link: the :class:`~commsldr.cell.linkabs.CellLinkAbstraction` (TBS, thresholds, EESM).
        power_ratio_db: float64 ``[N, P + 1]``, per-PRB transmit power of a ``k``-PRB grant
            relative to a one-PRB grant, dB (open-loop power control; column 0 unused).
        menu_accuracy: float64 ``[Q]``, accuracy of each operating point of the sensors' menu.
        menu_bits: float64 ``[Q]``, expected packet bits of each point.
        fallback_accuracy: accuracy of an image that does not arrive.
    """

    num_sensors: int
    num_prb: int
    slots_per_frame: int
    re_per_prb: int
    link: Any
    power_ratio_db: np.ndarray
    menu_accuracy: np.ndarray
    menu_bits: np.ndarray
    fallback_accuracy: float = 0.0


class Scheduler(ABC):
    """Base class of schedulers (module docstring)."""

    name: ClassVar[str] = ""

    def reset(self, ctx: SchedulerContext) -> None:
        """Bind to a cell and forget all history."""
        self.ctx = ctx

    @abstractmethod
    def allocate(self, slot_in_frame: int, sinr: np.ndarray) -> np.ndarray:
        """Owner of every PRB, ``int64 [P]`` (``-1``: unused).

        Input:
            slot_in_frame: ``0..F-1``.
            sinr: float64 ``[N, P]``, estimated linear SINR per sensor and PRB.
        """

    def update(self, owner: np.ndarray, sinr: np.ndarray) -> None:  # noqa: B027 - optional
        """After the slot: ``owner [P]`` and the SINR achieved on each PRB by its owner ``[P]``."""

    def end_frame(self, tbs_bits: np.ndarray, delivered_tb: np.ndarray) -> None:  # noqa: B027
        """After the frame: each sensor's granted TBS ``[N]`` and whether its TB decoded ``[N]``."""

    def params(self) -> dict[str, Any]:
        """Constructor parameters (for result rows)."""
        return {}


class RoundRobin(Scheduler):
    """Channel-blind round robin: sensors take turns, ``prbs_per_sensor`` PRBs each.

    Args:
        prbs_per_sensor: PRBs per turn (``None``: ``max(1, P // N)``).
    """

    name = "round-robin"

    def __init__(self, prbs_per_sensor: int | None = None) -> None:
        if prbs_per_sensor is not None and (isinstance(prbs_per_sensor, bool) or not isinstance(
                prbs_per_sensor, int) or prbs_per_sensor < 1):
            raise ValueError(f"prbs_per_sensor must be an integer >= 1 or null, got {prbs_per_sensor!r}")
        self.prbs_per_sensor = prbs_per_sensor

    def reset(self, ctx: SchedulerContext) -> None:
        super().reset(ctx)
        self._next = 0
        width = self.prbs_per_sensor or max(1, ctx.num_prb // ctx.num_sensors)
        self._width = min(width, ctx.num_prb)

    def allocate(self, slot_in_frame: int, sinr: np.ndarray) -> np.ndarray:
        n, p = self.ctx.num_sensors, self.ctx.num_prb
        turns = min(n, p // self._width)
        owner = np.full(p, -1, dtype=np.int64)
        owner[: turns * self._width] = (self._next + np.arange(turns * self._width) // self._width) % n
        self._next = (self._next + turns) % n
        return owner

    def params(self) -> dict[str, Any]:
        return {"prbs_per_sensor": self.prbs_per_sensor}


class ProportionalFair(Scheduler):
    """Sionna's proportional-fair scheduler (:class:`sionna.sys.PFSchedulerSUMIMO`), per PRB.

    Args:
        beta: discount factor of the average throughput, in (0, 1).
    """

    name = "proportional-fair"

    def __init__(self, beta: float = 0.98) -> None:
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 < beta < 1:
            raise ValueError(f"beta must be a number in (0, 1), got {beta!r}")
        self.beta = float(beta)

    def reset(self, ctx: SchedulerContext) -> None:
        super().reset(ctx)
        sionna_phy()  # import Sionna with torch's global RNG left as it was
        from sionna.sys import PFSchedulerSUMIMO

        self._pf = PFSchedulerSUMIMO(ctx.num_sensors, ctx.num_prb, 1, beta=self.beta,
                                     precision="double", device="cpu")
        self._last = torch.zeros(ctx.num_sensors, dtype=torch.float64)

    def allocate(self, slot_in_frame: int, sinr: np.ndarray) -> np.ndarray:
        rate = self.ctx.re_per_prb * np.log2(1.0 + sinr)  # [N, P] bits
        self._pf(self._last, torch.from_numpy(rate.T[None].copy()))  # [1, P, N, 1] one-hot
        return self._pf.pf_metric[0].argmax(-1).numpy()  # the one-hot's index: every PRB is used

    def update(self, owner: np.ndarray, sinr: np.ndarray) -> None:
        used = owner >= 0
        bits = self.ctx.re_per_prb * np.log2(1.0 + sinr[used])
        self._last = torch.from_numpy(np.bincount(owner[used], weights=bits,
                                                  minlength=self.ctx.num_sensors))

    def params(self) -> dict[str, Any]:
        return {"beta": self.beta}


class MaxSINR(Scheduler):
    """Each PRB to the sensor with the highest estimated SINR on it (maximum throughput)."""

    name = "max-sinr"

    def allocate(self, slot_in_frame: int, sinr: np.ndarray) -> np.ndarray:
        return np.argmax(sinr, axis=0).astype(np.int64)


class TaskAware(Scheduler):
    """Plans each frame's PRB-slots by the task accuracy they buy, with a fairness knob.

    Args:
        fairness: :math:`\\phi >= 0` of the weights :math:`(\\bar a_s + \\epsilon)^{-\\phi}`
            (0: maximise the cell's mean accuracy; 1: proportional fairness on accuracy).
        memory: discount of the accuracy history :math:`\\bar a_s` per frame, in [0, 1).
        epsilon: floor added to :math:`\\bar a_s`, > 0.
        margin_db: SINR back-off of the prediction, dB (the prediction assumes the sensor's best
            PRBs of the frame's first slot; the PRBs and the fading of later slots differ).
    """

    name = "task-aware"

    def __init__(self, fairness: float = 1.0, memory: float = 0.9, epsilon: float = 0.05,
                 margin_db: float = 1.0) -> None:
        for key, value, ok in (("fairness", fairness, lambda v: v >= 0),
                               ("memory", memory, lambda v: 0 <= v < 1),
                               ("epsilon", epsilon, lambda v: v > 0),
                               ("margin_db", margin_db, lambda v: 0 <= v <= 20)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
                raise ValueError(f"{key}: bad value {value!r} (fairness >= 0, memory in [0, 1), "
                                 f"epsilon > 0, margin_db in [0, 20])")
        self.fairness, self.memory, self.epsilon = float(fairness), float(memory), float(epsilon)
        self.margin_db = float(margin_db)

    def reset(self, ctx: SchedulerContext) -> None:
        super().reset(ctx)
        order = np.argsort(ctx.menu_bits, kind="stable")
        bits, acc = ctx.menu_bits[order], ctx.menu_accuracy[order]
        keep = acc > np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
        keep &= acc > ctx.fallback_accuracy
        #: the Pareto steps of the menu: bits ascending, accuracy strictly rising
        self._bits, self._acc = bits[keep], acc[keep]
        self._history = np.full(ctx.num_sensors, np.nan)
        self._quota = np.zeros((ctx.slots_per_frame, ctx.num_sensors), dtype=np.int64)
        self._planned_value = np.zeros(ctx.num_sensors)
        f, budget = ctx.slots_per_frame, ctx.num_prb * ctx.slots_per_frame
        #: allocation sizes considered: every size up to 2F PRB-slots, then whole PRBs per slot
        self._candidates = np.unique(np.concatenate([np.arange(2 * f + 1),
                                                     f * np.arange(2, ctx.num_prb + 1)]))
        self._candidates = self._candidates[self._candidates <= budget]

    def _tbs_curves(self, sinr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted TBS and TB success ``[N, len(candidates)]`` for each candidate number of
        PRB-slots ``n``: EESM over the sensor's best ``k = ceil(n/F)`` PRBs of the slot's
        estimate (the PRBs :func:`place_prbs` favours), the open-loop power of a ``k``-PRB
        grant, minus ``margin_db``; then ILLA."""
        ctx, link = self.ctx, self.ctx.link
        units = self._candidates
        n_s = ctx.num_sensors
        per_slot = np.clip(-(-units // ctx.slots_per_frame), 1, ctx.num_prb)  # ceil(n / F)
        best_first = -np.sort(-sinr, axis=1)  # [N, P]
        prefix = np.cumsum(np.exp(-best_first[:, :, None] / link.betas[None, None, :]), axis=1)
        sums = prefix[:, per_slot - 1, :]  # [N, U, B]
        eff = link.effective_sinr_db(sums.reshape(-1, link.betas.size),
                                     np.tile(per_slot, n_s)).reshape(n_s, units.size, 29)
        shift = ctx.power_ratio_db[:, per_slot] - self.margin_db  # [N, U]
        est = eff + shift[:, :, None]  # [N, U, 29]
        ok = est >= link.threshold_db[units][None, :, :]
        mcs = np.where(ok.any(-1), 28 - np.argmax(ok[..., ::-1], axis=-1), -1)
        u = np.broadcast_to(units[None, :], mcs.shape)
        tbs = link.tbs_bits(mcs.reshape(-1), u.reshape(-1)).reshape(mcs.shape)
        chosen = np.take_along_axis(est, np.maximum(mcs, 0)[..., None], axis=-1)[..., 0]
        p_ok = 1.0 - link.tb_error_rate(mcs.reshape(-1), u.reshape(-1), chosen.reshape(-1))
        return tbs, p_ok.reshape(mcs.shape)

    def _plan_frame(self, sinr: np.ndarray) -> None:
        ctx = self.ctx
        n_s, budget = ctx.num_sensors, ctx.num_prb * ctx.slots_per_frame
        tbs, p_ok = self._tbs_curves(sinr)
        best = np.maximum.accumulate(tbs, axis=1)  # more PRB-slots never hurt the plan
        fb = ctx.fallback_accuracy
        # first candidate at which each Pareto step fits, per sensor [N, J]
        fits = best[:, :, None] >= self._bits[None, None, :]  # [N, U, J]
        first = np.argmax(fits, axis=1)
        reachable = fits.any(axis=1)
        need = np.where(reachable, self._candidates[first], budget + 1)
        p = np.take_along_axis(p_ok, first, axis=1)
        value = np.where(reachable, self._acc[None, :] * p + fb * (1.0 - p), fb)
        hist = np.where(np.isnan(self._history), np.nanmean(self._history)
                        if np.isfinite(self._history).any() else 0.0, self._history)
        w = (hist + self.epsilon) ** (-self.fairness)
        cur_units = np.zeros(n_s, dtype=np.int64)
        cur_value = np.full(n_s, fb)
        left = budget
        while left > 0:  # one grant upgrade per pass, all sensors compared at once
            extra = need - cur_units[:, None]
            gain = value - cur_value[:, None]
            feasible = (extra > 0) & (extra <= left) & (gain > 0)
            if not feasible.any():
                break
            rate = np.where(feasible, w[:, None] * gain / np.maximum(extra, 1), -np.inf)
            s, q = np.unravel_index(int(np.argmax(rate)), rate.shape)
            left -= int(extra[s, q])
            cur_units[s], cur_value[s] = need[s, q], value[s, q]
        if left > 0:  # every sensor's best step is planned: the rest is margin, shared evenly
            served = np.flatnonzero(cur_units > 0) if (cur_units > 0).any() else np.arange(n_s)
            cur_units[served] += left // served.size
            cur_units[served[: left % served.size]] += 1
        self._planned_value = cur_value
        self._quota = spread_counts(cur_units, ctx.slots_per_frame)

    def allocate(self, slot_in_frame: int, sinr: np.ndarray) -> np.ndarray:
        if slot_in_frame == 0:
            self._plan_frame(sinr)
        return place_prbs(self._quota[slot_in_frame], sinr)

    def end_frame(self, tbs_bits: np.ndarray, delivered_tb: np.ndarray) -> None:
        v = self._planned_value
        self._history = np.where(np.isnan(self._history), v,
                                 self.memory * self._history + (1.0 - self.memory) * v)

    def params(self) -> dict[str, Any]:
        return {"fairness": self.fairness, "memory": self.memory, "epsilon": self.epsilon,
                "margin_db": self.margin_db}


def spread_counts(units: np.ndarray, slots: int) -> np.ndarray:
    """PRBs per slot ``int64 [slots, N]`` giving sensor ``s`` ``units[s]`` PRB-slots as evenly
    over the slots as possible: ``floor(n/F)`` per slot, the remainders dealt out cyclically
    (remainder unit ``j`` of all sensors together goes to slot ``j mod F``), so the slot totals
    differ by at most one and none exceeds ``ceil(sum(units) / F)``."""
    units = np.asarray(units, dtype=np.int64)
    base, rem = units // slots, units % slots
    count = np.repeat(base[None, :], slots, axis=0)
    extra_slot = np.arange(int(rem.sum())) % slots
    np.add.at(count, (extra_slot, np.repeat(np.arange(units.size), rem)), 1)
    return count


def place_prbs(quota: np.ndarray, sinr: np.ndarray) -> np.ndarray:
    """Owners ``int64 [P]`` giving sensor ``s`` ``quota[s]`` PRBs where its SINR is highest
    relative to its own mean (the PRBs a proportional-fair scheduler would give it).

    Rounds of proposals, each vectorised over sensors and PRBs: every free PRB proposes to the
    sensor with quota left that ranks it highest (``sinr / mean_p sinr``), and each sensor keeps
    its best ``quota left`` proposals. Requires ``sum(quota) <= P``.
    """
    n, p = sinr.shape
    rel = sinr / np.maximum(sinr.mean(axis=1, keepdims=True), 1e-300)
    owner = np.full(p, -1, dtype=np.int64)
    left = np.asarray(quota, dtype=np.int64).copy()
    cols = np.arange(p)
    while left.any():
        free = owner < 0
        score = np.where((left > 0)[:, None] & free[None, :], rel, -np.inf)
        pick = np.argmax(score, axis=0)  # [P]
        ok = np.isfinite(score[pick, cols])
        if not ok.any():
            break
        prb, who = cols[ok], pick[ok]
        order = np.lexsort((-score[who, prb], who))  # by sensor, best first
        prb, who = prb[order], who[order]
        first = np.searchsorted(who, who, side="left")
        keep = (np.arange(who.size) - first) < left[who]
        owner[prb[keep]] = who[keep]
        left -= np.bincount(who[keep], minlength=n)
    return owner


# ---------------------------------------------------------------------- registry helpers
def list_schedulers() -> list[str]:
    """Names of the registered schedulers."""
    return SCHEDULERS.names()


def check_scheduler(name: str, params: dict[str, Any]) -> None:
    """Raise one :class:`~commsldr.cell.config.CellConfigError` for an unknown scheduler or a bad
    parameter (naming the key and what is allowed)."""
    if name not in SCHEDULERS:
        raise CellConfigError("scheduler", f"unknown scheduler {name!r}; valid: "
                              f"{', '.join(SCHEDULERS.names())}{did_you_mean(name, SCHEDULERS.names())}")
    try:
        create_scheduler(name, **params)
    except UserError:
        raise
    except (TypeError, ValueError) as err:
        raise CellConfigError("scheduler_params", f"{name}: {err}") from None


def create_scheduler(name: str, **params: Any) -> Scheduler:
    """A scheduler by name (``commsldr list schedulers``) with its parameters checked."""
    cls = SCHEDULERS.get(name)
    check_params(cls, params, f"scheduler {name!r}")
    return cls(**params)
