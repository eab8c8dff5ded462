r"""Effective SINR of a frequency-selective allocation: EESM with Sionna's per-MCS :math:`\beta`.

A transport block spread over PRBs (or subcarriers) with post-equalisation SINRs
:math:`\gamma_1, \dots, \gamma_K` (linear) is mapped to the AWGN SINR with the same BLER by the
exponential effective SINR mapping (Brueninghaus et al., "Link performance models for system
level simulations of broadband radio access systems", IEEE PIMRC 2005)

.. math:: \gamma_{\mathrm{eff}} = -\beta_m \ln\Big(\frac1K \sum_{k=1}^K e^{-\gamma_k/\beta_m}\Big),

with :math:`\beta_m` a per-MCS calibration constant. :func:`eesm_beta` reads the values Sionna
SYS ships (``sionna/sys/esm_params/eesm_beta_table.json``, MCS tables 1-2, the same for PUSCH
and PDSCH); they are Sionna's calibration, not re-measured here against a frequency-selective
bit-true link. :meth:`commsldr.link.nr.NRPHY.abstract_prb_sinr` uses them to pick the MCS and
read the BLER of many users' per-PRB SINRs at once.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

import numpy as np

__all__ = ["eesm_beta", "effective_sinr_db"]


@functools.lru_cache(maxsize=4)
def eesm_beta(mcs_table_index: int) -> np.ndarray:
    """Sionna's EESM :math:`\\beta` per MCS index of MCS table ``mcs_table_index`` (1 or 2).

    Output: float64 ``[29]`` (linear SINR units); ``nan`` where the table has no entry.
    """
    if int(mcs_table_index) not in (1, 2):
        raise ValueError(f"mcs_table_index: Sionna ships EESM beta for MCS tables 1-2, got {mcs_table_index!r}")
    spec = importlib.util.find_spec("sionna")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise ModuleNotFoundError("sionna is not installed (its EESM beta table is needed)")
    path = Path(next(iter(spec.submodule_search_locations))) / "sys" / "esm_params" / "eesm_beta_table.json"
    values = json.loads(path.read_text())["index"][str(int(mcs_table_index))]
    out = np.full(29, np.nan)
    out[: len(values)] = np.asarray(values, dtype=np.float64)
    return out


def effective_sinr_db(sinr_db: np.ndarray, beta: np.ndarray | float) -> np.ndarray:
    """EESM of the SINRs on the last axis (module docstring).

    Input:
        sinr_db: float ``[..., K]`` (dB); ``nan`` marks a PRB/subcarrier that is not allocated
            (left out of the mean).
        beta: float ``[...]`` or scalar (linear), broadcast against ``sinr_db[..., 0]``.

    Output:
        float64 ``[...]`` (dB); ``nan`` where nothing is allocated.
    """
    x = np.asarray(sinr_db, dtype=np.float64)
    b = np.asarray(beta, dtype=np.float64)[..., None]
    used = np.isfinite(x)
    lin = np.where(used, np.power(10.0, np.where(used, x, 0.0) / 10.0), 0.0)
    arg = np.where(used, -lin / b, -np.inf)
    top = np.max(arg, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    count = used.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lme = top[..., 0] + np.log(np.sum(np.exp(arg - top), axis=-1) / count)
        eff = -b[..., 0] * lme
        return np.where(count > 0, 10.0 * np.log10(np.maximum(eff, 1e-30)), np.nan)
