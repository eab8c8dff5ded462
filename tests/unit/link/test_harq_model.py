"""The HARQ abstraction's building blocks against closed forms, and its combining rules'
properties (Chase <= MRC, erased copies ignored, IR ahead of Chase)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from commsldr.link.bitmi import (
    bi_awgn_dispersion,
    bicm_mutual_information,
    bit_level_mutual_information,
    inverse_j_function,
    j_function,
)
from commsldr.link.bler import bler_model, mcs_parameters
from commsldr.link.harq import combined_snr_db


def test_qpsk_bit_level_mi_is_the_j_function_of_its_llr():
    """QPSK bit: a BPSK with LLR ~ N(2 rho, 4 rho), so I = J(2 sqrt(rho)); the QAM symbol carries
    twice the sum of its PAM levels."""
    snr = np.linspace(-15, 20, 36)
    rho = 10 ** (snr / 10)
    np.testing.assert_allclose(bit_level_mutual_information(2, snr)[:, 0], j_function(2 * np.sqrt(rho)),
                               atol=2e-3)
    for qm in (2, 4, 6):
        np.testing.assert_allclose(2 * bit_level_mutual_information(qm, snr).sum(-1),
                                   bicm_mutual_information(qm, snr), atol=1e-9)
    sig = np.array([0.0, 0.5, 2.0, 5.0, 12.0])
    np.testing.assert_allclose(inverse_j_function(j_function(sig)), sig, atol=1e-3)
    assert j_function(np.array(0.0)) == pytest.approx(0.0, abs=1e-9) and j_function(np.array(40.0)) > 0.999999
    assert bi_awgn_dispersion(np.array(0.0)) == pytest.approx(0.0, abs=1e-9)
    assert np.all(bit_level_mutual_information(4, np.array(-np.inf)) == 0.0)


@pytest.mark.parametrize("qm, snr", [(4, 0.0), (4, 6.0), (6, 8.0), (6, 14.0)])
def test_chase_llr_combining_gains_less_than_mrc(qm, snr):
    mrc = [10 * math.log10(n) for n in (2, 3, 4)]
    gain = [combined_snr_db("chase", qm, [snr] * n) - snr for n in (2, 3, 4)]
    assert all(0.6 * m < g < m for g, m in zip(gain, mrc, strict=True)), gain
    assert gain[0] < gain[1] < gain[2]
    # order-free, and an erased copy contributes nothing
    assert combined_snr_db("chase", qm, [snr, snr - 3]) == pytest.approx(
        combined_snr_db("chase", qm, [snr - 3, snr]))
    assert combined_snr_db("chase", qm, [snr, -np.inf, snr]) == pytest.approx(
        combined_snr_db("chase", qm, [snr, snr]))
    assert combined_snr_db("chase", qm, [-np.inf]) == -np.inf


@pytest.mark.parametrize("mcs", [4, 6, 9, 12, 16, 19, 24])
def test_ir_is_ahead_of_chase_and_grows_with_copies(mcs):
    """In the operating region (each n's copies around the SNR where n Chase copies reach the
    first transmission's BLER-0.1 SNR, +-1 dB) IR gains more than Chase and every copy helps."""
    qm, rate = mcs_parameters(0, 1)
    q, r = int(qm[mcs]), float(rate[mcs])
    s1 = float(bler_model(0, 1).snr_at_bler(mcs, 100, 0.1))
    for n in (2, 3, 4):
        for d in (-1.0, 0.0, 1.0):
            snr = s1 - 10 * math.log10(n) + d
            ir = [combined_snr_db("ir", q, [snr] * i, r, 100) for i in range(1, n + 1)]
            assert ir[0] == snr and np.all(np.diff(ir) > 0), ir
            assert ir[-1] >= combined_snr_db("chase", q, [snr] * n) - 1e-9, (n, d, ir)
    # an erased copy still uses up its redundancy version and adds nothing
    assert combined_snr_db("ir", q, [s1, -np.inf], r, 100) == pytest.approx(s1, abs=0.02)
    assert combined_snr_db("ir", q, [-np.inf, s1 - 3], r, 100) < combined_snr_db("ir", q, [s1 - 3, s1 - 3], r, 100)


def test_ir_copies_on_another_modulation_and_bad_arguments():
    qm, rate = mcs_parameters(0, 1)
    base = combined_snr_db("ir", 2, [0.0, 0.0], float(rate[9]), 100)
    # the same block resent on 16-QAM (half the REs per coded bit: twice the coded bits)
    e = 2 * math.ceil(100 / float(rate[9]) / 2)
    mixed = combined_snr_db("ir", 2, [0.0, 0.0], float(rate[9]), 100, copy_qm=[2, 4],
                            copy_coded_bits=[e, 2 * e])
    assert 0.0 < mixed != base  # the 16-QAM copy adds its own (more, weaker) coded bits
    with pytest.raises(ValueError, match="^copy_qm"):
        combined_snr_db("chase", 2, [0.0, 0.0], copy_qm=[2, 4])
    with pytest.raises(ValueError, match="^copy_qm / copy_coded_bits"):
        combined_snr_db("ir", 2, [0.0, 0.0], 0.5, 100, copy_qm=[2])
    with pytest.raises(ValueError, match="^harq.type"):
        combined_snr_db("soft", 2, [0.0])
