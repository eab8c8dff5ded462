"""The link as a batch of ``N`` independent environments, in NumPy (no Gymnasium needed).

:class:`LinkBatch` is what :class:`~commsldr.env.link_env.LinkEnv` (one link) and
:class:`~commsldr.env.vector.VecLinkEnv` (``N`` links) wrap. One step is one frame of every link:

1. the transmitter of link ``i`` sends its waiting packet (``m`` images, the table's group
   ``g_i``) at menu point ``a_i`` (the action): ``L_i = packet_bits[a_i, g_i]`` bits;
2. the PHY decides delivery on the link's true state of this frame, its own link adaptation
   seeing the CSI model's SNR estimate (as in :func:`commsldr.link.simulate`);
3. the reward is the number of the packet's images the server classifies correctly when it
   arrives (the table's ``correct``), minus an optional cost per kilobit sent:

   .. math:: r_i = \\mathbb{1}[\\text{delivered}]\\,n^\\mathrm{correct}_{a_i,g_i}
             + \\mathbb{1}[\\text{dropped}]\\,n^\\mathrm{fallback}_{g_i}
             - \\lambda\\,L_i/1000,

   ``n^fallback`` the images a dropped packet's fallback gets right (0 with ``fallback="error"``);
4. a lost packet is sent again next frame (stop-and-wait, a new point may be chosen) until it has
   used ``deadline_frames`` transmissions, then dropped; a delivered or dropped packet is followed
   by the next group of the link's seeded schedule (a permutation of the groups, cycled).

An episode is ``frames`` frames of every link: one fresh channel realisation of ``N·frames``
frames (one ``Channel.states`` call, the CSI model reset once on it) cut into ``N`` consecutive
stretches, link ``i`` getting frames ``[i·F, (i+1)·F)``. For a channel whose coherence time is
far below ``F`` frames the links are practically independent (the stretches touch only at their
ends); a delayed CSI estimate at a link's first frames is the end of the previous stretch, as it
would be on one long link. Every link truncates at the same step. The observation is :mod:`commsldr.adapt.features`.

All per-step work is array arithmetic over the ``N`` links: one PHY call (or, for
:class:`~commsldr.link.phy.ShannonPHY`, a comparison with the precomputed frame capacities,
which is what its ``deliver`` computes), a few gathers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from commsldr.adapt.csi import CSIModel, create_csi_model
from commsldr.adapt.features import FeatureState, ObservationSpec
from commsldr.errors import UserError
from commsldr.link.phy import ShannonPHY, state_array
from commsldr.link.table import OperatingPointTable
from commsldr.scalars import as_integer, as_real
from commsldr_channels import LinkState

__all__ = ["EnvError", "LinkBatch", "MAX_COST_PER_KBIT"]

#: largest ``cost_per_kbit`` (images per kbit; a reward stays finite for any packet size)
MAX_COST_PER_KBIT = 1e6


class EnvError(UserError):
    """A bad environment setting or a bad action."""


def check_seed(seed: Any) -> int:
    """A seed: a whole number ``>= 0`` (``2.0`` counts as 2; ``1.5``, NaN, ``bool`` are refused)."""
    v = as_integer(seed)
    if v is None or v < 0:
        raise EnvError("seed", f"must be an integer >= 0, got {seed!r}")
    return v


def _seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(int(seed)).spawn(n)


def _as_csi_model(csi: Any) -> CSIModel | None:
    if csi is None or isinstance(csi, CSIModel):
        return csi
    if isinstance(csi, str):
        return create_csi_model(csi)
    if isinstance(csi, dict):
        params = dict(csi)
        name = params.pop("type", None)
        if not isinstance(name, str):
            raise EnvError("csi", f"a CSI model needs a 'type', got {csi!r}")
        return create_csi_model(name, **params)
    raise EnvError("csi", f"expected a CSI model, a name or a {{type: ...}} mapping, got {csi!r}")


class LinkBatch:
    """``N`` links stepped together (module docstring).

    Args:
        table: the operating-point table (the menu: its points, exact bits and correctness).
        channel: a ``commsldr_channels`` channel (anything with ``states(F, generator=...)``).
        phy: a PHY without memory across frames (``phy.stateless``): ``ShannonPHY``, ``NRPHY``
            with inner-loop link adaptation, ...
        num_links: ``N`` (>= 1).
        frames: frames per episode (>= 1).
        observation: observation keys (:data:`commsldr.adapt.features.OBSERVATION_KEYS`).
        history: ACK/NACK outcomes in the ``ack`` key.
        csi: what the transmitter measures besides ACK/NACK: None, a CSI model, a name
            (``perfect``, ``delayed``, ``noisy``) or ``{type: ..., params}``; ``snr_db`` and
            ``capacity`` observations read it. ``ack-nack`` is refused (use the ``ack`` key).
        images_per_packet: ``m``; the table must hold packets of ``m`` images.
        deadline_frames: transmissions a packet may use (>= 1; 1 = no retransmission).
        fallback: ``"error"`` or ``"prior"`` (a dropped image gets the training prior class).
        cost_per_kbit: ``λ``, reward cost per 1000 bits sent (>= 0).
        seed: derives every draw (channels, CSI errors, schedules, PHY); ``reset(seed)`` restarts.

    Raises:
        EnvError / ObservationError: a bad setting, or an observation key this link cannot give.
    """

    def __init__(self, table: OperatingPointTable, channel: Any, phy: Any, *, num_links: int = 1,
                 frames: int = 1000, observation: Sequence[str] = ("ack", "action"),
                 history: int = 4, csi: Any = None, images_per_packet: int = 1,
                 deadline_frames: int = 1, fallback: str = "error", cost_per_kbit: float = 0.0,
                 seed: int = 0) -> None:
        counts = {}
        for name, value, lo in (("num_links", num_links, 1), ("frames", frames, 1),
                                ("deadline_frames", deadline_frames, 1),
                                ("images_per_packet", images_per_packet, 1),
                                ("history", history, 0)):
            counts[name] = as_integer(value)
            if counts[name] is None or counts[name] < lo:
                raise EnvError(name, f"must be an integer >= {lo}, got {value!r}")
        seed = check_seed(seed)
        if fallback not in ("error", "prior"):
            raise EnvError("fallback", f"must be 'error' or 'prior', got {fallback!r}")
        if fallback == "prior" and table.prior_class is None:
            raise EnvError("fallback", "'prior' needs a table built with a prior_class")
        cost = as_real(cost_per_kbit)
        if cost is None or not 0 <= cost <= MAX_COST_PER_KBIT:
            raise EnvError("cost_per_kbit", f"must be a finite number in [0, "
                           f"{MAX_COST_PER_KBIT:g}] (images per kbit), got {cost_per_kbit!r}")
        if not getattr(phy, "stateless", False):
            raise EnvError("phy", f"{type(phy).__name__} keeps memory across frames (an outer "
                           "loop or HARQ buffer); the environment needs a PHY without memory, e.g. "
                           "shannon or nr with link_adaptation 'illa'")
        self.table, self.channel, self.phy = table, channel, phy
        self.num_links, self.frames = counts["num_links"], counts["frames"]
        self.m = counts["images_per_packet"]
        self.deadline = counts["deadline_frames"]
        self.fallback = fallback
        self.cost_per_kbit = cost
        self.csi_model = _as_csi_model(csi)
        if self.csi_model is not None and self.csi_model.name == "ack-nack":
            raise EnvError("csi", "'ack-nack' is the environment's own feedback: use the "
                           "observation key 'ack' and csi: null")
        groups, packet_bits = table.packets(self.m)
        self.groups = groups
        self.packet_bits = packet_bits.astype(np.int64)  # [P, G]
        self.num_points, self.num_groups = self.packet_bits.shape
        self.correct_count = table.correct[:, groups].sum(axis=2).astype(np.float64)  # [P, G]
        fb = np.zeros(self.num_groups)
        if fallback == "prior":
            fb = (table.labels[groups] == table.prior_class).sum(axis=1).astype(np.float64)
        self.fallback_count = fb
        self.spec = ObservationSpec(tuple(observation), num_points=self.num_points,
                                    history=counts["history"], deadline_frames=self.deadline,
                                    max_packet_bits=float(self.packet_bits.max()))
        self._seed = seed
        self._episode = 0
        self.t = 0
        self._draw()

    # -- episodes -------------------------------------------------------------------------------
    def _draw(self) -> None:
        """A fresh channel realisation, CSI, schedule and PHY stream for every link."""
        n, f = self.num_links, self.frames
        root = np.random.SeedSequence([self._seed, self._episode])
        s_chan, s_csi, s_sched, s_phy = root.spawn(4)
        chan_seed = int(s_chan.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        # One realisation of N·F frames; link i gets frames [i·F, (i+1)·F).
        self.states = self.channel.states(n * f, generator=torch.Generator().manual_seed(chan_seed))
        if len(self.states) != n * f:
            raise EnvError("channel", f"{type(self.channel).__name__}.states({n * f}) gave "
                           f"{len(self.states)} frames")
        est_snr = np.full(n * f, np.nan)
        est_cap = np.full(n * f, np.nan)
        csi_state = None
        has_snr = has_cap = False
        true_cap = state_array(self.states, "capacity_bits")
        if self.csi_model is not None:
            self.csi_model.reset(self.states, np.random.default_rng(s_csi))
            for t in range(n * f):
                c = self.csi_model.observe(t)
                if c.snr_db is not None:
                    est_snr[t] = c.snr_db
                if c.capacity_bits is not None:
                    est_cap[t] = c.capacity_bits
            tx = self.csi_model.transmitter_snr_db()
            if tx is not None:
                csi_state = LinkState(snr_db=torch.as_tensor(tx, dtype=torch.float32))
            known = np.isfinite(est_snr)
            has_snr = bool(known.any())
            if not np.isfinite(est_cap).any() and has_snr and hasattr(self.phy, "capacity_bits"):
                # the PHY's capacity where an SNR estimate exists; NaN (unknown) elsewhere
                est_cap[known] = np.asarray(self.phy.capacity_bits(est_snr[known]),
                                            dtype=np.float64).reshape(-1)
            has_cap = bool(np.isfinite(est_cap).any())
        self._est_snr = est_snr.reshape(n, f)
        self._est_cap = est_cap.reshape(n, f)
        where = f"channel {type(self.channel).__name__}, csi " + (
            "none" if self.csi_model is None else repr(self.csi_model.name))
        if true_cap is not None and not has_snr and "snr_db" in self.spec.keys:
            where += ", a capacity trace has no SNR"
        self.spec.check_available(has_snr=has_snr, has_capacity=has_cap, where=where)
        self._csi_state = csi_state
        self._fast_cap = None
        if isinstance(self.phy, ShannonPHY):  # deliver() is bits <= frame capacity
            self._fast_cap = self.phy.frame_capacity_bits(self.states).reshape(n, f)
        self._g_phy = torch.Generator().manual_seed(
            int(s_phy.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        rng = np.random.default_rng(s_sched)
        self._schedule = np.stack([rng.permutation(self.num_groups) for _ in range(n)])  # [N, G]
        self._packet = np.zeros(n, dtype=np.int64)
        self.feat = FeatureState.empty(n, max(self.spec.history, 1))
        self.t = 0
        self._set_csi(0)

    def _set_csi(self, t: int) -> None:
        t = min(t, self.frames - 1)
        self.feat.snr_db[:] = self._est_snr[:, t]
        self.feat.capacity_bits[:] = self._est_cap[:, t]

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start a new episode (a new channel realisation); ``seed`` restarts the seed stream.

        Returns:
            the first observation, ``float32 [N, D]``.
        """
        if seed is not None:
            self._seed, self._episode = check_seed(seed), 0
        else:
            self._episode += 1
        self._draw()
        return self.spec.encode(self.feat)

    # -- steps ----------------------------------------------------------------------------------
    @property
    def current_groups(self) -> np.ndarray:
        """The table group of every link's waiting packet, ``int64 [N]``."""
        return self._schedule[np.arange(self.num_links), self._packet % self.num_groups]

    def check_actions(self, actions: Any) -> np.ndarray:
        """``int64 [N]`` menu indices, or :class:`EnvError` naming the allowed range."""
        a = np.asarray(actions)
        if a.shape == () and self.num_links == 1:
            a = a.reshape(1)
        if a.shape != (self.num_links,) or not (np.issubdtype(a.dtype, np.integer)
                                                or (np.issubdtype(a.dtype, np.floating)
                                                    and np.all(a == np.round(a)))):
            raise EnvError("action", f"expected {self.num_links} integer menu indices in "
                           f"[0, {self.num_points}), got {a.dtype} of shape {a.shape}")
        a = a.astype(np.int64)
        if a.size and (a.min() < 0 or a.max() >= self.num_points):
            bad = a[(a < 0) | (a >= self.num_points)][0]
            raise EnvError("action", f"menu index {int(bad)} is out of range: the menu has "
                           f"{self.num_points} points, indices 0..{self.num_points - 1}")
        return a

    def deliver(self, bits: np.ndarray) -> np.ndarray:
        """Delivery of ``bits [N]`` in frame ``t`` of every link, ``bool [N]``."""
        n, f, t = self.num_links, self.frames, self.t
        if self._fast_cap is not None:
            return bits <= self._fast_cap[:, t]
        idx = torch.arange(n) * f + t
        kwargs = {} if self._csi_state is None else {"csi_state": self._csi_state[idx]}
        return np.asarray(self.phy.deliver(bits, self.states[idx], self._g_phy, **kwargs).delivered,
                          dtype=bool)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, bool, dict[str, np.ndarray]]:
        """One frame of every link.

        Args:
            actions: ``int [N]`` menu indices.

        Returns:
            ``(obs float32 [N, D], reward float64 [N], truncated, info)``; ``info`` holds
            ``delivered bool [N]``, ``correct float64 [N]`` (images right this frame, fallback
            included), ``bits int64 [N]``, ``dropped bool [N]``. After the last frame
            ``truncated`` is True and the next call must be :meth:`reset`.
        """
        if self.t >= self.frames:
            raise EnvError("step", "the episode is over (truncated); call reset() first")
        a = self.check_actions(actions)
        g = self.current_groups
        bits = self.packet_bits[a, g]
        ok = self.deliver(bits)
        tries = self.feat.tries + 1
        dropped = ~ok & (tries >= self.deadline)
        correct = np.where(ok, self.correct_count[a, g], 0.0) + np.where(
            dropped, self.fallback_count[g], 0.0)
        reward = correct - self.cost_per_kbit * bits / 1000.0
        done_packet = ok | dropped
        self.feat.record(a, ok)
        self.feat.tries = np.where(done_packet, 0, tries)
        self._packet += done_packet
        self.t += 1
        self._set_csi(self.t)
        info = {"delivered": ok, "correct": correct, "bits": bits, "dropped": dropped}
        return self.spec.encode(self.feat), reward, self.t >= self.frames, info
