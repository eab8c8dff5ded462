"""The policy registry: ``register_policy``, ``create_policy``, ``list_policies``.

Thin names over :data:`commsldr.registry.POLICIES` (built-ins are entered there lazily by
``"module:Class"``, plug-ins through the ``commsldr.policies`` entry-point group), so this module
and :mod:`commsldr.adapt.policies` do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from commsldr.registry import POLICIES, check_params

__all__ = ["register_policy", "create_policy", "list_policies", "get_policy_class", "check_params"]

P = TypeVar("P", bound=type)


def register_policy(name: str) -> Callable[[P], P]:
    """Class decorator registering a :class:`~commsldr.adapt.policies.Policy` under ``name``.

    Raises:
        ValueError: the name is malformed or taken by another class.
        TypeError: the class is not a ``Policy`` subclass.
    """
    return POLICIES.register(name)


def list_policies() -> list[str]:
    """Names of the registered policies (built-ins, plug-ins, registered so far), sorted."""
    return POLICIES.names()


def get_policy_class(name: str) -> type:
    """The class registered under ``name``; an unknown name raises listing the valid ones."""
    return POLICIES.get(name)


def create_policy(name: str, **params: Any) -> Any:
    """Create a policy by registered name, e.g. ``create_policy("capacity-greedy", margin=0.1)``.

    Raises:
        ValueError: unknown name (lists the valid ones), unknown/missing parameter, bad value.
    """
    return POLICIES.create(name, **params)
