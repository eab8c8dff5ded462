r"""Mutual information of Gray QAM per symbol and per bit level, and the J-function.

Building blocks of the HARQ abstraction (:mod:`commsldr.link.harq`):

* :func:`bicm_mutual_information` / :func:`bicm_dispersion` — BICM mutual information (bits per
  QAM symbol) of Gray :math:`2^{Q_m}`-QAM over AWGN and the variance of its information density
  (Martinez et al., "Bit-interleaved coded modulation revisited", IEEE Trans. Inf. Theory 52(6),
  2006; Polyanskiy, Poor & Verdú, IEEE Trans. Inf. Theory 56(5), 2010).
* :func:`bit_level_mutual_information` — the same per bit level: square Gray QAM is two
  independent Gray PAMs (I and Q), Sionna's :func:`~sionna.phy.mapping.qam` labels bit
  :math:`2b` (I) and :math:`2b+1` (Q) with PAM level :math:`b` (:math:`b = 0` is the sign bit,
  the most reliable).
* :func:`j_function` / :func:`inverse_j_function` / :func:`bi_awgn_dispersion` — the
  J-function of a consistent Gaussian LLR :math:`L \sim \mathcal N(\sigma^2/2, \sigma^2)`
  (ten Brink, IEEE Trans. Commun. 49(10), 2001),

  .. math:: J(\sigma) = 1 - \mathrm E\left[\log_2\left(1 + e^{-L}\right)\right],

  evaluated by Gauss–Hermite quadrature (no curve-fit approximation). Adding the LLRs of two
  independent observations of one bit adds their :math:`\sigma^2`, so a bit level whose copies
  carry :math:`I_1, \dots, I_n` bits is combined as
  :math:`J\big(\sqrt{\sum_i J^{-1}(I_i)^2}\big)` — exact for BPSK/QPSK (it is maximum-ratio
  combining), the Gaussian-LLR approximation for the inner bit levels of 16/64-QAM, whose
  summed max-log-free LLRs lose the symbol-level information that MRC keeps.

Everything is tabulated once per modulation order on an SNR grid of 0.1 dB from -20 to 50 dB.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = [
    "bicm_mutual_information",
    "bicm_dispersion",
    "inverse_bicm_mutual_information",
    "bit_level_mutual_information",
    "j_function",
    "inverse_j_function",
    "bi_awgn_dispersion",
    "SNR_GRID_DB",
]

#: SNR grid (dB) of every tabulated curve
SNR_GRID_DB = np.arange(-20.0, 50.0001, 0.1)
_SIGMA_GRID = np.concatenate([np.linspace(0.0, 2.0, 201)[:-1], np.linspace(2.0, 80.0, 3901)])


def _gray_pam(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes ``[L]`` (unit mean energy) and Gray labels ``[L, log2 L]`` of L-PAM."""
    bits = int(round(math.log2(levels)))
    amp = 2.0 * np.arange(levels) - (levels - 1)
    amp = amp / math.sqrt(np.mean(amp**2))
    gray = np.arange(levels) ^ (np.arange(levels) >> 1)
    labels = (gray[:, None] >> np.arange(bits - 1, -1, -1)[None, :]) & 1
    return amp, labels


