"""The policy registry: ``register_policy``, ``create_policy``, ``list_policies``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from commsldr.adapt.hindsight import BestFixedInHindsight
from commsldr.adapt.policies import (
    CapacityGreedy,
    Fixed,
    Oracle,
    OutageAware,
    Policy,
    ScaleAndTruncation,
    ScaleOnly,
)

__all__ = ["register_policy", "create_policy", "list_policies", "get_policy_class", "check_params"]

_POLICIES: dict[str, type[Policy]] = {}
P = TypeVar("P", bound=type[Policy])


def register_policy(name: str) -> Callable[[P], P]:
    """Class decorator registering a :class:`~commsldr.adapt.policies.Policy` under ``name``.

    Raises:
        ValueError: the name is taken.
    """

    def deco(cls: P) -> P:
        if name in _POLICIES:
            raise ValueError(f"policy name {name!r} is already registered ({_POLICIES[name]})")
        if not (isinstance(cls, type) and issubclass(cls, Policy)):
            raise TypeError(f"register_policy({name!r}): {cls!r} is not a Policy subclass")
        cls.name = name
        _POLICIES[name] = cls
        return cls

    return deco


for _cls in (Fixed, ScaleOnly, ScaleAndTruncation, CapacityGreedy, OutageAware, Oracle,
             BestFixedInHindsight):
    register_policy(_cls.name)(_cls)


def list_policies() -> list[str]:
    """Names of the registered policies, sorted."""
    return sorted(_POLICIES)


def get_policy_class(name: str) -> type[Policy]:
    """The class registered under ``name``; an unknown name raises listing the valid ones."""
    if name not in _POLICIES:
        raise ValueError(f"unknown policy {name!r}; valid: {', '.join(list_policies())}")
    return _POLICIES[name]


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


def create_policy(name: str, **params: Any) -> Policy:
    """Create a policy by registered name, e.g. ``create_policy("capacity-greedy", margin=0.1)``.

    Raises:
        ValueError: unknown name (lists the valid ones), unknown/missing parameter, bad value.
    """
    cls = get_policy_class(name)
    check_params(cls, params, f"policy {name!r}")
    return cls(**params)
