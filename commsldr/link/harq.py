r"""HARQ with soft combining: configuration and the abstraction's combining rules.

``link.harq: {type, max_transmissions}`` in a scenario:

* ``none`` — one transmission per packet;
* ``arq`` — plain ARQ: a lost packet is sent again, each copy decoded on its own;
* ``chase`` — Chase combining: every retransmission repeats the same coded bits (redundancy
  version 0) and the receiver adds the LLRs of all copies before decoding;
* ``ir`` — incremental redundancy: transmission :math:`i` sends redundancy version
  :math:`\mathrm{rv}_i` of the 5G LDPC mother code (order 0, 2, 3, 1, TS 38.321 / 38.212
  Sec. 5.4.2), the decoder uses every received version.

The NR abstraction (:class:`~commsldr.link.nr.NRPHY`) maps the :math:`n` copies of a code
block that were *received* (an erased frame contributes nothing) to one effective SNR
:math:`\rho_{\mathrm{eff}}` and reads the first transmission's BLER curve there. Both rules
model what the bit-true receiver (:class:`~commsldr.link.bittrue.BitTruePHY`) does:

* **Chase** — the receiver adds the LLRs of identical symbols. Per bit level :math:`b` of Gray
  QAM and transmitted amplitude, the per-copy LLR distributions (Gauss–Hermite atoms) are
  convolved and the generalized mutual information of the *summed* LLR,
  :math:`\max_s 1 - \mathrm E[\log_2(1 + e^{-s\,\pm\sum_i L_i})]` (the best scale :math:`s`:
  the sum is not the bit's LLR given all copies), is taken;
  :math:`\rho_{\mathrm{eff}}` is the SNR at which one copy carries the same BICM mutual
  information. For QPSK this is maximum-ratio combining (:math:`\sum_i \rho_i`, +3.01 dB for two
  equal copies); for 16/64-QAM LLR addition forgets that the copies share their symbol and gains
  less (two equal copies: 2.77 dB for 16-QAM at 5 dB, 2.54 dB for 64-QAM at 10 dB).
* **IR** — the decoder's view of the *distinct* coded bits received. Transmission :math:`i`
  sends redundancy version :math:`\mathrm{rv}_i` (0, 2, 3, 1): :math:`E` bits of the circular
  buffer of the 5G LDPC mother code from the start :math:`k_0(\mathrm{rv}_i)` of TS 38.212
  Table 5.4.2.1-2 (Sionna's ``LDPC5GEncoder.get_start_positions_comp``), the :math:`p`-th of
  them on bit level :math:`\lfloor p Q_m / E \rfloor` (the output interleaver of
  Sec. 5.4.2.2). Every buffer position :math:`j` gets the consistent-Gaussian channel LLR
  variance :math:`\sigma^2_j = \sum_i J^{-1}(I_{b_{ij}}(\rho_i))^2` of its copies (copies of one
  bit in different symbols are independent observations: their LLRs add), with
  :math:`I_b(\rho)` the bit-level mutual information and :math:`J` the J-function
  (:mod:`commsldr.link.bitmi`); positions never received (punctured, between two redundancy
  versions) get 0. A protograph EXIT analysis of the code's own base graph
  (:mod:`commsldr.link.pexit`, 20 flooding iterations like the decoder) finds the common SNR
  shift :math:`t_n` at which the copies reach the decoding threshold (information-bit error
  rate :math:`0.1/K`), and :math:`\rho_{\mathrm{eff}} = t_1 - t_n`, :math:`t_1` the threshold of
  one RV-0 copy at 0 dB: the copies are as far from the code's threshold as one copy at
  :math:`\rho_{\mathrm{eff}}`, whose BLER the measured first-transmission curve gives. Only
  threshold *differences* are used, so the finite-length loss of the code stays the table's.
  This sees which base-graph columns (of which degree) the received bits belong to, which
  are never sent, and how reliable each one is; the former count of mutual information over the
  distinct bits, with a code gap calibrated on first transmissions, was up to 0.43 dB optimistic
  for 64-QAM R = 0.80. No parameter is fitted to HARQ results.

The accuracy of both rules against the bit-true chain (6 MCS, QPSK to 64-QAM, 2-4 copies) is
measured by ``benchmarks/harq_abstraction.py`` and stated in ``docs/guide/link.md``.

Failures after successive transmissions are nested (one uniform draw per packet), so the
probability that a packet is still lost after :math:`n` transmissions is exactly
:math:`\mathrm{TBLER}(\rho_{\mathrm{eff},n})`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.signal import fftconvolve

from commsldr.link.bitmi import (
    _gray_pam,
    bicm_dispersion,
    bicm_mutual_information,
    bit_level_mutual_information,
    inverse_bicm_mutual_information,
    inverse_j_function,
)
from commsldr.link.pexit import code_graph, decoding_threshold_db
from commsldr.link.sionna_guard import sionna_phy

__all__ = [
    "HARQ_TYPES",
    "RETRANSMISSION_MCS",
    "HARQConfig",
    "IR_RV_SEQUENCE",
    "bicm_dispersion",
    "bicm_mutual_information",
    "inverse_bicm_mutual_information",
    "combined_snr_db",
    "coded_bits_per_block",
    "harq_attempts",
]

HARQ_TYPES = ("none", "arq", "chase", "ir")
#: what a retransmission's MCS is (:attr:`HARQConfig.retransmission_mcs`)
RETRANSMISSION_MCS = ("keep", "repick")
#: redundancy version of transmission 1, 2, 3, 4, ... (cycled)
IR_RV_SEQUENCE = (0, 2, 3, 1)


@dataclass(frozen=True)
class HARQConfig:
    """HARQ mode and the transmissions a packet gets (first one included).

    Args:
        type: one of :data:`HARQ_TYPES`.
        max_transmissions: >= 1 (``none`` uses 1 whatever is given).
        retransmission_mcs: ``"keep"`` (a retransmission uses the MCS of the first
            transmission) or ``"repick"`` (the PHY's link adaptation picks again for the
            retransmission's frame; the transport block stays, so with ``ir`` only the
            modulation order and the coded bits change, TS 38.214 Sec. 5.1.3.1, and with
            ``chase`` a different modulation restarts the process without combining).
    """

    type: str = "none"
    max_transmissions: int = 4
    retransmission_mcs: str = "keep"

    def __post_init__(self) -> None:
        if self.retransmission_mcs not in RETRANSMISSION_MCS:
            raise ValueError(f"harq.retransmission_mcs: must be one of {RETRANSMISSION_MCS}, "
                             f"got {self.retransmission_mcs!r}")
        if self.type not in HARQ_TYPES:
            raise ValueError(f"harq.type: must be one of {HARQ_TYPES}, got {self.type!r}")
        if int(self.max_transmissions) != self.max_transmissions or self.max_transmissions < 1:
            raise ValueError(
                f"harq.max_transmissions: must be an integer >= 1, got {self.max_transmissions!r}"
            )

    @property
    def combining(self) -> bool:
        """``True`` for ``chase`` and ``ir`` (the receiver keeps soft information)."""
        return self.type in ("chase", "ir")

    @property
    def transmissions(self) -> int:
        """Transmissions per packet: 1 for ``none``, else ``max_transmissions``."""
        return 1 if self.type == "none" else int(self.max_transmissions)

    @classmethod
    def parse(cls, value: HARQConfig | dict | None) -> HARQConfig:
        """From ``None`` (no HARQ), a mapping ``{type, max_transmissions}`` or an instance."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"harq: expected a mapping {{type, max_transmissions}}, got {value!r}")
        unknown = set(value) - {"type", "max_transmissions", "retransmission_mcs"}
        if unknown:
            raise ValueError(f"harq: unknown key(s) {sorted(unknown)}; allowed: type, "
                             "max_transmissions, retransmission_mcs")
        return cls(**value)


