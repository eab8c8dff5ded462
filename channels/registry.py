"""The channel registry: built-in models register with a decorator, third-party packages through
the ``commsldr.channels`` entry-point group (loaded lazily on the first lookup).

A plug-in package declares, e.g. in its ``pyproject.toml``::

    [project.entry-points."commsldr.channels"]
    my-channel = "my_package.my_module:MyChannel"

The entry-point name is the channel name; the object is a :class:`~commsldr_channels.base.Channel`
subclass (decorating it with :func:`register_channel` as well is allowed).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from commsldr_channels.base import Channel

__all__ = [
    "ENTRY_POINT_GROUP",
    "register_channel",
    "create_channel",
    "get_channel_class",
    "list_channels",
    "channel_descriptions",
    "UnknownChannelError",
]

ENTRY_POINT_GROUP = "commsldr.channels"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_REGISTRY: dict[str, type[Channel]] = {}
_plugins_loaded = False

C = TypeVar("C", bound=type[Channel])


class UnknownChannelError(KeyError):
    """No channel is registered under the requested name (the message lists the valid ones)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def register_channel(name: str) -> Callable[[C], C]:
    """Class decorator registering a :class:`Channel` subclass under ``name``.

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
        if not (isinstance(cls, type) and issubclass(cls, Channel)):
            raise TypeError(
                f"register_channel({name!r}): {cls!r} is not a commsldr_channels.Channel subclass"
            )
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(
                f"name: channel {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


def _load_plugins() -> None:
    """Import every ``commsldr.channels`` entry point once; a broken plug-in only warns."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a third-party import error must not hide the built-ins
            warnings.warn(
                f"channel plug-in {ep.name!r} ({ep.value}) failed to load: {exc!r}", stacklevel=3
            )
            continue
        if not (isinstance(obj, type) and issubclass(obj, Channel)):
            warnings.warn(
                f"channel plug-in {ep.name!r} ({ep.value}) is not a commsldr_channels.Channel subclass; ignored",
                stacklevel=3,
            )
            continue
        if _REGISTRY.get(ep.name) is obj:
            continue
        try:
            register_channel(ep.name)(obj)
        except ValueError as exc:
            warnings.warn(f"channel plug-in {ep.name!r} ({ep.value}) ignored: {exc}", stacklevel=3)


def get_channel_class(name: str) -> type[Channel]:
    """The class registered under ``name``.

    Raises:
        UnknownChannelError: (a ``KeyError``) unknown name; the message lists the valid names.
    """
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownChannelError(
            f"unknown channel {name!r}; valid names: {', '.join(sorted(_REGISTRY))}"
        ) from None


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
    _load_plugins()
    return sorted(_REGISTRY)


def channel_descriptions() -> dict[str, str]:
    """``{name: first line of the class docstring}`` for every registered channel."""
    out = {}
    for name in list_channels():
        doc = (_REGISTRY[name].__doc__ or "").strip()
        out[name] = doc.splitlines()[0] if doc else ""
    return out
