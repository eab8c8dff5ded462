"""CIFAR-style ResNets (He et al., 2016): 3x3 stem, no max-pool, BasicBlock stages.

ResNet-18/34 use four stages of (64, 128, 256, 512) channels; ResNet-8/20 are the compact
three-stage (16, 32, 64) networks of the original CIFAR experiments, 6n + 2 layers. Every
variant takes a ``width`` multiplier on all channel counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["BasicBlock", "CifarResNet"]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut, ReLU after the sum.

    Input ``float [B, in_planes, H, W]`` -> output ``[B, planes, H / stride, W / stride]``.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def _scaled(channels: Sequence[int], width: float) -> list[int]:
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width}")
    return [max(1, int(round(c * width))) for c in channels]


class CifarResNet(nn.Module):
    """A CIFAR ResNet classifier: ``stem -> stages -> global average pool -> fc``.

    Args:
        channels: output channels per stage, before ``width`` scaling.
        blocks: BasicBlocks per stage. Stage 0 has stride 1, later stages stride 2.
        num_classes: classifier outputs.
        width: multiplier on every channel count (rounded, at least 1).
        in_channels: input image channels.

    Attributes:
        stem: ``conv3x3 -> BN -> ReLU`` with ``stage_channels[0]`` outputs.
        stages: :class:`~torch.nn.ModuleList` of the stages (each an ``nn.Sequential``).
        stage_channels: output channels of each stage after scaling.
        fc: the final linear layer.

    Shapes: ``x float [B, in_channels, H, W]`` -> logits ``float [B, num_classes]``.
    """

    def __init__(
        self,
        channels: Sequence[int],
        blocks: Sequence[int],
        num_classes: int = 10,
        *,
        width: float = 1.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if len(channels) != len(blocks) or not channels:
            raise ValueError("channels and blocks must be non-empty and of equal length")
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.stage_channels = _scaled(channels, width)
        c0 = self.stage_channels[0]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c0, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(c0),
            nn.ReLU(inplace=True),
        )
        stages = []
        in_planes = c0
        for i, (c, n) in enumerate(zip(self.stage_channels, blocks, strict=True)):
            layers = [BasicBlock(in_planes, c, 1 if i == 0 else 2)]
            layers += [BasicBlock(c, c, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            in_planes = c
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(in_planes, num_classes)
        init_weights(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``float [B, stage_channels[-1]]``."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal (fan-out) convolutions, BN weight 1 / bias 0, the default for linears."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if m.weight is not None:
                nn.init.ones_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
