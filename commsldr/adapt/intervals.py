r"""Confidence intervals on accuracy that hold on time-correlated channels.

A run's frames are *not* independent trials on a fading or bursty channel: a deep fade or a bad
burst takes out many consecutive packets, so the variance of a run's accuracy is
:math:`\sigma^2_\infty / F` with the *long-run* variance
:math:`\sigma^2_\infty = \sum_{k=-\infty}^{\infty}\gamma(k)` of the per-frame outcome, several
times the i.i.d. variance :math:`\gamma(0)` that a Wilson interval assumes. Two honest intervals:

* **over independent replications** (seeds): Student :math:`t` on the per-seed accuracies,
  :math:`\bar a \pm t_{S-1,1-\alpha/2}\, s_a/\sqrt{S}` — exact for normal per-seed means, which a
  run of many coherence times is (central limit theorem for mixing sequences);
* **moving-block bootstrap over frames** (Künsch, Ann. Statist. 17, 1989), for few seeds: the
  per-frame outcome series of each seed is resampled in overlapping blocks of :math:`\ell`
  frames, :math:`\ell` chosen from the measured autocorrelation (Politis & White, Econometric
  Rev. 23, 2004, with the correction of Patton, Politis & White, Econometric Rev. 28, 2009). The
  bootstrap variance is computed exactly (no resampling): a resample is the mean of
  :math:`F/\ell` blocks drawn uniformly from the :math:`F-\ell+1` overlapping block means, so
  :math:`\operatorname{Var}^* = \operatorname{Var}(\text{block means})\,\ell/F`; its
  first-order bias is removed by Richardson extrapolation (:func:`ratio_standard_error`). Seeds
  are independent, so their variances add.

Wilson's interval (pooled images as Bernoulli trials) is right only where frames are
independent (i.i.d. block fading, one image per packet).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import stdtrit

__all__ = [
    "CI_METHODS",
    "AUTO_MIN_SEEDS",
    "autocorrelation",
    "block_length",
    "block_bootstrap_variance",
    "ratio_standard_error",
    "student_t_interval",
    "interval_label",
]

CI_METHODS = ("auto", "t", "block-bootstrap", "bootstrap", "wilson")
"""``auto``: ``t`` from :data:`AUTO_MIN_SEEDS` seeds on, else ``block-bootstrap``."""

AUTO_MIN_SEEDS = 5
"""Seeds from which ``ci: auto`` uses Student t over seeds instead of the block bootstrap."""


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    r"""Sample autocorrelation :math:`\hat\rho(k) = \hat\gamma(k)/\hat\gamma(0)`, lags 0..``max_lag``.

    :math:`\hat\gamma(k) = \frac1F\sum_{t=0}^{F-k-1}(x_t-\bar x)(x_{t+k}-\bar x)` (the biased,
    positive-definite estimator), computed by FFT.

    Input:
        x: float ``[F]``, the series.
        max_lag: the largest lag (clipped to ``F - 1``).

    Output:
        float64 ``[max_lag + 1]``; all zeros after lag 0 for a constant series.
    """
    y = np.asarray(x, dtype=np.float64).reshape(-1)
    n = y.size
    y = y - y.mean()
    size = 1 << int(2 * n - 1).bit_length()
    f = np.fft.rfft(y, size)
    acov = np.fft.irfft(f * np.conj(f), size)[: min(max_lag, n - 1) + 1] / n
    if acov[0] <= 0:
        out = np.zeros_like(acov)
        out[0] = 1.0
        return out
    return acov / acov[0]


def block_length(x: np.ndarray) -> int:
    r"""Block length :math:`\ell` of the moving-block bootstrap of the mean of ``x``.

    Politis & White (2004) with Patton, Politis & White (2009): :math:`\hat m` = the smallest lag
    after which :math:`K_F = \max(5, \sqrt{\log_{10} F})` consecutive autocorrelations lie within
    :math:`2\sqrt{\log_{10}F/F}`; with the flat-top kernel :math:`\lambda` and :math:`M = 2\hat m`,

    .. math::
        \hat G = \sum_{|k|\le M}\lambda(k/M)\,|k|\,\hat\gamma(k),\quad
        \hat g = \sum_{|k|\le M}\lambda(k/M)\,\hat\gamma(k),\quad
        \ell = \Big(\frac{2\hat G^2}{\tfrac43\hat g^2}\Big)^{1/3} F^{1/3},

    rounded up and clipped to :math:`[1, F/3]`.

    Input:
        x: float ``[F]``, the per-frame series (``F >= 3``).

    Output:
        int, frames per block (1 for a series without measurable autocorrelation).
    """
    y = np.asarray(x, dtype=np.float64).reshape(-1)
    n = y.size
    if n < 3:
        return 1
    k_n = max(5, int(math.ceil(math.sqrt(math.log10(n)))))
    max_lag = min(n - 1, max(2 * k_n, int(math.ceil(math.sqrt(n))) + k_n) * 4)
    rho = autocorrelation(y, max_lag)
    if rho[1:].size == 0 or not np.any(rho[1:]):
        return 1
    crit = 2.0 * math.sqrt(math.log10(n) / n)
    small = (np.abs(rho[1:]) < crit).astype(np.int64)  # small[j]: lag j + 1
    run = np.convolve(small, np.ones(k_n, dtype=np.int64), mode="valid")  # run[j]: lags j+1..j+k_n
    hits = np.flatnonzero(run == k_n)
    # the last significant lag is j when lags j+1 .. j+k_n are all negligible
    m_hat = int(hits[0]) if hits.size else small.size
    big_m = min(2 * max(m_hat, 1), max_lag)
    gamma0 = float(np.var(y))
    lags = np.arange(-big_m, big_m + 1)
    u = np.abs(lags) / big_m
    lam = np.where(u <= 0.5, 1.0, np.where(u <= 1.0, 2.0 * (1.0 - u), 0.0))
    acov = rho[np.abs(lags)] * gamma0
    g_big = float(np.sum(lam * np.abs(lags) * acov))
    g_hat = float(np.sum(lam * acov))
    if g_hat <= 0 or g_big == 0:
        return 1
    ell = (2.0 * g_big**2 / ((4.0 / 3.0) * g_hat**2)) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return int(min(max(1, math.ceil(ell)), max(1, n // 3)))


def block_bootstrap_variance(x: np.ndarray, block: int) -> float:
    r"""Exact moving-block-bootstrap variance of the mean of ``x`` with blocks of ``block`` frames.

    .. math::
        \operatorname{Var}^*(\bar x^*) = \frac{\ell}{F}\cdot\frac{1}{F-\ell+1}
        \sum_{i=0}^{F-\ell}(B_i - \bar B)^2,\qquad B_i = \frac1\ell\sum_{t=i}^{i+\ell-1}x_t

    (Künsch 1989): the bootstrap mean averages :math:`F/\ell` independent uniform draws of the
    overlapping block means :math:`B_i`. ``block = 1`` is the i.i.d. bootstrap,
    :math:`\hat\gamma(0)/F`.

    Input:
        x: float ``[F]``.
        block: :math:`\ell`, in ``[1, F]``.

    Output:
        float, the variance of the bootstrap mean.
    """
    y = np.asarray(x, dtype=np.float64).reshape(-1)
    n = y.size
    if not 1 <= block <= n:
        raise ValueError(f"block: must lie in [1, {n}], got {block}")
    c = np.concatenate([[0.0], np.cumsum(y - y.mean())])
    means = (c[block:] - c[:-block]) / block
    return float(np.var(means) * block / n)


def ratio_standard_error(correct: np.ndarray, images: np.ndarray) -> tuple[float, int]:
    r"""Standard error of the accuracy :math:`A = \sum_t c_t / \sum_t n_t` of one run.

    Delta method for a ratio: :math:`A` has the variance of the mean of
    :math:`z_t = (c_t - A\,n_t)/\bar n`. That variance is the moving-block bootstrap's
    (:func:`block_bootstrap_variance`) with :math:`\ell` = :func:`block_length` measured on
    :math:`z`, bias-corrected by Richardson extrapolation:

    .. math::
        \hat V = \max\big(2\,V^*(2\ell) - V^*(\ell),\; V^*(\ell)\big).

    :math:`E\,V^*(\ell) \approx \frac1F\sum_{|k|<\ell}(1-|k|/\ell)\gamma(k)` (a Bartlett
    window) falls short of :math:`\sigma^2_\infty/F` by :math:`\frac{1}{F\ell}\sum|k|\gamma(k)`;
    :math:`2V^*(2\ell)-V^*(\ell)` cancels that first-order bias and is the trapezoidal
    flat-top window of Politis & Romano (J. Time Ser. Anal. 16, 1995). Without it, the nominal
    95 % interval covered 91–93 % in the coverage test (Gilbert–Elliott and Doppler channels).

    Input:
        correct: float ``[F]``, correct decisions resolved in each frame, :math:`c_t`.
        images: float ``[F]``, images resolved in each frame, :math:`n_t` (> 0 in total).

    Output:
        ``(standard error, block length in frames)``; the block length is :math:`2\ell` (the
        longer blocks set the interval's degrees of freedom, ``F / block - 1``).
    """
    c = np.asarray(correct, dtype=np.float64).reshape(-1)
    n = np.asarray(images, dtype=np.float64).reshape(-1)
    if c.size != n.size or c.size == 0 or n.sum() <= 0:
        raise ValueError("ratio_standard_error: correct and images need the same, non-zero length "
                         "and images > 0 in total")
    acc = c.sum() / n.sum()
    z = (c - acc * n) / n.mean()
    ell = block_length(z)
    v1 = block_bootstrap_variance(z, ell)
    ell2 = min(2 * ell, max(1, z.size // 2))
    v2 = block_bootstrap_variance(z, ell2)
    return math.sqrt(max(2.0 * v2 - v1, v1)), ell2


def student_t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    r"""Student t interval of the mean of independent replications.

    :math:`\bar a \pm t_{S-1,\,1-\alpha/2}\; s/\sqrt{S}` with the sample standard deviation
    :math:`s` (Student, Biometrika 6, 1908).

    Input:
        values: ``[S]`` per-replication means (``S >= 2``).
        confidence: :math:`1-\alpha` in (0, 1).

    Output:
        ``(low, high)``.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size < 2:
        raise ValueError(f"student_t_interval: needs at least 2 replications, got {x.size}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    half = float(stdtrit(x.size - 1, 0.5 + confidence / 2)) * float(x.std(ddof=1)) \
        / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def interval_label(method: str, seeds: int | None = None, confidence: float = 0.95) -> str:
    """Legend text of a band, e.g. ``95% CI (Student t over 8 seeds)``.

    Input:
        method: the method actually used (a row's ``ci_method``; not ``auto``).
        seeds: replications behind the band (``None``: not said).
        confidence: the level.

    Output:
        str.
    """
    n = "" if seeds is None else f"{seeds} seed{'s' if seeds != 1 else ''}"
    names = {
        "t": f"Student t over {n or 'seeds'}",
        "bootstrap": f"bootstrap over {n or 'seeds'}",
        "block-bootstrap": "moving-block bootstrap over frames" + (f", {n}" if n else ""),
        "wilson": "Wilson, frames independent",
    }
    return f"{100 * confidence:.0f}% CI ({names.get(method, method)})"
