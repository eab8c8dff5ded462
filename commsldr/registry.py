"""The registries of every kind of pluggable thing, one line each, over one helper.

:class:`Registry` (defined in :mod:`commsldr_channels.registry`, which never imports
``commsldr``, so the channel models use the same helper; re-exported here) maps names to the
classes -- or builder functions -- of one kind. Built-ins are entered *lazily*, as
``"module:Class"`` strings, so that neither the registry imports the modules it lists (no import
cycle, and ``commsldr list`` answers without importing torch) nor those modules import the
registry. Third-party packages add entries through the kind's entry-point group, e.g. in their
``pyproject.toml``::

    [project.entry-points."commsldr.policies"]
    my-policy = "my_package.policies:MyPolicy"

and scripts or scenario plug-ins (``commsldr run --plugin MODULE``, ``plugins:`` in a scenario;
:func:`import_plugins`) register with the decorator, e.g. ``@register_policy("my-policy")``.

| kind (``commsldr list``) | registry | entry-point group | entries |
|---|---|---|---|
| ``channels`` | :data:`CHANNELS` | ``commsldr.channels`` | ``Channel`` subclasses |
| ``policies`` | :data:`POLICIES` | ``commsldr.policies`` | ``Policy`` subclasses |
| ``csi`` | :data:`CSI_MODELS` | ``commsldr.csi`` | ``CSIModel`` subclasses |
| ``phys`` | :data:`PHYS` | ``commsldr.phys`` | classes with ``deliver``, ``frame_capacity_bits`` |
| ``models`` | :data:`MODELS` | ``commsldr.models`` | builder functions / model classes |
| ``recipes`` | :data:`RECIPES` | ``commsldr.recipes`` | ``fn(config, ctx) -> RecipeResult`` |
| ``schemes`` | :data:`SCHEMES` | ``commsldr.schemes`` | ``Scheme`` subclasses |
| ``schedulers`` | :data:`SCHEDULERS` | ``commsldr.schedulers`` | ``Scheduler`` subclasses |

A new kind is one ``Registry(...)`` line and one entry of :data:`REGISTRIES`.

A broken plug-in never hides the built-ins: an entry point that cannot be imported, is not of
the kind or reuses a taken name is left out of every listing with one :class:`PluginWarning`
naming it and the error; asking for it by name raises a ``ValueError`` naming the failure. An
unknown name raises :class:`UnknownNameError` (a ``ValueError``) from ``get``, ``create``,
``target`` and ``summary`` alike, suggesting the closest name and listing the valid ones.

Example:
    >>> from commsldr.registry import POLICIES
    >>> "oracle" in POLICIES.names()
    True
    >>> POLICIES.summary("fixed")
    'Always the same point: encoder variant ``k`` at quantization scale ``scale``.'
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commsldr_channels.registry import (
    CHANNELS,
    PluginWarning,
    Registry,
    UnknownNameError,
    check_params,
    first_line,
    module_file,
    plugin_warnings_as_lines,
    signature_of,
    source_summary,
)

__all__ = [
    "Registry",
    "PluginWarning",
    "UnknownNameError",
    "ParamInfo",
    "REGISTRIES",
    "CHANNELS",
    "POLICIES",
    "CSI_MODELS",
    "PHYS",
    "SCHEMES",
    "MODELS",
    "RECIPES",
    "SCHEDULERS",
    "first_line",
    "module_file",
    "check_params",
    "describe_params",
    "import_plugins",
    "plugin_warnings_as_lines",
    "source_summary",
    "unit_of",
]

# -------------------------------------------------------------------------------------------
# parameters
# -------------------------------------------------------------------------------------------
#: unit of a parameter from the suffix of its name (the project's naming convention)
_UNITS: tuple[tuple[str, str], ...] = (
    ("_db", "dB"), ("_dbm", "dBm"), ("_hz", "Hz"), ("_s", "s"), ("_ms", "ms"), ("_mps", "m/s"),
    ("_kmh", "km/h"), ("_m", "m"), ("_bits", "bits"), ("_bits_per_frame", "bits/frame"),
    ("_bps", "bit/s"), ("_frames", "frames"), ("_deg", "degrees"),
)


def unit_of(name: str) -> str:
    """The unit a parameter name carries (``snr_db`` → ``dB``), or ``""``."""
    best = ""
    for suffix, unit in _UNITS:
        if name.endswith(suffix) and len(suffix) > len(best[0] if best else ""):
            best = (suffix, unit)  # type: ignore[assignment]
    return best[1] if best else ""


@dataclass(frozen=True)
class ParamInfo:
    """One constructor parameter: name, default (``None`` when required), unit, description."""

    name: str
    default: str
    required: bool
    unit: str
    doc: str


def _arg_docs(doc: str) -> dict[str, str]:
    """Google-style ``Args:`` entries of a docstring → ``{name: text}`` (continuations joined)."""
    out: dict[str, str] = {}
    lines = inspect.cleandoc(doc or "").splitlines()
    in_args, current, indent = False, None, None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args, current, indent = True, None, None
            continue
        if not in_args:
            continue
        if not stripped:
            current = None
            continue
        lead = len(line) - len(line.lstrip())
        if indent is None:
            indent = lead
        if lead < indent or (lead == 0 and stripped.endswith(":")):
            in_args = False
            continue
        m = re.match(r"^(\w+)(\s*\([^)]*\))?:\s*(.*)$", stripped)
        if lead == indent and m:
            current = m.group(1)
            out[current] = m.group(3)
        elif current is not None:
            out[current] += " " + stripped
    return out


def describe_params(cls: Any) -> list[ParamInfo]:
    """The parameters of ``cls.__init__`` (or of a builder function) with defaults, units and
    their docstring text (from the class or ``__init__`` docstring's ``Args:`` section)."""
    init_doc = cls.__init__.__doc__ if isinstance(cls, type) else ""
    docs = {**_arg_docs(init_doc or ""), **_arg_docs(cls.__doc__ or "")}
    out = []
    for p in signature_of(cls).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        required = p.default is p.empty
        out.append(ParamInfo(p.name, "" if required else repr(p.default), required,
                             unit_of(p.name), docs.get(p.name, "")))
    return out


# -------------------------------------------------------------------------------------------
# user modules
# -------------------------------------------------------------------------------------------
_IMPORTED_FILES: dict[Path, Any] = {}


def import_plugins(modules: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                   base_dir: Path | None = None) -> list[Any]:
    """Import user modules so that their classes register themselves.

    Each entry is a dotted module name (``my_package.policies``, found on the unchanged
    ``sys.path``) or the path of a ``.py`` file (a ``str`` or ``Path``; relative paths from
    ``base_dir``, default the working directory). A file is imported once per process. A single
    name or path (not in a list) is one entry.

    Raises:
        TypeError: ``modules`` is not a name, a path or an iterable of them (the message names
            the offending entry).
        ImportError: the module or file cannot be found or fails to import (the message names
            it).
    """
    if isinstance(modules, (str, os.PathLike)):
        modules = [modules]
    elif not isinstance(modules, Iterable):
        raise TypeError(f"modules: expected a module name or .py path, or a list of them; got "
                        f"{modules!r} ({type(modules).__name__})")
    out = []
    for i, item in enumerate(list(modules)):
        if isinstance(item, os.PathLike):  # a Path is a file, never a dotted name
            ref = os.fspath(item)
            if not isinstance(ref, str):
                raise TypeError(f"modules[{i}]: expected a module name or .py path (str or "
                                f"Path), got {item!r}")
            if not (ref.endswith(".py") or "/" in ref or os.sep in ref):
                ref = os.path.join(".", ref)
        elif isinstance(item, str):
            ref = item
        else:
            raise TypeError(f"modules[{i}]: expected a module name or .py path (str or Path), "
                            f"got {item!r} ({type(item).__name__})")
        if ref.endswith(".py") or "/" in ref or os.sep in ref:
            path = Path(ref).expanduser()
            if not path.is_absolute():
                path = (base_dir or Path.cwd()) / path
            path = path.resolve()
            if path in _IMPORTED_FILES:
                out.append(_IMPORTED_FILES[path])
                continue
            if not path.is_file():
                raise ImportError(f"plug-in {ref!r}: no such file {path}")
            name = f"commsldr_plugin_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[name]
                raise ImportError(f"plug-in {ref!r} failed to import: {exc!r}") from exc
            _IMPORTED_FILES[path] = module
            out.append(module)
        else:
            try:  # on the unchanged sys.path: the working directory is never put first
                out.append(importlib.import_module(ref))
            except ImportError as exc:
                raise ImportError(f"plug-in {ref!r}: {exc}") from exc
            except Exception as exc:
                raise ImportError(f"plug-in {ref!r} failed to import: {exc!r}") from exc
    return out


# -------------------------------------------------------------------------------------------
# the registries: one line per kind (``commsldr list KIND`` and ``describe`` read REGISTRIES)
# -------------------------------------------------------------------------------------------
POLICIES = Registry("policy", "commsldr.policies", base="commsldr.adapt.policies:Policy", builtins={
    "fixed": "commsldr.adapt.policies:Fixed",
    "scale-only": "commsldr.adapt.policies:ScaleOnly",
    "scale-and-truncation": "commsldr.adapt.policies:ScaleAndTruncation",
    "capacity-greedy": "commsldr.adapt.policies:CapacityGreedy",
    "outage-aware": "commsldr.adapt.policies:OutageAware",
    "oracle": "commsldr.adapt.policies:Oracle",
    "best-fixed-hindsight": "commsldr.adapt.hindsight:BestFixedInHindsight",
    "olla": "commsldr.adapt.learning:OLLA",
    "thompson": "commsldr.adapt.learning:ThompsonMenu",
    "rl": "commsldr.adapt.rl:DeepRLPolicy",
})
CSI_MODELS = Registry("CSI model", "commsldr.csi", base="commsldr.adapt.csi:CSIModel", builtins={
    "perfect": "commsldr.adapt.csi:PerfectCSI",
    "delayed": "commsldr.adapt.csi:DelayedCSI",
    "noisy": "commsldr.adapt.csi:NoisyCSI",
    "ack-nack": "commsldr.adapt.csi:AckNackCSI",
})
PHYS = Registry("PHY", "commsldr.phys", required=("deliver", "frame_capacity_bits"), builtins={
    "shannon": "commsldr.link.phy:ShannonPHY",
    "nr": "commsldr.link.nr:NRPHY",
    "bittrue": "commsldr.link.bittrue:BitTruePHY",
})
SCHEMES = Registry("scheme", "commsldr.schemes", base="commsldr.schemes.base:Scheme", builtins={
    "split-ae": "commsldr.schemes.split_ae:SplitAEScheme",
    "jpeg": "commsldr.schemes.codec:JPEGScheme",
    "webp": "commsldr.schemes.codec:WebPScheme",
    "edge-label": "commsldr.schemes.edge:EdgeLabelScheme",
    "analog-jscc": "commsldr.schemes.jscc:AnalogJSCCScheme",
    "entropy-bottleneck": "commsldr.schemes.entropy_bottleneck:EntropyBottleneckScheme",
})
MODELS = Registry("model", "commsldr.models", classes=False, builtins={
    "resnet8": "commsldr.models.registry:resnet8",
    "resnet20": "commsldr.models.registry:resnet20",
    "resnet18": "commsldr.models.registry:resnet18",
    "resnet34": "commsldr.models.registry:resnet34",
    "airnet": "commsldr.models.registry:airnet",
    "split_autoencoder": "commsldr.models.split:SplitAutoencoder",
})
RECIPES = Registry("recipe", "commsldr.recipes", classes=False, builtins={
    "ce": "commsldr.train.recipes:recipe_ce",
    "screen": "commsldr.train.recipes:recipe_screen",
    "duphil": "commsldr.train.recipes:recipe_duphil",
    "ldr-ft": "commsldr.train.recipes:recipe_ldr_ft",
    "truncate": "commsldr.train.recipes:recipe_truncate",
    "entropy-bottleneck": "commsldr.train.recipes:recipe_entropy_bottleneck",
})
SCHEDULERS = Registry("scheduler", "commsldr.schedulers", base="commsldr.cell.schedulers:Scheduler",
                      builtins={
    "round-robin": "commsldr.cell.schedulers:RoundRobin",
    "proportional-fair": "commsldr.cell.schedulers:ProportionalFair",
    "max-sinr": "commsldr.cell.schedulers:MaxSINR",
    "task-aware": "commsldr.cell.schedulers:TaskAware",
})

#: ``{kind as ``commsldr list`` names it: registry}``; a new kind is one entry here
REGISTRIES: dict[str, Registry] = {
    "channels": CHANNELS,
    "policies": POLICIES,
    "csi": CSI_MODELS,
    "phys": PHYS,
    "models": MODELS,
    "recipes": RECIPES,
    "schemes": SCHEMES,
    "schedulers": SCHEDULERS,
}
