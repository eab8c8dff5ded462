"""The NR allocation (PRBs x symbols, DMRS, 156-RE cap, layers) against Sionna's PUSCHConfig,
the configurations 3GPP forbids, and EESM over per-PRB SINRs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.link import NRPHY
from commsldr.link.allocation import Allocation, AllocationError
from commsldr.link.bler import mcs_parameters
from commsldr.link.eesm import eesm_beta, effective_sinr_db
from commsldr.link.nr import transport_blocks
from commsldr_channels.tdl import effective_snr

_CONFIGS = [  # CP-OFDM PUSCH: (num_prb, num_symbols, dmrs_symbols, dmrs_re_per_symbol, layers)
    (1, 14, 1, 6, 1), (5, 14, 1, 6, 1), (3, 7, 1, 6, 1), (24, 14, 2, 12, 1), (10, 14, 2, 12, 2),
    (51, 12, 3, 6, 1), (7, 10, 2, 6, 4), (100, 14, 4, 12, 2),
]


@pytest.mark.parametrize("prb, sym, dmrs, dre, layers", _CONFIGS)
def test_tbs_and_coded_bits_equal_sionna_pusch_config(prb, sym, dmrs, dre, layers):
    """Sionna's PUSCHConfig (its own DMRS grid, 156-RE cap and TBS of TS 38.214) gives the
    same coded bits and transport block size as the allocation's N_RE for every MCS."""
    a = Allocation(num_prb=prb, num_symbols=sym, dmrs_symbols=dmrs, dmrs_re_per_symbol=dre,
                   num_layers=layers, transform_precoding=False)
    assert a.re_per_prb == min(156, 12 * sym - dmrs * dre) and a.mcs_category == 1
    qm, _ = mcs_parameters(1, 1)
    tbs, _, _ = transport_blocks(1, 1, a.num_re_all_layers)
    for mcs in (0, 9, 16, 27):
        pc = a.pusch_config(mcs)
        assert int(pc.num_coded_bits) == qm[mcs] * a.num_data_re * layers  # no cap here

        assert int(pc.tb_size) == tbs[mcs], (mcs, int(pc.tb_size), tbs[mcs])


def test_the_156_re_cap_and_transform_precoding_default():
    a = Allocation(num_prb=10, num_symbols=14, dmrs_symbols=1, dmrs_re_per_symbol=6)
    assert 12 * 14 - 6 == 162 and a.re_per_prb == 156 and a.num_re == 1560
    assert a.uses_transform_precoding and a.mcs_category == 0
    two = Allocation(num_prb=10, num_layers=2)
    assert not two.uses_transform_precoding and two.mcs_category == 1  # CP-OFDM for 2 layers
    assert Allocation(link="pdsch").mcs_category == 1


@pytest.mark.parametrize("fields, key", [
    ({"num_layers": 2, "transform_precoding": True}, "allocation.transform_precoding"),
    ({"link": "pdsch", "transform_precoding": True}, "allocation.transform_precoding"),
    ({"num_prb": 0}, "allocation.num_prb"), ({"num_prb": 276}, "allocation.num_prb"),
    ({"num_layers": 5}, "allocation.num_layers"), ({"num_symbols": 2, "dmrs_symbols": 2}, "allocation.dmrs_symbols"),
    ({"dmrs_re_per_symbol": 5}, "allocation.dmrs_re_per_symbol"),
    ({"overhead_re_per_prb": 3}, "allocation.overhead_re_per_prb"), ({"link": "pucch"}, "allocation.link"),
    ({"prbs": 4}, "allocation"),
])
def test_allocation_refuses_what_3gpp_forbids(fields, key):
    with pytest.raises(AllocationError, match=f"^{key}: "):
        Allocation.parse(fields)


def test_nrphy_takes_the_allocation():
    one = NRPHY(allocation={"num_prb": 24, "num_symbols": 14, "dmrs_symbols": 2})
    assert one.num_allocated_re == 3456 and one.mcs_category == 0
    two = NRPHY(allocation={"num_prb": 24, "num_layers": 2})
    assert two.num_allocated_re == 2 * 3456 and two.mcs_category == 1
    m = 16
    assert two.tbs_bits[m] >= 1.9 * NRPHY(allocation={"num_prb": 24, "transform_precoding": False}).tbs_bits[m]
    with pytest.raises(AllocationError, match="^mcs_table_index: "):
        NRPHY(allocation={"num_prb": 24, "num_layers": 2}, mcs_table_index=3)
    with pytest.raises(AllocationError, match="^mcs_category: "):
        NRPHY(allocation={"num_prb": 24, "num_layers": 2}, mcs_category=0)


