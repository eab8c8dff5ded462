"""A fast CIFAR backbone after Keller Jordan's *airbench* (``airbench94.py``, 2024), itself built
on David Page's DAWNBench ResNet-9 ("How to train your ResNet", Myrtle.ai, 2018) and
hlb-CIFAR10 (T. Balsam).

Architecture (every trick named):

* **whitening stem** — a frozen ``2x2`` convolution whose ``2·3·2² = 24`` filters are the
  eigenvectors of the training images' 2x2-patch covariance scaled by ``1/sqrt(λ + ε)`` and their
  negatives (:meth:`WhiteningStem.init_from_data`); only its bias trains; then GELU.
* **three conv groups** ``conv3x3 -> maxpool2 -> BN -> GELU -> conv3x3 -> BN -> GELU`` with
  64, 256, 256 channels (×``width``), convolutions without bias, identity (Dirac) initialisation
  of the first ``C_in`` filters ("implicit residual"), BatchNorm with a **frozen unit scale and a
  trainable bias** (:class:`BiasBatchNorm`; airbench's ``weight=False``), BN momentum 0.4
  (airbench's 0.6 in its convention), ε = 1e-12.
* global **max** pooling of the last map.

Shapes for a 32x32 input: stem 31x31x24 -> 15x15x64 -> 7x7x256 -> 3x3x256 -> 256.

The attributes ``stem``, ``stages``, ``stage_channels`` and ``pool`` are the interface
:class:`~commsldr.models.SplitAutoencoder` builds on, as for :class:`~commsldr.models.CifarResNet`.
The training recipe that goes with it (label smoothing 0.2, Nesterov SGD, a triangular
per-step schedule, BN biases at 64× the learning rate, flip + 2-pixel translate) lives in
:func:`commsldr.train.config.fast_config`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .resnet import _scaled

__all__ = ["AirNet", "BiasBatchNorm", "BiasBatchNorm1d", "ConvGroup", "WhiteningStem"]


class _BiasOnly:
    """BatchNorm with a fixed unit scale and a trainable bias (airbench ``BatchNorm(weight=False)``).

    The scale is not a parameter at all (so no freezing logic can unfreeze it); ``bias`` is.
    A trainable scale at airbench's learning rates lets the logits explode in a few steps.
    """

    def __init__(self, num_features: int, momentum: float = 0.4, eps: float = 1e-12) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum, affine=False)  # type: ignore[call-arg]
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        use_batch = self.training or self.running_mean is None
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, self.running_mean, self.running_var, None, self.bias,
                            use_batch, self.momentum, self.eps)


class BiasBatchNorm(_BiasOnly, nn.BatchNorm2d):
    """:class:`_BiasOnly` BatchNorm over ``[B, C, H, W]``."""


class BiasBatchNorm1d(_BiasOnly, nn.BatchNorm1d):
    """:class:`_BiasOnly` BatchNorm over ``[B, C]`` (the split autoencoder's MLPs on ``airnet``)."""


class WhiteningStem(nn.Module):
    """Frozen patch-whitening convolution + GELU: ``[B, 3, H, W] -> [B, 24, H-1, W-1]``.

    ``weight`` is a buffer (saved in the state dict, never trained); call
    :meth:`init_from_data` once with normalised training images before training.
    """

    def __init__(self, in_channels: int = 3, kernel_size: int = 2, eps: float = 5e-4) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.eps = eps
        self.out_channels = 2 * in_channels * kernel_size ** 2
        w = torch.zeros(self.out_channels, in_channels, kernel_size, kernel_size)
        self.register_buffer("weight", w)
        self.bias = nn.Parameter(torch.zeros(self.out_channels))
        nn.init.kaiming_normal_(self.weight)  # replaced by init_from_data

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor) -> None:
        """Set the filters from ``images float [N, C, H, W]`` (normalised; ~5,000 suffice)."""
        k = self.kernel_size
        c = images.shape[1]
        patches = images.float().unfold(2, k, 1).unfold(3, k, 1).transpose(1, 3).reshape(-1, c * k * k)
        cov = patches.T.double() @ patches.double() / len(patches)
        eigval, eigvec = torch.linalg.eigh(cov)
        eigval, eigvec = eigval.flip(0), eigvec.T.flip(0)
        filt = (eigvec / torch.sqrt(eigval.clamp_min(0) + self.eps)[:, None]).reshape(-1, c, k, k)
        self.weight.copy_(torch.cat([filt, -filt]).to(self.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(F.conv2d(x, self.weight.to(x.dtype), self.bias.to(x.dtype)))


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 3, padding="same", bias=False)
    with torch.no_grad():
        nn.init.dirac_(conv.weight[: min(c_in, c_out)])
    return conv


class ConvGroup(nn.Module):
    """``conv3x3 -> maxpool2 -> BN -> GELU -> conv3x3 -> BN -> GELU``: halves H and W."""

    def __init__(self, c_in: int, c_out: int, bn_momentum: float = 0.4) -> None:
        super().__init__()
        self.conv1 = _conv(c_in, c_out)
        self.norm1 = BiasBatchNorm(c_out, bn_momentum)
        self.conv2 = _conv(c_out, c_out)
        self.norm2 = BiasBatchNorm(c_out, bn_momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.norm2(self.conv2(x)))


class AirNet(nn.Module):
    """The airbench94 network as a classifier: ``stem -> 3 conv groups -> global max pool -> fc``.

    Args:
        channels: output channels of the three groups before ``width`` scaling (airbench: 64, 256, 256).
        num_classes: classifier outputs.
        width: multiplier on every group's channels.
        in_channels: image channels.

    Shapes: ``x float [B, in_channels, H, W]`` -> logits ``float [B, num_classes]``.
    """

    pool = "max"
    logit_scale = 1.0 / 9.0
    norm1d = BiasBatchNorm1d

    def __init__(self, channels: tuple[int, ...] = (64, 256, 256), num_classes: int = 10, *,
                 width: float = 1.0, in_channels: int = 3) -> None:
        super().__init__()
        self.stage_channels = _scaled(channels, width)
        self.stem = WhiteningStem(in_channels)
        stages, c_in = [], self.stem.out_channels
        for c in self.stage_channels:
            stages.append(ConvGroup(c_in, c))
            c_in = c
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(c_in, num_classes, bias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``float [B, stage_channels[-1]]``."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return torch.amax(x, dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x)) * self.logit_scale
