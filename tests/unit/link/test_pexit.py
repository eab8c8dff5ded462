"""Protograph EXIT analysis of the 5G LDPC code (commsldr.link.pexit) against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from commsldr.link.bitmi import bit_level_mutual_information, inverse_j_function
from commsldr.link.pexit import code_graph, decoding_threshold_db, info_bit_error_rate


@pytest.mark.parametrize("k, n", [(100, 126), (100, 334), (1000, 2000)])
def test_graph_geometry_is_sionnas_rate_matching(k, n):
    g = code_graph(k, n)
    # information bits in the buffer: k minus the 2 Z punctured; fillers never in the buffer
    assert int(g.info_of.sum()) == k - 2 * g.z
    assert g.punctured_info == 2 * g.z
    assert int(g.filler_col_bits.sum()) + g.column_of.size + 2 * g.z == g.num_cols * g.z
    assert np.all(np.diff(g.column_of) >= 0) and g.column_of[0] == 2
    assert g.rows.max() + 1 == g.num_rows and g.cols.max() + 1 == g.num_cols


@pytest.mark.parametrize("snr_db", [-3.0, 0.0, 4.0])
def test_no_iteration_is_the_channel_alone(snr_db):
    """With 0 iterations the a-posteriori LLR is the channel's: BER = mean of Q(sigma/2) over
    the information bits, the punctured ones at 1/2."""
    g = code_graph(100, 200)
    rho = 10 ** (snr_db / 10)
    sig2 = np.full(g.column_of.size, 4 * rho)  # BPSK/QPSK bit: sigma^2 = 4 rho
    got = info_bit_error_rate(g, sig2, iterations=0)
    n_info = int(g.info_of.sum())
    want = (n_info * ndtr(-math.sqrt(4 * rho) / 2) + g.punctured_info * 0.5) / (n_info + g.punctured_info)
    assert got == pytest.approx(want, rel=1e-9)


def test_decoding_improves_with_iterations_and_nothing_received_decodes_nothing():
    g = code_graph(100, 200)
    sig2 = np.full(g.column_of.size, 4.0)
    bers = [info_bit_error_rate(g, sig2, iterations=i) for i in (0, 5, 20)]
    assert bers[0] > bers[1] > bers[2]
    assert info_bit_error_rate(g, np.zeros(g.column_of.size), iterations=20) == pytest.approx(0.5)


@pytest.mark.parametrize("k, n", [(100, 152), (100, 230)])
def test_twice_the_llr_variance_is_3_db(k, n):
    """QPSK: sigma^2 = 4 rho exactly (I = J(2 sqrt rho)), so receiving every bit twice (LLR
    variances add) moves the threshold by exactly 10 log10 2."""
    g = code_graph(k, n)
    m = min(n, g.column_of.size)

    def at(t: float, copies: int) -> np.ndarray:
        s = np.zeros(g.column_of.size)
        sig = inverse_j_function(bit_level_mutual_information(2, np.array(t)))[0]
        s[:m] = copies * sig**2
        return s

    one = decoding_threshold_db(g, lambda t: at(t, 1))
    two = decoding_threshold_db(g, lambda t: at(t, 2))
    assert np.isfinite(one) and one - two == pytest.approx(10 * math.log10(2), abs=0.02)


def test_a_higher_rate_needs_more_snr():
    def first_copy(g, n):
        return lambda t: np.where(np.arange(g.column_of.size) < n, inverse_j_function(
            bit_level_mutual_information(2, np.array(t)))[0] ** 2, 0.0)

    thresholds = [decoding_threshold_db(code_graph(100, n), first_copy(code_graph(100, n), n))
                  for n in (334, 230, 152)]
    assert np.all(np.diff(thresholds) > 0.5), thresholds
