"""A cell of sensors sharing one OFDMA uplink, on Sionna's system-level blocks.

N sensors dropped in a 3GPP hexagonal topology (:mod:`~commsldr.cell.topology`) send one image
per frame to one base station with M receive antennas; fading varies over slots, neighbouring
cells interfere (:mod:`~commsldr.cell.channel`), open-loop power control sets each sensor's
power (:mod:`~commsldr.cell.power`), a scheduler hands out the PRBs of every slot
(:mod:`~commsldr.cell.schedulers`, registry ``SCHEDULERS``), link adaptation turns each
sensor's PRB-slots of a frame into one transport block on the project's NR abstraction
(:mod:`~commsldr.cell.linkabs`), and each sensor's own adaptation policy picks (k, s) for the
transport block it was given (:mod:`~commsldr.cell.simulator`).

Entry point: :func:`simulate_cell`.
"""

from __future__ import annotations

from commsldr.cell.config import CellConfig, max_prbs
from commsldr.cell.errors import CellConfigError
from commsldr.cell.schedulers import Scheduler, SchedulerContext, create_scheduler, list_schedulers
from commsldr.cell.simulator import (
    CELL_COLUMNS,
    SENSOR_COLUMNS,
    CellResult,
    RadioResult,
    jain_index,
    simulate_cell,
    simulate_radio,
)

__all__ = [
    "CELL_COLUMNS",
    "SENSOR_COLUMNS",
    "CellConfig",
    "CellConfigError",
    "CellResult",
    "RadioResult",
    "Scheduler",
    "SchedulerContext",
    "create_scheduler",
    "jain_index",
    "list_schedulers",
    "max_prbs",
    "simulate_cell",
    "simulate_radio",
]
