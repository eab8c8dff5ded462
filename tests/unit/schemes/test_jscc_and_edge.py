"""Deep JSCC building blocks (power normalisation, MMSE, training channel) and label packing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.schemes.edge import pack_labels
from commsldr.schemes.jscc import JSCCClassifier, mmse_equalise, power_normalise


@pytest.mark.parametrize("b,n", [(1, 1), (5, 8), (3, 256)])
def test_power_normalisation_gives_unit_energy_per_image(b, n):
    z = torch.randn(b, 2 * n, generator=torch.Generator().manual_seed(n)) * 7.0
    x = power_normalise(z)
    assert x.dtype == torch.complex64 and x.shape == (b, n)
    torch.testing.assert_close(x.abs().square().mean(dim=1), torch.ones(b))
    # the direction is kept: pairs of reals become complex symbols, scaled by one factor
    ratio = x.real / z[:, 0::2]
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))


def test_mmse_equaliser_closed_form():
    h = torch.tensor([1 + 1j, 0.5j, 2.0], dtype=torch.complex64)
    n0 = torch.tensor([0.0, 0.25, 1.0])
    x = torch.tensor([[1 - 1j], [1j], [-1.0]], dtype=torch.complex64)
    y = h[:, None] * x
    out = mmse_equalise(y, h, n0)
    expected = (h.abs().square() / (h.abs().square() + n0))[:, None] * x
    torch.testing.assert_close(out, expected.to(torch.complex64))
    torch.testing.assert_close(mmse_equalise(x, None, torch.zeros(3)), x)


class _Net(torch.nn.Module):
    """Minimal stand-in with the SplitAutoencoder surface the JSCC wrapper uses."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.encoder = torch.nn.Identity()
        self.decoder = torch.nn.Identity()
        self.side_branch = torch.nn.Identity()
        self.latent_dim, self.num_classes, self.config = d, 2, {"d": d}

    def encode(self, x):
        return x

    def decode(self, r):
        return r


def test_awgn_training_channel_noise_matches_the_snr():
    """Fixed 10 dB AWGN: ŷ = x/(1+N0) + w/(1+N0), so the error variance is N0/(1+N0)² exactly
    in expectation (per complex symbol; half per real dimension)."""
    n = 4096
    model = JSCCClassifier(_Net(2 * n), "awgn", (10.0, 10.0))
    torch.manual_seed(0)
    r = model.encode(torch.randn(8, 2 * n))
    out = model.decode(r)  # decoder in training mode: through the channel
    n0 = 0.1
    err = out - r / (1 + n0)
    var = float(err.square().mean()) * 2
    assert var == pytest.approx(n0 / (1 + n0) ** 2, rel=0.03)
    model.eval()
    torch.testing.assert_close(model.decode(r), r)  # evaluation: no training channel


def test_label_packing_msb_first():
    assert pack_labels(np.array([9]), 4) == bytes([0x90])
    assert pack_labels(np.array([1, 2, 3]), 4) == bytes([0x12, 0x30])
    assert len(pack_labels(np.arange(10), 4)) == math.ceil(10 * 4 / 8)
    with pytest.raises(ValueError, match="labels"):
        pack_labels(np.array([16]), 4)
