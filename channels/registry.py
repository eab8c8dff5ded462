"""The one registry helper of the project, and the channel registry built with it.

A :class:`Registry` maps names to the things of one kind (classes, or builder functions for
kinds such as models and recipes). Built-ins are entered *lazily*, as ``"module:Class"``
strings, so neither the registry imports the modules it lists (no import cycle, and listing
imports no torch) nor those modules import the registry. Third-party packages add entries
through an entry-point group, e.g. in their ``pyproject.toml``::

    [project.entry-points."commsldr.channels"]
    my-channel = "my_package.my_module:MyChannel"

and scripts register with the decorator (``@register_channel("my-channel")``, or
``@REGISTRY.register("name")`` of any kind). The entry-point name is the registered name.

The helper lives here, in ``commsldr_channels`` (which never imports ``commsldr``), so that the
channel models use the same helper as every kind of ``commsldr`` (policies, CSI models, PHYs,
schemes, models, recipes: :mod:`commsldr.registry`, which re-exports it). This module imports
neither torch nor the channel modules.

Example:
    >>> from commsldr_channels.registry import CHANNELS
    >>> "awgn" in CHANNELS.names()
    True
    >>> CHANNELS.target("awgn")
    'commsldr_channels.awgn:AWGN'
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from commsldr_channels.base import Channel

__all__ = [
    "CHANNELS",
    "ENTRY_POINT_GROUP",
    "Registry",
    "UnknownChannelError",
    "channel_descriptions",
    "check_params",
    "create_channel",
    "get_channel_class",
    "list_channels",
    "register_channel",
    "source_summary",
]

T = TypeVar("T")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def resolve(target: str) -> Any:
    """The object named by ``"module:attr[.attr]"`` (imports the module)."""
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _defined_in(obj: Any) -> str:
    """Where a class or function was defined (file of its first function, else its module)."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        return code.co_filename
    for v in vars(obj).values():
        code = getattr(v, "__code__", None)
        if code is not None:
            return code.co_filename
    return obj.__module__


def _qualified(obj: Any) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


class Registry:
    """Names → the classes (or builder functions) of one kind, with lazy built-ins and
    entry-point plug-ins.

    Args:
        kind: what is registered, for messages (``"policy"``).
        group: the entry-point group of plug-ins (``"commsldr.policies"``).
        base: ``"module:Class"`` every registered class must subclass (checked on lookup,
            imported only then), or ``None``.
        required: method names a registered class must have (for protocol-typed kinds).
        builtins: ``{name: "module:Class"}`` entered lazily.
        classes: ``False`` for kinds whose entries are builder functions (models, recipes).
    """

    def __init__(self, kind: str, group: str, *, base: str | None = None,
                 required: tuple[str, ...] = (), builtins: dict[str, str] | None = None,
                 classes: bool = True) -> None:
        self.kind = kind
        self.group = group
        self.base = base
        self.required = required
        self.classes = classes
        self.builtins: dict[str, str] = dict(builtins or {})
        self._entries: dict[str, Any] = dict(self.builtins)
        self._plugins_loaded = False

    # -- registration ------------------------------------------------------------------------
    def _check(self, name: str, obj: Any) -> None:
        if self.classes and not isinstance(obj, type):
            raise TypeError(f"register {self.kind} {name!r}: {obj!r} is not a class")
        if not self.classes and not callable(obj):
            raise TypeError(f"register {self.kind} {name!r}: {obj!r} is not callable")
        if self.base is not None:
            base = resolve(self.base)
            if not issubclass(obj, base):
                raise TypeError(f"register {self.kind} {name!r}: {obj.__qualname__} is not a "
                                f"subclass of {base.__module__}.{base.__qualname__}")
        missing = [m for m in self.required if not callable(getattr(obj, m, None))]
        if missing:
            raise TypeError(f"register {self.kind} {name!r}: {obj.__qualname__} lacks "
                            f"{', '.join(missing)}")

    def add(self, name: str, obj: Any) -> Any:
        """Register ``obj`` under ``name`` (sets ``obj.name``).

        Raises:
            ValueError: malformed name, or the name is taken by another class (re-registering a
                re-imported class of the same name and file replaces it).
            TypeError: ``obj`` is not a class (or function) of this kind.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{self.kind} names are lowercase [a-z0-9_.-], got {name!r}")
        self._check(name, obj)
        old = self._entries.get(name)
        if isinstance(old, str) and old == _qualified(obj):
            old = obj  # a lazy built-in registering itself with the decorator
        if old is not None and old is not obj:
            if isinstance(old, str):
                old = resolve(old)
            same = (old is obj or (old.__qualname__ == obj.__qualname__
                                   and _defined_in(old) == _defined_in(obj)))
            if not same:
                raise ValueError(f"{self.kind} name {name!r} is already registered "
                                 f"({old.__module__}.{old.__qualname__})")
        obj.name = name
        self._entries[name] = obj
        return obj

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("name")``."""

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

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
        """Sorted names of the built-ins, plug-ins and entries registered so far."""
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def target(self, name: str) -> str:
        """``"module:Class"`` of ``name`` (without importing it)."""
        self.names()
        entry = self._entries[name]
        return entry if isinstance(entry, str) else _qualified(entry)

    def get(self, name: str) -> Any:
        """The class (or function) registered as ``name``.

        Raises:
            ValueError: unknown name (the message lists the valid ones) or a plug-in that
                fails to import or is not of this kind.
        """
        names = self.names()
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; valid: {', '.join(names)}")
        entry = self._entries[name]
        if isinstance(entry, str):
            try:
                obj = resolve(entry)
            except Exception as exc:  # a broken plug-in names itself
                raise ValueError(f"{self.kind} {name!r} ({entry}) failed to import: {exc!r}") \
                    from None
            try:
                self._check(name, obj)
            except TypeError as exc:
                raise ValueError(str(exc)) from None
            if getattr(obj, "name", name) != name and name in self.builtins:
                raise ValueError(f"built-in {self.kind} {entry} is named {obj.name!r}, "
                                 f"registered as {name!r}")
            if not getattr(obj, "name", ""):
                obj.name = name
            self._entries[name] = obj
            entry = obj
        return entry

    def create(self, name: str, **params: Any) -> Any:
        """``get(name)(**params)`` after checking the parameter names.

        Raises:
            ValueError: unknown name (lists the valid ones), unknown or missing parameter,
                bad value.
        """
        obj = self.get(name)
        check_params(obj, params, f"{self.kind} {name!r}")
        return obj(**params)

    def summary(self, name: str) -> str:
        """The first line of the docstring, read from the source when the module is not imported
        yet (so listing costs no imports)."""
        self.names()
        entry = self._entries[name]
        if isinstance(entry, str):
            text = source_summary(entry)
            if text is not None:
                return text
            entry = self.get(name)
        return first_line(entry.__doc__)

    def summaries(self) -> dict[str, str]:
        """``{name: summary}`` for every name."""
        return {n: self.summary(n) for n in self.names()}


