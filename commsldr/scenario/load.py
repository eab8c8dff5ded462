"""Loading a scenario: YAML → ``--set`` overrides → schema → semantic checks → sweep grid.

Everything here is cheap; :func:`load_scenario` raises :class:`ScenarioError` (naming the dotted
key and, where there is a list, the allowed values) before a run does any real work.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from commsldr.registry import PHYS as PHY_REGISTRY
from commsldr.registry import import_plugins
from commsldr.scenario.schema import (
    SWEEPABLE,
    PolicyConfig,
    Scenario,
    ScenarioError,
    parse_section,
)

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
    "models_dir",
    "train_config",
    "phy_class",
    "resolve_input_paths",
]

# TrainConfig fields that the scenario sets from other sections
_TRAIN_RESERVED = {
    "dataset": "data.dataset", "data_root": "data.root", "download": "data.download",
    "num_per_class": "data.train_per_class", "test_num_per_class": "data.test_per_class",
    "recipe": "model.recipe", "out": "model.cache_dir",
}


@dataclass(frozen=True)
class SweepPoint:
    """One point of the sweep grid: the swept values and the scenario they produce."""

    values: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and its expanded sweep grid (at least one point)."""

    scenario: Scenario
    points: tuple[SweepPoint, ...]
    raw: dict[str, Any]
    source: Path | None = None


# ---------------------------------------------------------------------------------------------
# file locations
# ---------------------------------------------------------------------------------------------
def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def scenarios_dir() -> Path:
    """The directory of the shipped scenarios (``scenarios/`` at the repository root)."""
    return _repo_root() / "scenarios"


