"""5G NR PHY abstraction: MCS by link adaptation, transport block size, BLER from Sionna's tables.

Per frame: link adaptation picks an MCS (modulation order and target code rate of a 3GPP TS 38.214
MCS table), the transport block size (TBS) follows from the allocated resource elements (TS 38.214
Sec. 5.1.3.2, Sionna's :class:`~sionna.phy.nr.utils.TransportBlockNR`), and success is drawn from
the transport-block error rate ``TBLER = 1 - (1 - BLER(MCS, CBS, SNR))^num_cb`` with the
code-block error rate of :mod:`commsldr.link.bler` (Sionna SYS's AWGN tables, fitted per curve).

* **MCS tables.** Sionna's PUSCH tables were simulated with the *transform-precoding* MCS tables
  (TS 38.214 Sec. 6.1.4.1), so for ``mcs_category=0`` (PUSCH, the sensor's uplink) every MCS
  index is decoded with transform precoding (tables 1-2; tables 3-4 do not exist for PUSCH with
  transform precoding and are refused). For PDSCH (``mcs_category=1``) tables 1-4, without. Over
  the flat, per-frame channels of this package the DFT spreading of transform precoding is a
  unitary transform and changes nothing else.
* **Link adaptation** (inner loop, ILLA): the highest MCS whose TBLER at the SNR the transmitter
  knows is ``<= bler_target``. When even the lowest MCS with a table misses the target, *nothing
  is sent* in the frame (MCS ``-1``, capacity 0): the abstraction never claims a rate it cannot
  back with a simulated curve. Outer loop (OLLA): ILLA on the known SNR minus an offset that
  rises by ``olla_delta_up_db`` on a NACK and falls by
  ``olla_delta_up_db * bler_target / (1 - bler_target)`` on an ACK (the rule of Sionna's
  ``OuterLoopLinkAdaptation``).
* **Tables' limits**: code blocks from 24 to 2000 bits were simulated (longer blocks: see
  :mod:`commsldr.link.bler`); AWGN curves, one SNR per frame (block fading), no EESM.
* **HARQ** (``harq={"type": "chase" | "ir", "max_transmissions": N}``): a retransmission of a
  lost transport block (``deliver(..., retransmission=...)``, as the simulator does) combines
  with the earlier copies as in :mod:`commsldr.link.harq`; the HARQ process state lives here.

A packet of ``L`` bits is delivered iff ``L <= TBS`` and the transport block is received; the
draws use the caller's ``torch.Generator`` (never Sionna's or torch's global RNG).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from commsldr.link.allocation import Allocation, AllocationError
from commsldr.link.bler import TableNotAvailable, bler_model, check_table, mcs_parameters
from commsldr.link.eesm import eesm_beta, effective_sinr_db
from commsldr.link.harq import HARQConfig, combined_snr_db
from commsldr.link.phy import (
    PHYResult,
    _snr_scalar,
    check_bits,
    check_packet_bits,
    check_snr_db,
    state_array,
)
from commsldr.link.sionna_guard import sionna_phy
from commsldr.scalars import as_integer, check_flag, check_integer, check_real
from commsldr_channels import LinkState

__all__ = ["NRPHY", "PRBAbstraction", "transport_blocks"]

_LINK_ADAPTATIONS = ("illa", "olla", "fixed")


@lru_cache(maxsize=64)
def transport_blocks(
    mcs_category: int, mcs_table_index: int, num_allocated_re: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tbs, cb_size, num_cb)`` int64 ``[29]`` per MCS index for one allocation (0 where the
    MCS is reserved), from Sionna's :class:`~sionna.phy.nr.utils.TransportBlockNR`."""
    sionna_phy()
    from sionna.phy.nr.utils import TransportBlockNR

    tb = TransportBlockNR()
    qm, rate = mcs_parameters(mcs_category, mcs_table_index)
    tbs = np.zeros(29, dtype=np.int64)
    cbs = np.zeros(29, dtype=np.int64)
    ncb = np.zeros(29, dtype=np.int64)
    for m in np.flatnonzero(qm > 0):
        t, c, n = tb.transport_block_size(int(qm[m]), float(rate[m]), int(qm[m]) * num_allocated_re)
        tbs[m], cbs[m], ncb[m] = int(t), int(c), int(n)
    return tbs, cbs, ncb


