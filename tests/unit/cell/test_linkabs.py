"""The cell's link abstraction is the project's NR abstraction: same TBS, thresholds, TB error."""

from __future__ import annotations

import numpy as np
import pytest

from commsldr.cell import CellConfig
from commsldr.cell.linkabs import CellLinkAbstraction, transport_block_grid
from commsldr.link.eesm import eesm_beta, effective_sinr_db
from commsldr.link.nr import NRPHY, transport_blocks


@pytest.fixture(scope="module")
def link() -> CellLinkAbstraction:
    return CellLinkAbstraction(CellConfig(num_prb=6, slots_per_frame=2), 12)


@pytest.mark.parametrize("units", [1, 7])
def test_tbs_grid_equals_project_transport_blocks(units: int) -> None:
    tbs, cbs, ncb = transport_block_grid(1, np.array([units * 144]))
    ref = transport_blocks(0, 1, units * 144)
    for got, want in zip((tbs, cbs, ncb), ref, strict=True):
        np.testing.assert_array_equal(got[0], want)


def test_illa_and_tb_error_equal_nrphy(link: CellLinkAbstraction) -> None:
    units = 5
    phy = NRPHY(num_allocated_re=units * 144, fit_packet=False)
    np.testing.assert_allclose(link.threshold_db[units], phy.threshold_snr_db)
    snr = np.linspace(-8, 30, 77)
    eff = np.repeat(snr[:, None], 29, axis=1)
    mcs = link.select_mcs(eff, np.full(snr.size, units), np.zeros(snr.size))
    np.testing.assert_array_equal(mcs, phy._illa(snr))
    tb = link.tb_error_rate(mcs, np.full(snr.size, units), snr)
    want = np.where(mcs >= 0, np.minimum(phy.tbler(mcs, snr), 1.0), 1.0)
    np.testing.assert_allclose(tb, want, rtol=1e-12)
    np.testing.assert_array_equal(link.tbs_bits(mcs, np.full(snr.size, units)),
                                  np.where(mcs >= 0, phy.tbs_bits[np.maximum(mcs, 0)], 0))


def test_eesm_of_equal_sinrs_is_that_sinr_and_below_the_mean(link: CellLinkAbstraction) -> None:
    rng = np.random.default_rng(0)
    g = 10 ** (rng.uniform(-5, 25, size=(50, 1)) / 10)
    equal = np.exp(-np.repeat(g, 8, 1)[:, :, None] / link.betas).sum(1)
    eff = link.effective_sinr_db(equal, np.full(50, 8))
    np.testing.assert_allclose(eff, np.repeat(10 * np.log10(g), 29, 1), atol=1e-9)
    spread = 10 ** (rng.uniform(-5, 25, size=(50, 8)) / 10)
    eff = link.effective_sinr_db(np.exp(-spread[:, :, None] / link.betas).sum(1), np.full(50, 8))
    assert np.all(eff <= 10 * np.log10(spread.mean(1))[:, None] + 1e-9)
    assert np.all(eff >= 10 * np.log10(spread.min(1))[:, None] - 1e-9)


def test_olla_rule_settles_at_the_target(link: CellLinkAbstraction) -> None:
    """Offsets move +d on NACK, -d t/(1-t) on ACK: zero drift at the target error rate."""
    off = np.zeros(3)
    off = link.olla_update(off, np.array([True, True, False]), np.array([True, False, False]))
    d = link.olla_delta_up_db
    np.testing.assert_allclose(off, [-d * 0.1 / 0.9, d, 0.0])


def test_running_sums_give_the_link_eesm(link: CellLinkAbstraction) -> None:
    """One EESM in the code base: the cell's running sums map to link.eesm's value, MCS by MCS."""
    rng = np.random.default_rng(1)
    sinr_db = rng.uniform(-5, 25, size=(20, 9))
    sums = np.exp(-(10 ** (sinr_db / 10))[:, :, None] / link.betas).sum(1)
    got = link.effective_sinr_db(sums, np.full(20, 9))
    beta = eesm_beta(1)
    want = effective_sinr_db(sinr_db[:, None, :], beta[None, :])  # [20, 29]
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_default_eesm_beta_is_the_links() -> None:
    np.testing.assert_array_equal(
        CellLinkAbstraction(CellConfig(num_prb=2, slots_per_frame=1), 2).betas[
            CellLinkAbstraction(CellConfig(num_prb=2, slots_per_frame=1), 2).beta_index],
        eesm_beta(1))
    with pytest.raises(ValueError, match="29 values"):
        CellLinkAbstraction(CellConfig(num_prb=2, slots_per_frame=1), 2, eesm_beta=np.ones(5))
