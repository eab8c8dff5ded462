"""The analog decoder's fine-tuning input has the LMMSE receiver's statistics (closed form and
the real modulate -> channel -> LMMSE -> demodulate chain)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from commsldr.link.analog import AnalogScheme, mmse_combine
from commsldr_channels import create_channel


@pytest.mark.parametrize("snr_db, spe", [(0.0, 0.5), (5.0, 1.0), (-3.0, 1.5)])
def test_lmmse_decoder_input_matches_the_receiver_chain(snr_db, spe):
    k, n = 6, 6000
    g = torch.Generator().manual_seed(7)
    stats = SimpleNamespace(mean=torch.randn(k, generator=g), std=0.5 + torch.rand(k, generator=g), dim=k)
    scheme = AnalogScheme.from_stats(stats, k, spe)
    y0 = stats.mean + 2.0 * torch.randn(k, generator=g)
    y = y0.repeat(n, 1)
    ch = create_channel("awgn", snr_db=snr_db)
    states = ch.states(n, generator=g)
    rx = ch.forward(scheme.modulate(y), states, generator=g)
    real = scheme.demodulate(mmse_combine(rx, states, scheme.repetitions), k).double()
    model = scheme.lmmse_decoder_input(y, torch.full((n,), snr_db), g).double()
    rr = scheme.repetitions * 10 ** (snr_db / 10)
    a = rr / (1 + rr)
    mean = stats.mean.double() + a * (y0.double() - stats.mean.double())
    var = a**2 * scheme.scale**2 / rr
    for sample in (real, model):
        se = np.sqrt(var / n)
        assert torch.all((sample.mean(0) - mean).abs() < 5 * se), (sample.mean(0), mean)
        np.testing.assert_allclose(sample.var(0).numpy(), var, rtol=0.1)
    # zero forcing (the old fine-tuning input) has gain 1 and noise c^2/(r rho): not this
    assert abs(a - 1) > 0.05 or snr_db > 10