def test_eesm_closed_forms():
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 25, size=(6, 24))
    for beta in (0.5, 3.0, 40.0):
        eff = effective_sinr_db(x, beta)
        ref = 10 * np.log10(effective_snr(torch.as_tensor(10 ** (x / 10)), "eesm", beta).numpy())
        np.testing.assert_allclose(eff, ref, atol=1e-9)
        lin = 10 ** (x / 10)
        assert np.all(eff <= 10 * np.log10(lin.mean(1)) + 1e-9) and np.all(eff >= x.min(1) - 1e-9)
    np.testing.assert_allclose(effective_sinr_db(np.full((3, 8), 7.0), 2.0), 7.0)
    half = np.where(np.arange(24) < 12, x[0], np.nan)
    assert effective_sinr_db(half, 2.0) == pytest.approx(effective_sinr_db(x[0, :12], 2.0))
    beta = eesm_beta(1)
    assert beta.shape == (29,) and np.all(np.diff(beta[np.isfinite(beta)][:10]) >= 0)
    with pytest.raises(ValueError, match="^mcs_table_index"):
        eesm_beta(3)


def test_prb_abstraction_is_the_flat_abstraction_on_flat_sinr_and_vectorised():
    phy = NRPHY(allocation={"num_prb": 24})
    snr = np.arange(-4.05, 24.0, 1.0)
    flat = np.repeat(snr[:, None], 24, axis=1)
    res = phy.abstract_prb_sinr(flat)
    np.testing.assert_array_equal(res.mcs_index, phy._illa(snr))
    used = res.mcs_index >= 0
    np.testing.assert_allclose(res.tbler[used], phy.tbler(res.mcs_index[used], snr[used]), rtol=1e-9)
    np.testing.assert_array_equal(res.tbs_bits, phy.capacity_bits(snr))
    # a frequency-selective user gets less than its mean SNR promises, more than its worst PRB
    sel = np.where(np.arange(24) % 2 == 0, 18.0, 2.0)
    mean_db = 10 * np.log10(np.mean(10 ** (sel / 10)))
    r = phy.abstract_prb_sinr(sel[None, :])
    assert phy._illa(np.array([2.0]))[0] <= r.mcs_index[0] < phy._illa(np.array([mean_db]))[0]
    # one call for many users equals one call per user; unallocated PRBs shrink the TBS
    users = np.vstack([flat[10], sel, np.where(np.arange(24) < 12, flat[15], np.nan)])
    many = phy.abstract_prb_sinr(users)
    for u in range(3):
        one = phy.abstract_prb_sinr(users[u : u + 1])
        assert many.mcs_index[u] == one.mcs_index[0] and many.tbs_bits[u] == one.tbs_bits[0]
    tbs12, _, _ = transport_blocks(0, 1, 12 * phy.allocation.re_per_prb)
    assert many.tbs_bits[2] == tbs12[many.mcs_index[2]]
    fixed = phy.abstract_prb_sinr(users, mcs_index=np.array([5, 5, 5]))
    assert np.all(fixed.mcs_index == 5)


def test_prb_abstraction_takes_its_own_beta():
    """EESM grows with beta (towards the mean SINR), so a larger beta never lowers the MCS of
    a frequency-selective user; a wrong beta table is refused."""
    phy = NRPHY(allocation={"num_prb": 24})
    rng = np.random.default_rng(3)
    users = rng.uniform(-2, 22, size=(40, 24))
    small = phy.abstract_prb_sinr(users, beta=np.full(29, 1.0))
    large = phy.abstract_prb_sinr(users, beta=np.full(29, 50.0))
    assert np.all(large.mcs_index >= small.mcs_index) and np.any(large.mcs_index > small.mcs_index)
    with pytest.raises(ValueError, match="^beta"):
        phy.abstract_prb_sinr(users, beta=np.ones(5))
