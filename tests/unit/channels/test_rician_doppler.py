"""Rician block fading (power, K recovered) and Doppler fading (autocorrelation vs J0)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import j0

from commsldr_channels import ChannelParameterError, create_channel
from commsldr_channels.base import SPEED_OF_LIGHT_MPS


def k_moment_estimate(power: np.ndarray) -> float:
    """Greenstein et al. (1999): gamma = Var(P)/E[P]^2, K = sqrt(1-gamma) / (1 - sqrt(1-gamma))."""
    gamma = power.var() / power.mean() ** 2
    root = math.sqrt(1.0 - gamma)
    return root / (1.0 - root)


@pytest.mark.parametrize("k_factor", [0.5, 3.0, 10.0])
def test_rician_power_and_k_factor_recovered(k_factor: float) -> None:
    n = 200_000
    s = create_channel("rician-block", mean_snr_db=0.0, k_factor=k_factor).states(
        n, generator=torch.Generator().manual_seed(int(k_factor * 10))
    )
    p = s.gain.to(torch.complex128).abs().square().numpy()
    # Var|h|^2 = (1 + 2K)/(K+1)^2 with E|h|^2 = 1
    sd = math.sqrt((1 + 2 * k_factor) / (k_factor + 1) ** 2)
    assert abs(p.mean() - 1.0) < 5 * sd / math.sqrt(n)
    # the estimator's spread, measured by splitting into 20 independent batches
    estimates = np.array([k_moment_estimate(b) for b in p.reshape(20, -1)])
    tol = (
        5 * estimates.std(ddof=1) / math.sqrt(20) + 0.02 * k_factor
    )  # + small-sample bias allowance
    assert abs(k_moment_estimate(p) - k_factor) < tol
    torch.testing.assert_close(
        s.snr_db.double(), torch.from_numpy(10 * np.log10(p)), rtol=0, atol=1e-4
    )


def test_rician_k_zero_is_rayleigh_and_blocks_hold() -> None:
    n, L = 100_000, 4
    s = create_channel("rician-block", k_factor=0.0, coherence_frames=L).states(
        n, generator=torch.Generator().manual_seed(2)
    )
    h = s.gain.reshape(-1, L)
    assert torch.equal(h, h[:, :1].expand_as(h))
    p = h[:, 0].to(torch.complex128).abs().square().numpy()
    # Exponential(1): P(|h|^2 > 1) = e^-1
    assert abs((p > 1).mean() - math.exp(-1)) < 5 * math.sqrt(
        math.exp(-1) * (1 - math.exp(-1)) / p.size
    )


def test_rician_rejects_negative_k() -> None:
    with pytest.raises(ChannelParameterError, match="^k_factor:"):
        create_channel("rician-block", k_factor=-1.0)


def bartlett_sd(nu: float, n: int) -> float:
    """Large-sample sd of the lag-k autocorrelation estimate of a Gaussian process (Bartlett)."""
    k = np.arange(1, 20_000)
    return math.sqrt((1 + 2 * np.sum(j0(2 * math.pi * nu * k) ** 2)) / n)


@pytest.mark.parametrize("doppler_hz", [3.0, 12.0, 40.0])
def test_doppler_autocorrelation_matches_j0(doppler_hz: float) -> None:
    frame_s, n = 0.01, 400_000
    ch = create_channel("doppler-fading", doppler_hz=doppler_hz, frame_s=frame_s, mean_snr_db=0.0)
    h = (
        ch.states(n, generator=torch.Generator().manual_seed(int(doppler_hz)))
        .gain.to(torch.complex128)
        .numpy()
    )
    nu = doppler_hz * frame_s
    lags = np.arange(0, 60, 3)
    emp = np.array([np.mean(h[k:] * np.conj(h[: n - k])).real for k in lags])
    tol = 5 * bartlett_sd(nu, n)
    np.testing.assert_allclose(emp, j0(2 * math.pi * nu * lags), atol=tol, rtol=0)
    # and it really is correlated (not i.i.d.): the lag-1 coefficient is J0(2 pi nu), far from 0
    assert emp[1] > 0.5 * j0(2 * math.pi * nu * 3)


def test_doppler_speed_parametrisation_and_rician_los() -> None:
    ch = create_channel(
        "doppler-fading", speed_mps=30.0, carrier_hz=2e9, frame_s=0.001, k_factor=4.0
    )
    assert ch.max_doppler_hz == pytest.approx(30.0 * 2e9 / SPEED_OF_LIGHT_MPS)
    n = 200_000
    p = (
        ch.states(n, generator=torch.Generator().manual_seed(9))
        .gain.to(torch.complex128)
        .abs()
        .square()
        .numpy()
    )
    # correlated samples, so no i.i.d. formula: over 10 seeds the sd of the mean was 0.0022 and
    # that of the K estimate 0.024; the bounds are ~7 of those sds
    assert abs(p.mean() - 1.0) < 0.015
    assert abs(k_moment_estimate(p) - 4.0) < 0.15


def test_doppler_short_sequences_and_bad_parameters() -> None:
    g = torch.Generator().manual_seed(0)
    ch = create_channel("doppler-fading", num_sinusoids=4)
    assert ch.states(3, generator=g).gain.shape == (3,)
    for name, value in [
        ("frame_s", 0.0),
        ("speed_mps", -1.0),
        ("k_factor", -0.1),
        ("num_sinusoids", 0),
        ("doppler_hz", -2.0),
    ]:
        with pytest.raises(ChannelParameterError, match=f"^{name}:"):
            create_channel("doppler-fading", **{name: value})


def _ensemble_acf(nu: float, seed: int, sd_target: float) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation estimate of the Doppler gains at lags 0..ceil(4/nu), averaged over time and
    over independent realisations, with as many samples as a Gaussian process with the Clarke
    spectrum needs for a Bartlett sd of ``sd_target`` on the real part."""
    lags = int(math.ceil(4 / nu))
    s = 1 + 2 * np.sum(j0(2 * math.pi * nu * np.arange(1, 20 * lags)) ** 2)
    length = max(8 * lags, 2048)
    reps = int(math.ceil(s / (2 * sd_target**2) / (length - lags)))
    ch = create_channel("doppler-fading", doppler_hz=nu, frame_s=1.0, mean_snr_db=0.0)
    g = torch.Generator().manual_seed(seed)
    nfft = 1 << (2 * length - 1).bit_length()
    acc = np.zeros(lags + 1)
    for r0 in range(0, reps, 64):
        x = torch.stack([ch.gains(length, g) for _ in range(min(64, reps - r0))])
        f = torch.fft.fft(x.to(torch.complex128), nfft)
        acc += torch.fft.ifft(f.abs().square())[:, : lags + 1].real.sum(0).numpy()
    k = np.arange(lags + 1)
    return acc / (reps * (length - k)), j0(2 * math.pi * nu * k)


