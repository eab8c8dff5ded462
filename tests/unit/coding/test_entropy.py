"""Entropy formulas against numerical integration (scipy.integrate.quad) and closed forms."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from commsldr.coding import (
    HIGHRES_MIN_RATIO,
    binned_gaussian_entropy_bits,
    empirical_entropy_bits,
    gaussian_differential_entropy_bits,
    highres_entropy_bits,
)


@pytest.mark.parametrize("sigma", [0.05, 0.242, 1.0, 7.5])
def test_differential_entropy_matches_integral(sigma):
    f = stats.norm(0.0, sigma).pdf
    val, _ = integrate.quad(lambda x: -f(x) * math.log2(f(x)) if f(x) > 0 else 0.0,
                            -30 * sigma, 30 * sigma, points=[0.0], limit=200)
    assert gaussian_differential_entropy_bits(sigma) == pytest.approx(val, abs=1e-7)


def _binned_by_quad(mu, sigma, step, offset):
    f = stats.norm(mu, sigma).pdf
    jc = round((mu - offset) / step)
    half = int(math.ceil(14 * sigma / step)) + 3
    h = 0.0
    for j in range(jc - half, jc + half + 1):
        a, b = offset + (j - 0.5) * step, offset + (j + 0.5) * step
        p, _ = integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-12)
        if p > 0:
            h -= p * math.log2(p)
    return h


@pytest.mark.parametrize(
    "mu,sigma,step,offset",
    [(0.0, 1.0, 1.0, 0.0), (0.3, 0.2, 1.0, 0.0), (2.0, 0.7, 0.5, 1.9), (-1.0, 0.05, 0.1, 0.0),
     (0.5, 0.1, 1.0, 0.0), (0.0, 3.0, 0.4, 0.0), (1.0, 9.0, 1.0, 0.2)],
)
def test_binned_entropy_matches_integral(mu, sigma, step, offset):
    ref = _binned_by_quad(mu, sigma, step, offset)
    got = binned_gaussian_entropy_bits(mu, sigma, step, offset)
    assert float(got) == pytest.approx(ref, abs=1e-8)


@pytest.mark.parametrize("r", [63.0, 70.0, 300.0])
def test_binned_entropy_large_ratio_matches_direct_sum(r):
    # beyond the summation limit the corrected high-resolution formula is used; compare with a
    # direct sum of CDF differences over all bins within 14 sigma
    j = np.arange(-int(14 * r), int(14 * r) + 1)
    p = stats.norm.cdf(j + 0.5, scale=r) - stats.norm.cdf(j - 0.5, scale=r)
    p = p[p > 0]
    assert float(binned_gaussian_entropy_bits(0.0, r, 1.0)) == pytest.approx(
        float(-(p * np.log2(p)).sum()), abs=1e-8)


def test_binned_entropy_vectorised_and_limits():
    mu = np.array([0.0, 0.0, 0.0, 0.0])
    sd = np.array([1.0, 1.0, 0.0, 2.0])
    step = np.array([0.01, np.inf, 1.0, 1e-6])
    out = binned_gaussian_entropy_bits(mu, sd, step)
    corr = 1.0 / (24 * 100.0**2 * math.log(2))  # first correction to the high-res formula
    assert out[0] == pytest.approx(gaussian_differential_entropy_bits(1.0) - math.log2(0.01) + corr)
    assert out[1] == 0.0 and out[2] == 0.0
    assert out[3] == pytest.approx(0.5 * math.log2(2 * math.pi * math.e * 4) + math.log2(1e6),
                                   abs=1e-9)
    with pytest.raises(ValueError, match="step"):
        binned_gaussian_entropy_bits(0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="std"):
        binned_gaussian_entropy_bits(0.0, -1.0, 1.0)


def test_highres_formula_and_clamp():
    sd = np.array([10.0, 1.0, 0.3, 0.1, 1.0])
    step = np.array([1.0, 1.0, 1.0, 1.0, np.inf])
    bits, unreliable = highres_entropy_bits(sd, step)
    exact = binned_gaussian_entropy_bits(np.zeros(5), sd, step)
    # accurate at high resolution
    assert bits[0] == pytest.approx(exact[0], abs=1e-3)
    # below it by ~1 / (24 r^2 ln 2)
    assert exact[1] - bits[1] == pytest.approx(1 / (24 * math.log(2)), rel=0.05)
    # sigma/Delta = 0.1 < 1/sqrt(2 pi e): the raw formula is negative, clamped to 0
    raw, _ = highres_entropy_bits(sd, step, clamp=False)
    assert raw[3] < 0 and bits[3] == 0.0 and bits[4] == 0.0
    assert unreliable.tolist() == [False, False, True, True, True]
    assert HIGHRES_MIN_RATIO == 1.0


def test_empirical_entropy_exact_and_statistical():
    q = np.array([[0, 5], [1, 5], [2, 5], [3, 5]] * 10)
    assert empirical_entropy_bits(q).tolist() == [2.0, 0.0]
    assert empirical_entropy_bits(np.zeros((0, 3), np.int64)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="shape"):
        empirical_entropy_bits(np.zeros(4))
    rng = np.random.default_rng(3)
    n, sigma = 20000, 2.3
    sym = np.round(rng.normal(0.0, sigma, size=(n, 1)))
    true_h = float(binned_gaussian_entropy_bits(0.0, sigma, 1.0))
    # plug-in estimator: bias ~ -(K-1)/(2 n ln 2), std ~ sqrt(Var[-log2 p] / n)
    j = np.arange(-40, 41)
    p = stats.norm.cdf(j + 0.5, scale=sigma) - stats.norm.cdf(j - 0.5, scale=sigma)
    p = p[p > 0]
    var = float((p * np.log2(p) ** 2).sum() - true_h**2)
    bias = (np.count_nonzero(p > 1e-6) - 1) / (2 * n * math.log(2))
    est = float(empirical_entropy_bits(sym)[0])
    assert abs(est - (true_h - bias)) < 4 * math.sqrt(var / n) + bias
