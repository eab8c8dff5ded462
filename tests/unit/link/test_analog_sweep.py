"""Analog transmission and the accuracy-vs-SNR sweep (``benchmarks/snr_sweep.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from commsldr.link import AnalogScheme, analog_accuracy, encode_latents
from commsldr.link.analog import finetune_decoder_with_noise
from commsldr.train import evaluate
from commsldr_channels import create_channel


def _snr_sweep_benchmark():
    path = Path(__file__).resolve().parents[3] / "benchmarks" / "snr_sweep.py"
    spec = importlib.util.spec_from_file_location("snr_sweep_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_modulation_roundtrip_and_unit_power(link_setup):
    s = link_setup
    y = encode_latents(s.model, s.train.images)
    for spe in (0.5, 1.0, 1.5):
        sch = AnalogScheme.from_stats(s.stats, s.model.latent_dim, spe)
        x = sch.modulate(y)
        assert x.dtype == torch.complex64 and x.shape[1] == sch.num_symbols(s.model.latent_dim)
        assert x.abs().square().mean().item() == pytest.approx(1.0, rel=0.02)  # training set
        assert torch.allclose(sch.demodulate(x, s.model.latent_dim), y, atol=1e-5)
    with pytest.raises(ValueError, match="symbols_per_entry"):
        AnalogScheme.from_stats(s.stats, 4, 0.3)


def test_analog_at_very_high_snr_equals_noiseless_accuracy(link_setup):
    s = link_setup
    noiseless = evaluate(s.model, s.test)
    for name, kw in (("awgn", {"snr_db": 90.0}), ("rayleigh-block", {"mean_snr_db": 90.0})):
        acc = analog_accuracy(s.model, s.stats, s.test, create_channel(name, **kw), seed=1)
        assert acc == noiseless


def test_analog_accuracy_rises_with_snr(link_setup):
    s = link_setup
    noiseless = evaluate(s.model, s.test)
    assert noiseless > 0.3  # a trained model, so the curve can show something
    acc = [analog_accuracy(s.model, s.stats, s.test, create_channel("awgn", snr_db=v), repeats=2, seed=0)
           for v in (-15.0, 0.0, 25.0)]
    assert acc[0] < acc[1] <= acc[2] + 0.02 and acc[0] < noiseless - 0.1


def test_finetune_decoder_with_noise_keeps_the_encoder(link_setup):
    s = link_setup
    net = finetune_decoder_with_noise(s.model, s.stats, s.train, snr_db_range=(0.0, 10.0),
                                      epochs=1, batch_size=128)
    for a, b in zip(net.encoder.parameters(), s.model.encoder.parameters(), strict=True):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in
               zip(net.decoder.parameters(), s.model.decoder.parameters(), strict=True))


def test_accuracy_vs_snr_one_call(link_setup):
    s = link_setup
    tab = s.table
    point = tab.points[tab.index_of(type(tab.points[0])(s.model.latent_dim, 2, s.scales[2]))]
    snr = [-10.0, 5.0, 30.0]
    sw = _snr_sweep_benchmark().accuracy_vs_snr(tab, point, snr, phy_modes=("shannon", "nr"), num_frames=600,
                         channel_uses_per_frame=128, model=s.model, stats=s.stats, data=s.test)
    noiseless = tab.accuracy()[tab.index_of(point)]
    for c in ("awgn", "rayleigh-block"):
        for mode in ("shannon", "nr"):
            acc = sw.digital[c][mode]
            assert acc[0] <= acc[-1] and acc[-1] == pytest.approx(noiseless, abs=0.05)
        assert sw.analog[c][0] < sw.analog[c][-1]
    assert sw.digital["awgn"]["shannon"][0] == 0.0  # nothing fits at -10 dB
    assert sw.figure is not None and len(sw.figure.axes) == 2
    d = sw.to_dict()
    assert d["channel_uses_per_image"]["digital"] == 128.0 and len(d["analog"]["awgn"]) == 3


@pytest.mark.parametrize("channel, params", [("awgn", {"snr_db": 5.0}),
                                             ("rayleigh-block", {"mean_snr_db": 10.0})])
@pytest.mark.parametrize("repetitions", [1, 3])
def test_mmse_combining_error_matches_closed_form(channel, params, repetitions):
    """E|x_hat - x|^2 = 1/(1 + r rho) per frame; over Rayleigh the mean is
    e^{1/(r rho)} E1(1/(r rho)) / (r rho). (Zero forcing was 40x that at 10 dB.)"""
    import math

    import numpy as np
    from scipy.special import exp1

    from commsldr.link.analog import mmse_combine

    ch = create_channel(channel, **params)
    g = torch.Generator().manual_seed(7)
    n, m = 40_000, 8
    state = ch.states(n, generator=g)
    w = torch.randn(n, m, 2, generator=g)
    x = torch.view_as_complex(w * math.sqrt(0.5)).to(torch.complex64)  # unit-energy symbols
    rx = ch.forward(x.repeat(1, repetitions), state, generator=g)
    x_hat = mmse_combine(rx, state, repetitions)[:, :m]
    err = (x_hat - x).abs().square().double().mean(dim=1).numpy()  # per frame
    rho = state.snr_linear.double().numpy()
    per_frame = 1.0 / (1.0 + repetitions * rho)
    # per frame: the mean of m errors around its closed form (relative sd ~ 1/sqrt(m))
    assert abs(err.mean() / per_frame.mean() - 1) < 0.02
    if channel == "awgn":
        expected = 1.0 / (1.0 + repetitions * 10 ** 0.5)
    else:
        a = 1.0 / (repetitions * 10.0)
        expected = a * math.exp(a) * exp1(a)
    assert err.mean() == pytest.approx(expected, rel=0.03)
    assert np.isfinite(err).all()
