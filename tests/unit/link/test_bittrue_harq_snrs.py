"""BitTruePHY.harq_loss_after with one SNR per transmission."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.link import BitTruePHY
from commsldr_channels import create_channel


@pytest.mark.parametrize("kind", ["chase", "ir"])
def test_each_transmission_gets_its_own_snr(kind):
    phy = BitTruePHY(create_channel("awgn"), mcs_index=12, cb_info_bits=100, symbols_per_frame=10_000,
                     harq={"type": kind, "max_transmissions": 2})
    g = torch.Generator().manual_seed(0)
    lost = phy.harq_loss_after(30, [-30.0, 30.0], g)
    assert lost[:, 0].all() and not lost[:, 1].any()  # nothing after the dead copy, all after the good one
    lost = phy.harq_loss_after(30, [30.0, -30.0], g)
    assert not lost.any()
    # one value is every transmission's, as before
    np.testing.assert_array_equal(phy.harq_loss_after(20, 30.0, torch.Generator().manual_seed(1)),
                                  phy.harq_loss_after(20, [30.0, 30.0], torch.Generator().manual_seed(1)))
    with pytest.raises(ValueError, match="^snr_db"):
        phy.harq_loss_after(5, [1.0, 2.0, 3.0], g)
