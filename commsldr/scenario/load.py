"""Loading a scenario: YAML → ``--set`` overrides → schema → semantic checks → sweep grid.

Everything here is cheap; :func:`load_scenario` raises :class:`ScenarioError` (naming the dotted
key and, where there is a list, the allowed values) before a run does any real work. The steps
live in their own modules, re-exported here: files and overrides (:mod:`commsldr.scenario.files`),
run-time objects (:mod:`commsldr.scenario.build`), checks (:mod:`commsldr.scenario.checks`).
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from commsldr.errors import show
from commsldr.registry import import_plugins
from commsldr.scenario.bounds import check_bounds, check_ranges
from commsldr.scenario.build import (
    channel_params,
    phy_class,
    phy_params,
    scheme_policies,
    train_config,
)
from commsldr.scenario.checks import SAFE_NAME, check_scenario, check_schemes
from commsldr.scenario.compose import compose
from commsldr.scenario.files import (
    MAX_SCENARIO_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    YAMLValue,
    check_finite,
    list_scenarios,
    models_dir,
    parse_override,
    parse_yaml,
    read_yaml,
    resolve_input_paths,
    resolve_model_ref,
    resolve_pretrained,
    scenario_path,
    scenarios_dir,
    set_dotted,
)
from commsldr.scenario.schema import SWEEPABLE, Scenario, ScenarioError, parse_section
from commsldr.trust import check_scenario_plugins

__all__ = [
    "SweepPoint",
    "LoadedScenario",
    "load_scenario",
    "parse_override",
    "set_dotted",
    "list_scenarios",
    "scenario_path",
    "scenarios_dir",
    "resolve_pretrained",
    "resolve_model_ref",
    "models_dir",
    "train_config",
    "phy_class",
    "phy_params",
    "channel_params",
    "scheme_policies",
    "check_scenario",
    "check_schemes",
    "read_yaml",
    "parse_yaml",
    "SAFE_NAME",
    "MAX_SWEEP_POINTS",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "MAX_SCENARIO_BYTES",
    "resolve_input_paths",
]

#: default bound on the sweep grid (``commsldr run --max-sweep-points`` raises it)
MAX_SWEEP_POINTS = 1000


@dataclass(frozen=True)
class SweepPoint:
    """One point of the sweep grid: the swept values and the scenario they produce."""

    values: dict[str, YAMLValue]
    scenario: Scenario


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and its expanded sweep grid (at least one point)."""

    scenario: Scenario
    points: tuple[SweepPoint, ...]
    raw: dict[str, YAMLValue]
    source: Path | None = None


def _kind(value: YAMLValue) -> str:
    """What a YAML value is, in words."""
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------------------------
def _parse(raw: dict[str, YAMLValue]) -> Scenario:
    check_bounds(raw)  # representable numbers first (commsldr.scenario.bounds)
    sc = parse_section(Scenario, raw, "")
    check_ranges(raw)  # then the documented ranges, before any object is built
    check_scenario(sc)
    return sc


