r"""The cell's link abstraction: EESM over a sensor's PRBs, ILLA/OLLA, TBS and TB error rate.

One PHY abstraction for the code base: the project's 5G NR abstraction
(:mod:`commsldr.link.nr`, :mod:`commsldr.link.bler`) — the MCS tables decoded as Sionna's PUSCH
BLER tables were simulated, the per-curve probit fits of those tables, and the TBS of TS 38.214
Sec. 5.1.3.2 from Sionna's :class:`~sionna.phy.nr.utils.TransportBlockNR` (here one vectorised
call for every allocation size, equal entry by entry to :func:`commsldr.link.nr.transport_blocks`).
The cell only adds what a multi-PRB allocation needs:

* **EESM** (exponential effective SINR mapping; Brueninghaus et al., PIMRC 2005): the SINRs
  :math:`\gamma_i` of the :math:`n` PRB-slots a sensor got in a frame map, for MCS :math:`m`, to
  :math:`\gamma_{eff}(m) = -\beta_m \ln\big(\frac1n\sum_i e^{-\gamma_i/\beta_m}\big)` — the
  mapping of :func:`commsldr.link.eesm.effective_sinr_db`, kept here as running sums over the
  slots of a frame. The :math:`\beta_m` table is a constructor argument
  (:class:`CellLinkAbstraction`); the default is :func:`commsldr.link.eesm.eesm_beta` (Sionna's
  ``eesm_beta_table.json``), so the link-fidelity calibration replaces it for both.
* **Link adaptation** per sensor and frame, vectorised over sensors: ILLA picks the highest MCS
  whose TB error rate at :math:`\gamma_{eff}(m)` is at most the target; OLLA does so on
  :math:`\gamma_{eff}(m) - \Delta` with the offset :math:`\Delta` rising by ``delta_up`` on a NACK
  and falling by ``delta_up * target / (1 - target)`` on an ACK — the rule of Sionna's
  :class:`~sionna.sys.OuterLoopLinkAdaptation` and of :class:`~commsldr.link.nr.NRPHY`. Sionna's
  ILLA/OLLA blocks take Sionna's own :class:`~sionna.sys.PHYAbstraction`, which would be a second
  abstraction beside the project's, so the same rule is applied here on the project's tables.
* :class:`GrantPHY`: the PHY a sensor's single-link simulation runs on — the transport block it
  was granted (``GrantState``: TBS, MCS, effective SINR, TB fate) — so the existing
  :func:`commsldr.link.simulate` and adaptation policies run unchanged per sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtri

from commsldr.cell.config import CellConfig
from commsldr.link.bler import bler_model, mcs_parameters
from commsldr.link.eesm import eesm_beta as default_eesm_beta
from commsldr.link.phy import PHYResult, check_bits
from commsldr.link.sionna_guard import sionna_phy
from commsldr_channels import LinkState

__all__ = ["CellLinkAbstraction", "transport_block_grid", "GrantState", "GrantPHY"]

_PUSCH = 0


def transport_block_grid(mcs_table_index: int, num_re: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tbs, cb_size, num_cb)`` int64 ``[len(num_re), 29]`` of PUSCH for allocations of
    ``num_re`` resource elements (0 where the MCS is reserved or ``num_re`` is 0), one vectorised
    call of Sionna's :class:`~sionna.phy.nr.utils.TransportBlockNR`."""
    sionna_phy()  # Sionna imported first with torch's global RNG left as it was
    from sionna.phy.nr.utils import TransportBlockNR

    qm, rate = mcs_parameters(_PUSCH, mcs_table_index)
    num_re = np.asarray(num_re, dtype=np.int64).reshape(-1)
    ok = np.flatnonzero(qm > 0)
    q = np.broadcast_to(qm[ok][None, :], (num_re.size, ok.size))
    r = np.broadcast_to(rate[ok][None, :], (num_re.size, ok.size))
    coded = q * np.maximum(num_re, 1)[:, None]
    tb = TransportBlockNR()
    out = tb.transport_block_size(torch.as_tensor(q.copy(), dtype=torch.int32),
                                  torch.as_tensor(r.copy(), dtype=torch.float32),
                                  torch.as_tensor(coded, dtype=torch.int32))
    grids = []
    for x in out:
        g = np.zeros((num_re.size, 29), dtype=np.int64)
        g[:, ok] = x.numpy().astype(np.int64)
        g[num_re <= 0] = 0
        grids.append(g)
    return grids[0], grids[1], grids[2]


