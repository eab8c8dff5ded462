"""Checks of a scenario's ``cell:`` section, before any work: each bad value is one
``ScenarioError`` naming its ``cell.*`` key (the section that runs the cell is
:mod:`commsldr.scenario.cell_section`)."""

from __future__ import annotations

from commsldr.cell import CellConfig, CellConfigError
from commsldr.cell.schedulers import check_scheduler
from commsldr.scenario.schema import Scenario, ScenarioError

__all__ = ["cell_config", "check_cell"]

#: keys of CellConfig that the section's own lists set
_RESERVED = {"num_sensors": "cell.sensors", "scheduler": "cell.schedulers",
             "scheduler_params": "cell.scheduler_params", "num_frames": "cell.frames"}


def cell_config(sc: Scenario, num_sensors: int, scheduler: str) -> CellConfig:
    """The :class:`~commsldr.cell.CellConfig` of one cell job (raises ``ScenarioError`` naming
    the ``cell.*`` key of a bad value)."""
    cell = sc.cell
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


def check_cell(sc: Scenario) -> None:
    """Validate the ``cell`` section before any work (one ``ScenarioError`` naming the key)."""
    cell = sc.cell
    if not cell.sensors:
        return
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
        if label not in sc.policies:
            raise ScenarioError(f"cell.policies[{i}]", f"{label!r} is not a label of policies; "
                                f"labels: {', '.join(sc.policies)}")
    for name in cell.schedulers:
        for n in cell.sensors:
            cell_config(sc, n, name)
