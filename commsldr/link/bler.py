r"""Code-block error rate of 5G NR LDPC codes over AWGN, from Sionna's simulated tables.

Sionna SYS ships BLER tables (``sionna/sys/bler_tables/*.json``), simulated with Sionna's 5G
LDPC encoder/decoder and QAM over AWGN, per MCS table, MCS index, code-block size
:math:`k \in \{24, 100, 500, 1000, 2000\}` and SNR on a coarse grid (15 or 20 points,
:math:`\approx 1.8` dB apart). The PUSCH tables (category 0) were simulated with the
*transform-precoding* MCS tables of TS 38.214 Sec. 6.1.4.1 (:func:`mcs_parameters`).

Between grid points the waterfall of a long code falls from ~1 to ~0 within one grid step, so
interpolating BLER values (Sionna's spline on a 0.1 dB grid) is ~0.5 dB optimistic there. Here
every curve is a probit model

.. math:: \mathrm{BLER}(s) = \Phi\!\left(\frac{s_{50} - s}{\sigma}\right),\qquad s\ \text{in dB},

fitted to the table points by maximum likelihood (binomial, :math:`N = 3000` blocks per point,
so a tabulated 0 or 1 is a censored point: "below/above one error in 3000"), with a log-normal
prior on :math:`\sigma` centred on the waterfall width the curve's shorter blocks predict,
:math:`\sigma(k) = \sigma(k_0)\sqrt{k_0/k}` (finite-length scaling: the dispersion term of
Polyanskiy, Poor & Verdú, IEEE Trans. Inf. Theory 56(5), 2010, shrinks as :math:`1/\sqrt{n}`).
The prior matters only where a table has no point inside the waterfall (long blocks); elsewhere
the data decide. Code-block sizes between tabulated ones interpolate :math:`s_{50}` and
:math:`\log\sigma` linearly in :math:`\log k`; above 2000 bits :math:`s_{50}` is held and
:math:`\sigma` keeps shrinking as :math:`1/\sqrt{k}`; below 24 bits the 24-bit curve is used.

**No extrapolation.** Sionna simulated each MCS on its own SNR grid; 70 of the 705 curves
(MCS, block size) of the six tables have not fallen to BLER :math:`10^{-3}` at the grid's highest
SNR (33 have not even reached 0.1 there: the top MCS). Above the highest tabulated SNR the
BLER is held at its value there (:meth:`BLERModel.bler_floor`) instead of following the probit
down, so link adaptation never picks an MCS for a target the table does not show it meets
(``tests/unit/link/test_bler_coverage.py``).

The residual against the bit-true chain is measured by ``benchmarks/bler_interpolation.py``
and stated in ``docs/guide/link.md``. Nothing here imports Sionna (the tables are read from its
installed package directory).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from commsldr.link.sionna_guard import sionna_phy

__all__ = ["BLERModel", "bler_model", "mcs_parameters", "probit_snr_at", "SUPPORTED_TABLES",
           "TableNotAvailable"]

#: (mcs_category, mcs_table_index) combinations with simulated tables: PUSCH with transform
#: precoding, tables 1-2; PDSCH tables 1-4.
SUPPORTED_TABLES = {(0, 1), (0, 2), (1, 1), (1, 2), (1, 3), (1, 4)}

_BLOCKS_PER_POINT = 3000  # the smallest non-zero tabulated BLER is 1/3000
_PRIOR_LOG_SD = 0.25


class TableNotAvailable(ValueError):
    """Sionna has no BLER table for the requested category / MCS table."""


def check_table(mcs_category: int, mcs_table_index: int) -> None:
    """Raise :class:`TableNotAvailable` naming the valid combinations if there is no table."""
    if (int(mcs_category), int(mcs_table_index)) not in SUPPORTED_TABLES:
        raise TableNotAvailable(
            f"mcs_table_index: Sionna has no BLER table for "
            f"{'PUSCH' if mcs_category == 0 else 'PDSCH'} MCS table {mcs_table_index}; "
            "valid: PUSCH (mcs_category 0, transform precoding) tables 1-2, "
            "PDSCH (mcs_category 1) tables 1-4"
        )


@functools.lru_cache(maxsize=8)
def mcs_parameters(mcs_category: int, mcs_table_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Modulation order and target code rate of every MCS index 0..28 (TS 38.214 Sec. 5.1.3.1 /
    6.1.4.1), as Sionna's BLER tables were simulated: PUSCH with transform precoding (and
    without :math:`\\pi/2`-BPSK), PDSCH without.

    Returns:
        ``(qm int64 [29], rate float64 [29])``; ``qm = 0`` where the index is reserved.
    """
    check_table(mcs_category, mcs_table_index)

    sionna_phy()
    import torch
    from sionna.phy.nr.utils import decode_mcs_index

    is_pusch = int(mcs_category) == 0
    qm = np.zeros(29, dtype=np.int64)
    rate = np.zeros(29)
    for m in range(29):
        try:
            q, r = decode_mcs_index(
                m,
                table_index=int(mcs_table_index),
                is_pusch=is_pusch,
                transform_precoding=is_pusch,
                pi2bpsk=False,
                device="cpu",
            )
        except (ValueError, AssertionError, RuntimeError):
            continue
        q, r = int(torch.as_tensor(q)), float(torch.as_tensor(r))
        if q > 0 and r > 0:
            qm[m], rate[m] = q, r
    return qm, rate


