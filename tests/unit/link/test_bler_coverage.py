"""The BLER curves are not extrapolated beyond Sionna's tables: above the highest tabulated SNR
the BLER is held at its value there, and link adaptation never relies on what the table lacks."""

from __future__ import annotations

import numpy as np
import pytest

from commsldr.link import NRPHY
from commsldr.link.bler import SUPPORTED_TABLES, _raw_table, bler_model


@pytest.mark.parametrize("category, table", sorted(SUPPORTED_TABLES))
def test_curves_stop_at_the_table(category, table):
    model = bler_model(category, table)
    raw = _raw_table(category, table)
    short = 0
    for m, (cbs, snr, bler) in raw.items():
        top = float(snr.max())
        assert model.snr_max_db[m] == top
        for j, k in enumerate(cbs):
            floor = float(model.bler_floor(m, k))
            beyond = model.bler(m, k, np.array([top, top + 3.0, top + 30.0]))
            np.testing.assert_allclose(beyond, floor, rtol=0, atol=0)
            if floor > 1e-3:  # the table does not reach 1e-3: refuse to claim it
                short += 1
                assert np.isinf(model.snr_at_bler(m, k, 1e-3))
                assert bler[j][-1] > 0  # and the table indeed shows errors at its top SNR
            else:
                assert model.snr_at_bler(m, k, 1e-3) <= top
            # a target the curve reaches inside the table is found there
            assert model.snr_at_bler(m, k, (1.0 + max(floor, 1e-3)) / 2) <= top
    assert short < len(raw) * len(model.cbs)


def test_link_adaptation_skips_mcs_the_table_does_not_back():
    phy = NRPHY(num_allocated_re=12 * 156, mcs_category=1, mcs_table_index=2)
    top = phy._bler.snr_max_db
    per_block = 1 - (1 - phy.bler_target) ** (1 / np.maximum(phy.num_cb, 1))
    for m in np.flatnonzero(phy.mcs_valid):
        floor = float(phy._bler.bler_floor(m, phy.cb_size[m]))
        assert np.isinf(phy.threshold_snr_db[m]) == (floor > per_block[m])
        assert phy.threshold_snr_db[m] <= top[m] or np.isinf(phy.threshold_snr_db[m])
    snr = np.linspace(-5, 60, 400)
    mcs = phy._illa(snr)
    used = mcs >= 0
    assert np.all(phy.tbler(mcs[used], snr[used]) <= phy.bler_target + 1e-12)