def load_scenario(
    source: str | Path | dict[str, YAMLValue],
    overrides: Sequence[str] | Iterable[tuple[str, YAMLValue]] = (),
    *, max_sweep_points: int = MAX_SWEEP_POINTS, allow_plugins: bool = False,
) -> LoadedScenario:
    """Load, override, validate and expand a scenario.

    Args:
        source: a YAML path, the name of a shipped scenario, or an already-parsed mapping.
        overrides: ``"key=value"`` strings (YAML values, dotted keys) or ``(key, value)`` pairs,
            applied in order before validation.
        max_sweep_points: refuse a sweep grid with more points than this (each point is
            validated here and simulated later).
        allow_plugins: import the scenario's ``plugins`` even when they are not on the user's
            allow-list (``--allow-plugins`` also calls :func:`commsldr.trust.allow_code`, which
            lets code-carrying checkpoints such as RL agents load; :mod:`commsldr.trust`).

    Raises:
        ScenarioError: the first problem, naming its dotted key.
    """
    path: Path | None = None
    if isinstance(source, dict):
        raw = copy.deepcopy(source)
    else:
        path = scenario_path(source)
        raw = read_yaml(path)
        if raw is None:
            raise ScenarioError(str(path), "the file is empty (no YAML value, only blank lines "
                                           "or comments); a scenario is a mapping of keys such "
                                           "as name, channels, link, policies")
    if not isinstance(raw, dict):
        where = str(path) if path is not None else "scenario"
        raise ScenarioError(where, f"the top level of a scenario must be a mapping (key: "
                                   f"value lines), got a {_kind(raw)}")
    raw = compose(raw, path if path is not None else Path.cwd() / "<mapping>", read=read_yaml,
                  resolve_paths=resolve_input_paths, shipped_dir=scenarios_dir())
    if path is not None and not raw.get("name"):
        raw["name"] = re.sub(r"[^A-Za-z0-9._-]", "_", path.stem)[:100]
    # relative paths start at the file's folder; .resolve() follows a linked folder (the
    # package's shipped/scenarios link) to where the files really are
    base_dir = path.parent.resolve() if path is not None else None
    if base_dir is not None:
        resolve_input_paths(raw, base_dir)
    for item in overrides:
        key, value = parse_override(item, raw) if isinstance(item, str) else item
        set_dotted(raw, key, value)
    check_finite(raw, "")
    plugins = raw.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ScenarioError("plugins", f"expected a list of module names or .py paths, got "
                                       f"{show(plugins)}")
    check_scenario_plugins(plugins, source=path, base_dir=base_dir, allow=allow_plugins)
    try:
        import_plugins(plugins, base_dir=base_dir)
    except ImportError as e:
        raise ScenarioError("plugins", str(e)) from None
    sweep = raw.get("sweep") or {}
    if isinstance(sweep, dict):
        n_points = math.prod(len(v) if isinstance(v, list) else 1 for v in sweep.values())
        if n_points > max_sweep_points:
            sizes = " × ".join(f"{len(v)} ({k})" for k, v in sweep.items() if isinstance(v, list))
            raise ScenarioError("sweep", f"{n_points} sweep points ({show(sizes)}) exceed the "
                                         f"limit of {max_sweep_points}; shrink the lists or "
                                         f"raise the limit (commsldr run --max-sweep-points N)")
    base = copy.deepcopy(raw)
    base["sweep"] = {}
    scenario = _parse(base)
    if not isinstance(sweep, dict):
        raise ScenarioError("sweep", f"expected a mapping of dotted key → list, got {show(sweep)}")
    for key, values in sweep.items():
        top = str(key).split(".")[0]
        if top not in SWEEPABLE:
            raise ScenarioError(f"sweep.{key}", f"cannot be swept (it fixes the operating-point "
                                                f"table); allowed prefixes: {', '.join(SWEEPABLE)}")
        if not isinstance(values, list) or not values:
            raise ScenarioError(f"sweep.{key}", f"expected a non-empty list, got {show(values)}")
    points = []
    for combo in itertools.product(*sweep.values()):
        values = dict(zip(sweep.keys(), combo, strict=True))
        point_raw = copy.deepcopy(base)
        for key, value in values.items():
            set_dotted(point_raw, key, copy.deepcopy(value))
        try:
            points.append(SweepPoint(values=values, scenario=_parse(point_raw)))
        except ScenarioError as e:
            where = ", ".join(f"{k}={show(v)}" for k, v in values.items())
            raise ScenarioError(e.key, f"{str(e).split(': ', 1)[-1]} (at sweep point {where})") \
                from None
    full = copy.deepcopy(base)
    full["sweep"] = sweep
    scenario = parse_section(Scenario, full, "")
    return LoadedScenario(scenario=scenario, points=tuple(points), raw=full, source=path)