def _table_dir() -> Path:
    spec = importlib.util.find_spec("sionna")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise ModuleNotFoundError("sionna is not installed (its BLER tables are needed)")
    return Path(next(iter(spec.submodule_search_locations))) / "sys" / "bler_tables"


@functools.lru_cache(maxsize=8)
def _raw_table(mcs_category: int, mcs_table_index: int) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``{mcs: (cbs [C], snr_db [S], bler [C, S])}`` from Sionna's JSON file."""
    check_table(mcs_category, mcs_table_index)
    name = f"{'PUSCH' if mcs_category == 0 else 'PDSCH'}_table{mcs_table_index}.json"
    data = json.loads((_table_dir() / name).read_text())
    mcs_dict = data["category"][str(mcs_category)]["index"][str(mcs_table_index)]["MCS"]
    out = {}
    for mcs, entry in mcs_dict.items():
        cbs = sorted(int(c) for c in entry["CBS"])
        snr = np.asarray(entry["SNR_db"], dtype=np.float64)
        bler = np.asarray([entry["CBS"][str(c)]["BLER"] for c in cbs], dtype=np.float64)
        out[int(mcs)] = (np.asarray(cbs), snr, bler)
    return out


def _fit_probit(
    snr: np.ndarray, bler: np.ndarray, sigma_prior: float | None
) -> tuple[float, float]:
    """MAP fit of ``(s50, sigma)`` of :math:`\\Phi((s_{50}-s)/\\sigma)` to one curve."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    n = _BLOCKS_PER_POINT
    errors = np.round(np.clip(bler, 0, 1) * n)
    ok = n - errors
    inner = np.flatnonzero((bler > 0) & (bler < 1))
    if inner.size:
        s0 = float(np.average(snr[inner], weights=bler[inner] * (1 - bler[inner]) + 1e-12))
    else:
        hi = np.flatnonzero(bler >= 0.5)
        lo = np.flatnonzero(bler < 0.5)
        s0 = 0.5 * (snr[hi[-1]] + snr[lo[0]]) if hi.size and lo.size else float(np.mean(snr))
    sig0 = sigma_prior if sigma_prior is not None else 1.0

    def nll(p: np.ndarray) -> float:
        s50, log_sig = p
        z = (s50 - snr) / math.exp(log_sig)
        val = -float(np.sum(errors * log_ndtr(z) + ok * log_ndtr(-z)))
        if sigma_prior is not None:
            val += 0.5 * ((log_sig - math.log(sigma_prior)) / _PRIOR_LOG_SD) ** 2
        return val

    res = minimize(nll, np.array([s0, math.log(sig0)]), method="Nelder-Mead",
                   options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 2000})
    return float(res.x[0]), float(math.exp(res.x[1]))


@dataclass(frozen=True)
class BLERModel:
    """Probit BLER curves of one MCS table: per MCS, :math:`s_{50}` and :math:`\\sigma` per
    tabulated code-block size.

    Attributes:
        mcs_category / mcs_table_index: which table.
        cbs: ``int [C]`` tabulated code-block sizes (bits).
        s50_db / sigma_db: ``float [29, C]``; ``nan`` for MCS without a table.
        snr_max_db: ``float [29]``, the highest SNR Sionna simulated for each MCS (``None``:
            no limit). The curves are not extrapolated beyond it: above it the BLER is held at
            its value there (:meth:`bler_floor`), and :meth:`snr_at_bler` is ``inf`` for a
            target below that floor.
    """

    mcs_category: int
    mcs_table_index: int
    cbs: np.ndarray
    s50_db: np.ndarray
    sigma_db: np.ndarray
    snr_max_db: np.ndarray | None = None

    @property
    def available(self) -> np.ndarray:
        """``bool [29]``: MCS indices with a simulated table."""
        return np.isfinite(self.s50_db[:, 0])

    def curve_params(self, mcs: np.ndarray, cb_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(s50_db, sigma_db)`` for MCS ``[...]`` and code-block sizes ``[...]`` (broadcast)."""
        mcs = np.asarray(mcs, dtype=np.int64)
        k = np.maximum(np.asarray(cb_size, dtype=np.float64), float(self.cbs[0]))
        mcs, k = np.broadcast_arrays(mcs, k)
        logc = np.log(self.cbs.astype(np.float64))
        logk = np.log(k)
        s50 = np.empty(mcs.shape)
        lsig = np.empty(mcs.shape)
        for m in np.unique(mcs):
            sel = mcs == m
            row_s = self.s50_db[m] if 0 <= m < 29 else np.full(len(self.cbs), np.nan)
            row_l = np.log(self.sigma_db[m]) if 0 <= m < 29 else np.full(len(self.cbs), np.nan)
            lk = logk[sel]
            s50[sel] = np.interp(lk, logc, row_s)
            inside = np.interp(lk, logc, row_l)
            lsig[sel] = np.where(lk > logc[-1], row_l[-1] - 0.5 * (lk - logc[-1]), inside)
        return s50, np.exp(lsig)

    def _snr_max(self, mcs: np.ndarray) -> np.ndarray:
        m = np.asarray(mcs, dtype=np.int64)
        if self.snr_max_db is None:
            return np.full(m.shape, np.inf)
        return np.where((m >= 0) & (m < 29), self.snr_max_db[np.clip(m, 0, 28)], np.nan)

    def bler(self, mcs: np.ndarray, cb_size: np.ndarray, snr_db: np.ndarray) -> np.ndarray:
        """Code-block error rate, ``float64`` (broadcast shape); ``nan`` for MCS without table.
        Above the table's highest SNR the BLER stays at :meth:`bler_floor`."""
        from scipy.special import ndtr

        s50, sig = self.curve_params(mcs, cb_size)
        top = self._snr_max(np.broadcast_to(np.asarray(mcs), s50.shape))
        snr = np.minimum(np.asarray(snr_db, dtype=np.float64), top)
        return ndtr((s50 - snr) / sig)

    def bler_floor(self, mcs: np.ndarray, cb_size: np.ndarray) -> np.ndarray:
        """The lowest BLER the curve claims: its value at the table's highest SNR (``0`` without
        a limit)."""
        from scipy.special import ndtr

        s50, sig = self.curve_params(mcs, cb_size)
        top = self._snr_max(np.broadcast_to(np.asarray(mcs), s50.shape))
        return ndtr((s50 - top) / sig)

    def snr_at_bler(self, mcs: np.ndarray, cb_size: np.ndarray, target: float) -> np.ndarray:
        """SNR (dB) where the code-block error rate equals ``target`` (broadcast shape); ``inf``
        where the target lies below the curve's :meth:`bler_floor` (beyond the table)."""
        from scipy.special import ndtri

        s50, sig = self.curve_params(mcs, cb_size)
        snr = s50 - sig * float(ndtri(target))
        top = self._snr_max(np.broadcast_to(np.asarray(mcs), s50.shape))
        return np.where(snr > top + 1e-9, np.inf, snr)