@functools.lru_cache(maxsize=256)
def _buffer_layout(k: int, n: int, qm: int) -> tuple[int, tuple[int, ...]]:
    """``(N_cb, (k0 of rv 0..3))`` of the compressed circular buffer (fillers and the first
    :math:`2Z_c` punctured bits removed) of Sionna's 5G LDPC encoder for ``k`` information and
    ``n`` coded bits."""
    enc = sionna_phy().fec.ldpc.LDPC5GEncoder(int(k), int(n), num_bits_per_symbol=int(qm))
    return int(enc.n_cb_comp), tuple(int(v) for v in enc.get_start_positions_comp([0, 1, 2, 3]))


def coded_bits_per_block(cb_bits: int, rate: float, qm: int) -> int:
    """Coded bits :math:`E` of one code block: :math:`K/R` rounded up to whole symbols (as
    :class:`~commsldr.link.bittrue.BitTruePHY` and Sionna's BLER-table simulations)."""
    return int(math.ceil(int(cb_bits) / float(rate) / int(qm))) * int(qm)


def _level_sigma(qm: int, snr_db: np.ndarray) -> np.ndarray:
    """Equivalent consistent-Gaussian LLR ``sigma [..., qm/2]`` of each PAM bit level."""
    return inverse_j_function(bit_level_mutual_information(qm, snr_db))


