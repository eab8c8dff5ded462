"""One registry helper for every kind of pluggable class: policies, CSI models and PHYs.

A :class:`Registry` maps names to classes. Built-in classes are entered *lazily*, as
``"module:Class"`` strings, so that neither the registry imports the modules of the classes it
lists (no import cycle, and ``commsldr list`` answers without importing torch) nor those
modules import the registry. Third-party packages add classes through an entry-point group, e.g.
in their ``pyproject.toml``::

    [project.entry-points."commsldr.policies"]
    my-policy = "my_package.policies:MyPolicy"

and scripts or scenario plug-ins (``commsldr run --plugin MODULE``, ``plugins:`` in a scenario;
:func:`import_plugins`) register with the decorator, e.g. ``@register_policy("my-policy")``.

The channel models keep their own registry in the ``channels`` package (which never imports
``commsldr``); it works the same way with the group ``commsldr.channels``.

Example:
    >>> from commsldr.registry import POLICIES
    >>> "oracle" in POLICIES.names()
    True
    >>> POLICIES.summary("fixed")
    'Always the same point: encoder variant ``k`` at quantization scale ``scale``.'
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "Registry",
    "ParamInfo",
    "POLICIES",
    "CSI_MODELS",
    "PHYS",
    "SCHEDULERS",
    "check_params",
    "describe_params",
    "import_plugins",
    "source_summary",
    "unit_of",
]

T = TypeVar("T", bound=type)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _defined_in(cls: type) -> str:
    """Where a class was defined (file of its first function, else its module)."""
    for v in vars(cls).values():
        code = getattr(v, "__code__", None)
        if code is not None:
            return code.co_filename
    return cls.__module__


class Registry:
    """Names → classes of one kind, with lazy built-ins and entry-point plug-ins.

    Args:
        kind: what is registered, for messages (``"policy"``).
        group: the entry-point group of plug-ins (``"commsldr.policies"``).
        base: ``"module:Class"`` every registered class must subclass (checked on lookup,
            imported only then), or ``None``.
        required: method names a registered class must have (for protocol-typed kinds).
        builtins: ``{name: "module:Class"}`` entered lazily.
    """

    def __init__(self, kind: str, group: str, *, base: str | None = None,
                 required: tuple[str, ...] = (), builtins: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.group = group
        self.base = base
        self.required = required
        self.builtins: dict[str, str] = dict(builtins or {})
        self._entries: dict[str, type | str] = dict(self.builtins)
        self._plugins_loaded = False

    # -- registration ------------------------------------------------------------------------
    def _check(self, name: str, cls: Any) -> None:
        if not isinstance(cls, type):
            raise TypeError(f"register {self.kind} {name!r}: {cls!r} is not a class")
        if self.base is not None:
            base = _resolve(self.base)
            if not issubclass(cls, base):
                raise TypeError(f"register {self.kind} {name!r}: {cls.__qualname__} is not a "
                                f"subclass of {base.__module__}.{base.__qualname__}")
        missing = [m for m in self.required if not callable(getattr(cls, m, None))]
        if missing:
            raise TypeError(f"register {self.kind} {name!r}: {cls.__qualname__} lacks "
                            f"{', '.join(missing)}")

    def add(self, name: str, cls: type) -> type:
        """Register ``cls`` under ``name`` (sets ``cls.name``).

        Raises:
            ValueError: malformed name, or the name is taken by another class (re-registering a
                re-imported class of the same name and file replaces it).
            TypeError: ``cls`` is not a class of this kind.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{self.kind} names are lowercase [a-z0-9_.-], got {name!r}")
        self._check(name, cls)
        old = self._entries.get(name)
        if isinstance(old, str) and old == f"{cls.__module__}:{cls.__qualname__}":
            old = cls  # a lazy built-in registering itself with the decorator
        if old is not None and old is not cls:
            if isinstance(old, str):
                old = _resolve(old)
            same = (old is cls or (old.__qualname__ == cls.__qualname__
                                   and _defined_in(old) == _defined_in(cls)))
            if not same:
                raise ValueError(f"{self.kind} name {name!r} is already registered "
                                 f"({old.__module__}.{old.__qualname__})")
        cls.name = name  # type: ignore[attr-defined]
        self._entries[name] = cls
        return cls

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator: ``@REGISTRY.register("name")``."""

        def deco(cls: T) -> T:
            self.add(name, cls)
            return cls

        return deco

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.group):
            if ep.name in self._entries:
                continue
            if not _NAME.match(ep.name):
                warnings.warn(f"{self.kind} plug-in {ep.name!r} ({ep.value}): malformed name; "
                              f"ignored", stacklevel=3)
                continue
            self._entries[ep.name] = ep.value  # resolved (and checked) on first use

    # -- lookup ------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Sorted names of the built-ins, plug-ins and classes registered so far."""
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def target(self, name: str) -> str:
        """``"module:Class"`` of ``name`` (without importing it)."""
        self.names()
        entry = self._entries[name]
        return entry if isinstance(entry, str) else f"{entry.__module__}:{entry.__qualname__}"

    def get(self, name: str) -> type:
        """The class registered as ``name``.

        Raises:
            ValueError: unknown name (the message lists the valid ones) or a plug-in that
                fails to import or is not a class of this kind.
        """
        names = self.names()
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; valid: {', '.join(names)}")
        entry = self._entries[name]
        if isinstance(entry, str):
            try:
                cls = _resolve(entry)
            except Exception as exc:  # a broken plug-in names itself
                raise ValueError(f"{self.kind} {name!r} ({entry}) failed to import: {exc!r}") \
                    from None
            try:
                self._check(name, cls)
            except TypeError as exc:
                raise ValueError(str(exc)) from None
            if getattr(cls, "name", name) != name and entry.startswith("commsldr."):
                raise ValueError(f"built-in {self.kind} {entry} is named {cls.name!r}, "
                                 f"registered as {name!r}")
            if not getattr(cls, "name", ""):
                cls.name = name
            self._entries[name] = cls
            entry = cls
        return entry

    def create(self, name: str, **params: Any) -> Any:
        """``get(name)(**params)`` after checking the parameter names.

        Raises:
            ValueError: unknown name (lists the valid ones), unknown or missing parameter,
                bad value.
        """
        cls = self.get(name)
        check_params(cls, params, f"{self.kind} {name!r}")
        return cls(**params)

    def summary(self, name: str) -> str:
        """The first line of the class docstring, read from its source when it is not imported
        yet (so listing costs no imports)."""
        self.names()
        entry = self._entries[name]
        if isinstance(entry, str):
            text = source_summary(entry)
            if text is not None:
                return text
            entry = self.get(name)
        return _first_line(entry.__doc__)

    def summaries(self) -> dict[str, str]:
        """``{name: summary}`` for every name."""
        return {n: self.summary(n) for n in self.names()}