def probit_snr_at(snr_db: np.ndarray, errors: np.ndarray, total: np.ndarray | int,
                  target: float = 0.1) -> float:
    """SNR (dB) where a probit curve fitted by maximum likelihood to measured error counts
    (``errors [S]`` of ``total`` blocks at ``snr_db [S]``) crosses ``target`` — how the
    benchmarks read a bit-true BLER curve. The width is bounded to 0.02..20 dB and the centre to
    5 dB around the points (a single point inside the waterfall leaves the width free)."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr, ndtri

    snr = np.asarray(snr_db, dtype=np.float64)
    err = np.asarray(errors, dtype=np.float64)
    ok = np.asarray(total, dtype=np.float64) - err

    def nll(p: np.ndarray) -> float:
        z = (p[0] - snr) / math.exp(p[1])
        return -float(np.sum(err * log_ndtr(z) + ok * log_ndtr(-z)))

    bounds = [(float(snr.min()) - 5.0, float(snr.max()) + 5.0), (math.log(0.02), math.log(20.0))]
    res = minimize(nll, np.array([float(np.mean(snr)), math.log(0.5)]), method="L-BFGS-B",
                   bounds=bounds)
    return float(res.x[0]) - math.exp(float(res.x[1])) * float(ndtri(target))


@functools.lru_cache(maxsize=8)
def bler_model(mcs_category: int, mcs_table_index: int) -> BLERModel:
    """The fitted :class:`BLERModel` of one of Sionna's tables (cached per process).

    Fit order per MCS: the shortest code block first without prior (its waterfall spans several
    grid points), each longer one with the prior :math:`\\sigma(k) = \\sigma(k_{prev})
    \\sqrt{k_{prev}/k}`.
    """
    raw = _raw_table(int(mcs_category), int(mcs_table_index))
    cbs = next(iter(raw.values()))[0]
    s50 = np.full((29, len(cbs)), np.nan)
    sig = np.full((29, len(cbs)), np.nan)
    top = np.full(29, np.nan)
    for m, (c, snr, bler) in raw.items():
        top[m] = float(np.max(snr))
        if not np.array_equal(c, cbs):  # pragma: no cover - every Sionna table has the same sizes
            raise ValueError(f"BLER table: MCS {m} has code-block sizes {c}, expected {cbs}")
        prior = None
        for j in range(len(cbs)):
            s50[m, j], sig[m, j] = _fit_probit(snr, bler[j], prior)
            if j + 1 < len(cbs):
                prior = sig[m, j] * math.sqrt(cbs[j] / cbs[j + 1])
    return BLERModel(int(mcs_category), int(mcs_table_index), np.asarray(cbs), s50, sig, top)