@pytest.mark.parametrize("nu", [0.001, 0.01, 0.05, 0.117, 0.3])
def test_doppler_autocorrelation_is_j0_at_every_lag(nu: float) -> None:
    """max_k |rho_hat(k) - J0(2 pi nu k)| <= 0.03 for every lag up to 4/nu; the sample size gives
    an exact Gaussian process a Bartlett sd of 0.03/5.5 (the AR(100) model it replaces was off by
    0.24 at nu = 0.01)."""
    emp, theory = _ensemble_acf(nu, seed=int(nu * 1000), sd_target=0.03 / 5.5)
    assert np.max(np.abs(emp - theory)) <= 0.03


def test_doppler_streams_one_realisation() -> None:
    ch = create_channel("doppler-fading", doppler_hz=20.0, frame_s=0.001, k_factor=2.0)
    whole = ch.gains(5000, torch.Generator().manual_seed(4))
    stream = ch.stream(torch.Generator().manual_seed(4))
    pieces = torch.cat([stream.next(1), stream.next(1234), stream.next(3765)])
    torch.testing.assert_close(pieces, whole, atol=1e-6, rtol=0)
    again = ch.gains(5000, torch.Generator().manual_seed(4))
    assert torch.equal(again, whole)  # seeded


def test_plain_models_draw_without_sionna() -> None:
    """Creating, drawing and forwarding AWGN, block Rayleigh/Rician, Doppler and path loss leaves
    Sionna unimported (a fresh interpreter, so nothing else imported it first)."""
    code = (
        "import sys, torch, commsldr_channels\n"
        "g = torch.Generator().manual_seed(0)\n"
        "for name in ['awgn', 'rayleigh-block', 'rician-block', 'doppler-fading',"
        " 'pathloss-shadowing', 'gilbert-elliott']:\n"
        "    ch = commsldr_channels.create_channel(name)\n"
        "    s = ch.states(64, generator=g)\n"
        "    if s.snr_db is not None:\n"
        "        ch.forward(torch.ones(64, 8, dtype=torch.complex64), s, generator=g)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sionna'))\n"
    )
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]", out.stdout
