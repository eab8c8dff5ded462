"""Scenarios: a YAML study → validated dataclasses → a run directory of results and figures.

- :mod:`commsldr.scenario.schema` — the dataclasses (every key, type, default, allowed values);
- :mod:`commsldr.scenario.load` — YAML, ``--set`` overrides, validation, sweep expansion;
- :mod:`commsldr.scenario.runner` — model → operating-point table → simulations → files.
"""

from commsldr.scenario.load import (
    LoadedScenario,
    SweepPoint,
    list_scenarios,
    load_scenario,
    parse_override,
    resolve_pretrained,
    scenario_path,
    set_dotted,
)
from commsldr.scenario.schema import (
    AnalogConfig,
    ChannelConfig,
    CodingConfig,
    CSIConfig,
    DataConfig,
    LinkConfig,
    ModelConfig,
    OutputConfig,
    PolicyConfig,
    Scenario,
    ScenarioError,
    reference_markdown,
)

__all__ = [
    "Scenario",
    "ScenarioError",
    "DataConfig",
    "ModelConfig",
    "CodingConfig",
    "ChannelConfig",
    "LinkConfig",
    "CSIConfig",
    "PolicyConfig",
    "AnalogConfig",
    "OutputConfig",
    "LoadedScenario",
    "SweepPoint",
    "load_scenario",
    "parse_override",
    "set_dotted",
    "list_scenarios",
    "scenario_path",
    "resolve_pretrained",
    "reference_markdown",
]
