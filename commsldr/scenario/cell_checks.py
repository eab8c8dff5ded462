"""Checks of a scenario's ``cell:`` section, before any work: each bad value is one
``ScenarioError`` naming its ``cell.*`` key (the section that runs the cell is
:mod:`commsldr.scenario.cell_section`).

The whole section is checked whatever ``cell.sensors`` holds: an empty list means "no cell"
(the default, and how a scenario that ``extends`` a cell scenario switches its cell off), but a
scheduler, parameter, policy label or setting that could never run is still an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from commsldr.cell import CellConfig, CellConfigError
from commsldr.cell.schedulers import check_scheduler
from commsldr.scenario.schema import CellSection, Scenario, ScenarioError

__all__ = ["cell_config", "check_cell", "check_cell_section"]

#: keys of CellConfig that the section's own lists set
_RESERVED = {"num_sensors": "cell.sensors", "scheduler": "cell.schedulers",
             "scheduler_params": "cell.scheduler_params", "num_frames": "cell.frames"}


def _config(cell: CellSection, num_sensors: int, scheduler: str) -> CellConfig:
    for key, instead in _RESERVED.items():
        if key in cell.settings:
            raise ScenarioError(f"cell.settings.{key}", f"set it as {instead} instead")
    values = {**cell.settings, "num_sensors": num_sensors, "scheduler": scheduler,
              "scheduler_params": dict(cell.scheduler_params.get(scheduler, {})),
              "num_frames": cell.frames}
    try:
        return CellConfig.from_dict(values)
    except CellConfigError as err:
        key = {"num_sensors": "cell.sensors", "scheduler": "cell.schedulers",
               "scheduler_params": f"cell.scheduler_params.{scheduler}",
               "num_frames": "cell.frames"}.get(err.key, f"cell.settings.{err.key}")
        raise ScenarioError(key, err.message) from None


def cell_config(sc: Scenario, num_sensors: int, scheduler: str) -> CellConfig:
    """The :class:`~commsldr.cell.CellConfig` of one cell job (raises ``ScenarioError`` naming
    the ``cell.*`` key of a bad value)."""
    return _config(sc.cell, num_sensors, scheduler)


def check_cell_section(cell: CellSection, policy_labels: Iterable[str]) -> None:
    """Validate a ``cell`` section against the scenario's policy labels (one ``ScenarioError``
    naming the key); with no ``sensors`` the settings are checked for one sensor."""
    labels = list(policy_labels)
    if len(set(cell.sensors)) != len(cell.sensors):
        raise ScenarioError("cell.sensors", f"duplicate entries in {cell.sensors}")
    if not cell.schedulers:
        raise ScenarioError("cell.schedulers", "needs at least one scheduler")
    for i, name in enumerate(cell.schedulers):
        try:
            check_scheduler(name, {})
        except CellConfigError as err:
            raise ScenarioError(f"cell.schedulers[{i}]", err.message) from None
    for name in cell.scheduler_params:
        if name not in cell.schedulers:
            raise ScenarioError(f"cell.scheduler_params.{name}",
                                f"not in cell.schedulers ({', '.join(cell.schedulers)})")
    for i, label in enumerate(cell.policies):
        if label not in labels:
            raise ScenarioError(f"cell.policies[{i}]", f"{label!r} is not a label of policies; "
                                f"labels: {', '.join(labels)}")
    for name in cell.schedulers:
        for n in cell.sensors or [1]:
            _config(cell, n, name)


def check_cell(sc: Scenario) -> None:
    """Validate the ``cell`` section before any work (one ``ScenarioError`` naming the key),
    also when ``cell.sensors`` is empty (no cell is run then)."""
    check_cell_section(sc.cell, sc.policies)
