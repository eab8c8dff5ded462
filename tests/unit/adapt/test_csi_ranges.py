"""CSI models and the outage-aware policy keep their parameters in documented ranges, and the
ACK/NACK estimate stays finite however long the loop runs (no overflow on a clean channel)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.adapt import create_csi_model, create_policy
from commsldr.adapt.csi import MAX_ERROR_DB, MAX_ESTIMATE_DB
from commsldr.adapt.policies import MAX_QUADRATURE_POINTS
from commsldr_channels import LinkState


@pytest.mark.parametrize("name, param", [("noisy", "std_db"), ("ack-nack", "step_db")])
def test_csi_parameters_hold_their_range_at_both_ends(name, param):
    create_csi_model(name, **{param: MAX_ERROR_DB})
    for bad in (MAX_ERROR_DB * 1.01, 9e14, 1e308):
        with pytest.raises(ValueError, match=rf"^{param} must be a number in .*{MAX_ERROR_DB:g}"):
            create_csi_model(name, **{param: bad})


def test_outage_aware_quadrature_points_hold_their_range():
    """9e14 nodes ended in a bare 'out of memory' naming no key."""
    create_policy("outage-aware", quadrature_points=MAX_QUADRATURE_POINTS)
    with pytest.raises(ValueError, match=r"^quadrature_points must be an integer in"):
        create_policy("outage-aware", quadrature_points=MAX_QUADRATURE_POINTS + 1)


@pytest.mark.parametrize("step_db, target", [(1.0, 0.1), (MAX_ERROR_DB, 0.5),
                                             (MAX_ERROR_DB, 1.0 - 1e-15)])
def test_ack_nack_estimate_stays_finite_under_endless_acks(step_db, target):
    """Every packet arrives (a clean channel): the estimate rises by step·t/(1−t) dB per ACK
    (exact while below the cap) and reaches the policy as at most 10^(MAX_ESTIMATE_DB/10) bits
    instead of overflowing (ack-nack on 40 dB AWGN over 40000 frames was an internal error)."""
    m = create_csi_model("ack-nack", step_db=step_db, target_loss=target)
    m.reset(LinkState(capacity_bits=torch.full((1,), 1e3)), np.random.default_rng(0))
    up = step_db * target / (1 - target)
    m.feedback(True, 1000.0)  # anchors at 30 dB, then rises
    assert m.observe(1).capacity_bits == pytest.approx(
        10 ** (min(30.0 + up, MAX_ESTIMATE_DB) / 10), rel=1e-9)
    n = int(math.ceil((MAX_ESTIMATE_DB - 30.0) / up)) + 50
    for t in range(n):
        m.feedback(True, 1000.0)
        assert math.isfinite(m.observe(t).capacity_bits)
    assert m.observe(n).capacity_bits == pytest.approx(10 ** (MAX_ESTIMATE_DB / 10), rel=1e-12)
