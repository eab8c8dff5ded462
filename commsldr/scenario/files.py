"""Scenario files and overrides: where scenarios and checkpoints are, bounded YAML, input paths
relative to the scenario file, ``--set`` dotted keys.

Nothing here knows the schema's meaning; :mod:`commsldr.scenario.load` parses and checks what
this module reads.
"""

from __future__ import annotations

import copy
import math
import os
import re
from pathlib import Path

import yaml

from commsldr.errors import cut, did_you_mean, show
from commsldr.models.pretrained import PretrainedError, get_pretrained_path, pretrained_dir
from commsldr.resources import shipped_scenarios_dir
from commsldr.scenario.bounds import check_key_depth
from commsldr.scenario.schema import ScenarioError

__all__ = [
    "scenarios_dir",
    "models_dir",
    "list_scenarios",
    "scenario_path",
    "resolve_pretrained",
    "resolve_model_ref",
    "parse_yaml",
    "read_yaml",
    "check_finite",
    "resolve_input_paths",
    "parse_override",
    "set_dotted",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "MAX_SCENARIO_BYTES",
    "YAMLValue",
]

#: deepest nesting of mappings/lists a scenario (or a ``--set`` value) may have
MAX_YAML_DEPTH = 32
#: most YAML nodes a scenario may expand to, aliases counted at every use (billion laughs)
MAX_YAML_NODES = 100_000
#: largest scenario file read
MAX_SCENARIO_BYTES = 1 << 20
#: what YAML gives: a mapping, a list, a string, a number, a bool or None
YAMLValue = object


# ---------------------------------------------------------------------------------------------
# file locations
# ---------------------------------------------------------------------------------------------
def scenarios_dir() -> Path:
    """The directory of the shipped scenarios (package data; ``scenarios/`` in a clone)."""
    return shipped_scenarios_dir()


def models_dir() -> Path:
    """The directory of shipped pretrained checkpoints (``models/`` at the repository root, or
    ``$COMMSLDR_MODELS``)."""
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
        # through the package's link to the clone's folder: the scenario's relative paths
        # (a trace under channels/data) resolve from where the file really is
        return shipped.resolve()
    if p.is_dir():
        raise ScenarioError(str(p), "is a directory; give a scenario file (.yaml) or the name "
                                    "of a shipped scenario")
    if p.exists():
        raise ScenarioError(str(p), "is not a regular file (a device, pipe or socket); give a "
                                    "scenario file (.yaml)")
    raise ScenarioError("", f"no scenario file {str(name_or_path)!r}"
                            f"{did_you_mean(str(name_or_path), list_scenarios())}; shipped "
                            f"scenarios: {', '.join(list_scenarios())}")


def resolve_pretrained(name: str) -> Path:
    """The checkpoint of a shipped pretrained model, looked up (and its SHA-256 checked) in the
    index of :mod:`commsldr.models.pretrained`."""
    try:
        return get_pretrained_path(name)
    except PretrainedError as err:
        raise ScenarioError("model.pretrained", str(err)) from None


