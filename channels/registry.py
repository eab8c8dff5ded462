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

A broken plug-in never hides the built-ins: an entry point whose module cannot be found, whose
source does not define the named object, whose import fails, or whose object is not of the
registry's kind is left out of :meth:`Registry.names` (and of every listing) with one
:class:`PluginWarning` naming it and the error; an entry point that reuses a taken name (a
built-in's, say) is ignored with a warning. Asking for such a plug-in by name
(:meth:`Registry.get`, :func:`create_channel`) raises a ``ValueError`` naming the failure.
Entry points are checked without importing them where their source defines the named class
(listing stays cheap); such a plug-in that fails only on import is left out once it failed.
A class has one registered name: registering it under a second name is refused.

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
import difflib
import importlib
import importlib.util
import inspect
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from commsldr_channels.base import Channel

__all__ = [
    "CHANNELS",
    "ENTRY_POINT_GROUP",
    "PluginWarning",
    "Registry",
    "UnknownNameError",
    "UnknownChannelError",
    "channel_descriptions",
    "check_params",
    "create_channel",
    "get_channel_class",
    "list_channels",
    "plugin_warnings_as_lines",
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


class PluginWarning(UserWarning):
    """A third-party plug-in (an entry point) was left out: it cannot be imported, is not of the
    registry's kind, or its name is taken. The message names the plug-in and the error."""


class UnknownNameError(ValueError):
    """No entry of a registry has the requested name (the message suggests the closest one and
    lists the valid names)."""


@contextmanager
def plugin_warnings_as_lines(prefix: str) -> Iterator[None]:
    """Context manager of the command-line listings: each :class:`PluginWarning` raised inside
    is printed on exit as one line ``PREFIX: warning: MESSAGE`` on stderr; other warnings are
    shown as usual."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # type: ignore[assignment]
            warnings.simplefilter("always", PluginWarning)
            yield
    finally:
        for w in caught:
            if issubclass(w.category, PluginWarning):
                print(f"{prefix}: warning: {w.message}", file=sys.stderr)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


def did_you_mean(word: Any, choices: list[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _implements(cls: Any, method: str, base: type | None) -> bool:
    """``cls`` has a callable ``method`` that is neither abstract nor the placeholder it
    inherits unchanged from ``base``."""
    attr = getattr(cls, method, None)
    if not callable(attr) or getattr(attr, "__isabstractmethod__", False):
        return False
    if base is not None and isinstance(cls, type):
        owner = next((c for c in cls.__mro__ if method in vars(c)), None)
        return owner is not base
    return True


class Registry:
    """Names → the classes (or builder functions) of one kind, with lazy built-ins and
    entry-point plug-ins.

    Args:
        kind: what is registered, for messages (``"policy"``).
        group: the entry-point group of plug-ins (``"commsldr.policies"``).
        base: ``"module:Class"`` every registered class must subclass (checked on lookup,
            imported only then), or ``None``.
        required: method names a registered class must implement: callable, not abstract and,
            with ``base``, not the base class's placeholder (checked on registration and
            lookup; the message names what is missing).
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
        self._checked: set[str] = set()  # entries known to be usable (or found failing)
        self._failed: dict[str, str] = {}  # plug-in name -> why it cannot be used

    def _warn(self, message: str) -> None:
        """One :class:`PluginWarning` line (no source line: the location is the entry point)."""
        warnings.warn_explicit(message, PluginWarning, filename=f"<{self.group} entry points>",
                               lineno=0, module=__name__)

    def failures(self) -> dict[str, str]:
        """``{name: why}`` of the plug-ins found unusable so far (left out of :meth:`names`)."""
        self.names()
        return dict(self._failed)

    # -- registration ------------------------------------------------------------------------
    def _check(self, name: str, obj: Any) -> None:
        """``obj`` is of this kind and implements the required methods (else ``TypeError``)."""
        self._check_methods(name, obj, self._check_kind(name, obj))

    def _check_kind(self, name: str, obj: Any) -> type | None:
        """``obj`` is a class (function) of this kind; returns the base class, if any."""
        if self.classes and not isinstance(obj, type):
            raise TypeError(f"register {self.kind} {name!r}: {obj!r} is not a class")
        if not self.classes and not callable(obj):
            raise TypeError(f"register {self.kind} {name!r}: {obj!r} is not callable")
        if self.base is not None:
            base = resolve(self.base)
            if not issubclass(obj, base):
                raise TypeError(f"register {self.kind} {name!r}: {obj.__qualname__} is not a "
                                f"subclass of {base.__module__}.{base.__qualname__}")
            return base
        return None

    def _check_methods(self, name: str, obj: Any, base: type | None) -> None:
        missing = [m for m in self.required if not _implements(obj, m, base)]
        if missing:
            what = getattr(obj, "__qualname__", repr(obj))
            raise TypeError(f"register {self.kind} {name!r}: {what} lacks "
                            f"{', '.join(missing)} (a {self.kind} must implement "
                            f"{', '.join(self.required)})")

    def add(self, name: str, obj: Any) -> Any:
        """Register ``obj`` under ``name`` (sets ``obj.name``).

        A class has one name: registering a class already registered here under another name
        is refused (register a subclass to offer a second name).

        Raises:
            ValueError: malformed name, the name is taken by another class (re-registering a
                re-imported class of the same name and file replaces it), or ``obj`` is already
                registered under another name.
            TypeError: ``obj`` is not a class (or function) of this kind, or lacks a required
                method.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{self.kind} names are lowercase [a-z0-9_.-], got {name!r}")
        base = self._check_kind(name, obj)
        own = vars(obj).get("name") if hasattr(obj, "__dict__") else None
        if isinstance(own, str) and own and own != name \
                and self._entries.get(own) in (obj, _qualified(obj)):
            raise ValueError(f"register {self.kind} {name!r}: {_qualified(obj)} is already "
                             f"registered as {own!r}; a class has one name (register a "
                             f"subclass to offer another)")
        old = self._entries.get(name)
        if isinstance(old, str) and old == _qualified(obj):
            old = obj  # a lazy built-in registering itself with the decorator
        if old is not None and old is not obj:
            if isinstance(old, str):
                try:
                    old = resolve(old)
                except Exception:
                    if name in self.builtins:
                        raise ValueError(f"{self.kind} name {name!r} is already registered "
                                         f"({old})") from None
                    old = obj  # a broken plug-in entry gives way to a working class
            same = (old is obj or (old.__qualname__ == obj.__qualname__
                                   and _defined_in(old) == _defined_in(obj)))
            if not same:
                raise ValueError(f"{self.kind} name {name!r} is already registered "
                                 f"({old.__module__}.{old.__qualname__})")
        self._check_methods(name, obj, base)
        obj.name = name
        self._entries[name] = obj
        self._failed.pop(name, None)
        self._checked.add(name)
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
        try:
            found = list(entry_points(group=self.group))
        except Exception as exc:  # broken installed metadata must not hide the built-ins
            self._warn(f"{self.kind} plug-ins of entry-point group {self.group!r} could not be "
                       f"read: {exc!r}; only the built-ins and registered {self.kind} entries "
                       f"are available")
            return
        for ep in found:
            value = f"{ep.module}:{ep.attr}" if ep.attr else ep.module  # extras dropped
            if ep.name in self._entries:
                old = self._entries[ep.name]
                taken = old if isinstance(old, str) else _qualified(old)
                if value != taken:  # the same target found twice is no clash
                    owner = "the built-in" if ep.name in self.builtins else "the"
                    self._warn(f"{self.kind} plug-in {ep.name!r} ({ep.value}) ignored: the name "
                               f"is taken by {owner} {self.kind} {taken}")
                continue
            if not _NAME.match(ep.name):
                self._warn(f"{self.kind} plug-in {ep.name!r} ({ep.value}) ignored: malformed "
                           f"name ({self.kind} names are lowercase [a-z0-9_.-])")
                continue
            self._entries[ep.name] = value  # checked by names(), resolved on first use

    def _verify(self, name: str) -> None:
        """Check a plug-in entry once, cheaply: its source defines the named object (no
        import), else it imports and is of this kind. A failing one is recorded and warned
        about."""
        self._checked.add(name)
        entry = self._entries[name]
        if not isinstance(entry, str) or name in self.builtins:
            return
        if source_summary(entry) is not None:
            return
        try:
            self.get(name)
        except ValueError as exc:
            self._warn(f"{self.kind} plug-in skipped: {exc}")

    # -- lookup ------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Sorted names of the built-ins, the working plug-ins and the entries registered so
        far (a plug-in found failing is left out, with a :class:`PluginWarning`)."""
        self._load_plugins()
        for name in [n for n in self._entries if n not in self._checked]:
            self._verify(name)
        return sorted(n for n in self._entries if n not in self._failed)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def _known(self, name: Any) -> str:
        """``name`` if it has an entry (a failing plug-in too), else :class:`UnknownNameError`
        naming the closest valid name and listing them all."""
        self._load_plugins()
        if isinstance(name, str) and name in self._entries:
            return name
        valid = self.names()
        raise UnknownNameError(f"unknown {self.kind} {name!r}{did_you_mean(name, valid)}; "
                               f"valid: {', '.join(valid)}")

    def target(self, name: str) -> str:
        """``"module:Class"`` of ``name`` (without importing it).

        Raises:
            UnknownNameError: (a ``ValueError``) unknown name; lists the valid ones.
        """
        entry = self._entries[self._known(name)]
        return entry if isinstance(entry, str) else _qualified(entry)

    def get(self, name: str) -> Any:
        """The class (or function) registered as ``name``.

        Raises:
            UnknownNameError: (a ``ValueError``) unknown name (the message suggests the closest
                and lists the valid ones).
            ValueError: a plug-in that fails to import or is not of this kind (the message
                names it and the error).
        """
        entry = self._entries[self._known(name)]
        if isinstance(entry, str):
            try:
                obj = self._resolve(name, entry)
            except ValueError as exc:
                if name not in self.builtins:  # a broken plug-in is left out from now on
                    self._failed[name] = str(exc)
                    self._checked.add(name)
                raise
            if getattr(obj, "name", name) != name and name in self.builtins:
                raise ValueError(f"built-in {self.kind} {entry} is named {obj.name!r}, "
                                 f"registered as {name!r}")
            if not getattr(obj, "name", ""):
                obj.name = name
            self._entries[name] = obj
            self._failed.pop(name, None)
            entry = obj
        return entry

    def _resolve(self, name: str, entry: str) -> Any:
        """Import the lazy entry ``"module:Class"`` and check it is of this kind."""
        try:
            obj = resolve(entry)
        except Exception as exc:  # a broken plug-in names itself
            raise ValueError(f"{self.kind} {name!r} ({entry}) failed to import: {exc!r}") \
                from None
        try:
            self._check(name, obj)
        except TypeError as exc:
            reason = str(exc).removeprefix(f"register {self.kind} {name!r}: ")
            raise ValueError(f"{self.kind} {name!r} ({entry}): {reason}") from None
        return obj

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
        yet (so listing costs no imports).

        Raises:
            UnknownNameError: (a ``ValueError``) unknown name; lists the valid ones.
            ValueError: a plug-in whose source is not found and that fails to import.
        """
        entry = self._entries[self._known(name)]
        if isinstance(entry, str):
            text = source_summary(entry)
            if text is not None:
                return text
            entry = self.get(name)
        return first_line(entry.__doc__)

    def summaries(self) -> dict[str, str]:
        """``{name: summary}`` for every name of :meth:`names`; an entry whose summary fails
        is left out with a :class:`PluginWarning` naming it and the error."""
        out = {}
        for name in self.names():
            try:
                out[name] = self.summary(name)
            except Exception as exc:
                if name not in self.builtins:
                    self._failed[name] = str(exc)
                self._warn(f"{self.kind} {'' if name in self.builtins else 'plug-in '}"
                           f"skipped: {exc}")
        return out


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
            obj = resolve(target)
        except (AttributeError, ImportError, ValueError):
            return None
        # only a class or function defines the entry (a module attribute such as ``thing =
        # None`` does not, though ``None.__doc__`` is text)
        return first_line(obj.__doc__) if isinstance(obj, type) or inspect.isfunction(obj) \
            else None
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
                    required=("states",), builtins={
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


class UnknownChannelError(KeyError, UnknownNameError):
    """No channel is registered under the requested name (the message suggests the closest one
    and lists the valid ones).

    A ``KeyError`` (as it always was) and a ``ValueError`` (:class:`UnknownNameError`, like an
    unknown name of any registry), so either ``except`` catches it.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def register_channel(name: str) -> Callable[[C], C]:
    """Class decorator registering a :class:`~commsldr_channels.base.Channel` subclass under
    ``name`` (:data:`CHANNELS`).

    Raises:
        ValueError: the name is malformed or already taken by another class, or the class is
            already registered under another name (a class has one name).
        TypeError: the decorated object is not a ``Channel`` subclass, or does not implement
            ``states`` (the message names it).

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
        if not (isinstance(cls, type) and issubclass(cls, resolve(str(CHANNELS.base)))):
            raise TypeError(f"register_channel({name!r}): {cls!r} is not a "
                            f"commsldr_channels.Channel subclass")
        CHANNELS.add(name, cls)  # TypeError naming a missing ``states``
        return cls

    return decorator


def get_channel_class(name: str) -> type[Channel]:
    """The class registered under ``name``.

    Raises:
        UnknownChannelError: (a ``KeyError`` and a ``ValueError``) unknown name; the message
            suggests the closest and lists the valid names.
        ValueError: a plug-in that fails to import or is not a ``Channel`` subclass (the
            message names it and the error).
    """
    try:
        return CHANNELS.get(name)
    except UnknownNameError:
        valid = CHANNELS.names()
        raise UnknownChannelError(f"unknown channel {name!r}{did_you_mean(name, valid)}; "
                                  f"valid names: {', '.join(valid)}") from None


def create_channel(name: str, **params: Any) -> Channel:
    """Instantiate the channel registered under ``name`` with ``params``.

    Raises:
        UnknownChannelError: (a ``KeyError`` and a ``ValueError``) unknown name; lists the
            valid ones.
        ValueError: a bad parameter value (the message names the parameter), or a plug-in that
            fails to import.
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
    """Sorted names of all registered channels: the built-ins and the plug-ins that work (one
    that cannot be imported or is not a ``Channel`` is left out with a :class:`PluginWarning`)."""
    return CHANNELS.names()


def channel_descriptions() -> dict[str, str]:
    """``{name: first line of the class docstring}`` for every channel of
    :func:`list_channels` (read from the source of a module not imported yet; a failing plug-in
    is left out with a :class:`PluginWarning`)."""
    return CHANNELS.summaries()