def _first_line(doc: str | None) -> str:
    doc = (doc or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def _module_file(module: str) -> Path | None:
    """The source file of ``module`` found without importing any of its packages."""
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if len(parts) == 1:
        return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
    for loc in spec.submodule_search_locations or []:
        base = Path(loc).joinpath(*parts[1:])
        for cand in (base.with_suffix(".py"), base / "__init__.py"):
            if cand.is_file():
                return cand
    return None


def source_summary(target: str) -> str | None:
    """First docstring line of the class ``"module:Class"`` read from its source file by
    parsing it (``None`` when the source cannot be found or the class is not defined there)."""
    module, _, attr = target.partition(":")
    mod = sys.modules.get(module)
    if mod is not None:
        try:
            return _first_line(_resolve(target).__doc__)
        except AttributeError:
            return None
    path = _module_file(module)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attr:
            return _first_line(ast.get_docstring(node))
    return None


# -------------------------------------------------------------------------------------------
# parameters
# -------------------------------------------------------------------------------------------
def check_params(cls: type, params: dict[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming any parameter ``cls(**params)`` does not accept or lacks."""
    sig = inspect.signature(cls.__init__)
    accepted = [p for p in sig.parameters.values() if p.name != "self"]
    if any(p.kind is p.VAR_KEYWORD for p in accepted):
        return
    names = [p.name for p in accepted if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in params:
        if key not in names:
            raise ValueError(
                f"{what}: unknown parameter {key!r}; allowed: {', '.join(names) or '(none)'}"
            )
    for p in accepted:
        if p.default is p.empty and p.name not in params and p.kind is not p.VAR_POSITIONAL:
            raise ValueError(f"{what}: missing required parameter {p.name!r}")


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


def describe_params(cls: type) -> list[ParamInfo]:
    """The parameters of ``cls.__init__`` with defaults, units and their docstring text
    (from the class or ``__init__`` docstring's ``Args:`` section)."""
    docs = {**_arg_docs(cls.__init__.__doc__ or ""), **_arg_docs(cls.__doc__ or "")}
    out = []
    for p in inspect.signature(cls.__init__).parameters.values():
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


def import_plugins(modules: Iterable[str], *, base_dir: Path | None = None) -> list[Any]:
    """Import user modules so that their classes register themselves.

    Each entry is a dotted module name (``my_package.policies``, found on ``sys.path`` and in
    the working directory) or the path of a ``.py`` file (relative paths from ``base_dir``,
    default the working directory). A file is imported once per process.

    Raises:
        ImportError: the module or file cannot be found or fails to import (the message names
            it).
    """
    out = []
    for ref in modules:
        if ref.endswith(".py") or "/" in ref:
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
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            try:
                out.append(importlib.import_module(ref))
            except ImportError as exc:
                raise ImportError(f"plug-in {ref!r}: {exc}") from exc
            except Exception as exc:
                raise ImportError(f"plug-in {ref!r} failed to import: {exc!r}") from exc
    return out


# -------------------------------------------------------------------------------------------
# the registries
# -------------------------------------------------------------------------------------------
POLICIES = Registry("policy", "commsldr.policies", base="commsldr.adapt.policies:Policy", builtins={
    "fixed": "commsldr.adapt.policies:Fixed",
    "scale-only": "commsldr.adapt.policies:ScaleOnly",
    "scale-and-truncation": "commsldr.adapt.policies:ScaleAndTruncation",
    "capacity-greedy": "commsldr.adapt.policies:CapacityGreedy",
    "outage-aware": "commsldr.adapt.policies:OutageAware",
    "oracle": "commsldr.adapt.policies:Oracle",
    "best-fixed-hindsight": "commsldr.adapt.hindsight:BestFixedInHindsight",
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
SCHEDULERS = Registry("scheduler", "commsldr.schedulers", base="commsldr.cell.schedulers:Scheduler",
                      builtins={
    "round-robin": "commsldr.cell.schedulers:RoundRobin",
    "proportional-fair": "commsldr.cell.schedulers:ProportionalFair",
    "max-sinr": "commsldr.cell.schedulers:MaxSINR",
    "task-aware": "commsldr.cell.schedulers:TaskAware",
})