@dataclass(frozen=True)
class PRBAbstraction:
    """:meth:`NRPHY.abstract_prb_sinr` per user (``[U]`` arrays): ``mcs_index`` (``-1``:
    nothing sent), ``sinr_eff_db`` (EESM at that MCS's :math:`\beta`), ``tbs_bits``, ``tbler``."""

    mcs_index: np.ndarray
    sinr_eff_db: np.ndarray
    tbs_bits: np.ndarray
    tbler: np.ndarray


class NRPHY:
    r"""5G NR abstraction PHY: MCS by link adaptation, TBS, BLER-curve success, optional HARQ.

    Args:
        num_allocated_re: resource elements allocated to the sensor per frame (> 0), e.g.
            ``24 PRB x 12 subcarriers x 12 data symbols = 3456``.
        link_adaptation: ``"illa"`` — inner loop: the highest MCS whose TBLER at the SNR the
            transmitter knows (``csi_state``; the true state by default) is ``<= bler_target``,
            nothing sent if there is none; ``"olla"`` — outer loop: ILLA on the known SNR minus
            an ACK/NACK-driven offset (runs frame by frame; the offset carries over from one
            :meth:`deliver` call to the next until :meth:`reset`); ``"fixed"`` — always
            ``mcs_index``.
        bler_target: target TBLER for link adaptation, in (0, 1).
        mcs_index: the MCS for ``"fixed"``.
        mcs_table_index: 3GPP MCS table (PUSCH with transform precoding: 1-2; PDSCH: 1-4).
        mcs_category: 0 = PUSCH with transform precoding (uplink, sensor to server; default),
            1 = the PDSCH / CP-OFDM PUSCH tables; with ``allocation`` it follows from it.
        fit_packet: if ``True``, use the *lowest* MCS not above the link-adapted one whose TBS still
            carries the packet (a more robust MCS for a short packet); if ``False`` always use the
            link-adapted MCS.
        olla_delta_up_db: OLLA offset step on a NACK, in dB, in ``(0, 100]`` (the bound of the
            CSI model ``ack-nack``'s step).
        harq: ``None`` or ``{"type": "none" | "arq" | "chase" | "ir", "max_transmissions": N}``
            (:class:`~commsldr.link.harq.HARQConfig`); with ``chase``/``ir`` retransmissions
            combine with the earlier copies; ``retransmission_mcs: repick`` lets a
            retransmission's link adaptation pick again.
        allocation: ``None`` (``num_allocated_re`` as given) or an
            :class:`~commsldr.link.allocation.Allocation` / mapping of its fields: PRBs x
            symbols, DMRS and overhead, layers, PUSCH with or without transform precoding; it
            sets ``num_allocated_re`` (:math:`N_{RE}\upsilon`, 156-RE cap) and the MCS
            tables' category, and :meth:`abstract_prb_sinr` takes its per-PRB SINRs.

    Example:
        >>> phy = NRPHY(num_allocated_re=3456)
        >>> from commsldr_channels import LinkState
        >>> s = LinkState(snr_db=torch.tensor([-20.0, 20.0]))
        >>> r = phy.deliver(np.array([800, 800]), s, torch.Generator().manual_seed(0))
        >>> r.mcs_index[0], bool(r.delivered[0])  # nothing is sent below the lowest MCS
        (np.int64(-1), False)
    """

    def __init__(
        self,
        num_allocated_re: int = 3456,
        link_adaptation: str = "illa",
        bler_target: float = 0.1,
        mcs_index: int = 10,
        mcs_table_index: int = 1,
        mcs_category: int | None = None,
        fit_packet: bool = True,
        olla_delta_up_db: float = 1.0,
        harq: HARQConfig | dict | None = None,
        allocation: Allocation | dict | None = None,
    ) -> None:
        if mcs_category is not None and as_integer(mcs_category) not in (0, 1):
            raise ValueError(f"mcs_category: must be 0 (PUSCH) or 1 (PDSCH), got {mcs_category!r}")
        mcs_table_index = check_integer("mcs_table_index", mcs_table_index)
        self.allocation = Allocation.parse(allocation)
        if self.allocation is not None:
            if mcs_category is not None and int(mcs_category) != self.allocation.mcs_category:
                raise AllocationError(
                    "mcs_category", f"{mcs_category} contradicts the allocation (its MCS tables "
                    f"are category {self.allocation.mcs_category}); leave mcs_category out")
            self.allocation.check_mcs_table(mcs_table_index)
            mcs_category = self.allocation.mcs_category
            num_allocated_re = self.allocation.num_re_all_layers
        mcs_category = 0 if mcs_category is None else int(mcs_category)
        num_allocated_re = check_integer("num_allocated_re", num_allocated_re, low=1)
        if not isinstance(link_adaptation, str) or link_adaptation not in _LINK_ADAPTATIONS:
            raise ValueError(
                f"link_adaptation: must be one of {_LINK_ADAPTATIONS}, got {link_adaptation!r}"
            )
        bler_target = check_real("bler_target", bler_target, low=0.0, low_open=True, high=1.0,
                                 high_open=True)
        mcs_index = check_integer("mcs_index", mcs_index)
        fit_packet = check_flag("fit_packet", fit_packet)
        olla_delta_up_db = check_real("olla_delta_up_db", olla_delta_up_db, low=0.0,
                                      low_open=True, high=100.0)
        try:
            check_table(int(mcs_category), int(mcs_table_index))
        except TableNotAvailable as err:
            raise ValueError(str(err)) from None
        self.num_allocated_re = int(num_allocated_re)
        self.link_adaptation = link_adaptation
        self.bler_target = float(bler_target)
        self.mcs_table_index = int(mcs_table_index)
        self.mcs_category = int(mcs_category)
        self.fit_packet = fit_packet
        self.olla_delta_up_db = float(olla_delta_up_db)
        self.harq = HARQConfig.parse(harq)
        #: no memory across frames (outer-loop adaptation and HARQ combining have memory)
        self.stateless = link_adaptation != "olla" and not self.harq.combining
        self._bler = bler_model(self.mcs_category, self.mcs_table_index)
        qm, rate = mcs_parameters(self.mcs_category, self.mcs_table_index)
        tbs, cbs, ncb = transport_blocks(self.mcs_category, self.mcs_table_index, self.num_allocated_re)
        self.modulation_order = qm
        self.coderate = rate
        self.tbs_bits = tbs
        self.cb_size = cbs
        self.num_cb = ncb
        # The BLER curve of an MCS holds for its target rate; where the TBS quantisation (the
        # 24-bit minimum TBS of a tiny allocation) pushes the real rate well above it, the MCS
        # is not used.
        real_rate = tbs / np.maximum(qm * self.num_allocated_re, 1)
        #: MCS indices with a decodable entry, a simulated BLER curve and a TBS that matches
        #: the MCS's code rate (within the 6 % of TS 38.214's TBS quantisation)
        self.mcs_valid = (qm > 0) & self._bler.available & (tbs > 0) & (real_rate <= 1.06 * rate)
        if not self.mcs_valid.any():  # pragma: no cover - every supported table has curves
            raise ValueError(f"mcs_table_index: no usable MCS in table {mcs_table_index}")
        if link_adaptation == "fixed" and not (0 <= mcs_index < 29 and self.mcs_valid[mcs_index]):
            usable = np.flatnonzero(self.mcs_valid)
            raise ValueError(
                f"mcs_index: {mcs_index} has no BLER curve in this table; usable: "
                f"{int(usable[0])}..{int(usable[-1])}"
            )
        self.mcs_index = int(mcs_index)
        # SNR (dB) at which each MCS reaches the TBLER target (inf where unusable): ILLA picks
        # the highest MCS whose threshold is <= the known SNR (TBLER falls monotonically in SNR).
        per_block = 1.0 - np.power(1.0 - self.bler_target, 1.0 / np.maximum(ncb, 1))
        thr = np.full(29, np.inf)
        valid = np.flatnonzero(self.mcs_valid)
        for m in valid:
            thr[m] = float(self._bler.snr_at_bler(m, cbs[m], float(per_block[m])))
        self.threshold_snr_db = thr
        self.reset()

    def reset(self) -> None:
        """Forget the outer loop's offset and any HARQ process in progress.

        :func:`commsldr.link.simulate` calls it at the start of every simulation, so a PHY
        reused across simulations starts each one from the same state.
        """
        self._olla_offset_db = 0.0
        #: open HARQ processes (soft buffers of lost transport blocks) by process id
        self._harq_processes: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ tables
    def tbler(self, mcs_index: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
        """Transport-block error rate for MCS ``[F]`` at SNR ``[F]`` dB.

        MCS indices without a curve (and ``-1``) give ``inf`` (a certain loss).
        """
        mcs = np.asarray(mcs_index, dtype=np.int64)
        snr_db = np.asarray(snr_db, dtype=np.float64)
        mcs, snr_db = np.broadcast_arrays(mcs, snr_db)
        ok = (mcs >= 0) & self.mcs_valid[np.clip(mcs, 0, 28)]
        safe = np.where(ok, mcs, int(np.flatnonzero(self.mcs_valid)[0]))
        bler = self._bler.bler(safe, self.cb_size[safe], snr_db)
        tbler = 1.0 - np.power(1.0 - np.clip(bler, 0.0, 1.0), self.num_cb[safe])
        return np.where(ok, tbler, np.inf)

    def _illa(self, snr_db: np.ndarray) -> np.ndarray:
        """Highest MCS whose TBLER at ``snr_db [F]`` is ``<= bler_target``; ``-1`` if none."""
        snr = np.asarray(snr_db, dtype=np.float64).reshape(-1)
        # an unusable MCS (threshold inf) is never picked, not even at snr_db = +inf
        ok = (snr[:, None] >= self.threshold_snr_db[None, :]) & self.mcs_valid[None, :]
        idx = 28 - np.argmax(ok[:, ::-1], axis=1)
        return np.where(ok.any(axis=1), idx, -1).astype(np.int64)

    def _fit(self, mcs: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """Lowest valid MCS ``<= mcs`` whose TBS carries ``bits``; ``mcs`` itself if none does
        (and ``-1`` stays ``-1``: nothing is sent)."""
        cand = np.flatnonzero(self.mcs_valid)
        fits = (self.tbs_bits[cand][None, :] >= bits[:, None]) & (cand[None, :] <= mcs[:, None])
        return np.where(fits.any(1) & (mcs >= 0), cand[np.argmax(fits, axis=1)], mcs)

    def _adapted_mcs(self, snr_db: np.ndarray) -> np.ndarray:
        if self.link_adaptation == "fixed":
            return np.full(np.shape(snr_db), self.mcs_index, dtype=np.int64)
        return self._illa(snr_db)

    def _tbs(self, mcs: np.ndarray) -> np.ndarray:
        return np.where(mcs >= 0, self.tbs_bits[np.clip(mcs, 0, 28)], 0)

    def capacity_bits(self, snr_db: float | np.ndarray) -> float | np.ndarray:
        """TBS (bits) of the MCS inner-loop link adaptation picks at ``snr_db`` (0 where no MCS
        meets the target; ``snr_db`` may be ``±inf``, NaN is refused)."""
        if type(snr_db) is float and snr_db == snr_db:  # a policy's scalar query, every frame
            if self.link_adaptation == "fixed":
                mcs = int(self.mcs_index)
            else:  # _illa of one SNR: the highest valid MCS whose threshold it reaches
                usable = np.flatnonzero((snr_db >= self.threshold_snr_db) & self.mcs_valid)
                mcs = int(usable[-1]) if usable.size else -1
            return float(self.tbs_bits[min(mcs, 28)]) if mcs >= 0 else 0.0
        snr = np.atleast_1d(check_snr_db(snr_db))
        cap = self._tbs(self._adapted_mcs(snr)).astype(np.float64)
        return float(cap[0]) if np.ndim(snr_db) == 0 else cap.reshape(np.shape(snr_db))

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray:
        """P(delivered in one transmission) of packets of ``packet_bits [P]`` at ``snr_db``: fits
        into the TBS of the MCS this PHY would use, times ``1 - TBLER`` (``float64 [P]``).

        ``packet_bits`` must be finite and ``>= 0``, ``snr_db`` a number that is not NaN."""
        bits = np.atleast_1d(check_packet_bits(packet_bits)).astype(np.int64)
        snr = np.full(bits.shape, _snr_scalar(snr_db))
        mcs = self._adapted_mcs(snr[:1]).repeat(bits.size)
        if self.fit_packet:
            mcs = self._fit(mcs, bits)
        tbler = np.minimum(self.tbler(mcs, snr), 1.0)
        p = (bits <= self._tbs(mcs)) * (1.0 - tbler)
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

    # ------------------------------------------------------------------ per-PRB SINR
    def abstract_prb_sinr(
        self, sinr_db_prb: np.ndarray, mcs_index: np.ndarray | None = None,
        beta: np.ndarray | None = None,
    ) -> PRBAbstraction:
        """Link abstraction of many users' frequency-selective allocations at once.

        Input:
            sinr_db_prb: float ``[U, P]`` — post-equalisation SINR (dB, per layer) of each
                user's PRBs; ``nan`` marks a PRB not allocated to the user. With an
                :class:`~commsldr.link.allocation.Allocation` a user's TBS follows from its
                number of allocated PRBs (``re_per_prb`` each); without one every user has
                the PHY's ``num_allocated_re`` and every entry must be finite.
            mcs_index: int ``[U]`` — the MCS per user; ``None``: inner-loop link adaptation, the
                highest MCS whose TBLER at its own EESM SINR (:math:`\beta_m` of that MCS) is
                ``<= bler_target`` (``-1``: none).
            beta: float ``[29]`` — EESM :math:`\\beta` per MCS (linear; ``nan``: MCS not
                usable); default Sionna's (:func:`~commsldr.link.eesm.eesm_beta`).

        Output:
            :class:`PRBAbstraction` with ``[U]`` arrays: the MCS, the EESM SINR (dB) at it,
            the TBS (bits) and the TBLER (1 where nothing is sent).
        """
        x = np.asarray(sinr_db_prb, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"sinr_db_prb: expected [users, PRBs], got shape {x.shape}")
        n_prb = np.isfinite(x).sum(axis=1)
        if self.allocation is None and not np.all(n_prb == x.shape[1]):
            raise ValueError("sinr_db_prb: nan (unallocated PRBs) needs an allocation on the PHY")
        beta = eesm_beta(self.mcs_table_index) if beta is None else np.asarray(beta, np.float64)
        if beta.shape != (29,) or np.any(beta[np.isfinite(beta)] <= 0):
            raise ValueError(f"beta: expected 29 positive values (nan = unusable), got shape {beta.shape}")
        eff_all = effective_sinr_db(x[:, None, :], np.where(np.isfinite(beta), beta, 1.0)[None, :])
        users = np.arange(x.shape[0])
        tbs_u = np.zeros((x.shape[0], 29), dtype=np.int64)
        cbs_u = np.zeros((x.shape[0], 29), dtype=np.int64)
        ncb_u = np.zeros((x.shape[0], 29), dtype=np.int64)
        valid_u = np.zeros((x.shape[0], 29), dtype=bool)
        for n in np.unique(n_prb):
            sel = n_prb == n
            if n == 0:
                continue
            re = (self.num_allocated_re if self.allocation is None
                  else self.allocation.re_per_prb * int(n) * self.allocation.num_layers)
            t, c, k = transport_blocks(self.mcs_category, self.mcs_table_index, int(re))
            real_rate = t / np.maximum(self.modulation_order * re, 1)
            ok = ((self.modulation_order > 0) & self._bler.available & (t > 0)
                  & (real_rate <= 1.06 * self.coderate) & np.isfinite(beta))
            tbs_u[sel], cbs_u[sel], ncb_u[sel], valid_u[sel] = t, c, k, ok
        m_all = np.broadcast_to(np.arange(29), (x.shape[0], 29))
        safe = np.where(valid_u, m_all, int(np.flatnonzero(self.mcs_valid)[0]))
        bler = self._bler.bler(safe, np.maximum(cbs_u, 1), np.nan_to_num(eff_all, nan=-np.inf))
        tbler_all = np.where(valid_u, 1.0 - np.power(1.0 - np.clip(bler, 0, 1), ncb_u), np.inf)
        if mcs_index is None:
            ok = tbler_all <= self.bler_target
            mcs = np.where(ok.any(axis=1), 28 - np.argmax(ok[:, ::-1], axis=1), -1)
        else:
            mcs = np.asarray(mcs_index, dtype=np.int64).reshape(-1)
            if mcs.shape != (x.shape[0],):
                raise ValueError(f"mcs_index: expected {x.shape[0]} entries, got {mcs.shape}")
        m = np.clip(mcs, 0, 28)
        sent = (mcs >= 0) & valid_u[users, m]
        return PRBAbstraction(
            mcs_index=np.where(sent, mcs, -1).astype(np.int64),
            sinr_eff_db=np.where(sent, eff_all[users, m], np.nan),
            tbs_bits=np.where(sent, tbs_u[users, m], 0).astype(np.int64),
            tbler=np.where(sent, np.minimum(tbler_all[users, m], 1.0), 1.0),
        )

    # ------------------------------------------------------------------ deliver
    def deliver(
        self,
        bits: np.ndarray,
        state: LinkState,
        generator: torch.Generator,
        *,
        csi_state: LinkState | None = None,
        retransmission: np.ndarray | None = None,
        harq_process: np.ndarray | None = None,
    ) -> PHYResult:
        """Send one packet of ``bits[t]`` bits in each of ``F`` frames.

        Args:
            bits: ``int [F]`` packet sizes (header + CRC + payload).
            state: the true link state (``snr_db`` required) of the ``F`` frames.
            generator: the ``torch.Generator`` for the success draws.
            csi_state: the state the transmitter knows for link adaptation (default: ``state``).
            retransmission: ``bool [F]``; ``True`` where frame ``t`` re-sends the transport block
                that was lost in the previous transmission (frame ``t - 1``, or the last frame of
                the previous call). With HARQ ``chase``/``ir`` it keeps that block's MCS and
                combines; otherwise it is a fresh transmission of the packet.
            harq_process: ``int [F]``, the HARQ process of each frame's transmission (default:
                process 0 for all): with several processes in flight
                (:class:`~commsldr.link.harq_loop.HARQTiming`), a retransmission combines
                with the soft buffer of its own process.

        Returns:
            :class:`~commsldr.link.phy.PHYResult` with the MCS used (``-1``: nothing sent) and
            the probability that the block is still lost after this transmission.

        Input:
            bits (``int64 [F]``, bits): packet size per frame.
            state (:class:`~commsldr_channels.LinkState`): true ``snr_db`` (dB) of the ``F`` frames.
            generator (``torch.Generator``): the success draws.

        Output:
            :class:`~commsldr.link.phy.PHYResult`: ``delivered`` ``bool [F]`` (drawn with the BLER of
            the chosen MCS at the true SNR, 3GPP TS 38.214 MCS tables), ``capacity_bits`` ``float64 [F]``
            (TBS of the chosen MCS), ``channel_uses`` ``int64 [F]`` (REs), ``mcs_index`` ``int64 [F]``,
            ``error_prob`` ``float64 [F]`` (the modelled BLER).
        """
        snr_db = self._snr_db(state)
        n = snr_db.shape[0]
        bits = check_bits(bits, n)
        known = snr_db if csi_state is None else self._snr_db(csi_state)
        if known.shape != snr_db.shape:
            raise ValueError(f"csi_state: expected {n} frames, got {known.shape[0]}")
        erased = state_array(state, "erased")
        erased = np.zeros(n, bool) if erased is None else erased
        retx = np.zeros(n, bool) if retransmission is None else np.asarray(retransmission, bool)
        if retx.shape != (n,):
            raise ValueError(f"retransmission: expected shape ({n},), got {retx.shape}")
        pid = np.zeros(n, np.int64) if harq_process is None else np.asarray(harq_process, np.int64)
        if pid.shape != (n,):
            raise ValueError(f"harq_process: expected shape ({n},), got {pid.shape}")
        u = torch.rand(n, generator=generator, dtype=torch.float64).numpy()
        if self.link_adaptation == "olla" or (self.harq.combining and retx.any()):
            return self._deliver_loop(bits, snr_db, known, erased, retx, u, pid)
        mcs = self._adapted_mcs(known)
        if self.fit_packet:
            mcs = self._fit(mcs, bits)
        tbler = np.minimum(self.tbler(mcs, snr_db), 1.0)
        tbs = self._tbs(mcs)
        delivered = (bits <= tbs) & (u >= tbler) & ~erased & (mcs >= 0)
        if self.harq.combining and n:
            last = n - 1
            last_snr = float("-inf") if erased[last] else float(snr_db[last])
            self._remember(int(pid[last]), delivered[last], mcs[last], bits[last], [last_snr],
                           u[last])
        return PHYResult(
            delivered=delivered,
            capacity_bits=np.where(erased, 0.0, tbs.astype(np.float64)),
            channel_uses=np.full(n, self.num_allocated_re, dtype=np.int64),
            mcs_index=mcs.astype(np.int64),
            error_prob=np.where(erased | (mcs < 0), 1.0, tbler),
        )

    def coded_bits_per_block(self, mcs: int) -> int:
        """Coded bits :math:`E` of one code block of MCS ``mcs`` in this allocation:
        :math:`Q_m \\lfloor N_{RE} / C \\rfloor` (TS 38.212 Sec. 5.4.2.1 with :math:`C` code blocks)."""
        qm = int(self.modulation_order[mcs])
        return qm * (self._data_re // max(int(self.num_cb[mcs]), 1))

    @property
    def _data_re(self) -> int:
        """REs carrying coded bits: the allocation's uncapped data REs, else ``num_allocated_re``."""
        if self.allocation is None:
            return self.num_allocated_re
        return self.allocation.num_data_re * self.allocation.num_layers

    def _combined_snr_db(self, mcs: int, snrs: list[float], copy_mcs: list[int]) -> float:
        """Effective SNR of the received copies of a transport block first sent on MCS ``mcs``
        (copy ``i`` on ``copy_mcs[i]``: same block, possibly another modulation; IR only)."""
        kw: dict[str, Any] = {}
        if any(c != mcs for c in copy_mcs):
            kw["copy_qm"] = [int(self.modulation_order[c]) for c in copy_mcs]
            kw["copy_coded_bits"] = [self._copy_coded_bits(mcs, c) for c in copy_mcs]
        return combined_snr_db(
            self.harq.type, int(self.modulation_order[mcs]), np.array(snrs),
            float(self.coderate[mcs]), int(self.cb_size[mcs]),
            coded_bits=self.coded_bits_per_block(mcs), **kw,
        )

    def _copy_coded_bits(self, mcs: int, copy: int) -> int:
        """Coded bits per code block of a retransmission of MCS ``mcs``'s block on MCS ``copy``'s
        modulation: the allocation's REs split over the first transmission's code blocks."""
        qm = int(self.modulation_order[copy])
        return qm * (self._data_re // max(int(self.num_cb[mcs]), 1))

    def _remember(self, pid: int, ok: bool, mcs: int, bits: int, snrs: list[float], u: float,
                  copy_mcs: list[int] | None = None) -> None:
        """Keep (or close) HARQ process ``pid`` after its last transmission."""
        if ok or mcs < 0:
            self._harq_processes.pop(pid, None)
        else:
            self._harq_processes[pid] = {"mcs": int(mcs), "bits": int(bits), "snr_db": list(snrs),
                                         "u": u, "copy_mcs": list(copy_mcs or [int(mcs)])}

    def _deliver_loop(
        self,
        bits: np.ndarray,
        snr_db: np.ndarray,
        known_db: np.ndarray,
        erased: np.ndarray,
        retx: np.ndarray,
        u: np.ndarray,
        pid: np.ndarray,
    ) -> PHYResult:
        """Frame-by-frame delivery: OLLA's ACK/NACK feedback of frame t feeds t+1, and a HARQ
        retransmission combines with its process. Both states live on the PHY (:meth:`reset`)."""
        n = snr_db.shape[0]
        mcs_out = np.full(n, -1, dtype=np.int64)
        delivered = np.zeros(n, dtype=bool)
        cap = np.zeros(n)
        err = np.ones(n)
        down = self.olla_delta_up_db * self.bler_target / (1.0 - self.bler_target)
        for t in range(n):
            p_id = int(pid[t])
            proc = self._harq_processes.get(p_id)
            combine = (self.harq.combining and bool(retx[t]) and proc is not None
                       and proc["bits"] == bits[t])
            this_snr = float("-inf") if erased[t] else float(snr_db[t])  # erased: nothing received
            m_new = self._pick_mcs(known_db[t], bits[t : t + 1])
            if combine and self.harq.retransmission_mcs == "repick" and m_new >= 0:
                # the transport block stays: a new modulation order for IR, none for Chase
                q_new, q_old = self.modulation_order[m_new], self.modulation_order[proc["mcs"]]
                if self.harq.type == "chase" and q_new != q_old:
                    combine = False
            if combine:
                m = proc["mcs"]
                m_copy = m_new if (self.harq.retransmission_mcs == "repick" and m_new >= 0) else m
                snrs = proc["snr_db"] + [this_snr]
                copy_mcs = proc["copy_mcs"] + [int(m_copy)]
                ut = proc["u"]  # nested failures: one uniform per transport block
                eff = self._combined_snr_db(m, snrs, copy_mcs)
            else:
                m = m_new
                m_copy = m
                copy_mcs = [int(m)]
                snrs, ut, eff = [this_snr], float(u[t]), float(snr_db[t])
            tbs = int(self._tbs(np.array([m]))[0])
            p_loss = 1.0 if m < 0 else float(min(self.tbler(np.array([m]), np.array([eff]))[0], 1.0))
            ok = bool(m >= 0 and bits[t] <= tbs and ut >= p_loss and not erased[t])
            mcs_out[t], delivered[t] = m_copy, ok
            cap[t] = 0.0 if erased[t] else float(tbs)
            err[t] = 1.0 if erased[t] else p_loss
            if self.link_adaptation == "olla" and m >= 0:
                self._olla_offset_db += -down if ok else self.olla_delta_up_db
            if self.harq.combining:
                self._remember(p_id, ok, m, int(bits[t]), snrs, ut, copy_mcs)
        return PHYResult(
            delivered=delivered,
            capacity_bits=cap,
            channel_uses=np.full(n, self.num_allocated_re, dtype=np.int64),
            mcs_index=mcs_out,
            error_prob=err,
        )

    def _pick_mcs(self, known_db: float, bits: np.ndarray) -> int:
        """The MCS link adaptation picks for one frame at the known SNR ``known_db``."""
        if self.link_adaptation == "olla":
            m = int(self._illa(np.array([known_db - self._olla_offset_db]))[0])
        elif self.link_adaptation == "fixed":
            m = self.mcs_index
        else:
            m = int(self._illa(np.array([known_db]))[0])
        if self.fit_packet:
            m = int(self._fit(np.array([m]), bits)[0])
        return m
