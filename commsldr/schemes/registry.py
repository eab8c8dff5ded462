"""The scheme registry: thin names over :data:`commsldr.registry.SCHEMES`.

Built-in schemes are entered lazily by ``"module:Class"`` (and also carry the decorator
``@register_scheme(name)``, which confirms the entry when their module is imported); third-party
packages add schemes through the ``commsldr.schemes`` entry-point group, e.g. in their
``pyproject.toml``::

    [project.entry-points."commsldr.schemes"]
    my-scheme = "my_package.my_module:MyScheme"

The entry-point name is the scheme name; the object is a :class:`~commsldr.schemes.base.Scheme`
subclass. This module imports neither the scheme modules nor :mod:`commsldr.schemes` (no import
cycle): a class is imported on its first lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from commsldr.registry import SCHEMES

__all__ = [
    "ENTRY_POINT_GROUP",
    "SCHEMES",
    "register_scheme",
    "create_scheme",
    "get_scheme_class",
    "list_schemes",
    "scheme_descriptions",
]

ENTRY_POINT_GROUP = SCHEMES.group
S = TypeVar("S", bound=type)


def register_scheme(name: str) -> Callable[[S], S]:
    """Class decorator registering a :class:`~commsldr.schemes.base.Scheme` subclass under
    ``name``.

    Raises:
        ValueError: the name is malformed or already taken by another class.
        TypeError: the decorated object is not a ``Scheme`` subclass.
    """
    return SCHEMES.register(name)


def get_scheme_class(name: str) -> type:
    """The class registered under ``name``; an unknown name raises ``ValueError`` listing the
    valid ones."""
    return SCHEMES.get(name)


def create_scheme(name: str, **params: Any) -> Any:
    """Create the scheme registered under ``name`` with ``params`` (validated by its
    constructor; a bad value raises ``ValueError`` naming the parameter)."""
    return SCHEMES.create(name, **params)


def list_schemes() -> list[str]:
    """Sorted names of all registered schemes (built-ins and plug-ins)."""
    return SCHEMES.names()


def scheme_descriptions() -> dict[str, str]:
    """``{name: first line of the class docstring}``."""
    return SCHEMES.summaries()
