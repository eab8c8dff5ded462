"""AWGN BER vs the Q-function and Rayleigh block fading vs its closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import erfc, exp1

from commsldr_channels import create_channel


def qfunc(x: float) -> float:
    return 0.5 * erfc(x / math.sqrt(2.0))


def binomial_tol(p: float, n: int, sigmas: float = 5.0) -> float:
    return sigmas * math.sqrt(p * (1 - p) / n) + 1.0 / n


@pytest.mark.parametrize("snr_db", [0.0, 4.0, 8.0])
def test_awgn_bpsk_ber_matches_q_function(snr_db: float) -> None:
    g = torch.Generator().manual_seed(int(snr_db) + 10)
    ch = create_channel("awgn", snr_db=snr_db)
    frames, n = 10, 30_000
    bits = torch.randint(0, 2, (frames, n), generator=g)
    x = (1.0 - 2.0 * bits).to(torch.complex64)
    y = ch.forward(x, ch.states(frames, generator=g), generator=g)
    ber = ((y.real < 0).long() != bits).double().mean().item()
    expected = qfunc(math.sqrt(2 * 10 ** (snr_db / 10)))
    assert abs(ber - expected) < binomial_tol(expected, frames * n)


@pytest.mark.parametrize("snr_db", [0.0, 5.0, 10.0])
def test_awgn_qpsk_ber_matches_q_function(snr_db: float) -> None:
    g = torch.Generator().manual_seed(int(snr_db) + 20)
    ch = create_channel("awgn", snr_db=snr_db)
    frames, n = 10, 20_000
    bits = torch.randint(0, 2, (frames, n, 2), generator=g)
    x = torch.complex(1.0 - 2.0 * bits[..., 0], 1.0 - 2.0 * bits[..., 1]).to(
        torch.complex64
    ) / math.sqrt(2)
    y = ch.forward(x, ch.states(frames, generator=g), generator=g)
    decided = torch.stack([(y.real < 0), (y.imag < 0)], dim=-1).long()
    ber = (decided != bits).double().mean().item()
    expected = qfunc(math.sqrt(10 ** (snr_db / 10)))  # Es/N0 = rho, Eb/N0 = rho/2
    assert abs(ber - expected) < binomial_tol(expected, frames * n * 2)


def _rayleigh_capacity_samples(mean_snr_db: float, n: int, seed: int) -> np.ndarray:
    s = create_channel("rayleigh-block", mean_snr_db=mean_snr_db).states(
        n, generator=torch.Generator().manual_seed(seed)
    )
    return np.log2(1.0 + s.snr_linear.double().numpy())


@pytest.mark.parametrize("mean_snr_db", [0.0, 10.0, 20.0])
@pytest.mark.parametrize("rate", [0.5, 2.0])
def test_rayleigh_outage_probability(mean_snr_db: float, rate: float) -> None:
    n = 200_000
    c = _rayleigh_capacity_samples(mean_snr_db, n, seed=int(mean_snr_db * 10 + rate * 100))
    rho = 10 ** (mean_snr_db / 10)
    expected = 1 - math.exp(-(2**rate - 1) / rho)
    assert abs((c < rate).mean() - expected) < binomial_tol(expected, n)


@pytest.mark.parametrize("mean_snr_db", [0.0, 10.0, 20.0])
def test_rayleigh_ergodic_capacity(mean_snr_db: float) -> None:
    n = 200_000
    c = _rayleigh_capacity_samples(mean_snr_db, n, seed=7 + int(mean_snr_db))
    rho = 10 ** (mean_snr_db / 10)
    expected = math.exp(1 / rho) * exp1(1 / rho) / math.log(2)
    assert abs(c.mean() - expected) < 5 * c.std() / math.sqrt(n)


def test_rayleigh_mean_power_and_circular_symmetry() -> None:
    n = 200_000
    s = create_channel("rayleigh-block", mean_snr_db=3.0).states(
        n, generator=torch.Generator().manual_seed(5)
    )
    h = s.gain.to(torch.complex128)
    p = h.abs().square()
    assert abs(p.mean().item() - 1.0) < 5 / math.sqrt(n)  # |h|^2 ~ Exp(1): sd 1
    assert abs(h.mean().abs().item()) < 5 / math.sqrt(n)
    assert abs((h * h).mean().abs().item()) < 5 / math.sqrt(n)  # E[h^2] = 0 (circular)
    torch.testing.assert_close(s.snr_db.double(), 3.0 + 10 * torch.log10(p), rtol=0, atol=1e-4)


def test_rayleigh_coherence_blocks() -> None:
    L, n = 7, 7 * 40_000 + 3  # last block is partial
    s = create_channel("rayleigh-block", coherence_frames=L).states(
        n, generator=torch.Generator().manual_seed(11)
    )
    h = s.gain
    full = h[: (n // L) * L].reshape(-1, L)
    assert torch.equal(full, full[:, :1].expand_as(full)), "gain must be constant within a block"
    assert torch.equal(h[(n // L) * L :], h[-1:].expand(3))
    blocks = full[:, 0].to(torch.complex128)
    # independence across blocks: lag-1 correlation of h and of |h|^2 vanish (sd 1/sqrt(m))
    m = blocks.shape[0] - 1
    assert (blocks[1:] * blocks[:-1].conj()).mean().abs().item() < 5 / math.sqrt(m)
    p = blocks.abs().square()
    r = np.corrcoef(p[1:].numpy(), p[:-1].numpy())[0, 1]
    assert abs(r) < 5 / math.sqrt(m)