def _pam_llr_atoms(qm: int, snr_db: float, nodes: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per PAM level ``b``, transmitted amplitude ``x`` and Gauss–Hermite node: the exact bit
    LLR signed so that positive is right, ``[nb, L, T]``, and the node weights ``[T]``."""
    amp, labels = _gray_pam(2 ** (qm // 2))
    t, w = np.polynomial.hermite.hermgauss(nodes)
    w = w / math.sqrt(math.pi)
    a = amp * math.sqrt(0.5)
    sigma2 = 0.5 / 10 ** (snr_db / 10.0)
    y = a[:, None] + math.sqrt(2 * sigma2) * t[None, :]
    logp = -((y[:, :, None] - a[None, None, :]) ** 2) / (2 * sigma2)
    out = np.empty((labels.shape[1], amp.shape[0], t.shape[0]))
    for b in range(labels.shape[1]):
        l0 = np.logaddexp.reduce(np.where(labels[:, b] == 0, logp, -np.inf), axis=2)
        l1 = np.logaddexp.reduce(np.where(labels[:, b] == 1, logp, -np.inf), axis=2)
        out[b] = (1 - 2 * labels[:, b])[:, None] * (l0 - l1)
    return out, w, labels


_LLR_CLIP = 60.0
_LLR_STEP = 0.05


@functools.lru_cache(maxsize=4096)
def _chase_gmi(qm: int, snrs: tuple[float, ...]) -> float:
    r"""Generalized MI (bits per symbol) of the summed bit LLRs of copies at ``snrs`` (dB).

    Per PAM bit level, with :math:`f` the distribution of the summed LLR signed so that
    positive is right (averaged over the transmitted amplitudes), the generalized mutual
    information is the supremum over the metric's scale (Kaplan & Shamai, AEU 47(4), 1993;
    Martinez et al., IEEE Trans. Inf. Theory 55(6), 2009),
    :math:`\max_{s > 0}\, 1 - \mathrm E_f[\log_2(1 + e^{-sL})]`: a sum of LLRs of one symbol's
    copies is not the LLR of the bit given all copies (they share the symbol's other bits), so
    its best scale is not 1; for one copy it is (the exact LLR). The supremum is the right
    measure because a decoder's decisions on the metric :math:`\prod q^s` do not depend on
    :math:`s`; :math:`s = 1` alone is a lower bound (it was 0.26 dB pessimistic for 64-QAM
    after four copies against the bit-true chain).
    """
    atoms = [_pam_llr_atoms(qm, s) for s in snrs]
    nb, levels, _ = atoms[0][0].shape
    edges = np.arange(-_LLR_CLIP, _LLR_CLIP + _LLR_STEP / 2, _LLR_STEP)
    total = 0.0
    for b in range(nb):
        mix = None
        for x in range(levels):
            dist = None
            for llr, w, _ in atoms:
                v = np.clip(llr[b, x], -_LLR_CLIP, _LLR_CLIP)
                h = np.zeros(edges.shape[0])
                pos = (v + _LLR_CLIP) / _LLR_STEP
                lo = np.floor(pos).astype(np.int64).clip(0, edges.shape[0] - 2)
                frac = pos - lo
                np.add.at(h, lo, w * (1 - frac))
                np.add.at(h, lo + 1, w * frac)
                dist = h if dist is None else np.clip(fftconvolve(dist, h), 0.0, None)
            dist = dist / dist.sum()
            mix = dist if mix is None else mix + dist
        f = mix / levels
        grid = -len(snrs) * _LLR_CLIP + _LLR_STEP * np.arange(f.shape[0])
        keep = f > 0
        f, grid = f[keep], grid[keep]
        best = minimize_scalar(lambda a, f=f, g=grid: float(np.sum(f * np.logaddexp(0.0, -a * g))),
                               bounds=(0.2, 5.0), method="bounded", options={"xatol": 1e-4})
        total += 1.0 - min(float(best.fun), float(np.sum(f * np.logaddexp(0.0, -grid)))) / math.log(2)
    return 2.0 * total


def _chase_effective_snr_db(qm: int, s: np.ndarray) -> float:
    """LLR-domain Chase combining mapped onto one copy by equal BICM mutual information."""
    if qm == 2:  # QPSK: bit LLRs are sufficient statistics, LLR addition is MRC
        return float(10.0 * np.log10(np.sum(np.power(10.0, s / 10.0))))
    key = tuple(float(round(v, 2)) for v in sorted(s.tolist()))
    one = _chase_gmi(qm, (key[-1],))
    # the binning's small bias cancels between the n-copy and one-copy evaluations
    gmi = _chase_gmi(qm, key) * float(bicm_mutual_information(qm, key[-1])) / max(one, 1e-12)
    return float(inverse_bicm_mutual_information(qm, gmi))


def _ir_sig2(copies: tuple[tuple[float, int, int], ...], layout: tuple[int, tuple[int, ...]],
             shift_db: float) -> np.ndarray:
    """Channel LLR variance ``[N_cb]`` of every circular-buffer position after the IR copies
    ``(snr_db, Q_m, E)`` in the order sent, every SNR shifted by ``shift_db`` (copy ``i`` is
    redundancy version ``IR_RV_SEQUENCE[i]``; its ``p``-th bit on PAM level
    ``floor(p Q_m / E) // 2``; ``-inf``: erased, nothing received)."""
    n_cb, starts = layout
    sig2 = np.zeros(n_cb)
    for i, (s, qm, e) in enumerate(copies):
        if np.isneginf(s):
            continue
        offs = np.arange(e)
        level = (offs * qm) // e // 2
        sig = _level_sigma(qm, np.array(s + shift_db))  # [qm/2]
        pos = (starts[IR_RV_SEQUENCE[i % len(IR_RV_SEQUENCE)]] + offs) % n_cb
        np.add.at(sig2, pos, sig[level] ** 2)
    return sig2


@functools.lru_cache(maxsize=4096)
def _ir_threshold_db(k: int, copies: tuple[tuple[float, int, int], ...]) -> float:
    """Common SNR shift (dB) at which the IR copies reach the code's PEXIT threshold
    (information-bit error rate ``0.1 / k`` after the decoder's 20 iterations)."""
    _, qm, e = copies[0]
    layout = _buffer_layout(k, e, qm)
    return decoding_threshold_db(code_graph(k, e), lambda t: _ir_sig2(copies, layout, t),
                                 lo_db=-40.0, hi_db=40.0, target=0.1 / k)


def _ir_effective_snr_db(copies: list[tuple[float, int, int]], k: int) -> float:
    """One-copy SNR (first copy's modulation and length, RV 0) as far from the code's PEXIT
    threshold as the IR copies: :math:`t_1 - t_n`."""
    key = tuple((float(round(s, 3)), int(q), int(e)) for s, q, e in copies)
    t_n = _ir_threshold_db(int(k), key)
    t_1 = _ir_threshold_db(int(k), ((0.0, key[0][1], key[0][2]),))
    return float(t_1 - t_n)


def combined_snr_db(
    kind: str,
    qm: int,
    snr_db: np.ndarray,
    rate: float = 0.0,
    cb_bits: int = 0,
    *,
    coded_bits: int | None = None,
    copy_qm: list[int] | None = None,
    copy_coded_bits: list[int] | None = None,
) -> float:
    """Effective SNR (dB) of the copies of one code block received at ``snr_db [n]``.

    Input:
        kind: HARQ type; ``none``/``arq`` use the last copy only.
        qm: modulation order :math:`Q_m` (2, 4, 6, 8) of the first transmission.
        snr_db: float ``[n]`` — the SNR (dB) of every transmission of the block, in the order
            sent; ``-inf`` marks an erased transmission (it advances the redundancy version and
            contributes nothing).
        rate: code rate :math:`R` of the first transmission (IR).
        cb_bits: information bits :math:`K` per code block (IR).
        coded_bits: coded bits :math:`E` per code block of the first transmission (IR; default
            :func:`coded_bits_per_block`).
        copy_qm / copy_coded_bits: ``int [n]`` — IR only: a retransmission that re-picked its
            modulation (same transport block, TS 38.214 Sec. 5.1.3.1) sends :math:`E_i` bits on
            :math:`Q_{m,i}`; default: every copy like the first.

    Output:
        float — the SNR (dB) at which one copy of the first transmission's MCS has the same
        decoding margin; ``-inf`` when no copy was received.
    """
    s = np.asarray(snr_db, dtype=np.float64).reshape(-1)
    if s.size == 0:
        raise ValueError("snr_db: at least one transmission")
    if kind in ("none", "arq"):
        return float(s[-1])
    if kind not in ("chase", "ir"):
        raise ValueError(f"harq.type: must be one of {HARQ_TYPES}, got {kind!r}")
    got = s[~np.isneginf(s)]
    if got.size == 0:
        return float("-inf")
    if kind == "chase":
        if copy_qm is not None and any(int(q) != int(qm) for q in copy_qm):
            raise ValueError("copy_qm: Chase combining needs every copy on the same modulation")
        return float(got[0]) if got.size == 1 else _chase_effective_snr_db(int(qm), got)
    if not (rate > 0 and cb_bits > 0):
        raise ValueError("combined_snr_db: IR needs rate and cb_bits")
    e0 = coded_bits_per_block(cb_bits, rate, qm) if coded_bits is None else int(coded_bits)
    qms = [int(qm)] * s.size if copy_qm is None else [int(q) for q in copy_qm]
    es = [e0] * s.size if copy_coded_bits is None else [int(e) for e in copy_coded_bits]
    if len(qms) != s.size or len(es) != s.size:
        raise ValueError(f"copy_qm / copy_coded_bits: expected {s.size} entries (one per copy)")
    if s.size == 1:
        return float(s[0])
    copies = [(float(v), q, e) for v, q, e in zip(s, qms, es, strict=True)]
    copies[0] = (copies[0][0], int(qm), e0)
    return _ir_effective_snr_db(copies, int(cb_bits))


def harq_attempts(max_attempts: int, harq: HARQConfig | dict | None) -> int:
    """Transmissions per packet the simulator allows: ``harq.max_transmissions`` when a HARQ
    mode other than ``none`` is set, else ``max_attempts`` (``link.max_attempts``)."""
    cfg = HARQConfig.parse(harq)
    return int(max_attempts) if cfg.type == "none" else cfg.transmissions
