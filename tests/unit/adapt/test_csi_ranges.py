"""CSI models and the outage-aware policy keep their parameters in documented ranges, and the
ACK/NACK estimate stays finite however long the loop runs (no overflow on a clean channel)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from commsldr_channels import LinkState

from commsldr.adapt import create_csi_model, create_policy
from commsldr.adapt.csi import ACK_NACK_MAX_DB, MAX_CSI_STD_DB, MAX_STEP_DB
from commsldr.adapt.policies import MAX_QUADRATURE_POINTS


@pytest.mark.parametrize("name, param, hi", [("noisy", "std_db", MAX_CSI_STD_DB),
                                             ("ack-nack", "step_db", MAX_STEP_DB)])
def test_csi_parameters_hold_their_range_at_both_ends(name, param, hi):
    create_csi_model(name, **{param: hi})
    for bad in (hi * 1.01, 9e14, 1e308):
        with pytest.raises(ValueError, match=rf"^{param} must be a number in .*{hi:g}"):
            create_csi_model(name, **{param: bad})


def test_outage_aware_parameters_hold_their_range():
    create_policy("outage-aware", snr_std_db=MAX_CSI_STD_DB, quadrature_points=MAX_QUADRATURE_POINTS)
    for bad in (MAX_CSI_STD_DB * 1.01, 9e14):
        with pytest.raises(ValueError, match=r"^snr_std_db must be a number in"):
            create_policy("outage-aware", snr_std_db=bad)
    with pytest.raises(ValueError, match=r"^quadrature_points must be an integer in"):
        create_policy("outage-aware", quadrature_points=MAX_QUADRATURE_POINTS + 1)


@pytest.mark.parametrize("step_db, target", [(1.0, 0.1), (MAX_STEP_DB, 0.5),
                                             (MAX_STEP_DB, 1.0 - 1e-15)])
def test_ack_nack_estimate_stays_finite_under_endless_acks(step_db, target):
    """Every packet arrives (a clean channel): the estimate rises by step·t/(1−t) dB per ACK,
    and stops at ACK_NACK_MAX_DB instead of overflowing 10**(est/10) (a float tops at 3e308).
    The climb up to the cap is exact: est = 10·log10(first packet) + n·step·t/(1−t)."""
    m = create_csi_model("ack-nack", step_db=step_db, target_loss=target)
    m.reset(LinkState(capacity_bits=torch.full((1,), 1e3)), np.random.default_rng(0))
    up = step_db * target / (1 - target)
    n = int(math.ceil((ACK_NACK_MAX_DB - 30.0) / up)) + 50
    m.feedback(True, 1000.0)  # anchors at 30 dB, then rises
    assert m.observe(1).capacity_bits == pytest.approx(
        10 ** (min(30.0 + up, ACK_NACK_MAX_DB) / 10), rel=1e-9)
    for t in range(n):
        m.feedback(True, 1000.0)
        assert math.isfinite(m.observe(t).capacity_bits)
    assert m.observe(n).capacity_bits == pytest.approx(10 ** (ACK_NACK_MAX_DB / 10), rel=1e-12)
    m.feedback(False, 1000.0)  # one NACK steps down from the cap
    assert m.observe(n + 1).capacity_bits == pytest.approx(
        10 ** ((ACK_NACK_MAX_DB - step_db) / 10), rel=1e-9)
