"""Loading a scenario: YAML → ``--set`` overrides → schema → semantic checks → sweep grid.

Everything here is cheap; :func:`load_scenario` raises :class:`ScenarioError` (naming the dotted
key and, where there is a list, the allowed values) before a run does any real work.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from commsldr.errors import did_you_mean, show
from commsldr.registry import PHYS as PHY_REGISTRY
from commsldr.registry import import_plugins
from commsldr.cache import resolve_cache_dir
from commsldr.resources import shipped_scenarios_dir
from commsldr.scenario.compose import compose
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
    "read_yaml",
    "parse_yaml",
    "MAX_SWEEP_POINTS",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "MAX_SCENARIO_BYTES",
    "resolve_input_paths",
]

#: default bound on the sweep grid (``commsldr run --max-sweep-points`` raises it)
MAX_SWEEP_POINTS = 1000
#: deepest nesting of mappings/lists a scenario (or a ``--set`` value) may have
MAX_YAML_DEPTH = 32
#: most YAML nodes a scenario may expand to, aliases counted at every use (billion laughs)
MAX_YAML_NODES = 100_000
#: largest scenario file read
MAX_SCENARIO_BYTES = 1 << 20

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
def scenarios_dir() -> Path:
    """The directory of the shipped scenarios (package data; ``scenarios/`` in a clone)."""
    return shipped_scenarios_dir()


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
    raise ScenarioError("", f"no scenario file {str(name_or_path)!r}"
                            f"{did_you_mean(str(name_or_path), list_scenarios())}; shipped "
                            f"scenarios: {', '.join(list_scenarios())}")


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
# bounded YAML
# ---------------------------------------------------------------------------------------------
class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses deep nesting while composing (before Python recursion
    runs out)."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _TooDeep(mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# YAML 1.2 floats: PyYAML (YAML 1.1) reads 1e-2 and 3.5e9 as strings (it wants a dot and a
# signed exponent); scenario files, --set values and train's --set read them as numbers.
_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                   |[-+]?(?:[0-9][0-9_]*)[eE][-+]?[0-9]+
                   |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                   |[-+]?\.(?:inf|Inf|INF)
                   |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _expanded_nodes(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes of the YAML graph counted with every alias expanded (memoised: linear time)."""
    hit = memo.get(id(node))
    if hit is not None:
        return hit
    memo[id(node)] = MAX_YAML_NODES + 1  # a cycle counts as too large
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_nodes(child, memo)
            if total > MAX_YAML_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_nodes(k, memo) + _expanded_nodes(v, memo)
            if total > MAX_YAML_NODES:
                break
    memo[id(node)] = total
    return total


