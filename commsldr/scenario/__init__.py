"""Scenarios: a YAML study → validated dataclasses → a run directory of results and figures.

- :mod:`commsldr.scenario.schema` — the dataclasses (every key, type, default, allowed values);
- :mod:`commsldr.scenario.load` — YAML, ``--set`` overrides, validation, sweep expansion (its
  steps: :mod:`~commsldr.scenario.files`, :mod:`~commsldr.scenario.build`,
  :mod:`~commsldr.scenario.checks`);
- :mod:`commsldr.scenario.plan` — the typed run plan: assets, jobs (kinds registered by name) and
  sections (:mod:`~commsldr.scenario.sections`: every scheme; plug-ins add their own), with the
  result schema :class:`~commsldr.scenario.rows.Row`;
- :mod:`commsldr.scenario.runner` — assets (model, tables, schemes) → jobs through a backend
  (:mod:`~commsldr.scenario.backends`, rows in ``jobs.jsonl``) → sections' rows → files.
"""

# the built-in ``cell`` job kind and section register themselves on import; here, the package's
# face, so that the main process and every worker (which imports this package to run a job)
# know them, and no module below imports the section back
import commsldr.scenario.cell_section  # noqa: F401, I001
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