def first_line(doc: str | None) -> str:
    """The first non-blank line of a docstring, stripped (``""`` for none)."""
    doc = (doc or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def module_file(module: str) -> Path | None:
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
    """First docstring line of the class or function ``"module:name"`` read from its source
    file by parsing it (``None`` when the source cannot be found or the name is not defined
    there)."""
    module, _, attr = target.partition(":")
    mod = sys.modules.get(module)
    if mod is not None:
        try:
            return first_line(resolve(target).__doc__)
        except AttributeError:
            return None
    path = module_file(module)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == attr:
            return first_line(ast.get_docstring(node))
    return None


def signature_of(obj: Any) -> inspect.Signature:
    """The call signature of a registered class (its ``__init__``) or function."""
    return inspect.signature(obj.__init__ if isinstance(obj, type) else obj)


def check_params(obj: Any, params: dict[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming any parameter ``obj(**params)`` does not accept or lacks."""
    accepted = [p for p in signature_of(obj).parameters.values() if p.name != "self"]
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


# -------------------------------------------------------------------------------------------
# the channel registry
# -------------------------------------------------------------------------------------------
ENTRY_POINT_GROUP = "commsldr.channels"
CHANNELS = Registry("channel", ENTRY_POINT_GROUP, base="commsldr_channels.base:Channel",
                    builtins={
    "awgn": "commsldr_channels.awgn:AWGN",
    "rayleigh-block": "commsldr_channels.rayleigh_block:RayleighBlock",
    "rician-block": "commsldr_channels.rician_block:RicianBlock",
    "doppler-fading": "commsldr_channels.doppler_fading:DopplerFading",
    "pathloss-shadowing": "commsldr_channels.pathloss_shadowing:PathlossShadowing",
    "gilbert-elliott": "commsldr_channels.gilbert_elliott:GilbertElliott",
    "trace-mahimahi": "commsldr_channels.trace_mahimahi:MahimahiTrace",
    "trace-csv": "commsldr_channels.trace_csv:CSVTrace",
    "tdl": "commsldr_channels.tdl:TDL",
})

C = TypeVar("C", bound=type)


class UnknownChannelError(KeyError):
    """No channel is registered under the requested name (the message lists the valid ones)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def register_channel(name: str) -> Callable[[C], C]:
    """Class decorator registering a :class:`~commsldr_channels.base.Channel` subclass under
    ``name`` (:data:`CHANNELS`).

    Raises:
        ValueError: the name is malformed or already taken by another class.
        TypeError: the decorated object is not a ``Channel`` subclass.

    Example:
        >>> from commsldr_channels import Channel, register_channel
        >>> @register_channel("my-channel")  # doctest: +SKIP
        ... class MyChannel(Channel):
        ...     '''One-line description shown by `python -m commsldr_channels`.'''
        ...     def states(self, num_frames, *, generator): ...
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: channel names are lowercase [a-z0-9_.-], got {name!r}")

    def decorator(cls: C) -> C:
        try:
            CHANNELS.add(name, cls)
        except TypeError:
            raise TypeError(f"register_channel({name!r}): {cls!r} is not a "
                            f"commsldr_channels.Channel subclass") from None
        return cls

    return decorator


def get_channel_class(name: str) -> type[Channel]:
    """The class registered under ``name``.

    Raises:
        UnknownChannelError: (a ``KeyError``) unknown name; the message lists the valid names.
        ValueError: a plug-in that fails to import or is not a ``Channel`` subclass.
    """
    if name not in CHANNELS:
        raise UnknownChannelError(
            f"unknown channel {name!r}; valid names: {', '.join(CHANNELS.names())}")
    return CHANNELS.get(name)


def create_channel(name: str, **params: Any) -> Channel:
    """Instantiate the channel registered under ``name`` with ``params``.

    Raises:
        UnknownChannelError: (a ``KeyError``) unknown name; lists the valid ones.
        ValueError: a bad parameter value (the message names the parameter).
        TypeError: an unknown parameter name.

    Example:
        >>> from commsldr_channels import create_channel
        >>> create_channel("awgn", snr_db=5.0).snr_db
        5.0
    """
    cls = get_channel_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise TypeError(f"channel {name!r}: {exc}") from None


def list_channels() -> list[str]:
    """Sorted names of all registered channels (built-ins and plug-ins)."""
    return CHANNELS.names()


def channel_descriptions() -> dict[str, str]:
    """``{name: first line of the class docstring}`` for every registered channel (read from
    the source of a module not imported yet)."""
    return CHANNELS.summaries()
