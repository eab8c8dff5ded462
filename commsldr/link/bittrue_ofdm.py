r"""Bit-true code blocks in one OFDM slot of a frequency-selective channel: perfect CSI or LS
channel estimation from DMRS.

The slot (:class:`DMRSGrid`) has ``num_ofdm_symbols`` OFDM symbols of ``num_subcarriers``
subcarriers; OFDM symbol ``dmrs_symbol`` carries unit-power pilots (DMRS) on every
``comb``-th subcarrier (NR DMRS type 1: ``comb = 2``), every other resource element carries
data. A code block of :class:`~commsldr.link.bittrue.BitTruePHY` (its encoder, mapper,
demapper and decoder) fills the data REs frequency-first. The channel is static over the slot,
:math:`y_{t,k} = h_k x_{t,k} + n_{t,k}`, :math:`n \sim \mathcal{CN}(0, N_0)`,
:math:`N_0 = 10^{-\bar\rho/10}` (unit-energy symbols: :math:`\bar\rho` is the SNR for
:math:`|h_k| = 1`).

Receiver, per data RE, with channel estimate :math:`\hat h` and estimation error variance
:math:`\sigma_e^2`: :math:`\hat x = y/\hat h` with noise variance
:math:`(N_0 + \sigma_e^2)/|\hat h|^2` for the demapper (the single-antenna case of Sionna's
``LMMSEEqualizer`` after unbiasing), then APP demapping and LDPC decoding.

* ``"perfect"`` (default): :math:`\hat h = h`, :math:`\sigma_e^2 = 0`.
* ``"ls"``: Sionna's :class:`~sionna.phy.ofdm.LSChannelEstimator` — at a pilot,
  :math:`\hat h_k = y_k / p_k` (error variance :math:`N_0/|p_k|^2`), linear interpolation across
  subcarriers (linear extrapolation beyond the outermost pilots) and the same estimate for every
  OFDM symbol (``interpolation_type="lin"``). Over a flat channel the error variance is
  :math:`N_0` at a pilot, :math:`N_0/2` half-way between two pilots of comb 2 and
  :math:`2.5\,N_0` on an outer subcarrier extrapolated from two pilots (a test checks these).
  The receiver uses Sionna's ``err_var`` (:math:`N_0` everywhere) as :math:`\sigma_e^2`.

Reference: 3GPP TS 38.211 Sec. 6.4.1.1 (PUSCH DMRS); Sionna ``sionna.phy.ofdm``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from commsldr.errors import show
from commsldr.link.bittrue import BitTruePHY
from commsldr.link.sionna_guard import sionna_phy
from commsldr.scalars import as_integer, check_integer, check_real

__all__ = ["CHANNEL_ESTIMATION", "DMRSGrid", "ls_channel_estimate", "block_errors_ofdm"]

#: receivers' channel knowledge
CHANNEL_ESTIMATION = ("perfect", "ls")


@dataclass(frozen=True)
class DMRSGrid:
    """One slot: subcarriers x OFDM symbols, DMRS on one OFDM symbol every ``comb`` subcarriers.

    Args:
        num_subcarriers: subcarriers ``K`` (>= ``comb + 1``).
        num_ofdm_symbols: OFDM symbols of the slot (14 for the normal cyclic prefix).
        dmrs_symbol: index of the DMRS OFDM symbol (2: TS 38.211 mapping type A).
        comb: a pilot every ``comb``-th subcarrier from subcarrier 0.
        subcarrier_spacing_hz: subcarrier spacing (the resource grid's; no effect on a
            channel given per subcarrier).
    """

    num_subcarriers: int
    num_ofdm_symbols: int = 14
    dmrs_symbol: int = 2
    comb: int = 2
    subcarrier_spacing_hz: float = 30e3

    def __post_init__(self) -> None:
        comb = check_integer("comb", self.comb, low=1)
        num_ofdm_symbols = check_integer("num_ofdm_symbols", self.num_ofdm_symbols, low=1)
        num_subcarriers = as_integer(self.num_subcarriers)
        if num_subcarriers is None or num_subcarriers < comb + 1:
            raise ValueError(f"num_subcarriers: must be an integer >= comb + 1 = {comb + 1} (two "
                             f"pilots to interpolate), got {show(self.num_subcarriers)}")
        dmrs_symbol = check_integer("dmrs_symbol", self.dmrs_symbol, low=0, high=num_ofdm_symbols - 1)
        spacing = check_real("subcarrier_spacing_hz", self.subcarrier_spacing_hz, low=0.0,
                             low_open=True)
        for name, value in (("comb", comb), ("num_ofdm_symbols", num_ofdm_symbols),
                            ("num_subcarriers", num_subcarriers), ("dmrs_symbol", dmrs_symbol),
                            ("subcarrier_spacing_hz", spacing)):
            object.__setattr__(self, name, value)

    @property
    def pilot_mask(self) -> np.ndarray:
        """bool ``[num_ofdm_symbols, num_subcarriers]``: the DMRS REs."""
        mask = np.zeros((int(self.num_ofdm_symbols), int(self.num_subcarriers)), dtype=bool)
        mask[int(self.dmrs_symbol), :: int(self.comb)] = True
        return mask

    @property
    def num_data_re(self) -> int:
        """Data REs of the slot."""
        return int(self.num_ofdm_symbols) * int(self.num_subcarriers) - int(self.pilot_mask.sum())

    def data_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ofdm_symbol [D], subcarrier [D])`` of the data REs, frequency-first."""
        sym, sc = np.nonzero(~self.pilot_mask)
        return sym, sc