def models_dir() -> Path:
    """The directory of shipped pretrained checkpoints (``models/`` at the repository root, or
    ``$COMMSLDR_MODELS``)."""
    from commsldr.models.pretrained import pretrained_dir

    return pretrained_dir()


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios (``scenarios/*.yaml``), sorted."""
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file: an existing path, or the name of a shipped scenario."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    shipped = scenarios_dir() / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise ScenarioError("", f"no scenario file {str(name_or_path)!r}; shipped scenarios: "
                            f"{', '.join(list_scenarios())}")


def resolve_pretrained(name: str) -> Path:
    """The checkpoint of a shipped pretrained model, looked up (and its SHA-256 checked) in the
    index of :mod:`commsldr.models.pretrained`."""
    from commsldr.models.pretrained import PretrainedError, get_pretrained_path

    try:
        return get_pretrained_path(name)
    except PretrainedError as err:
        raise ScenarioError("model.pretrained", str(err)) from None


def resolve_model_ref(ref: str, key: str) -> Path:
    """A checkpoint path (``ref`` ends in ``.pt`` or names a directory part) or a shipped model
    name; ``key`` names the scenario entry in errors."""
    from commsldr.models.pretrained import PretrainedError, get_pretrained_path

    if ref.endswith(".pt") or "/" in ref or os.sep in ref:
        if not Path(ref).is_file():
            raise ScenarioError(key, f"no such file: {ref}")
        return Path(ref)
    try:
        return get_pretrained_path(ref)
    except PretrainedError as err:
        raise ScenarioError(key, str(err)) from None


# ---------------------------------------------------------------------------------------------
# paths inside a scenario file
# ---------------------------------------------------------------------------------------------
def _is_path_param(name: str) -> bool:
    """Open parameters (channels, link, csi, policies) that name an input file or directory."""
    return name == "path" or name.endswith(("_path", "_file", "_dir"))


def _resolve(value: Any, base: Path) -> Any:
    if not isinstance(value, str) or not value or value.startswith("~") or Path(value).is_absolute():
        return value
    return os.path.normpath(base / value)


def resolve_input_paths(raw: dict[str, Any], base: Path) -> None:
    """Make the relative *input* paths of a scenario file relative to the file's directory.

    Resolved (in place): ``plugins`` entries that are ``.py`` paths, ``data.root``,
    ``model.checkpoint``, the path-like values of
    ``paper_figures.models`` (ending in ``.pt`` or containing ``/``) and every open parameter of
    ``channels.<label>``, ``link``, ``csi`` and ``policies.<label>`` named ``path`` or ending in
    ``_path``, ``_file`` or ``_dir`` (also as ``sweep`` values). Output locations
    (``outputs.dir``, ``model.cache_dir``) and ``--set`` values stay relative to the working
    directory. ``~`` and absolute paths are left alone.
    """
    base = Path(os.path.abspath(base))
    plugins = raw.get("plugins")
    if isinstance(plugins, list):
        raw["plugins"] = [_resolve(p, base) if isinstance(p, str) and (p.endswith(".py") or "/" in p)
                          else p for p in plugins]
    for section, key in (("data", "root"), ("model", "checkpoint")):
        node = raw.get(section)
        if isinstance(node, dict) and key in node:
            node[key] = _resolve(node[key], base)
    pf = raw.get("paper_figures")
    models = pf.get("models") if isinstance(pf, dict) else None
    if isinstance(models, dict):
        for label, ref in models.items():
            if isinstance(ref, str) and (ref.endswith(".pt") or "/" in ref):
                models[label] = _resolve(ref, base)
    open_nodes: list[Any] = [raw.get("link"), raw.get("csi")]
    for section in ("channels", "policies"):
        entries = raw.get(section)
        if isinstance(entries, dict):
            open_nodes += list(entries.values())
    for node in open_nodes:
        if isinstance(node, dict):
            for k in node:
                if isinstance(k, str) and _is_path_param(k):
                    node[k] = _resolve(node[k], base)
    sweep = raw.get("sweep")
    if isinstance(sweep, dict):
        for key, values in sweep.items():
            last = str(key).split(".")[-1]
            if str(key).split(".")[0] in ("channels", "link", "csi", "policies") and \
                    _is_path_param(last) and isinstance(values, list):
                sweep[key] = [_resolve(v, base) for v in values]


# ---------------------------------------------------------------------------------------------
# dotted keys
# ---------------------------------------------------------------------------------------------
def parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=value"`` → ``("a.b", yaml.safe_load("value"))``."""
    if "=" not in text:
        raise ScenarioError("--set", f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z0-9_*\-]+(\.[A-Za-z0-9_*\-]+)*", key):
        raise ScenarioError("--set", f"malformed dotted key {key!r}")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise ScenarioError(key, f"value {value!r} is not valid YAML: {e}") from None


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``raw[a][b]... = value`` for ``key = "a.b..."``.

    ``channels.*.x`` sets ``x`` of every channel; ``sweep.<dotted key>`` sets one sweep entry.
    """
    parts = key.split(".")
    if parts[0] == "sweep" and len(parts) > 1:  # a sweep entry's key is itself a dotted key
        if not isinstance(raw.get("sweep"), dict):
            raw["sweep"] = {}
        raw["sweep"][".".join(parts[1:])] = value
        return
    if parts[0] == "channels" and len(parts) > 2 and parts[1] == "*":
        channels = raw.get("channels")
        if not isinstance(channels, dict) or not channels:
            raise ScenarioError(key, "'*' needs at least one entry under channels")
        for label in channels:
            set_dotted(raw, ".".join(["channels", str(label), *parts[2:]]), copy.deepcopy(value))
        return
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            raise ScenarioError(".".join(parts[:i]), "is not a mapping; cannot set " + key)
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
    if not isinstance(node, dict):
        raise ScenarioError(".".join(parts[:-1]), "is not a mapping; cannot set " + key)
    node[parts[-1]] = value


# ---------------------------------------------------------------------------------------------
# semantic checks against the registries
# ---------------------------------------------------------------------------------------------
def _accepts(cls: type, name: str) -> bool:
    try:
        return name in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False


def _construct(cls: type, params: dict[str, Any], key: str, what: str) -> Any:
    """Construct ``cls(**params)``; unknown/missing/bad parameters → ScenarioError at ``key.<param>``."""
    from commsldr.registry import check_params

    sig = inspect.signature(cls.__init__)
    names = [p for p in sig.parameters if p != "self"]
    for p in params:
        if p not in names and not any(
                x.kind is x.VAR_KEYWORD for x in sig.parameters.values()):
            raise ScenarioError(f"{key}.{p}", f"unknown parameter of {what}; allowed: "
                                              f"{', '.join(names) or '(none)'}")
    try:
        check_params(cls, params, what)
        return cls(**params)
    except (ValueError, TypeError) as e:
        msg = str(e)
        m = re.match(r"^\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:", msg) or re.search(
            r"parameter '([A-Za-z_][A-Za-z0-9_]*)'", msg) or re.match(
            r"^([A-Za-z_][A-Za-z0-9_]*) must", msg)
        if m and m.group(1) in names:
            raise ScenarioError(f"{key}.{m.group(1)}", msg) from None
        raise ScenarioError(key, msg) from None


def phy_class(name: str) -> type:
    """The ``commsldr.link`` class of PHY mode ``name``."""
    names = PHY_REGISTRY.names()
    if name not in names:
        raise ScenarioError("link.phy", f"{name!r} is not allowed; allowed values: {', '.join(names)}")
    try:
        return PHY_REGISTRY.get(name)
    except ValueError as e:
        raise ScenarioError("link.phy", str(e)) from None


def phy_params(sc: Scenario) -> dict[str, Any]:
    """The PHY's keyword arguments: ``link`` parameters plus ``frame_s`` where the PHY takes it."""
    cls = phy_class(sc.link.phy)
    params = dict(sc.link.params)
    if _accepts(cls, "frame_s"):
        params.setdefault("frame_s", sc.link.frame_s)
    return params


def channel_params(sc: Scenario, label: str) -> dict[str, Any]:
    """The channel's keyword arguments: its parameters plus ``frame_s`` where the model takes it."""
    from channels import get_channel_class

    cfg = sc.channels[label]
    params = dict(cfg.params)
    if _accepts(get_channel_class(cfg.type), "frame_s"):
        params.setdefault("frame_s", sc.link.frame_s)
    return params


def train_config(sc: Scenario) -> Any:
    """The ``TrainConfig`` of a recipe-trained model (``out`` is set by the runner)."""
    from commsldr.train import TrainConfig

    for k in sc.model.train:
        if k in _TRAIN_RESERVED:
            raise ScenarioError(f"model.train.{k}", f"set it as {_TRAIN_RESERVED[k]} instead")
    cfg = dict(sc.model.train)
    cfg.update(dataset=sc.data.dataset, data_root=sc.data.root, download=sc.data.download,
               num_per_class=sc.data.train_per_class, test_num_per_class=sc.data.test_per_class,
               recipe=sc.model.recipe or "ce", progress=True)
    try:
        return TrainConfig.from_dict(cfg)
    except ValueError as e:
        msg = str(e)
        m = re.match(r"^([a-z_]+) must", msg) or re.search(r"key\(s\) \['([a-z_]+)'", msg)
        key = f"model.train.{m.group(1)}" if m else "model.train"
        raise ScenarioError(key, msg) from None


def _check_model(sc: Scenario) -> int | None:
    """Check the model section; return the full latent size when known without loading."""
    m = sc.model
    given = [k for k in ("checkpoint", "pretrained", "recipe") if getattr(m, k) is not None]
    if len(given) != 1:
        raise ScenarioError("model", "give exactly one of checkpoint, pretrained, recipe "
                                     f"(got {', '.join(given) or 'none'})")
    if m.train and m.recipe is None:
        raise ScenarioError("model.train", "only used with model.recipe")
    if m.checkpoint is not None and not Path(m.checkpoint).is_file():
        raise ScenarioError("model.checkpoint", f"no such file: {m.checkpoint}")
    if m.pretrained is not None:
        resolve_pretrained(m.pretrained)
    latent_dim = None
    if m.recipe is not None:
        from commsldr.train import list_recipes

        if m.recipe not in list_recipes():
            raise ScenarioError("model.recipe", f"{m.recipe!r} is not allowed; allowed values: "
                                                f"{', '.join(list_recipes())}")
        latent_dim = train_config(sc).latent_dim
    if len(set(m.truncations)) != len(m.truncations):
        raise ScenarioError("model.truncations", f"duplicate entries in {m.truncations}")
    if latent_dim is not None:
        for i, k in enumerate(m.truncations):
            if k >= latent_dim:
                raise ScenarioError(f"model.truncations[{i}]",
                                    f"must be < latent_dim ({latent_dim}), got {k}")
    return latent_dim


def check_scenario(sc: Scenario) -> None:
    """Semantic checks of one (sweep-free) scenario against the registries; raises ScenarioError."""
    from channels import get_channel_class, list_channels
    from commsldr.adapt import create_csi_model, get_policy_class

    if not sc.name:
        raise ScenarioError("name", "missing (required)")
    if sc.data.dataset == "imagefolder":
        if sc.data.root is None:
            raise ScenarioError("data.root", "required for dataset imagefolder")
    if sc.data.root is not None and not sc.data.download and not Path(sc.data.root).is_dir():
        raise ScenarioError("data.root", f"no such directory: {sc.data.root}")
    latent_dim = _check_model(sc)
    for label, ref in sc.paper_figures.models.items():
        resolve_model_ref(ref, f"paper_figures.models.{label}")
    for i, label in enumerate(sc.paper_figures.truncation_models):
        if label not in sc.paper_figures.models:
            raise ScenarioError(f"paper_figures.truncation_models[{i}]",
                                f"{label!r} is not a label of paper_figures.models; labels: "
                                f"{', '.join(sc.paper_figures.models) or '(none)'}")
    if not sc.paper_figures.entropy_targets:
        raise ScenarioError("paper_figures.entropy_targets", "needs at least one target")
    from commsldr.coding import ALLOCATION_RULES

    if sc.coding.rule not in ALLOCATION_RULES:
        raise ScenarioError("coding.rule", f"{sc.coding.rule!r} is not allowed; allowed values: "
                                           f"{', '.join(sorted(ALLOCATION_RULES))}")
    if not sc.coding.scales:
        raise ScenarioError("coding.scales", "needs at least one scale")
    if len(set(sc.coding.scales)) != len(sc.coding.scales):
        raise ScenarioError("coding.scales", f"duplicate entries in {sc.coding.scales}")
    if not sc.channels:
        raise ScenarioError("channels", "needs at least one channel (label: {type: NAME, ...})")
    valid = list_channels()
    for label, ch in sc.channels.items():
        if ch.type not in valid:
            raise ScenarioError(f"channels.{label}.type", f"{ch.type!r} is not allowed; allowed "
                                                         f"values: {', '.join(valid)}")
        _construct(get_channel_class(ch.type), channel_params(sc, label), f"channels.{label}",
                   f"channel {ch.type!r}")
    _construct(phy_class(sc.link.phy), phy_params(sc), "link", f"PHY {sc.link.phy!r}")
    if sc.link.max_attempts > 1 and sc.link.deadline_frames < 2:
        raise ScenarioError("link.deadline_frames", f"must be >= 2 when link.max_attempts > 1 "
                                                    f"(got {sc.link.deadline_frames}): a lost "
                                                    f"packet is re-sent in a later frame")
    from commsldr.adapt import list_csi_models

    if sc.csi.type not in list_csi_models():
        raise ScenarioError("csi.type", f"{sc.csi.type!r} is not allowed; allowed values: "
                                        f"{', '.join(list_csi_models())}")
    try:
        create_csi_model(sc.csi.type, **sc.csi.params)
    except ValueError as e:
        m = re.search(r"parameter '([a-z_]+)'", str(e)) or re.match(r"^([a-z_]+) must", str(e))
        raise ScenarioError(f"csi.{m.group(1)}" if m else "csi", str(e)) from None
    if not sc.policies:
        raise ScenarioError("policies", "needs at least one policy (label: {type: NAME, ...})")
    for label, pc in sc.policies.items():
        _check_policy(sc, label, pc, latent_dim, get_policy_class)
    from commsldr.scenario.scheme_runs import check_schemes

    check_schemes(sc)
    if sc.analog.enabled:
        import torch

        for label, ch in sc.channels.items():
            channel = get_channel_class(ch.type)(**channel_params(sc, label))
            if channel.states(1, generator=torch.Generator().manual_seed(0)).snr_db is None:
                raise ScenarioError(f"channels.{label}.type", f"analog transmission needs a "
                                                             f"symbol-level channel (one with an "
                                                             f"SNR); {ch.type!r} is not")
        if (2 * sc.analog.symbols_per_entry) % 1:
            raise ScenarioError("analog.symbols_per_entry",
                                f"must be a multiple of 0.5, got {sc.analog.symbols_per_entry}")
        if sc.analog.k is not None and latent_dim is not None and sc.analog.k not in (
                set(sc.model.truncations) | {latent_dim}):
            raise ScenarioError("analog.k", f"{sc.analog.k} is not an encoder variant; allowed "
                                            f"values: {sorted(set(sc.model.truncations) | {latent_dim})}")
    if len(set(sc.seeds)) != len(sc.seeds) or not sc.seeds:
        raise ScenarioError("seeds", f"needs distinct seeds, got {sc.seeds}")


def _check_policy(sc: Scenario, label: str, pc: PolicyConfig, latent_dim: int | None,
                  get_policy_class: Any) -> None:
    from commsldr.adapt import list_policies

    key = f"policies.{label}"
    try:
        cls = get_policy_class(pc.type)
    except ValueError:
        raise ScenarioError(f"{key}.type", f"{pc.type!r} is not allowed; allowed values: "
                                           f"{', '.join(list_policies())}") from None
    policy = _construct(cls, pc.params, key, f"policy {pc.type!r}")
    k = getattr(policy, "k", None)
    variants = set(sc.model.truncations) | ({latent_dim} if latent_dim else set())
    if k is not None and latent_dim is not None and k not in variants:
        raise ScenarioError(f"{key}.k", f"{k} is not an encoder variant; allowed values: "
                                        f"{', '.join(map(str, sorted(variants)))}")
    scale = getattr(policy, "scale", None)
    if scale is not None and scale not in sc.coding.scales:
        raise ScenarioError(f"{key}.scale", f"{scale} is not in coding.scales; allowed values: "
                                            f"{', '.join(map(str, sc.coding.scales))}")


# ---------------------------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------------------------
def _parse(raw: dict[str, Any]) -> Scenario:
    sc = parse_section(Scenario, raw, "")
    check_scenario(sc)
    return sc


def load_scenario(
    source: str | Path | dict[str, Any], overrides: Sequence[str] | Iterable[tuple[str, Any]] = (),
) -> LoadedScenario:
    """Load, override, validate and expand a scenario.

    Args:
        source: a YAML path, the name of a shipped scenario, or an already-parsed mapping.
        overrides: ``"key=value"`` strings (YAML values, dotted keys) or ``(key, value)`` pairs,
            applied in order before validation.

    Raises:
        ScenarioError: the first problem, naming its dotted key.
    """
    path: Path | None = None
    if isinstance(source, dict):
        raw = copy.deepcopy(source)
    else:
        path = scenario_path(source)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise ScenarioError("", f"{path}: not valid YAML: {e}") from None
        if raw is None:
            raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError("", "the top level of a scenario must be a mapping")
    if path is not None and not raw.get("name"):
        raw["name"] = path.stem
    if path is not None:
        resolve_input_paths(raw, path.parent)
    for item in overrides:
        key, value = parse_override(item) if isinstance(item, str) else item
        set_dotted(raw, key, value)
    plugins = raw.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ScenarioError("plugins", f"expected a list of module names or .py paths, got {plugins!r}")
    try:
        import_plugins(plugins, base_dir=path.parent if path is not None else None)
    except ImportError as e:
        raise ScenarioError("plugins", str(e)) from None
    sweep = raw.get("sweep") or {}
    base = copy.deepcopy(raw)
    base["sweep"] = {}
    scenario = _parse(base)
    if not isinstance(sweep, dict):
        raise ScenarioError("sweep", f"expected a mapping of dotted key → list, got {sweep!r}")
    for key, values in sweep.items():
        top = str(key).split(".")[0]
        if top not in SWEEPABLE:
            raise ScenarioError(f"sweep.{key}", f"cannot be swept (it fixes the operating-point "
                                                f"table); allowed prefixes: {', '.join(SWEEPABLE)}")
        if not isinstance(values, list) or not values:
            raise ScenarioError(f"sweep.{key}", f"expected a non-empty list, got {values!r}")
    points = []
    for combo in itertools.product(*sweep.values()):
        values = dict(zip(sweep.keys(), combo, strict=True))
        point_raw = copy.deepcopy(base)
        for key, value in values.items():
            set_dotted(point_raw, key, copy.deepcopy(value))
        try:
            points.append(SweepPoint(values=values, scenario=_parse(point_raw)))
        except ScenarioError as e:
            where = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise ScenarioError(e.key, f"{str(e).split(': ', 1)[-1]} (at sweep point {where})") \
                from None
    full = copy.deepcopy(base)
    full["sweep"] = sweep
    scenario = parse_section(Scenario, full, "")
    return LoadedScenario(scenario=scenario, points=tuple(points), raw=full, source=path)
