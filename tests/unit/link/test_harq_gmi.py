"""Chase combining's generalized mutual information (best LLR scale) against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from commsldr.link.bitmi import bicm_mutual_information
from commsldr.link.harq import _chase_gmi, combined_snr_db


@pytest.mark.parametrize("qm, snr", [(4, 0.0), (4, 8.0), (6, 6.0), (6, 14.0)])
def test_one_copy_gmi_is_the_bicm_mutual_information(qm, snr):
    """An exact LLR is best used as it is: the supremum over the scale of one copy is the BICM
    MI (up to the LLR histogram's binning)."""
    assert _chase_gmi(qm, (snr,)) == pytest.approx(float(bicm_mutual_information(qm, snr)), abs=0.01)


@pytest.mark.parametrize("qm, snr", [(4, 2.0), (6, 10.0)])
def test_two_copies_gain_but_less_than_mrc(qm, snr):
    """Two copies carry more than one, and the effective SNR stays below maximum-ratio
    combining (+3.01 dB): summed LLRs forget that the copies share their symbol."""
    g2 = _chase_gmi(qm, (snr, snr))
    assert g2 > _chase_gmi(qm, (snr,))
    eff = combined_snr_db("chase", qm, np.array([snr, snr]))
    assert snr < eff < snr + 10 * math.log10(2)
