"""The model registry: backbone names -> architectures, model builders, :func:`create_model`.

Backbones are registered here; composite models register a builder with
:func:`register_model` from their own module (``split.py`` registers ``"split_autoencoder"``),
so this module never imports them (no import cycle with :mod:`commsldr.models.split`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch.nn as nn

from .airnet import AirNet
from .resnet import CifarResNet

__all__ = ["BackboneSpec", "backbone_spec", "create_model", "list_models", "register_backbone",
           "register_model"]


@dataclass(frozen=True)
class BackboneSpec:
    """Architecture of a registered backbone: its family, channels (and blocks) per stage.

    ``family`` is ``"resnet"`` (:class:`~commsldr.models.CifarResNet`, ``blocks`` BasicBlocks per
    stage) or ``"airnet"`` (:class:`~commsldr.models.airnet.AirNet`, one conv group per stage).
    ``default_split_stage`` is where :class:`~commsldr.models.SplitAutoencoder` splits it unless
    told otherwise.
    """

    name: str
    channels: tuple[int, ...]
    blocks: tuple[int, ...]
    description: str = ""
    family: str = "resnet"
    default_split_stage: int = 2

    def build(self, num_classes: int = 10, *, width: float = 1.0,
              in_channels: int = 3) -> CifarResNet | AirNet:
        """Instantiate the classifier."""
        if self.family == "airnet":
            return AirNet(self.channels, num_classes, width=width, in_channels=in_channels)
        return CifarResNet(self.channels, self.blocks, num_classes, width=width,
                           in_channels=in_channels)


_BACKBONES: dict[str, BackboneSpec] = {}
_BUILDERS: dict[str, Callable[..., nn.Module]] = {}
#: Registry name of :class:`~commsldr.models.SplitAutoencoder` in :func:`create_model`.
SPLIT_AUTOENCODER = "split_autoencoder"


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Add a backbone to the registry (its name must be new)."""
    if spec.name in _BACKBONES or spec.name in _BUILDERS:
        raise ValueError(f"model name {spec.name!r} is already registered")
    _BACKBONES[spec.name] = spec
    return spec


def register_model(name: str, builder: Callable[..., nn.Module]) -> None:
    """Register a composite model: ``create_model(name, **kw)`` calls ``builder(**kw)``."""
    if name in _BACKBONES or (name in _BUILDERS and _BUILDERS[name] is not builder):
        raise ValueError(f"model name {name!r} is already registered")
    _BUILDERS[name] = builder


register_backbone(BackboneSpec("resnet8", (16, 32, 64), (1, 1, 1),
                               "compact CIFAR ResNet-8 (3 stages x 1 block), ~0.08 M params"))
register_backbone(BackboneSpec("resnet20", (16, 32, 64), (3, 3, 3),
                               "CIFAR ResNet-20 (3 stages x 3 blocks), ~0.27 M params"))
register_backbone(BackboneSpec("resnet18", (64, 128, 256, 512), (2, 2, 2, 2),
                               "CIFAR ResNet-18 (4 stages x 2 blocks), ~11 M params"))
register_backbone(BackboneSpec("resnet34", (64, 128, 256, 512), (3, 4, 6, 3),
                               "CIFAR ResNet-34 (4 stages: 3, 4, 6, 3 blocks), ~21 M params"))
register_backbone(BackboneSpec("airnet", (64, 256, 256), (1, 1, 1),
                               "fast CIFAR net after airbench94 (whitening stem, 3 conv groups), "
                               "~1.9 M params; split after the last group",
                               family="airnet", default_split_stage=3))


def backbone_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` registered as ``name``."""
    try:
        return _BACKBONES[name]
    except KeyError:
        raise ValueError(
            f"unknown backbone {name!r}; registered backbones: {sorted(_BACKBONES)}"
        ) from None


def list_models() -> list[str]:
    """Registered model names: every backbone, then the composite models
    (``"split_autoencoder"``)."""
    return [*_BACKBONES, *_BUILDERS]


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model.

    ``create_model("resnet20", num_classes=10, width=1.0)`` returns a plain
    :class:`~commsldr.models.resnet.CifarResNet` classifier;
    ``create_model("split_autoencoder", backbone="resnet8", latent_dim=64, num_classes=10)``
    returns a :class:`~commsldr.models.SplitAutoencoder` (keyword arguments as its constructor).

    Raises:
        ValueError: unknown ``name`` (the message lists the valid names).
    """
    if name in _BUILDERS:
        return _BUILDERS[name](**kwargs)
    if name not in _BACKBONES:
        raise ValueError(f"unknown model {name!r}; registered models: {list_models()}")
    return _BACKBONES[name].build(**kwargs)