class CellLinkAbstraction:
    """TBS, TB error rate and link adaptation for allocations of ``1..max_units`` PRB-slots.

    Args:
        config: the cell (MCS table, BLER target, RE per PRB-slot, OLLA step).
        max_units: the largest allocation in PRB-slots (``num_prb * slots_per_frame``).
        eesm_beta: float ``[29]`` :math:`\\beta_m` per MCS (``None``:
            :func:`commsldr.link.eesm.eesm_beta`).
    """

    def __init__(self, config: CellConfig, max_units: int, eesm_beta: np.ndarray | None = None
                 ) -> None:
        self.bler_target = float(config.bler_target)
        self.olla_delta_up_db = float(config.olla_delta_up_db)
        self._bler = bler_model(_PUSCH, config.mcs_table_index)
        qm, rate = mcs_parameters(_PUSCH, config.mcs_table_index)
        self.modulation_order, self.coderate = qm, rate
        units = np.arange(max_units + 1)
        re = units * config.re_per_prb
        self.tbs, self.cbs, self.ncb = transport_block_grid(config.mcs_table_index, re)
        real_rate = self.tbs / np.maximum(qm[None, :] * re[:, None], 1)
        beta = default_eesm_beta(config.mcs_table_index) if eesm_beta is None else np.asarray(
            eesm_beta, dtype=np.float64)
        if beta.shape != (29,):
            raise ValueError(f"eesm_beta: expected 29 values (one per MCS), got {beta.shape}")
        #: [units, 29] usable (the rule of NRPHY.mcs_valid) and with an EESM beta
        self.valid = ((qm > 0) & self._bler.available & np.isfinite(beta) & (beta > 0))[None, :] \
            & (self.tbs > 0) & (real_rate <= 1.06 * rate[None, :])
        self.valid[0] = False
        #: distinct betas and, per MCS, which one it uses
        self.betas, self.beta_index = np.unique(np.where(np.isfinite(beta), beta, 1.0),
                                                return_inverse=True)
        per_block = 1.0 - np.power(1.0 - self.bler_target, 1.0 / np.maximum(self.ncb, 1))
        safe_cbs = np.maximum(self.cbs, 24)
        s50, sig = self._bler.curve_params(np.broadcast_to(np.arange(29), self.cbs.shape), safe_cbs)
        #: [units, 29] SINR (dB) where each MCS meets the TB error-rate target (inf: unusable)
        self.threshold_db = np.where(self.valid, s50 - sig * ndtri(per_block), np.inf)

    # ------------------------------------------------------------------ EESM
    def effective_sinr_db(self, sum_exp: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Per-MCS effective SINR (dB) float64 ``[N, 29]`` from EESM sums.

        Input:
            sum_exp: float64 ``[N, B]``, :math:`\\sum_i e^{-\\gamma_i/\\beta_b}` over each sensor's
                PRB-slots for each distinct beta (:attr:`betas`).
            count: int ``[N]``, PRB-slots summed (0: ``-inf``).
        """
        n = np.maximum(count, 1)[:, None]
        with np.errstate(divide="ignore"):
            eff = -self.betas[None, :] * np.log(np.maximum(sum_exp, 1e-300) / n)
            eff_db = 10.0 * np.log10(np.maximum(eff, 1e-30))
        eff_db = eff_db[:, self.beta_index]
        return np.where(np.asarray(count)[:, None] > 0, eff_db, -np.inf)

    # ------------------------------------------------------------------ adaptation
    def select_mcs(self, eff_db: np.ndarray, units: np.ndarray, offset_db: np.ndarray) -> np.ndarray:
        """Highest MCS with ``eff_db[m] - offset >= threshold[units, m]``; ``-1`` if none
        (``int64 [N]``)."""
        thr = self.threshold_db[np.asarray(units, dtype=np.int64)]
        ok = (eff_db - np.asarray(offset_db)[:, None]) >= thr
        idx = 28 - np.argmax(ok[:, ::-1], axis=1)
        return np.where(ok.any(axis=1), idx, -1).astype(np.int64)

    def tb_error_rate(self, mcs: np.ndarray, units: np.ndarray, sinr_db: np.ndarray) -> np.ndarray:
        """TB error rate ``1 - (1 - BLER)^C`` (1 where nothing is sent), float64 ``[N]``."""
        mcs = np.asarray(mcs, dtype=np.int64)
        units = np.asarray(units, dtype=np.int64)
        sent = mcs >= 0
        m = np.where(sent, mcs, 0)
        cbs = np.maximum(self.cbs[units, m], 24)
        bler = np.clip(self._bler.bler(m, cbs, np.where(sent, sinr_db, 0.0)), 0.0, 1.0)
        tbler = 1.0 - np.power(1.0 - bler, np.maximum(self.ncb[units, m], 1))
        return np.where(sent, np.nan_to_num(tbler, nan=1.0), 1.0)

    def tbs_bits(self, mcs: np.ndarray, units: np.ndarray) -> np.ndarray:
        """TBS in bits (0 where nothing is sent), int64 ``[N]``."""
        mcs = np.asarray(mcs, dtype=np.int64)
        return np.where(mcs >= 0, self.tbs[np.asarray(units, dtype=np.int64), np.maximum(mcs, 0)], 0)

    def olla_update(self, offset_db: np.ndarray, sent: np.ndarray, ack: np.ndarray) -> np.ndarray:
        """Next OLLA offsets ``[N]``: ``+delta_up`` on a NACK, ``-delta_up t/(1-t)`` on an ACK."""
        down = self.olla_delta_up_db * self.bler_target / (1.0 - self.bler_target)
        step = np.where(ack, -down, self.olla_delta_up_db)
        return offset_db + np.where(sent, step, 0.0)


# ---------------------------------------------------------------------- per-sensor link
_GRANT_FIELDS = {"mcs_index": torch.int64, "tbs_bits": torch.int64, "tb_ok": torch.bool}


@dataclass
class GrantState(LinkState):
    """A :class:`~commsldr_channels.LinkState` of granted transport blocks, one per frame.

    ``capacity_bits`` is the TBS granted (0 without a grant), ``erased`` marks frames without a
    grant, ``snr_db`` is left ``None`` (the sensor is told its grant, not its SINR). Extra
    fields, ``[F]`` each: ``mcs_index`` (int64, ``-1``: no grant), ``tbs_bits`` (int64),
    ``tb_ok`` (bool: the transport block decodes, drawn by the cell from its TB error rate).
    """

    mcs_index: torch.Tensor | None = None
    tbs_bits: torch.Tensor | None = None
    tb_ok: torch.Tensor | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        n = len(self)
        for name, dtype in _GRANT_FIELDS.items():
            value = getattr(self, name)
            if value is None or value.dtype != dtype or value.shape != (n,):
                raise ValueError(f"GrantState.{name}: expected {dtype} [{n}]")

    def __getitem__(self, index):  # noqa: ANN001, ANN204 - as LinkState.__getitem__
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return GrantState(**{k: v[index] for k, v in self._tensors().items()})


class GrantPHY:
    """The PHY of one sensor in the cell: the packet goes through iff it fits the granted TBS and
    the granted transport block decodes (both in the :class:`GrantState`).

    Its link-model answers (:meth:`capacity_bits`, :meth:`success_probability`) are for the CSI
    a sensor sees, which is the grant (``capacity_bits``) and never an SNR; they are defined for
    a policy that asks anyway: capacity 0, success 0.
    """

    stateless = True

    def deliver(self, bits: np.ndarray, state: LinkState, generator: torch.Generator, *,
                csi_state: LinkState | None = None, retransmission: np.ndarray | None = None
                ) -> PHYResult:
        """Deliver one packet of ``bits[t]`` per granted frame (no random draw: the TB fate is
        in ``state.tb_ok``)."""
        if not isinstance(state, GrantState):
            raise TypeError("state: GrantPHY needs a GrantState (the cell's grants)")
        n = len(state)
        bits = check_bits(bits, n)
        tbs = state.tbs_bits.numpy()
        mcs = state.mcs_index.numpy()
        ok = state.tb_ok.numpy()
        erased = state.erased.numpy()
        delivered = (bits <= tbs) & ok & ~erased & (mcs >= 0)
        return PHYResult(
            delivered=delivered,
            capacity_bits=tbs.astype(np.float64),
            channel_uses=np.zeros(n, dtype=np.int64),
            mcs_index=mcs.astype(np.int64),
            error_prob=np.where(delivered, 0.0, 1.0),
        )

    def frame_capacity_bits(self, state: LinkState) -> np.ndarray:
        """The granted TBS per frame, float64 ``[F]``."""
        return state.capacity_bits.numpy().astype(np.float64)

    def capacity_bits(self, snr_db: float | np.ndarray) -> float | np.ndarray:
        """0: an SNR says nothing about a grant (see the class docstring)."""
        return 0.0 if np.ndim(snr_db) == 0 else np.zeros(np.shape(snr_db))

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray:
        """0 for every packet (see the class docstring)."""
        return np.zeros(np.atleast_1d(packet_bits).shape)
