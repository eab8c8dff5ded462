"""commsldr.models: CIFAR ResNet backbones, the split autoencoder, the model registry."""

from .registry import BackboneSpec, backbone_spec, create_model, list_models, register_backbone
from .resnet import BasicBlock, CifarResNet
from .split import SideBranch, SplitAutoencoder, SplitDecoder, SplitEncoder, SplitOutput

__all__ = [
    "BackboneSpec",
    "BasicBlock",
    "CifarResNet",
    "SideBranch",
    "SplitAutoencoder",
    "SplitDecoder",
    "SplitEncoder",
    "SplitOutput",
    "backbone_spec",
    "create_model",
    "list_models",
    "register_backbone",
]
