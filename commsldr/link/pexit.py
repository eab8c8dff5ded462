r"""Protograph EXIT analysis of Sionna's 5G LDPC code for a given set of received coded bits.

The HARQ abstraction (:mod:`commsldr.link.harq`) needs to know how much a set of received coded
bits — some positions of the circular buffer seen once, some twice on other QAM bit levels, some
never (punctured, or between two redundancy versions) — is worth to *this* code's
belief-propagation decoder. Counting mutual information over the distinct bits is blind to where
they sit in the code's graph; this module follows the decoder instead.

**Graph.** The base graph (BG1 or BG2, TS 38.212 Sec. 5.3.2) and lifting size :math:`Z_c` that
Sionna's :class:`~sionna.phy.fec.ldpc.LDPC5GEncoder` picks for ``k`` information and ``n`` coded
bits; every column of the base graph stands for :math:`Z_c` variable nodes. The first
:math:`2Z_c` systematic bits are punctured (never sent), the filler bits (columns beyond ``k``)
are known to the decoder, and compressed circular-buffer position :math:`p` (Sionna's
``c_rm``) is column :math:`\lfloor u(p)/Z_c \rfloor` of the mother code, :math:`u(p) = p + 2Z_c`
for the systematic part and :math:`p + 2Z_c + k_{\mathrm{filler}}` after it.

**Channel.** Each variable node :math:`v` has a consistent-Gaussian channel LLR of variance
:math:`\sigma^2_{\mathrm{ch},v}` — the sum over its received copies (0 when never received; a
known filler bit is certain).

**PEXIT** (Liva & Chiani, "Protograph LDPC codes design based on EXIT analysis", IEEE
GLOBECOM 2007; ten Brink, IEEE Trans. Commun. 49(10), 2001): on every edge :math:`(c, j)` of the
base graph, with :math:`J` the J-function (:mod:`commsldr.link.bitmi`),

.. math::

    I_{v\to c}(c, j) = \frac{1}{Z_c}\sum_{v \in j}
        J\Big(\sqrt{\sigma^2_{\mathrm{ch},v} + \textstyle\sum_{c' \ne c} J^{-1}(I_{c'\to v}(c', j))^2}\Big),

    I_{c\to v}(c, j) = 1 - J\Big(\sqrt{\textstyle\sum_{j' \ne j} J^{-1}(1 - I_{v\to c}(c, j'))^2}\Big),

the variable nodes of a column that differ in their channel averaged (a mixture of channels),
flooding schedule, as many iterations as the decoder runs. The output is the mean bit error rate
of the information bits' a-posteriori LLRs, :math:`Q(\sigma_{\mathrm{app}}/2)`.

:func:`decoding_threshold_db` turns this into an SNR: the common shift (dB) of every copy's SNR
at which that bit error rate reaches :data:`BER_TARGET`. The asymptotic analysis ignores the
finite block length, so the HARQ abstraction uses only *differences* of thresholds and keeps the
measured first-transmission BLER curve as the anchor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from commsldr.link.bitmi import inverse_j_function, j_function
from commsldr.link.sionna_guard import sionna_phy

__all__ = ["BER_TARGET", "CodeGraph", "code_graph", "info_bit_error_rate", "decoding_threshold_db"]

#: information-bit error rate after the decoder's iterations that defines the threshold
BER_TARGET = 1e-4
#: channel LLR variance standing for a known (filler) bit
_KNOWN_SIG2 = 1e4


@dataclass(frozen=True)
class CodeGraph:
    """Base graph and rate-matching geometry of one 5G LDPC code.

    Attributes:
        z: lifting size :math:`Z_c`.
        rows / cols: ``int [E_b]`` — check row and variable column of every base-graph edge.
        num_rows / num_cols: base-graph size.
        column_of: ``int [N_cb]`` — base-graph column of every compressed circular-buffer position.
        info_of: ``bool [N_cb]`` — whether that position is an information bit.
        punctured_info: information bits never sent (the first :math:`2Z_c`).
        filler_col_bits: ``int [num_cols]`` — known filler bits per column.
    """

    z: int
    rows: np.ndarray
    cols: np.ndarray
    num_rows: int
    num_cols: int
    column_of: np.ndarray
    info_of: np.ndarray
    punctured_info: int
    filler_col_bits: np.ndarray


@functools.lru_cache(maxsize=128)
def code_graph(k: int, n: int) -> CodeGraph:
    """The :class:`CodeGraph` of Sionna's ``LDPC5GEncoder(k, n)``."""
    enc = sionna_phy().fec.ldpc.LDPC5GEncoder(int(k), int(n))
    z, k_ldpc, n_ldpc = int(enc.z), int(enc.k_ldpc), int(enc.n_ldpc)
    pcm = enc.pcm.tocoo()
    pairs = np.unique(np.stack([pcm.row // z, pcm.col // z], axis=1), axis=0)
    n_cb = int(enc.n_cb_comp)
    p = np.arange(n_cb)
    u = np.where(p + 2 * z < k, p + 2 * z, p + 2 * z - int(k) + k_ldpc)
    fillers = np.arange(int(k), k_ldpc)
    filler_cols = np.bincount(fillers // z, minlength=n_ldpc // z)
    return CodeGraph(z=z, rows=pairs[:, 0].astype(np.int64), cols=pairs[:, 1].astype(np.int64),
                     num_rows=int(pcm.shape[0]) // z, num_cols=n_ldpc // z,
                     column_of=(u // z).astype(np.int64), info_of=u < int(k),
                     punctured_info=2 * z, filler_col_bits=filler_cols.astype(np.int64))


def info_bit_error_rate(graph: CodeGraph, sig2: np.ndarray, iterations: int = 20) -> float:
    r"""Mean bit error rate of the information bits after ``iterations`` of PEXIT.

    Input:
        graph: :class:`CodeGraph`.
        sig2: float ``[N_cb]`` — channel LLR variance :math:`\sigma^2_{\mathrm{ch}}` of every
            compressed circular-buffer position (0: not received).
        iterations: belief-propagation iterations (flooding), as the decoder.

    Output:
        float — :math:`\frac{1}{K}\sum_{v\ \mathrm{info}} Q(\sigma_{\mathrm{app},v}/2)`
        (a punctured information bit counts like any other).
    """
    z, ncol = graph.z, graph.num_cols
    # groups of variable nodes with equal channel per column: (column, sig2, is_info) -> count
    col = np.concatenate([graph.column_of, np.arange(ncol).repeat(graph.filler_col_bits),
                          np.zeros(graph.punctured_info, dtype=np.int64) +
                          np.arange(graph.punctured_info) // z])
    s2 = np.concatenate([np.asarray(sig2, dtype=np.float64),
                         np.full(int(graph.filler_col_bits.sum()), _KNOWN_SIG2),
                         np.zeros(graph.punctured_info)])
    info = np.concatenate([graph.info_of, np.zeros(int(graph.filler_col_bits.sum()), bool),
                           np.ones(graph.punctured_info, bool)])
    values, value_of = np.unique(s2, return_inverse=True)
    keys, counts = np.unique((col * values.size + value_of.reshape(-1)) * 2 + info, return_counts=True)
    g_info = keys % 2 == 1
    g_col = keys // 2 // values.size
    g_s2 = values[keys // 2 % values.size]
    g_w = counts / float(z)
    # (edge, group) pairs sharing a column
    order = np.argsort(g_col, kind="stable")
    starts = np.searchsorted(g_col[order], np.arange(ncol + 1))
    per_edge = starts[graph.cols + 1] - starts[graph.cols]
    pe = np.repeat(np.arange(graph.cols.size), per_edge)
    pg = order[np.concatenate([np.arange(starts[c], starts[c + 1]) for c in graph.cols])]
    n_edges = graph.cols.size
    i_cv = np.zeros(n_edges)
    for _ in range(int(iterations)):
        s_cv = inverse_j_function(i_cv) ** 2
        tot = np.bincount(graph.cols, s_cv, ncol)
        ext = (tot[graph.cols] - s_cv)[pe]
        i_vc = np.bincount(pe, g_w[pg] * j_function(np.sqrt(np.minimum(g_s2[pg] + ext, _KNOWN_SIG2))),
                           n_edges)
        a = inverse_j_function(np.clip(1.0 - i_vc, 0.0, 1.0)) ** 2
        tr = np.bincount(graph.rows, a, graph.num_rows)
        i_cv = 1.0 - j_function(np.sqrt(np.maximum(tr[graph.rows] - a, 0.0)))
    tot = np.bincount(graph.cols, inverse_j_function(i_cv) ** 2, ncol)
    app = g_s2 + tot[g_col]
    ber = ndtr(-np.sqrt(app) / 2.0)
    return float(np.sum(counts[g_info] * ber[g_info]) / np.sum(counts[g_info]))


def decoding_threshold_db(
    graph: CodeGraph,
    sig2_at: Callable[[float], np.ndarray],
    lo_db: float = -30.0,
    hi_db: float = 30.0,
    tol_db: float = 1e-3,
    iterations: int = 20,
    target: float = BER_TARGET,
) -> float:
    r"""Smallest shift :math:`t` (dB) with ``info_bit_error_rate(graph, sig2_at(t)) <= target``.

    Input:
        sig2_at: ``t -> float [N_cb]`` — the channel LLR variances when every received copy's
            SNR is shifted by ``t`` dB (monotone in ``t``).
        lo_db / hi_db: search interval; ``-inf`` if decodable at ``lo_db``, ``+inf`` if not at
            ``hi_db``.

    Output:
        float — the shift (dB), found by bisection to ``tol_db``.
    """
    def ok(t: float) -> bool:
        return info_bit_error_rate(graph, sig2_at(t), iterations) <= target

    if ok(lo_db):
        return float("-inf")
    if not ok(hi_db):
        return float("inf")
    lo, hi = float(lo_db), float(hi_db)
    while hi - lo > tol_db:
        mid = 0.5 * (lo + hi)
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)
