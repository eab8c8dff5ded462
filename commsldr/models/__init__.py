"""commsldr.models: CIFAR ResNet backbones, the split autoencoder, the model registry, the model's
id and server-side prediction, and its pairing with source coders (:class:`CodedModel`)."""

from .coded import CodedModel
from .functional import device_of, model_id, predict_from_latent
from .registry import BackboneSpec, backbone_spec, create_model, list_models, register_backbone
from .resnet import BasicBlock, CifarResNet
from .split import SideBranch, SplitAutoencoder, SplitDecoder, SplitEncoder, SplitOutput

__all__ = [
    "BackboneSpec",
    "BasicBlock",
    "CifarResNet",
    "CodedModel",
    "SideBranch",
    "SplitAutoencoder",
    "SplitDecoder",
    "SplitEncoder",
    "SplitOutput",
    "backbone_spec",
    "create_model",
    "device_of",
    "list_models",
    "model_id",
    "predict_from_latent",
    "register_backbone",
]