@functools.lru_cache(maxsize=8)
def _curves(qm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(BICM MI per symbol [G], its dispersion [G], MI per PAM bit level [G, qm/2])``.

    BICM's information density of a PAM symbol is :math:`i = \\sum_b i_b`,
    :math:`i_b = 1 - \\log_2(\\sum_x p(y|x) / \\sum_{x: b(x) = b} p(y|x))`; a QAM symbol is
    two independent PAMs with half the energy and half the noise each.
    """
    if qm < 2 or qm % 2:
        raise ValueError(f"modulation order: square QAM needs an even Q_m >= 2, got {qm}")
    amp, labels = _gray_pam(2 ** (qm // 2))
    t, w = np.polynomial.hermite.hermgauss(48)
    w = w / math.sqrt(math.pi)
    grid = SNR_GRID_DB
    nb = labels.shape[1]
    mi = np.empty(grid.shape)
    var = np.empty(grid.shape)
    lvl = np.empty((grid.shape[0], nb))
    levels = amp.shape[0]
    a = amp * math.sqrt(0.5)  # per real dimension the signal energy is 1/2
    for gi, snr_db in enumerate(grid):
        sigma2 = 0.5 / 10 ** (snr_db / 10.0)  # noise variance per real dimension (E_s = 1)
        y = a[:, None] + math.sqrt(2 * sigma2) * t[None, :]  # [L, T]
        logp = -((y[:, :, None] - a[None, None, :]) ** 2) / (2 * sigma2)  # [L, T, L]
        lse_all = np.logaddexp.reduce(logp, axis=2)
        dens = np.zeros((levels, t.shape[0]))
        for b in range(nb):
            same = labels[:, b][:, None] == labels[:, b][None, :]  # [L(tx), L(x)]
            masked = np.where(same[:, None, :], logp, -np.inf)
            d_b = 1.0 - (lse_all - np.logaddexp.reduce(masked, axis=2)) / math.log(2)
            lvl[gi, b] = np.mean(np.sum(w[None, :] * d_b, axis=1))
            dens += d_b
        m1 = np.mean(np.sum(w[None, :] * dens, axis=1))
        m2 = np.mean(np.sum(w[None, :] * dens**2, axis=1))
        mi[gi] = 2.0 * m1
        var[gi] = 2.0 * max(m2 - m1 * m1, 0.0)
    mi = np.maximum.accumulate(np.clip(mi, 0.0, qm))
    lvl = np.maximum.accumulate(np.clip(lvl, 0.0, 1.0), axis=0)
    return mi, var, lvl


def bicm_mutual_information(qm: int, snr_db: np.ndarray) -> np.ndarray:
    """BICM mutual information (bits per QAM symbol) of Gray ``2^qm``-QAM at ``snr_db``.

    Input: ``qm`` int (2, 4, 6, 8); ``snr_db`` float array ``[...]`` (dB, :math:`E_s/N_0`).
    Output: float64 ``[...]`` in ``[0, qm]`` bits.
    """
    return np.interp(np.asarray(snr_db, dtype=np.float64), SNR_GRID_DB, _curves(int(qm))[0])


def bicm_dispersion(qm: int, snr_db: np.ndarray) -> np.ndarray:
    """Variance (bits²) of the BICM information density per symbol of Gray ``2^qm``-QAM."""
    return np.interp(np.asarray(snr_db, dtype=np.float64), SNR_GRID_DB, _curves(int(qm))[1])


def inverse_bicm_mutual_information(qm: int, mi_bits: np.ndarray) -> np.ndarray:
    """SNR (dB) at which Gray ``2^qm``-QAM carries ``mi_bits`` per symbol (``+inf`` at
    :math:`Q_m` bits and above, ``-inf`` at 0)."""
    mi = _curves(int(qm))[0]
    x = np.asarray(mi_bits, dtype=np.float64)
    top = mi[-1] - 1e-9
    keep = np.concatenate([[True], np.diff(mi) > 0])
    out = np.interp(np.minimum(x, top), mi[keep], SNR_GRID_DB[keep])
    return np.where(x >= top, np.inf, np.where(x <= 0, -np.inf, out))


def bit_level_mutual_information(qm: int, snr_db: np.ndarray) -> np.ndarray:
    """Mutual information (bits) of each PAM bit level of Gray ``2^qm``-QAM.

    Input: ``snr_db`` float ``[...]`` (dB); ``-inf`` gives 0 (nothing received).
    Output: float64 ``[..., qm/2]``; level 0 is the sign bit. The QAM symbol carries twice
    their sum (:func:`bicm_mutual_information`).
    """
    lvl = _curves(int(qm))[2]
    s = np.asarray(snr_db, dtype=np.float64)
    out = np.stack([np.interp(s, SNR_GRID_DB, lvl[:, b]) for b in range(lvl.shape[1])], axis=-1)
    return np.where(np.isneginf(s)[..., None], 0.0, out)


@functools.lru_cache(maxsize=1)
def _j_tables() -> tuple[np.ndarray, np.ndarray]:
    """``(J(sigma) [S], dispersion(sigma) [S])`` on :data:`_SIGMA_GRID` (Gauss–Hermite, 96 nodes)."""
    t, w = np.polynomial.hermite.hermgauss(96)
    w = w / math.sqrt(math.pi)
    s = _SIGMA_GRID[:, None]
    llr = s**2 / 2.0 + math.sqrt(2.0) * s * t[None, :]
    dens = 1.0 - np.logaddexp(0.0, -llr) / math.log(2.0)
    m1 = dens @ w
    m2 = (dens**2) @ w
    j = np.maximum.accumulate(np.clip(m1, 0.0, 1.0))
    return j, np.maximum(m2 - m1 * m1, 0.0)


def j_function(sigma: np.ndarray) -> np.ndarray:
    """:math:`J(\\sigma)`: MI (bits) of a consistent Gaussian LLR of standard deviation ``sigma``."""
    j, _ = _j_tables()
    return np.interp(np.asarray(sigma, dtype=np.float64), _SIGMA_GRID, j)


def inverse_j_function(mi_bits: np.ndarray) -> np.ndarray:
    """:math:`J^{-1}(I)` (``sigma``, clipped to the table's 0..80)."""
    j, _ = _j_tables()
    keep = np.concatenate([[True], np.diff(j) > 0])
    return np.interp(np.asarray(mi_bits, dtype=np.float64), j[keep], _SIGMA_GRID[keep])


def bi_awgn_dispersion(sigma: np.ndarray) -> np.ndarray:
    """Variance (bits²) of the information density :math:`1 - \\log_2(1 + e^{-L})` of a
    consistent Gaussian LLR of standard deviation ``sigma``."""
    _, v = _j_tables()
    return np.interp(np.asarray(sigma, dtype=np.float64), _SIGMA_GRID, v)