def resolve_model_ref(ref: str, key: str) -> Path:
    """A checkpoint path (``ref`` ends in ``.pt`` or names a directory part) or a shipped model
    name; ``key`` names the scenario entry in errors."""
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
    runs out) and a key written twice in one mapping (PyYAML keeps the last silently)."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # noqa: D102
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _TooDeep(mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def flatten_mapping(self, node: yaml.MappingNode) -> None:  # noqa: D102
        # every mapping passes here (construct_mapping, and merges of anchored mappings) before
        # PyYAML splices the ``<<`` merges into ``node.value``: its own keys are checked first,
        # so a merged key that an explicit key overrides stays legal
        checked = self.__dict__.setdefault("_checked_mappings", set())
        if id(node) not in checked:
            checked.add(id(node))
            self._check_duplicate_keys(node)
        super().flatten_mapping(node)

    def _check_duplicate_keys(self, node: yaml.MappingNode) -> None:
        first: dict[object, tuple[int, int]] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # a complex key fails later as unhashable; ``<<`` merges are allowed
            key = key_node.value if key_node.tag == _VALUE_TAG else \
                self.construct_object(key_node)
            mark = key_node.start_mark
            try:
                if key in first:
                    line, column = first[key]
                    at = f"line {mark.line + 1}"
                    before = f"line {line + 1}"
                    if line == mark.line:
                        at += f", column {mark.column + 1}"
                        before = f"column {column + 1}"
                    raise _DuplicateKey(key, at, before)
                first[key] = (mark.line, mark.column)
            except TypeError:  # unhashable: PyYAML reports it
                continue


_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"


# YAML 1.2 floats: PyYAML (YAML 1.1) reads 1e5 and 3.5e9 (no dot or no exponent sign) as text;
# a scenario reads them as the numbers they are (a quoted '1e5' stays text and is refused)
_BoundedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _DuplicateKey(Exception):
    def __init__(self, key: object, at: str, first: str) -> None:
        super().__init__(key, at, first)
        self.key, self.at, self.first = key, at, first


def _yaml_problem(e: yaml.YAMLError, text: str) -> str:
    """One line for a PyYAML error: the problem and where (line, column), then its context;
    PyYAML's own text spans several lines and names ``<unicode string>``."""
    if isinstance(e, yaml.reader.ReaderError):  # a character the YAML reader refuses
        code = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        before = text[: e.position]
        line, column = before.count("\n") + 1, e.position - (before.rfind("\n") + 1) + 1
        kind = "control character" if code < 0x20 or 0x7F <= code <= 0x9F else \
            "non-printable character"
        return (f"{kind} U+{code:04X} at line {line}, column {column}; scenario text must be "
                f"printable (tabs and line breaks are fine)")
    if isinstance(e, yaml.MarkedYAMLError):
        def at(mark: yaml.Mark | None) -> str:
            return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""

        problem = " ".join(str(e.problem or "syntax error").split())
        out = f"not valid YAML: {problem}{at(e.problem_mark)}"
        if e.context:
            context = " ".join(str(e.context).split())
            out += f" ({context}{' that starts' + at(e.context_mark) if e.context_mark else ''})"
        return cut(out, 300)
    return f"not valid YAML: {cut(' '.join(str(e).split()), 300)}"


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


def parse_yaml(text: str, where: str) -> YAMLValue:
    """``yaml.safe_load`` with nesting depth (:data:`MAX_YAML_DEPTH`) and alias expansion
    (:data:`MAX_YAML_NODES`) bounded, duplicate keys and non-printable characters refused;
    ``where`` (a file or ``--set KEY``) names errors, which are one line with the line and
    column of the problem."""
    try:
        loader = _BoundedLoader(text)  # its reader refuses control characters right here
    except yaml.YAMLError as e:
        raise ScenarioError(where, _yaml_problem(e, text)) from None
    try:
        try:
            node = loader.get_single_node()
        except _TooDeep as e:
            raise ScenarioError(where, f"nesting deeper than {MAX_YAML_DEPTH} levels (line "
                                       f"{e.line})") from None
        except RecursionError:
            raise ScenarioError(where, f"nesting deeper than {MAX_YAML_DEPTH} levels") from None
        except yaml.YAMLError as e:
            raise ScenarioError(where, _yaml_problem(e, text)) from None
        if node is None:
            return None
        if _expanded_nodes(node, {}) > MAX_YAML_NODES:
            raise ScenarioError(where, f"expands to more than {MAX_YAML_NODES} values (aliases "
                                       f"counted at every use); scenarios are small mappings")
        try:
            return loader.construct_document(node)
        except _DuplicateKey as e:
            raise ScenarioError(where, f"duplicate key {show(e.key)} at {e.at} (first at "
                                       f"{e.first}); a key may appear once in a mapping (YAML "
                                       f"would silently keep only the last)") from None
        except yaml.YAMLError as e:
            raise ScenarioError(where, _yaml_problem(e, text)) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> YAMLValue:
    """Read a scenario file: at most :data:`MAX_SCENARIO_BYTES`, UTF-8, bounded YAML."""
    if path.is_dir():
        raise ScenarioError(str(path), "is a directory, not a scenario file")
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


def check_finite(value: YAMLValue, key: str) -> None:
    """Reject NaN and infinities anywhere in the raw scenario (``.inf``, ``.nan`` in YAML)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(key, f"must be a finite number, got {value}")
    if isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_finite(v, f"{key}[{i}]")


# ---------------------------------------------------------------------------------------------
# paths inside a scenario file
# ---------------------------------------------------------------------------------------------
def _is_path_param(name: str) -> bool:
    """Open parameters (channels, link, csi, policies) that name an input file or directory."""
    return name == "path" or name.endswith(("_path", "_file", "_dir"))


def _resolve(value: YAMLValue, base: Path) -> YAMLValue:
    if not isinstance(value, str) or not value or value.startswith("~") or Path(value).is_absolute():
        return value
    return os.path.normpath(base / value)


def resolve_input_paths(raw: dict[str, YAMLValue], base: Path) -> None:
    """Make the relative *input* paths of a scenario file relative to the file's directory (its
    real directory, symbolic links resolved, so that ``..`` means what it means to the OS).

    Resolved (in place): ``plugins`` entries that are ``.py`` paths, ``data.root``,
    ``model.checkpoint``, the path-like values of
    ``paper_figures.models`` (ending in ``.pt`` or containing ``/``) and every open parameter of
    ``channels.<label>``, ``link``, ``csi`` and ``policies.<label>`` named ``path`` or ending in
    ``_path``, ``_file`` or ``_dir`` (also as ``sweep`` values). Output locations
    (``outputs.dir``, ``model.cache_dir``) and ``--set`` values stay relative to the working
    directory. ``~`` and absolute paths are left alone.
    """
    # the file's real directory: ``..`` in a path then means what it means to the OS (a shipped
    # scenario is found through the link commsldr/shipped/scenarios -> ../../scenarios)
    base = Path(os.path.realpath(base))
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
    open_nodes: list[YAMLValue] = [raw.get("link"), raw.get("csi")]
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
def parse_override(text: str, raw: dict[str, YAMLValue] | None = None) -> tuple[str, YAMLValue]:
    """``"a.b=value"`` → ``("a.b", yaml.safe_load("value"))``.

    The key ends at the first ``=``, unless ``raw`` (the scenario being overridden) has a label
    containing ``=`` that a longer key names: ``channels.a=b.snr_db=3`` sets ``snr_db`` of the
    channel ``a=b`` (:func:`_label_split`).
    """
    if "=" not in text:
        raise ScenarioError("--set", f"expected KEY=VALUE, got {show(text)}")
    key, value = _label_split(text, raw) or text.split("=", 1)
    key = key.strip()
    check_key_depth(key)
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError("--set", f"malformed dotted key {show(key)}: expected names joined "
                                     f"by dots, e.g. channels.rayleigh.mean_snr_db")
    return key, parse_yaml(value, f"--set {key}")


def _label_split(text: str, raw: dict[str, YAMLValue] | None) -> list[str] | None:
    """``[key, value]`` split at a later ``=`` when the key then walks through existing keys of
    ``raw`` at every part that contains ``=`` (a label such as ``a=b``); None: split at the first."""
    if not isinstance(raw, dict):
        return None
    cut = text.find("=")
    while (cut := text.find("=", cut + 1)) > 0:
        key = text[:cut].strip()
        parts = key.split(".")
        node: YAMLValue = raw
        if parts[0] == "sweep" and len(parts) > 1:  # a sweep entry names a key of the scenario
            parts = parts[1:]
        if parts[0] == "channels" and len(parts) > 2 and parts[1] == "*":
            continue
        found = False
        for part in _split_path(node, parts):
            if "=" in part:
                if not (isinstance(node, dict) and part in node):
                    found = False
                    break
                found = True
            node = node.get(part) if isinstance(node, dict) else None
        if found:
            return [text[:cut], text[cut + 1:]]
    return None


def _split_path(node: YAMLValue, parts: list[str]) -> list[str]:
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


def set_dotted(raw: dict[str, YAMLValue], key: str, value: YAMLValue) -> None:
    """Set ``raw[a][b]... = value`` for ``key = "a.b..."``.

    ``channels.*.x`` sets ``x`` of every channel; ``sweep.<dotted key>`` sets one sweep entry.
    Labels may contain dots: an existing key is matched whole (the longest match wins).
    """
    check_key_depth(key, key.split(".", 1)[0])
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


def _set_path(node: YAMLValue, path: list[str], value: YAMLValue, where: str, key: str) -> None:
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