def parse_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` with nesting depth (:data:`MAX_YAML_DEPTH`) and alias expansion
    (:data:`MAX_YAML_NODES`) bounded; ``where`` (a file or ``--set KEY``) names errors."""
    loader = _BoundedLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except _TooDeep as e:
            raise ScenarioError(where, f"nesting deeper than {MAX_YAML_DEPTH} levels (line "
                                       f"{e.line})") from None
        except RecursionError:
            raise ScenarioError(where, f"nesting deeper than {MAX_YAML_DEPTH} levels") from None
        except yaml.YAMLError as e:
            raise ScenarioError(where, f"not valid YAML: {show(str(e), 300)}") from None
        if node is None:
            return None
        if _expanded_nodes(node, {}) > MAX_YAML_NODES:
            raise ScenarioError(where, f"expands to more than {MAX_YAML_NODES} values (aliases "
                                       f"counted at every use); scenarios are small mappings")
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as e:
            raise ScenarioError(where, f"not valid YAML: {show(str(e), 300)}") from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    """Read a scenario file: at most :data:`MAX_SCENARIO_BYTES`, UTF-8, bounded YAML."""
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise ScenarioError(str(path), f"file of {size} bytes; a scenario file may have at "
                                           f"most {MAX_SCENARIO_BYTES} bytes")
        data = path.read_bytes()
    except OSError as e:
        raise ScenarioError(str(path), f"cannot read: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScenarioError(str(path), f"not UTF-8 text (invalid byte {data[e.start]:#04x} at "
                                       f"line {line}, byte offset {e.start}); save the file as "
                                       f"UTF-8") from None
    return parse_yaml(text, str(path))


def _check_finite(value: Any, key: str) -> None:
    """Reject NaN and infinities anywhere in the raw scenario (``.inf``, ``.nan`` in YAML)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(key, f"must be a finite number, got {value}")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{key}[{i}]")


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
        raise ScenarioError("--set", f"expected KEY=VALUE, got {show(text)}")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError("--set", f"malformed dotted key {show(key)}: expected names joined "
                                     f"by dots, e.g. channels.rayleigh.mean_snr_db")
    return key, parse_yaml(value, f"--set {key}")


def _split_path(node: Any, parts: list[str]) -> list[str]:
    """``parts`` regrouped so that existing keys containing dots stay whole: at each level the
    longest run of parts that names an existing key of ``node`` is one key (``channels.naka-m0.5.x``
    with a channel ``naka-m0.5`` → ``["channels", "naka-m0.5", "x"]``)."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        take = 1
        if isinstance(node, dict):
            for j in range(len(parts), i + 1, -1):
                if ".".join(parts[i:j]) in node:
                    take = j - i
                    break
        key = ".".join(parts[i:i + take])
        out.append(key)
        node = node.get(key) if isinstance(node, dict) else None
        i += take
    return out


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``raw[a][b]... = value`` for ``key = "a.b..."``.

    ``channels.*.x`` sets ``x`` of every channel; ``sweep.<dotted key>`` sets one sweep entry.
    Labels may contain dots: an existing key is matched whole (the longest match wins).
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
        for label in list(channels):
            node = channels[label]
            if not isinstance(node, dict):
                raise ScenarioError(f"channels.{label}", "is not a mapping; cannot set " + key)
            _set_path(node, _split_path(node, parts[2:]), copy.deepcopy(value),
                      f"channels.{label}", key)
        return
    _set_path(raw, _split_path(raw, parts), value, "", key)


def _set_path(node: Any, path: list[str], value: Any, where: str, key: str) -> None:
    for part in path[:-1]:
        if not isinstance(node, dict):
            raise ScenarioError(where, "is not a mapping; cannot set " + key)
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        where = f"{where}.{part}" if where else part
    if not isinstance(node, dict):
        raise ScenarioError(where, "is not a mapping; cannot set " + key)
    node[path[-1]] = value


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
            raise ScenarioError(f"{key}.{p}", f"unknown parameter of {what}"
                                              f"{did_you_mean(p, names)}; allowed: "
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
            if m.group(0).rstrip().endswith(":"):  # "name: ..." -> the key already says name
                msg = msg[m.end():].strip()
            raise ScenarioError(f"{key}.{m.group(1)}", msg) from None
        raise ScenarioError(key, msg) from None


def phy_class(name: str) -> type:
    """The ``commsldr.link`` class of PHY mode ``name``."""
    names = PHY_REGISTRY.names()
    if name not in names:
        raise ScenarioError("link.phy", f"{show(name)} is not allowed; allowed values: {', '.join(names)}")
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
    from commsldr_channels import get_channel_class

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
    from commsldr.train.config import TrainConfigError

    try:
        return TrainConfig.from_dict(cfg)
    except TrainConfigError as e:
        raise ScenarioError(_train_key(e.key), e.message) from None


def _train_key(field: str) -> str:
    """The scenario key of a TrainConfig field (``data.root`` for ``data_root``, ...)."""
    base = field.split("[")[0]
    if base in _TRAIN_RESERVED:
        return _TRAIN_RESERVED[base] + field[len(base):]
    return f"model.train.{field}"


SAFE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_TEST_SIZES: dict[tuple[Any, ...], int | None] = {}

#: rough memory of one simulated frame and seed held at once (channel states, PHY capacities,
#: simulation records of one policy), bytes; used for the frames estimate
_FRAME_BYTES = 512


def _check_writable(path: str, key: str) -> None:
    """``path`` is a directory that exists or can be created (without creating it)."""
    p = Path(path).expanduser().absolute()
    if p.exists() and not p.is_dir():
        raise ScenarioError(key, f"{path} exists and is not a directory")
    parent = p
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ScenarioError(key, f"cannot create {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(key, f"cannot create or write {path}: {parent} is not writable")


def _check_resources(sc: Scenario) -> None:
    """Data present, model and simulation within memory, packets within the test set."""
    from commsldr.train.checks import (
        available_memory_bytes,
        check_data_available,
        check_model_fits,
        test_set_size,
    )
    from commsldr.train.config import TrainConfigError

    _check_writable(sc.outputs.dir, "outputs.dir")
    if sc.model.recipe is not None:
        _check_writable(str(resolve_cache_dir(sc.model.cache_dir)), "model.cache_dir")
    tc = train_config(sc)
    try:
        check_data_available(tc)
        if sc.model.recipe is not None:
            check_model_fits(tc, num_classes=100 if tc.dataset == "cifar100" else 10)
    except TrainConfigError as e:
        raise ScenarioError(_train_key(e.key), e.message) from None
    half = available_memory_bytes() // 2
    need = sc.frames * len(sc.seeds) * _FRAME_BYTES
    if need > half:
        raise ScenarioError("frames", f"{sc.frames} frames × {len(sc.seeds)} seed(s) need an "
                                      f"estimated {need / 2**30:.3g} GiB ({_FRAME_BYTES} bytes "
                                      f"per frame and seed) but half of this machine's memory is "
                                      f"{half / 2**30:.3g} GiB")
    data_key = (tc.dataset, str(Path(tc.data_root).resolve()) if tc.data_root else None,
                tc.test_num_per_class)
    if data_key not in _TEST_SIZES:  # an image folder is scanned once, not per sweep point
        _TEST_SIZES[data_key] = test_set_size(tc)
    n_test = _TEST_SIZES[data_key]
    m = sc.link.images_per_packet
    if n_test is not None and m > n_test:
        raise ScenarioError("link.images_per_packet", f"{m} is more than the {n_test} test "
                                                      f"images of data (data.test_per_class)")


_CHECKED_CHECKPOINTS: dict[tuple[str, int, int], int] = {}


def _checkpoint_latent_dim(path: str) -> int:
    """Load and verify (content hash) a checkpoint once per file version; its ``latent_dim``."""
    from commsldr.train.checkpoint import CheckpointError, load_model

    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CHECKED_CHECKPOINTS:
        try:
            _CHECKED_CHECKPOINTS[key] = int(load_model(path).latent_dim)
        except CheckpointError as e:
            raise ScenarioError("model.checkpoint", show(str(e), 300)) from None
    return _CHECKED_CHECKPOINTS[key]


def _check_model(sc: Scenario) -> int | None:
    """Check the model section; return the full latent size when known without loading."""
    m = sc.model
    given = [k for k in ("checkpoint", "pretrained", "recipe") if getattr(m, k) is not None]
    if len(given) != 1:
        raise ScenarioError("model", "give exactly one of checkpoint, pretrained, recipe "
                                     f"(got {', '.join(given) or 'none'})")
    if m.train and m.recipe is None:
        raise ScenarioError("model.train", "only used with model.recipe")
    if m.checkpoint is not None:
        if not Path(m.checkpoint).is_file():
            raise ScenarioError("model.checkpoint", f"no such file: {m.checkpoint}")
        latent = _checkpoint_latent_dim(m.checkpoint)
    if m.pretrained is not None:
        resolve_pretrained(m.pretrained)
    latent_dim = latent if m.checkpoint is not None else None
    if m.recipe is not None:
        from commsldr.train import list_recipes

        if m.recipe not in list_recipes():
            raise ScenarioError("model.recipe", f"{show(m.recipe)} is not allowed; allowed values: "
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
    from commsldr_channels import get_channel_class, list_channels
    from commsldr.adapt import create_csi_model, get_policy_class

    if not sc.name:
        raise ScenarioError("name", "missing (required)")
    if not SAFE_NAME.fullmatch(sc.name) or sc.name.strip(".") == "":
        raise ScenarioError("name", f"{show(sc.name)} is not a safe directory name; use letters, "
                                    f"digits, '.', '_' and '-' (at most 100, not only dots)")
    if sc.data.dataset == "imagefolder":
        if sc.data.root is None:
            raise ScenarioError("data.root", "required for dataset imagefolder")
    if sc.data.root is not None and not sc.data.download and not Path(sc.data.root).is_dir():
        raise ScenarioError("data.root", f"no such directory: {sc.data.root}")
    latent_dim = _check_model(sc)
    _check_resources(sc)
    for label, ref in sc.paper_figures.models.items():
        resolve_model_ref(ref, f"paper_figures.models.{label}")
    for key in ("rate_models", "distortion_models", "truncation_models"):
        for i, label in enumerate(getattr(sc.paper_figures, key)):
            if label not in sc.paper_figures.models:
                raise ScenarioError(f"paper_figures.{key}[{i}]",
                                    f"{show(label)} is not a label of paper_figures.models; "
                                    f"labels: {', '.join(sc.paper_figures.models) or '(none)'}")
    if not sc.paper_figures.entropy_targets:
        raise ScenarioError("paper_figures.entropy_targets", "needs at least one target")
    from commsldr.coding import ALLOCATION_RULES

    if sc.coding.rule not in ALLOCATION_RULES:
        raise ScenarioError("coding.rule", f"{show(sc.coding.rule)} is not allowed; allowed values: "
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
            raise ScenarioError(f"channels.{label}.type", f"{show(ch.type)} is not allowed; allowed "
                                                         f"values: {', '.join(valid)}")
        _construct(get_channel_class(ch.type), channel_params(sc, label), f"channels.{label}",
                   f"channel {show(ch.type)}")
    _construct(phy_class(sc.link.phy), phy_params(sc), "link", f"PHY {show(sc.link.phy)}")
    if sc.link.params.get("harq") is not None:  # link.harq: {type, max_transmissions}
        from commsldr.link.harq import HARQConfig

        harq = HARQConfig.parse(sc.link.params["harq"])  # the PHY accepted it above
        if harq.type != "none" and sc.link.max_attempts > 1:
            raise ScenarioError("link.max_attempts", "leave it at 1 with link.harq; "
                                                     "link.harq.max_transmissions sets the "
                                                     "transmissions per packet")
        if harq.transmissions > 1 and sc.link.deadline_frames < 2:
            raise ScenarioError("link.deadline_frames", f"must be >= 2 with link.harq "
                                                        f"(got {sc.link.deadline_frames}): a "
                                                        f"lost packet is re-sent in a later frame")
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
    check_schemes(sc)
    if sc.analog.enabled:
        import torch

        for label, ch in sc.channels.items():
            channel = get_channel_class(ch.type)(**channel_params(sc, label))
            if channel.states(1, generator=torch.Generator().manual_seed(0)).snr_db is None:
                raise ScenarioError(f"channels.{label}.type", f"analog transmission needs a "
                                                             f"symbol-level channel (one with an "
                                                             f"SNR); {show(ch.type)} is not")
        if (2 * sc.analog.symbols_per_entry) % 1:
            raise ScenarioError("analog.symbols_per_entry",
                                f"must be a multiple of 0.5, got {sc.analog.symbols_per_entry}")
        if sc.analog.k is not None and latent_dim is not None and sc.analog.k not in (
                set(sc.model.truncations) | {latent_dim}):
            raise ScenarioError("analog.k", f"{sc.analog.k} is not an encoder variant; allowed "
                                            f"values: {sorted(set(sc.model.truncations) | {latent_dim})}")
    if len(set(sc.seeds)) != len(sc.seeds) or not sc.seeds:
        raise ScenarioError("seeds", f"needs distinct seeds, got {show(sc.seeds)}")


def _build_policy(pc: PolicyConfig, key: str, get_policy_class: Any) -> Any:
    """The policy ``pc`` constructed, or a :class:`ScenarioError` naming ``key``."""
    from commsldr.adapt import list_policies

    try:
        cls = get_policy_class(pc.type)
    except ValueError:
        raise ScenarioError(f"{key}.type", f"{show(pc.type)} is not allowed; allowed values: "
                                           f"{', '.join(list_policies())}") from None
    return _construct(cls, pc.params, key, f"policy {show(pc.type)}")


def _check_policy(sc: Scenario, label: str, pc: PolicyConfig, latent_dim: int | None,
                  get_policy_class: Any) -> None:

    key = f"policies.{label}"
    policy = _build_policy(pc, key, get_policy_class)
    k = getattr(policy, "k", None)
    variants = set(sc.model.truncations) | ({latent_dim} if latent_dim else set())
    if k is not None and latent_dim is not None and k not in variants:
        raise ScenarioError(f"{key}.k", f"{k} is not an encoder variant; allowed values: "
                                        f"{', '.join(map(str, sorted(variants)))}")
    scale = getattr(policy, "scale", None)
    if scale is not None and scale not in sc.coding.scales:
        raise ScenarioError(f"{key}.scale", f"{scale} is not in coding.scales; allowed values: "
                                            f"{', '.join(map(str, sc.coding.scales))}")


def scheme_policies(sc: Scenario, label: str) -> dict[str, Any]:
    """The policies scheme ``label`` runs: its own ``policies``, else the scenario's."""
    own = sc.schemes[label].policies
    return own if own else sc.policies


def check_schemes(sc: Scenario) -> None:
    """Semantic checks of the ``schemes`` section; raises :class:`ScenarioError`."""
    if not sc.schemes:
        return
    import torch

    from commsldr_channels import get_channel_class
    from commsldr.adapt import get_policy_class
    from commsldr.schemes import get_scheme_class, list_schemes

    valid = list_schemes()
    for label, cfg in sc.schemes.items():
        key = f"schemes.{label}"
        if cfg.type == "split-ae":
            raise ScenarioError(f"{key}.type", "the split autoencoder always runs (sections "
                                               "model and coding); list only other schemes here")
        if cfg.type not in valid:
            raise ScenarioError(f"{key}.type", f"{cfg.type!r} is not allowed; allowed values: "
                                               f"{', '.join(v for v in valid if v != 'split-ae')}")
        scheme = _construct(get_scheme_class(cfg.type), cfg.params, key, f"scheme {cfg.type!r}")
        if scheme.kind == "analog":
            for ch_label, ch in sc.channels.items():
                channel = get_channel_class(ch.type)(**channel_params(sc, ch_label))
                st = channel.states(1, generator=torch.Generator().manual_seed(0))
                if st.snr_db is None:
                    raise ScenarioError(f"channels.{ch_label}.type", f"scheme {label!r} is "
                                        f"analog and needs a symbol-level channel (one with an "
                                        f"SNR); {ch.type!r} is not")
            continue
        points = scheme.menu_points()
        own = bool(cfg.policies)
        for pl, pc in scheme_policies(sc, label).items():
            pkey = f"{key}.policies.{pl}" if own else f"policies.{pl}"
            policy = _build_policy(pc, pkey, get_policy_class)
            k, scale = getattr(policy, "k", None), getattr(policy, "scale", None)
            if points is None or (k is None and scale is None):
                continue
            ok = [p for p in points if (k is None or p[0] == k)
                  and (scale is None or math.isclose(p[1], scale, rel_tol=1e-5, abs_tol=1e-8))]
            if not ok:
                shown = ", ".join(f"(k={a}, scale={b:g})" for a, b in points)
                hint = "" if own else f". Give {key} its own policies"
                raise ScenarioError(pkey, f"policy {pl!r} (k={k}, scale={scale}) needs an "
                                          f"operating point scheme {label!r} does not have; its "
                                          f"points: {shown}{hint}")


# ---------------------------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------------------------
def _parse(raw: dict[str, Any]) -> Scenario:
    sc = parse_section(Scenario, raw, "")
    check_scenario(sc)
    return sc


def load_scenario(
    source: str | Path | dict[str, Any], overrides: Sequence[str] | Iterable[tuple[str, Any]] = (),
    *, max_sweep_points: int = MAX_SWEEP_POINTS,
) -> LoadedScenario:
    """Load, override, validate and expand a scenario.

    Args:
        source: a YAML path, the name of a shipped scenario, or an already-parsed mapping.
        overrides: ``"key=value"`` strings (YAML values, dotted keys) or ``(key, value)`` pairs,
            applied in order before validation.
        max_sweep_points: refuse a sweep grid with more points than this (each point is
            validated here and simulated later).

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
            raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError("", "the top level of a scenario must be a mapping")
    raw = compose(raw, path if path is not None else Path.cwd() / "<mapping>", read=read_yaml,
                  resolve_paths=resolve_input_paths, shipped_dir=scenarios_dir())
    if path is not None and not raw.get("name"):
        raw["name"] = re.sub(r"[^A-Za-z0-9._-]", "_", path.stem)[:100]
    if path is not None:
        resolve_input_paths(raw, path.parent)
    for item in overrides:
        key, value = parse_override(item) if isinstance(item, str) else item
        set_dotted(raw, key, value)
    _check_finite(raw, "")
    plugins = raw.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ScenarioError("plugins", f"expected a list of module names or .py paths, got "
                                       f"{show(plugins)}")
    try:
        import_plugins(plugins, base_dir=path.parent if path is not None else None)
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
