"""The model registry: backbone names -> architectures, model builders, :func:`create_model`.

The model registry is :data:`commsldr.registry.MODELS` (timm-style builder functions, lazy
``"module:function"`` built-ins, the ``commsldr.models`` entry-point group). The backbones' builder
functions and architectures (:class:`BackboneSpec`) are defined here; the composite
``"split_autoencoder"`` is the class :class:`~commsldr.models.SplitAutoencoder`, entered in
``MODELS`` by name, so this module never imports :mod:`commsldr.models.split` (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch.nn as nn

from commsldr.registry import MODELS

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
#: Registry name of :class:`~commsldr.models.SplitAutoencoder` in :func:`create_model`.
SPLIT_AUTOENCODER = "split_autoencoder"


def resnet8(num_classes: int = 10, *, width: float = 1.0, in_channels: int = 3) -> CifarResNet:
    """compact CIFAR ResNet-8 (3 stages x 1 block), ~0.08 M params"""
    return _BACKBONES["resnet8"].build(num_classes, width=width, in_channels=in_channels)


def resnet20(num_classes: int = 10, *, width: float = 1.0, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-20 (3 stages x 3 blocks), ~0.27 M params"""
    return _BACKBONES["resnet20"].build(num_classes, width=width, in_channels=in_channels)


def resnet18(num_classes: int = 10, *, width: float = 1.0, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-18 (4 stages x 2 blocks), ~11 M params"""
    return _BACKBONES["resnet18"].build(num_classes, width=width, in_channels=in_channels)


def resnet34(num_classes: int = 10, *, width: float = 1.0, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-34 (4 stages: 3, 4, 6, 3 blocks), ~21 M params"""
    return _BACKBONES["resnet34"].build(num_classes, width=width, in_channels=in_channels)


def airnet(num_classes: int = 10, *, width: float = 1.0, in_channels: int = 3) -> AirNet:
    """fast CIFAR net after airbench94 (whitening stem, 3 conv groups), ~1.9 M params; split after the last group"""
    return _BACKBONES["airnet"].build(num_classes, width=width, in_channels=in_channels)


def _add_spec(spec: BackboneSpec) -> BackboneSpec:
    if spec.name in _BACKBONES:
        raise ValueError(f"model name {spec.name!r} is already registered")
    _BACKBONES[spec.name] = spec
    return spec


for _spec in (
    BackboneSpec("resnet8", (16, 32, 64), (1, 1, 1), resnet8.__doc__ or ""),
    BackboneSpec("resnet20", (16, 32, 64), (3, 3, 3), resnet20.__doc__ or ""),
    BackboneSpec("resnet18", (64, 128, 256, 512), (2, 2, 2, 2), resnet18.__doc__ or ""),
    BackboneSpec("resnet34", (64, 128, 256, 512), (3, 4, 6, 3), resnet34.__doc__ or ""),
    BackboneSpec("airnet", (64, 256, 256), (1, 1, 1), airnet.__doc__ or "", family="airnet",
                 default_split_stage=3),
):
    _add_spec(_spec)


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Add a backbone (its name must be new): :func:`backbone_spec` knows it and
    ``create_model(spec.name, num_classes=..., width=...)`` builds it."""
    if spec.name in MODELS:
        raise ValueError(f"model name {spec.name!r} is already registered")
    _add_spec(spec)

    def build(num_classes: int = 10, *, width: float = 1.0, in_channels: int = 3) -> nn.Module:
        return spec.build(num_classes, width=width, in_channels=in_channels)

    build.__doc__ = spec.description
    build.__qualname__ = f"backbone_{spec.name}"
    MODELS.add(spec.name, build)
    return spec


def register_model(name: str, builder: Callable[..., nn.Module]) -> None:
    """Register a composite model: ``create_model(name, **kw)`` calls ``builder(**kw)``."""
    MODELS.add(name, builder)


def backbone_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` registered as ``name``."""
    try:
        return _BACKBONES[name]
    except KeyError:
        raise ValueError(
            f"unknown backbone {name!r}; registered backbones: {sorted(_BACKBONES)}"
        ) from None


def list_models() -> list[str]:
    """Registered model names (:data:`commsldr.registry.MODELS`: the backbones and the composite
    model ``"split_autoencoder"``, plus plug-ins), sorted."""
    return MODELS.names()


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model.

    ``create_model("resnet20", num_classes=10, width=1.0)`` returns a plain
    :class:`~commsldr.models.resnet.CifarResNet` classifier;
    ``create_model("split_autoencoder", backbone="resnet8", latent_dim=64, num_classes=10)``
    returns a :class:`~commsldr.models.SplitAutoencoder` (keyword arguments as its constructor).

    Raises:
        ValueError: unknown ``name`` (the message lists the valid names).
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered models: {list_models()}")
    return MODELS.get(name)(**kwargs)
