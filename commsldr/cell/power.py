r"""Open-loop uplink power control (TS 38.213 Sec. 7.1.1), Sionna's implementation.

.. math::
    P = \min\{P_0 + \alpha\, PL + 10\log_{10} N_{PRB},\ P_{max}\}\quad[\mathrm{dBm}]

split evenly over the ``N_PRB`` allocated PRBs (:func:`sionna.sys.open_loop_uplink_power_control`,
closed-loop terms ignored). ``PL`` is the path loss the sensor measures, shadowing included.
"""

from __future__ import annotations

import torch

from commsldr.cell.config import CellConfig
from commsldr.link.sionna_guard import sionna_phy

__all__ = ["uplink_power_w"]


def uplink_power_w(pathloss_lin: torch.Tensor, num_prb: torch.Tensor,
                   config: CellConfig) -> torch.Tensor:
    """Total transmit power in W of each sensor for its allocation.

    Input:
        pathloss_lin: float64 ``[...]``, path loss (linear, >= 1) to the serving base station.
        num_prb: int ``[...]``, PRBs allocated (0: nothing sent, power 0).
        config: ``p0_dbm``, ``alpha``, ``max_power_dbm``.

    Output:
        float64 ``[...]``, transmit power in W over the whole allocation.
    """
    sionna_phy()  # Sionna imported first with torch's global RNG left as it was
    from sionna.sys import open_loop_uplink_power_control

    return open_loop_uplink_power_control(
        pathloss_lin.to(torch.float64), (12 * num_prb).to(torch.int64), alpha=config.alpha,
        p0_dbm=config.p0_dbm, ut_max_power_dbm=config.max_power_dbm, precision="double")
