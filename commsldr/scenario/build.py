"""Run-time objects of a scenario: the constructor arguments of its channels and PHY, its
``TrainConfig``, its policies (and the policies each scheme runs).

Every function reads a validated :class:`~commsldr.scenario.schema.Scenario`; a constructor that
refuses its parameters becomes a :class:`ScenarioError` naming the key.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, TypeVar

from commsldr.adapt import get_policy_class, list_policies
from commsldr.errors import did_you_mean, show
from commsldr.registry import PHYS as PHY_REGISTRY
from commsldr.registry import check_params
from commsldr.scenario.schema import PolicyConfig, Scenario, ScenarioError
from commsldr.train import TrainConfig
from commsldr.train.config import TrainConfigError
from commsldr.train.settings import flat_settings
from commsldr_channels import get_channel_class

if TYPE_CHECKING:
    from commsldr.adapt.policies import Policy

__all__ = ["construct", "phy_class", "phy_params", "channel_params", "train_config", "train_key",
           "build_policy", "scheme_policies", "TRAIN_RESERVED", "Params"]

#: constructor keyword arguments as a scenario gives them (YAML values)
Params = dict[str, object]
T = TypeVar("T")

#: TrainConfig fields that the scenario sets from other sections
TRAIN_RESERVED = {
    "dataset": "data.dataset", "data_root": "data.root", "download": "data.download",
    "num_per_class": "data.train_per_class", "test_num_per_class": "data.test_per_class",
    "recipe": "model.recipe", "out": "model.cache_dir",
}


def _accepts(cls: type, name: str) -> bool:
    try:
        return name in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False


def construct(cls: type[T], params: Params, key: str, what: str) -> T:
    """Construct ``cls(**params)``; unknown/missing/bad parameters → ScenarioError at ``key.<param>``."""
    sig = inspect.signature(cls.__init__)
    names = [p for p in sig.parameters if p != "self"]
    for p in params:
        if p not in names and not any(
                x.kind is x.VAR_KEYWORD for x in sig.parameters.values()):
            raise ScenarioError(f"{key}.{p}", f"unknown parameter of {what}"
                                              f"{did_you_mean(p, names)}; allowed: "
                                              f"{', '.join(names) or '(none)'}")
    try:
        check_params(cls, params, what)
        return cls(**params)
    except (ValueError, TypeError) as e:
        msg = str(e)
        m = re.match(r"^\s*'?([A-Za-z_][A-Za-z0-9_]*)'?\s*:", msg) or re.search(
            r"parameter '([A-Za-z_][A-Za-z0-9_]*)'", msg) or re.match(
            r"^([A-Za-z_][A-Za-z0-9_]*) must", msg)
        if m and m.group(1) in names:
            if m.group(0).rstrip().endswith(":"):  # "name: ..." -> the key already says name
                msg = msg[m.end():].strip()
            raise ScenarioError(f"{key}.{m.group(1)}", msg) from None
        raise ScenarioError(key, msg) from None


def phy_class(name: str) -> type:
    """The ``commsldr.link`` class of PHY mode ``name``."""
    names = PHY_REGISTRY.names()
    if name in (broken := PHY_REGISTRY.failures()):  # a plug-in that failed to import: say why
        raise ScenarioError("link.phy", broken[name])
    if name not in names:
        raise ScenarioError("link.phy", f"{show(name)} is not allowed; allowed values: {', '.join(names)}")
    try:
        return PHY_REGISTRY.get(name)
    except ValueError as e:
        raise ScenarioError("link.phy", str(e)) from None


def phy_params(sc: Scenario) -> Params:
    """The PHY's keyword arguments: ``link`` parameters plus ``frame_s`` where the PHY takes it."""
    cls = phy_class(sc.link.phy)
    params = dict(sc.link.params)
    if _accepts(cls, "frame_s"):
        params.setdefault("frame_s", sc.link.frame_s)
    return params


def channel_params(sc: Scenario, label: str) -> Params:
    """The channel's keyword arguments: its parameters plus ``frame_s`` where the model takes it."""
    cfg = sc.channels[label]
    params = dict(cfg.params)
    if _accepts(get_channel_class(cfg.type), "frame_s"):
        params.setdefault("frame_s", sc.link.frame_s)
    return params


def train_config(sc: Scenario) -> TrainConfig:
    """The ``TrainConfig`` of a recipe-trained model (``out`` is set by the runner)."""
    try:  # flat keys (``momentum``), dotted (``optim.momentum``) or groups (``optim: {...}``)
        cfg = flat_settings(sc.model.train)
        for k in cfg:
            if k in TRAIN_RESERVED:
                raise ScenarioError(f"model.train.{k}", f"set it as {TRAIN_RESERVED[k]} instead")
        cfg.update(dataset=sc.data.dataset, data_root=sc.data.root, download=sc.data.download,
                   num_per_class=sc.data.train_per_class,
                   test_num_per_class=sc.data.test_per_class, recipe=sc.model.recipe or "ce",
                   progress=True)
        return TrainConfig.from_dict(cfg)
    except TrainConfigError as e:
        raise ScenarioError(train_key(e.key), e.message) from None


def train_key(field: str) -> str:
    """The scenario key of a TrainConfig field (``data.root`` for ``data_root``, ...)."""
    base = field.split("[")[0]
    if base in TRAIN_RESERVED:
        return TRAIN_RESERVED[base] + field[len(base):]
    return f"model.train.{field}"


def build_policy(pc: PolicyConfig, key: str) -> Policy:
    """The policy ``pc`` constructed, or a :class:`ScenarioError` naming ``key``."""
    try:
        cls = get_policy_class(pc.type)
    except ValueError:
        raise ScenarioError(f"{key}.type", f"{show(pc.type)} is not allowed; allowed values: "
                                           f"{', '.join(list_policies())}") from None
    policy: Policy = construct(cls, pc.params, key, f"policy {show(pc.type)}")
    return policy


def scheme_policies(sc: Scenario, label: str) -> dict[str, PolicyConfig]:
    """The policies scheme ``label`` runs: its own ``policies``, else the scenario's."""
    own = sc.schemes[label].policies
    return own if own else sc.policies
