"""The frequency-selective bit-true link (per-RE SNRs and LLRs) against the AWGN curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.link import BitTruePHY
from commsldr_channels import create_channel


def test_flat_per_re_snr_is_the_awgn_curve():
    phy = BitTruePHY(create_channel("awgn"), mcs_index=14, cb_info_bits=100, symbols_per_frame=10_000)
    s = phy.symbols_per_block
    snr = float(phy._bler.snr_at_bler(14, 100, 0.4))
    n = 300
    err = phy.block_errors_per_re(np.full((n, s), snr), torch.Generator().manual_seed(0))
    model = float(phy.block_error_rate_model(np.array(snr)))
    assert abs(err.mean() - model) <= 4 * math.sqrt(model * (1 - model) / n) + 0.05, (err.mean(), model)
    g = torch.Generator().manual_seed(1)
    assert not phy.block_errors_per_re(np.full((20, s), 30.0), g).any()
    assert phy.block_errors_per_re(np.full((20, s), -30.0), g).all()


def test_a_faded_half_costs_what_its_res_lose():
    """Half the REs 20 dB down: the block needs a higher SNR on the others than over AWGN (the
    per-RE noise reaches the decoder), but decodes where the strong half alone carries enough."""
    phy = BitTruePHY(create_channel("awgn"), mcs_index=4, cb_info_bits=100, symbols_per_frame=10_000)
    s = phy.symbols_per_block
    snr10 = float(phy._bler.snr_at_bler(4, 100, 0.1))
    fade = np.where(np.arange(s) % 2 == 0, 0.0, -20.0)
    g = torch.Generator().manual_seed(2)
    at = phy.block_errors_per_re(snr10 + fade[None, :].repeat(200, 0), g).mean()
    above = phy.block_errors_per_re(snr10 + 6.0 + fade[None, :].repeat(200, 0), g).mean()
    assert at > 0.3 and above < 0.1, (at, above)
    with pytest.raises(ValueError, match="^snr_db_re"):
        phy.block_errors_per_re(np.zeros((3, s + 1)), g)
