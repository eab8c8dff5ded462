"""The scheme registry: built-in schemes register with a decorator, third-party packages through
the ``commsldr.schemes`` entry-point group (loaded lazily on the first lookup).

A plug-in package declares, e.g. in its ``pyproject.toml``::

    [project.entry-points."commsldr.schemes"]
    my-scheme = "my_package.my_module:MyScheme"

The entry-point name is the scheme name; the object is a :class:`~commsldr.schemes.base.Scheme`
subclass. The registry imports only :mod:`commsldr.schemes.base`; the built-in schemes register
themselves when :mod:`commsldr.schemes` is imported (no import cycle).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from commsldr.schemes.base import Scheme

__all__ = [
    "ENTRY_POINT_GROUP",
    "register_scheme",
    "create_scheme",
    "get_scheme_class",
    "list_schemes",
    "scheme_descriptions",
]

ENTRY_POINT_GROUP = "commsldr.schemes"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_REGISTRY: dict[str, type[Scheme]] = {}
_plugins_loaded = False
S = TypeVar("S", bound=type[Scheme])


def register_scheme(name: str) -> Callable[[S], S]:
    """Class decorator registering a :class:`Scheme` subclass under ``name``.

    Raises:
        ValueError: the name is malformed or already taken by another class.
        TypeError: the decorated object is not a ``Scheme`` subclass.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: scheme names are lowercase [a-z0-9_.-], got {name!r}")

    def decorator(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Scheme)):
            raise TypeError(f"register_scheme({name!r}): {cls!r} is not a Scheme subclass")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"name: scheme {name!r} is already registered by "
                             f"{existing.__module__}.{existing.__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def _load_plugins() -> None:
    """Import every ``commsldr.schemes`` entry point once; a broken plug-in only warns."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    import commsldr.schemes  # noqa: F401  (registers the built-ins)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a third-party import error must not hide the built-ins
            warnings.warn(f"scheme plug-in {ep.name!r} ({ep.value}) failed to load: {exc!r}",
                          stacklevel=3)
            continue
        if not (isinstance(obj, type) and issubclass(obj, Scheme)):
            warnings.warn(f"scheme plug-in {ep.name!r} ({ep.value}) is not a Scheme subclass; "
                          "ignored", stacklevel=3)
            continue
        if _REGISTRY.get(ep.name) is obj:
            continue
        try:
            register_scheme(ep.name)(obj)
        except ValueError as exc:
            warnings.warn(f"scheme plug-in {ep.name!r} ({ep.value}) ignored: {exc}", stacklevel=3)


def get_scheme_class(name: str) -> type[Scheme]:
    """The class registered under ``name``; an unknown name raises ``ValueError`` listing the
    valid ones."""
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown scheme {name!r}; valid: {', '.join(sorted(_REGISTRY))}") \
            from None


def create_scheme(name: str, **params: Any) -> Scheme:
    """Create the scheme registered under ``name`` with ``params`` (validated by its
    constructor; a bad value raises ``ValueError`` naming the parameter)."""
    cls = get_scheme_class(name)
    from commsldr.adapt.registry import check_params

    check_params(cls, params, f"scheme {name!r}")
    return cls(**params)


def list_schemes() -> list[str]:
    """Sorted names of all registered schemes (built-ins and plug-ins)."""
    _load_plugins()
    return sorted(_REGISTRY)


def scheme_descriptions() -> dict[str, str]:
    """``{name: first line of the class docstring}``."""
    _load_plugins()
    return {n: (c.__doc__ or "").strip().splitlines()[0] for n, c in sorted(_REGISTRY.items())}
