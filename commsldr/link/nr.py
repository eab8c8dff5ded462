"""5G NR PHY abstraction built on Sionna SYS.

Per frame: link adaptation picks an MCS (modulation order and target code rate of a 3GPP TS 38.214
MCS table), the transport block size (TBS) follows from the allocated resource elements (TS 38.214
Sec. 5.1.3.2, :func:`sionna.phy.nr.utils.calculate_tb_size`), and success is drawn from the
transport-block error rate that :class:`sionna.sys.PHYAbstraction` reads from its pre-computed
AWGN BLER tables (shipped in the Sionna wheel): ``TBLER = 1 - (1 - BLER(MCS, CBS, SNR))^num_cb``.

Limits of the tables (Sionna 2.x, ``sionna/sys/bler_tables``), which this PHY inherits:

* the SNR grid is coarse: 15 points from -5 dB to 20 dB (about 1.8 dB apart) per MCS,
  interpolated by splines onto a 0.1 dB grid; outside [-5, 30) dB the nearest grid value is used;
* the tables were simulated for code-block sizes 24, 100, 500, 1000 and 2000 bits only; larger
  code blocks (5G segments up to 8448 bits) reuse the 2000-bit curve (clamp-to-edge), which is
  pessimistic for long blocks;
* the curves are AWGN curves; one SNR per frame (block fading) is mapped directly, so no
  effective-SINR compression (EESM) is needed or applied — frequency-selective fading within a
  frame is outside this model;
* MCS entries without a simulated table are treated as unavailable (deterministic NACK).

A packet of ``L`` bits is delivered iff ``L <= TBS`` and the transport block is received; the
draw uses the caller's ``torch.Generator`` (never Sionna's or torch's global RNG).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from channels import LinkState
from commsldr.link._sionna import sionna_phy
from commsldr.link.phy import PHYResult, check_bits, state_array

__all__ = ["NRPHY", "nr_tables"]

_LINK_ADAPTATIONS = ("illa", "olla", "fixed")


@lru_cache(maxsize=1)
def nr_tables():
    """The shared Sionna SYS objects: ``(PHYAbstraction, MCSDecoderNR, TransportBlockNR)``.

    Built once per process (loading and interpolating the BLER tables takes ~0.3 s).
    """
    sionna_phy()
    from sionna.phy.nr.utils import MCSDecoderNR, TransportBlockNR
    from sionna.sys import PHYAbstraction

    return PHYAbstraction(), MCSDecoderNR(), TransportBlockNR()


class NRPHY:
    r"""5G NR abstraction PHY (Sionna SYS): MCS by link adaptation, TBS, BLER-table success.

    Args:
        num_allocated_re: resource elements allocated to the sensor per frame (> 0), e.g.
            ``24 PRB x 12 subcarriers x 12 data symbols = 3456``.
        link_adaptation: ``"illa"`` — inner loop: the highest MCS whose TBLER at the SNR the
            transmitter knows (``csi_state``; the true state by default) is ``<= bler_target``
            (:class:`sionna.sys.InnerLoopLinkAdaptation`); ``"olla"`` — outer loop: ILLA on the
            known SNR minus an offset driven by ACK/NACK (:class:`sionna.sys.OuterLoopLinkAdaptation`;
            runs frame by frame; its offset and last ACK/NACK carry over from one :meth:`deliver`
            call to the next until :meth:`reset`); ``"fixed"`` — always ``mcs_index``.
        bler_target: target TBLER for link adaptation, in (0, 1).
        mcs_index: the MCS for ``"fixed"``.
        mcs_table_index: 3GPP MCS table (1..4 for PDSCH, 1..2 for PUSCH).
        mcs_category: 0 = PUSCH (uplink, sensor to server; default), 1 = PDSCH.
        fit_packet: if ``True``, use the *lowest* MCS not above the link-adapted one whose TBS still
            carries the packet (a more robust MCS for a short packet); if ``False`` always use the
            link-adapted MCS.
        olla_delta_up_db: OLLA offset step on a NACK, in dB.

    Example:
        >>> phy = NRPHY(num_allocated_re=3456)
        >>> from channels import LinkState
        >>> s = LinkState(snr_db=torch.tensor([0.0, 20.0]))
        >>> r = phy.deliver(np.array([800, 800]), s, torch.Generator().manual_seed(0))
        >>> r.mcs_index.shape
        (2,)
    """

    def __init__(
        self,
        num_allocated_re: int = 3456,
        link_adaptation: str = "illa",
        bler_target: float = 0.1,
        mcs_index: int = 10,
        mcs_table_index: int = 1,
        mcs_category: int = 0,
        fit_packet: bool = True,
        olla_delta_up_db: float = 1.0,
    ) -> None:
        if int(num_allocated_re) != num_allocated_re or num_allocated_re <= 0:
            raise ValueError(f"num_allocated_re: must be a positive integer, got {num_allocated_re}")
        if link_adaptation not in _LINK_ADAPTATIONS:
            raise ValueError(
                f"link_adaptation: must be one of {_LINK_ADAPTATIONS}, got {link_adaptation!r}"
            )
        if not 0.0 < bler_target < 1.0:
            raise ValueError(f"bler_target: must be in (0, 1), got {bler_target}")
        if mcs_category not in (0, 1):
            raise ValueError(f"mcs_category: must be 0 (PUSCH) or 1 (PDSCH), got {mcs_category}")
        if olla_delta_up_db <= 0:
            raise ValueError(f"olla_delta_up_db: must be > 0, got {olla_delta_up_db}")
        self.num_allocated_re = int(num_allocated_re)
        self.link_adaptation = link_adaptation
        self.bler_target = float(bler_target)
        self.mcs_table_index = int(mcs_table_index)
        self.mcs_category = int(mcs_category)
        self.fit_packet = bool(fit_packet)
        self.olla_delta_up_db = float(olla_delta_up_db)
        #: no memory across frames (outer-loop adaptation has memory)
        self.stateless = link_adaptation != "olla"
        self._olla_block: Any = None  # the outer loop's state, created by reset()
        self._olla_harq = -1
        self._abs, mcs_decoder, tb = nr_tables()
        from sionna.sys import InnerLoopLinkAdaptation

        self._illa_block = InnerLoopLinkAdaptation(self._abs, bler_target=self.bler_target)
        # Per-MCS modulation order, code rate and TBS for this allocation (all MCS of the table).
        num_mcs = int(self._abs.bler_table_interp.shape[2])
        qm, rate, tbs, cbs, ncb, valid = [], [], [], [], [], []
        for m in range(num_mcs):
            try:
                q, r = mcs_decoder(m, self.mcs_table_index, self.mcs_category)
            except (ValueError, AssertionError):
                qm.append(0), rate.append(0.0), tbs.append(0), cbs.append(0), ncb.append(0)
                valid.append(False)
                continue
            t, c, n = tb.transport_block_size(q, r, int(q) * self.num_allocated_re)
            qm.append(int(q)), rate.append(float(r)), tbs.append(int(t))
            cbs.append(int(c)), ncb.append(int(n))
            valid.append(True)
        if not any(valid):  # pragma: no cover - every 38.214 table has valid entries
            raise ValueError(
                f"mcs_table_index: no valid MCS for table {mcs_table_index}, category {mcs_category}"
            )
        self.modulation_order = np.asarray(qm, dtype=np.int64)
        self.coderate = np.asarray(rate)
        self.tbs_bits = np.asarray(tbs, dtype=np.int64)
        self.cb_size = np.asarray(cbs, dtype=np.int64)
        self.num_cb = np.asarray(ncb, dtype=np.int64)
        # An MCS without a simulated BLER table is unavailable (Sionna returns +inf for it).
        probe = self._abs.get_bler(
            torch.arange(num_mcs, dtype=torch.int32),
            self.mcs_table_index,
            self.mcs_category,
            torch.as_tensor(self.cb_size, dtype=torch.int32),
            torch.full((num_mcs,), 10.0, dtype=torch.float32),
        ).numpy()
        self.mcs_valid = np.asarray(valid) & np.isfinite(probe)
        if link_adaptation == "fixed" and not (
            0 <= mcs_index < num_mcs and self.mcs_valid[mcs_index]
        ):
            raise ValueError(f"mcs_index: {mcs_index} is not a valid MCS of this table")
        self.mcs_index = int(mcs_index)
        self.reset()

    def reset(self) -> None:
        """Forget the outer loop's state (offset and last ACK/NACK); a no-op for ILLA/fixed.

        :func:`commsldr.link.simulate` calls it at the start of every simulation, so a PHY
        reused across simulations starts each one from the same state.
        """
        if self.link_adaptation != "olla":
            return
        from sionna.sys import OuterLoopLinkAdaptation

        self._olla_block = OuterLoopLinkAdaptation(
            self._abs, num_ut=1, bler_target=self.bler_target, delta_up=self.olla_delta_up_db
        )
        self._olla_harq = -1

    # ------------------------------------------------------------------ tables
    def tbler(self, mcs_index: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
        """Transport-block error rate for MCS ``[F]`` at SNR ``[F]`` dB, from Sionna's tables.

        Unavailable table entries give ``inf`` (a certain loss).
        """
        mcs = np.asarray(mcs_index, dtype=np.int64)
        snr_db = np.asarray(snr_db, dtype=np.float64)
        bler = self._abs.get_bler(
            torch.as_tensor(mcs, dtype=torch.int32),
            self.mcs_table_index,
            self.mcs_category,
            torch.as_tensor(self.cb_size[mcs], dtype=torch.int32),
            torch.as_tensor(np.power(10.0, snr_db / 10.0), dtype=torch.float32),
        ).double().numpy()
        tbler = 1.0 - np.power(1.0 - np.clip(bler, 0, 1), self.num_cb[mcs])
        return np.where(np.isinf(bler), np.inf, tbler)

    def _illa(self, snr_db: np.ndarray) -> np.ndarray:
        """MCS from :class:`sionna.sys.InnerLoopLinkAdaptation` at ``snr_db [F]``.

        The highest MCS whose TBLER is ``<= bler_target`` for this PHY's allocation, else the
        lowest available MCS.
        """
        n = snr_db.shape[0]
        mcs = self._illa_block(
            sinr_eff=torch.as_tensor(np.power(10.0, snr_db / 10.0), dtype=torch.float32)[:, None],
            num_allocated_re=torch.full((n, 1), self.num_allocated_re, dtype=torch.int32),
            mcs_table_index=self.mcs_table_index,
            mcs_category=self.mcs_category,
        )
        return mcs[:, 0].numpy().astype(np.int64)

    def _fit(self, mcs: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """Lowest valid MCS ``<= mcs`` whose TBS carries ``bits``; ``mcs`` itself if none does."""
        cand = np.flatnonzero(self.mcs_valid)
        fits = (self.tbs_bits[cand][None, :] >= bits[:, None]) & (cand[None, :] <= mcs[:, None])
        return np.where(fits.any(1), cand[np.argmax(fits, axis=1)], mcs)

    def _adapted_mcs(self, snr_db: np.ndarray) -> np.ndarray:
        if self.link_adaptation == "fixed":
            return np.full(snr_db.shape, self.mcs_index, dtype=np.int64)
        return self._illa(snr_db)

    def capacity_bits(self, snr_db: float | np.ndarray) -> float | np.ndarray:
        """TBS (bits) of the MCS inner-loop link adaptation picks at ``snr_db``."""
        snr = np.atleast_1d(np.asarray(snr_db, dtype=np.float64))
        cap = self.tbs_bits[self._adapted_mcs(snr)].astype(np.float64)
        return float(cap[0]) if np.ndim(snr_db) == 0 else cap.reshape(np.shape(snr_db))

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray:
        """P(delivered) of packets of ``packet_bits [P]`` at ``snr_db``: fits into the TBS of the
        MCS this PHY would use, times ``1 - TBLER`` (``float64 [P]``)."""
        bits = np.atleast_1d(np.asarray(packet_bits)).astype(np.int64)
        snr = np.full(bits.shape, float(snr_db))
        mcs = self._adapted_mcs(snr[:1]).repeat(bits.size)
        if self.fit_packet:
            mcs = self._fit(mcs, bits)
        p = (bits <= self.tbs_bits[mcs]) * (1.0 - np.minimum(self.tbler(mcs, snr), 1.0))
        return p.astype(np.float64)

    def frame_capacity_bits(self, state: LinkState) -> np.ndarray:
        """TBS of the link-adapted MCS at each frame's ``snr_db`` (``float64 [F]``; 0 if erased)."""
        cap = np.asarray(self.capacity_bits(self._snr_db(state)), dtype=np.float64).reshape(-1)
        erased = state_array(state, "erased")
        return np.where(erased, 0.0, cap) if erased is not None else cap

    @staticmethod
    def _snr_db(state: LinkState) -> np.ndarray:
        snr_db = state_array(state, "snr_db")
        if snr_db is None:
            raise ValueError("state: NRPHY needs snr_db in the LinkState")
        return snr_db

    # ------------------------------------------------------------------ deliver
    def deliver(
        self,
        bits: np.ndarray,
        state: LinkState,
        generator: torch.Generator,
        *,
        csi_state: LinkState | None = None,
    ) -> PHYResult:
        """Send one packet of ``bits[t]`` bits in each of ``F`` frames.

        Args:
            bits: ``int [F]`` packet sizes (header + CRC + payload).
            state: the true link state (``snr_db`` required) of the ``F`` frames.
            generator: the ``torch.Generator`` for the success draws.
            csi_state: the state the transmitter knows for link adaptation (default: ``state``).

        Returns:
            :class:`~commsldr.link.phy.PHYResult` with the MCS used and its TBLER per frame.
        """
        snr_db = self._snr_db(state)
        n = snr_db.shape[0]
        bits = check_bits(bits, n)
        known = snr_db if csi_state is None else self._snr_db(csi_state)
        if known.shape != snr_db.shape:
            raise ValueError(f"csi_state: expected {n} frames, got {known.shape[0]}")
        erased = state_array(state, "erased")
        erased = np.zeros(n, bool) if erased is None else erased
        u = torch.rand(n, generator=generator, dtype=torch.float64).numpy()
        if self.link_adaptation == "olla":
            mcs = self._olla(bits, snr_db, known, erased, u)
        else:
            mcs = self._adapted_mcs(known)
        if self.fit_packet:
            mcs = self._fit(mcs, bits)
        tbler = self.tbler(mcs, snr_db)
        tbs = self.tbs_bits[mcs]
        delivered = (bits <= tbs) & (u >= tbler) & ~erased
        return PHYResult(
            delivered=delivered,
            capacity_bits=np.where(erased, 0.0, tbs.astype(np.float64)),
            channel_uses=np.full(n, self.num_allocated_re, dtype=np.int64),
            mcs_index=mcs.astype(np.int64),
            error_prob=np.where(erased, 1.0, np.minimum(tbler, 1.0)),
        )

    def _olla(
        self,
        bits: np.ndarray,
        snr_db: np.ndarray,
        known_db: np.ndarray,
        erased: np.ndarray,
        u: np.ndarray,
    ) -> np.ndarray:
        """Frame-by-frame outer loop with Sionna's OLLA; the HARQ feedback of frame t feeds t+1.

        The loop state lives on the PHY (:meth:`reset`), so the feedback of the last frame of
        one call feeds the first frame of the next (the simulator's frame loop calls
        :meth:`deliver` once per frame).
        """
        olla = self._olla_block
        re = torch.tensor([self.num_allocated_re], dtype=torch.int32)
        harq = torch.tensor([self._olla_harq], dtype=torch.int32)
        mcs = np.empty(snr_db.shape[0], dtype=np.int64)
        for t in range(snr_db.shape[0]):
            sinr = torch.tensor([10.0 ** (known_db[t] / 10.0)], dtype=torch.float32)
            m = int(olla(re, harq, sinr_eff=sinr)[0])
            m_used = int(self._fit(np.array([m]), bits[t : t + 1])[0]) if self.fit_packet else m
            ok = (
                bits[t] <= self.tbs_bits[m_used]
                and u[t] >= self.tbler(np.array([m_used]), snr_db[t : t + 1])[0]
                and not erased[t]
            )
            harq = torch.tensor([int(ok)], dtype=torch.int32)
            mcs[t] = m
        self._olla_harq = int(harq[0])
        return mcs