@functools.lru_cache(maxsize=16)
def _estimator(grid: DMRSGrid) -> object:
    ofdm = sionna_phy().ofdm
    mask = grid.pilot_mask
    pilots = np.ones((1, 1, int(mask.sum())), dtype=np.complex64)
    pattern = ofdm.PilotPattern(mask[None, None], pilots)
    rg = ofdm.ResourceGrid(num_ofdm_symbols=int(grid.num_ofdm_symbols),
                           fft_size=int(grid.num_subcarriers),
                           subcarrier_spacing=float(grid.subcarrier_spacing_hz),
                           pilot_pattern=pattern)
    return ofdm.LSChannelEstimator(rg, interpolation_type="lin")


def ls_channel_estimate(grid: DMRSGrid, y: torch.Tensor, no: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""LS channel estimate of every RE of the slot from its DMRS (Sionna's LSChannelEstimator).

    Input:
        y: complex64 ``[B, num_ofdm_symbols, num_subcarriers]`` — the received slot.
        no: float32 ``[B]`` — noise variance :math:`N_0`.

    Output:
        ``(h_hat complex64 [B, T, K], err_var float32 [B, T, K])``.
    """
    h_hat, err_var = _estimator(grid)(y[:, None, None], no[:, None, None])
    return h_hat[:, 0, 0, 0, 0], err_var[:, 0, 0, 0, 0]


def block_errors_ofdm(phy: BitTruePHY, h: np.ndarray, snr_db: float | np.ndarray,
                      generator: torch.Generator, grid: DMRSGrid | None = None,
                      channel_estimation: str = "perfect") -> np.ndarray:
    r"""Bit-true code blocks, one per slot, over per-subcarrier channels ``h``.

    Input:
        phy: the :class:`~commsldr.link.bittrue.BitTruePHY` whose code, modulation and decoder
            are used (its ``symbols_per_block`` must fit the slot's data REs).
        h: complex ``[B, K]`` — channel of each subcarrier for each of ``B`` blocks (static
            over the slot; e.g. ``tdl``'s ``frequency_response``).
        snr_db: float or ``[B]`` (dB) — :math:`\bar\rho`, the SNR for :math:`|h| = 1`.
        generator: draws of the bits and the noise.
        grid: the slot (default: ``DMRSGrid(K)``).
        channel_estimation: one of :data:`CHANNEL_ESTIMATION`.

    Output:
        bool ``[B]`` — ``True`` where the block was decoded wrongly.
    """
    if channel_estimation not in CHANNEL_ESTIMATION:
        raise ValueError(f"channel_estimation: must be one of {CHANNEL_ESTIMATION}, got "
                         f"{channel_estimation!r}")
    h_t = torch.as_tensor(np.asarray(h)).to(torch.complex64)
    if h_t.ndim != 2:
        raise ValueError(f"h: expected [blocks, subcarriers], got shape {tuple(h_t.shape)}")
    b, k = h_t.shape
    grid = DMRSGrid(int(k)) if grid is None else grid
    if int(grid.num_subcarriers) != k:
        raise ValueError(f"h: {k} subcarriers, the grid has {grid.num_subcarriers}")
    s = phy.symbols_per_block
    if s > grid.num_data_re:
        raise ValueError(f"grid: {grid.num_data_re} data REs cannot hold a code block of {s} "
                         f"symbols; use more subcarriers")
    no = torch.pow(10.0, -torch.as_tensor(np.broadcast_to(np.asarray(snr_db, dtype=np.float32),
                                                          (b,)).copy()) / 10.0)
    u = torch.randint(0, 2, (b, phy.k), generator=generator).to(torch.float32)
    x = phy.mapper(phy.encoder(u)).to(torch.complex64)  # [B, S]
    t_sym, t_sc = grid.data_positions()
    t_sym, t_sc = torch.as_tensor(t_sym[:s]), torch.as_tensor(t_sc[:s])
    tx = torch.zeros(b, int(grid.num_ofdm_symbols), k, dtype=torch.complex64)
    tx[:, torch.as_tensor(grid.pilot_mask)] = 1.0
    tx[:, t_sym, t_sc] = x
    noise = torch.complex(torch.randn(tx.shape, generator=generator),
                          torch.randn(tx.shape, generator=generator))
    y = h_t[:, None, :] * tx + torch.sqrt(no / 2.0)[:, None, None] * noise
    if channel_estimation == "perfect":
        h_hat = h_t[:, t_sc]
        err = torch.zeros(b, s)
    else:
        h_grid, err_grid = ls_channel_estimate(grid, y, no.to(torch.float32))
        h_hat, err = h_grid[:, t_sym, t_sc], err_grid[:, t_sym, t_sc]
    gain = h_hat.abs() ** 2
    x_hat = y[:, t_sym, t_sc] / h_hat
    no_eff = (no[:, None] + err) / gain.clamp_min(1e-12)
    u_hat = phy.decoder(phy.demapper(x_hat, no_eff.to(torch.float32)))
    return ~(u_hat.to(torch.float32) == u).all(dim=1).numpy()
