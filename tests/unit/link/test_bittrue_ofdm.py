"""Bit-true code blocks in an OFDM slot: LS channel estimation from DMRS against closed forms,
and what it costs against perfect CSI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.link import BitTruePHY
from commsldr.link.bittrue_ofdm import DMRSGrid, block_errors_ofdm, ls_channel_estimate
from commsldr.link.bler import bler_model
from commsldr_channels import create_channel


@pytest.mark.parametrize("no", [0.01, 0.3])
def test_ls_error_variance_over_a_flat_channel(no):
    """Comb-2 DMRS, linear interpolation: error variance N0 on a pilot, N0/2 half-way between two
    pilots, 2.5 N0 on the last subcarrier (1.5 e_1 - 0.5 e_2, extrapolated); the same in every
    OFDM symbol."""
    grid = DMRSGrid(12)
    b = 4000
    g = torch.Generator().manual_seed(0)
    h = torch.exp(1j * torch.rand(b, 1, 1, generator=g) * 6.283).to(torch.complex64)
    tx = torch.zeros(b, 14, 12, dtype=torch.complex64)
    tx[:, torch.as_tensor(grid.pilot_mask)] = 1.0
    noise = torch.complex(torch.randn(tx.shape, generator=g), torch.randn(tx.shape, generator=g))
    y = h * tx + (no / 2) ** 0.5 * noise
    h_hat, err_var = ls_channel_estimate(grid, y, torch.full((b,), no))
    mse = ((h_hat - h).abs() ** 2).mean(0).numpy() / no  # [14, 12]
    np.testing.assert_allclose(mse[:, 0:10:2], 1.0, rtol=0.1)
    np.testing.assert_allclose(mse[:, 1:10:2], 0.5, rtol=0.1)
    np.testing.assert_allclose(mse[:, 11], 2.5, rtol=0.1)
    np.testing.assert_allclose(mse, mse[0][None, :].repeat(14, 0), rtol=1e-5)
    np.testing.assert_allclose(err_var.numpy(), no, rtol=1e-5)


def test_ls_costs_snr_at_the_waterfall_and_nothing_well_above_it():
    phy = BitTruePHY(create_channel("awgn"), mcs_index=14, cb_info_bits=500, symbols_per_frame=10_000)
    s10 = float(bler_model(0, 1).snr_at_bler(14, 500, 0.1))
    h = np.ones((100, 24), dtype=np.complex64)

    def bler(snr: float, est: str) -> float:
        return float(block_errors_ofdm(phy, h, snr, torch.Generator().manual_seed(1),
                                       channel_estimation=est).mean())

    assert 0.02 <= bler(s10, "perfect") <= 0.3  # the AWGN curve's BLER-0.1 SNR
    assert bler(s10, "ls") >= 0.8  # N0 + err_var: about 3 dB lost there
    assert bler(s10 + 6.0, "perfect") == 0.0 and bler(s10 + 6.0, "ls") <= 0.02


def test_bad_arguments():
    phy = BitTruePHY(create_channel("awgn"), mcs_index=14, cb_info_bits=500, symbols_per_frame=10_000)
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="^channel_estimation"):
        block_errors_ofdm(phy, np.ones((2, 24)), 10.0, g, channel_estimation="mmse")
    with pytest.raises(ValueError, match="^grid: .* data REs"):
        block_errors_ofdm(phy, np.ones((2, 12)), 10.0, g)
    with pytest.raises(ValueError, match="^h: expected"):
        block_errors_ofdm(phy, np.ones(24), 10.0, g)
    with pytest.raises(ValueError, match="^num_subcarriers"):
        DMRSGrid(2)
    with pytest.raises(ValueError, match="^dmrs_symbol"):
        DMRSGrid(12, dmrs_symbol=14)
    for kwargs, name in (({"num_subcarriers": 12.5}, "num_subcarriers"),
                         ({"num_subcarriers": "12"}, "num_subcarriers"),
                         ({"num_subcarriers": 12, "comb": True}, "comb"),
                         ({"num_subcarriers": 12, "num_ofdm_symbols": 0}, "num_ofdm_symbols"),
                         ({"num_subcarriers": 12, "dmrs_symbol": 1.5}, "dmrs_symbol"),
                         ({"num_subcarriers": 12, "subcarrier_spacing_hz": float("nan")},
                          "subcarrier_spacing_hz")):
        with pytest.raises(ValueError, match=f"^{name}: must be"):
            DMRSGrid(**kwargs)
    grid = DMRSGrid(np.int64(12), num_ofdm_symbols=14.0, subcarrier_spacing_hz=np.array(15e3))
    assert grid.num_ofdm_symbols == 14 and type(grid.subcarrier_spacing_hz) is float  # YAML's 14.0
    hash(grid)  # a grid is a cache key (lru_cache of the estimator)
