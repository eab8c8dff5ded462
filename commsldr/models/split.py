"""The split autoencoder of the paper (Fig. 1): sensor-side encoder to a latent vector y,
server-side decoder + classifier, a training-only side branch for the LDR loss, truncation.

Where the split sits mirrors the authors' DuPHiL code (GitHub
``QiSiyu/MCR2-Guided-Image-Classification``, ``autoencoder/architectures_ae/resnet_cifar_ae.py``,
class ``ResNetDWT``): there the encoder is stem + layer1 + layer2 of a ResNet-18, global average
pooling and an MLP ``Linear(C, 512, bias=False) -> BN -> ReLU -> Linear(512, d_y)`` that
produces the latent vector; the decoder upsamples the ``d_y x 1 x 1`` latent with stride-2
transposed convolutions back to the split feature map's resolution, runs layer3, pools and
classifies; the MCR² side branch is ``BN -> ReLU -> Linear`` on the latent followed by L2
normalisation. Differences here: the input is RGB (the authors feed a 12-channel DWT of the
image, which halves the resolution; we keep the plain image), the transposed convolutions are
followed by BatchNorm, every remaining backbone stage (not only layer3) is in the decoder, and
the split stage, bottleneck width and side-branch width are parameters.

Layout for ``split_stage = s`` of a backbone with stages ``S_0 .. S_{m-1}``::

    encoder (sensor):  x -> stem -> S_0 .. S_{s-1} -> avgpool -> Linear(C_s, h, no bias) -> BN
                          -> ReLU -> Linear(h, d_y) = y                      y: float [B, d_y]
    decoder (server):  y -> ConvT(d_y, C_s, k0) -> [BN -> ReLU -> ConvT(C_s, C_s, 2, stride 2)]*
                          -> BN -> ReLU -> S_s .. S_{m-1} -> avgpool -> Linear -> logits [B, C]
    side branch:       y -> BN -> ReLU -> Linear(d_y, side_dim) -> z / ||z||_2    z: [B, side_dim]

The transposed convolutions grow the ``1 x 1`` latent to the split resolution
``H_s = image_size / 2^(s-1)`` (``k0 x k0`` first, then doubling).
"""

from __future__ import annotations

import copy
import json
from typing import Any, NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .registry import SPLIT_AUTOENCODER, backbone_spec, register_model
from .resnet import init_weights

__all__ = ["SplitAutoencoder", "SplitOutput"]

_CONFIG_KEYS = (
    "backbone",
    "latent_dim",
    "num_classes",
    "side_dim",
    "width",
    "split_stage",
    "bottleneck_hidden",
    "image_size",
    "truncated_from",
)


class SplitOutput(NamedTuple):
    """What :meth:`SplitAutoencoder.forward` returns."""

    y: torch.Tensor
    """latent ``float [B, d_y]`` (the encoder output, what the sensor transmits)."""
    logits: torch.Tensor
    """class scores ``float [B, num_classes]``."""
    z: torch.Tensor | None
    """L2-normalised side-branch features ``float [B, side_dim]`` (None with ``with_side=False``)."""


def _upsample_plan(size: int) -> tuple[int, int]:
    """``(k0, doublings)``: a ``k0 x k0`` first kernel then ``doublings`` stride-2 steps."""
    k0, steps = size, 0
    while k0 % 2 == 0 and k0 > 2:
        k0 //= 2
        steps += 1
    return k0, steps


class SplitEncoder(nn.Module):
    """Sensor side: image ``float [B, 3, H, W]`` -> latent ``y float [B, d_y]``.

    ``bottleneck[-1]`` is the ``Linear(hidden, d_y)`` whose output units are the latent entries.
    """

    def __init__(self, stem: nn.Module, stages: nn.ModuleList, bottleneck: nn.Sequential,
                 pool: str = "avg") -> None:
        super().__init__()
        self.stem = stem
        self.stages = stages
        self.bottleneck = bottleneck
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.bottleneck(_global_pool(x, self.pool))


def _global_pool(x: torch.Tensor, pool: str) -> torch.Tensor:
    """``[B, C, H, W] -> [B, C]`` by global average (``avg``) or max (``max``) pooling."""
    return torch.amax(x, dim=(2, 3)) if pool == "max" else torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


class SplitDecoder(nn.Module):
    """Server side: latent ``float [B, d_y]`` -> logits ``float [B, num_classes]``.

    ``upsample[0]`` is the ``ConvTranspose2d(d_y, C_s, k0)`` whose input channels are the latent
    entries.

    When the encoder holds every stage (``split_stage`` = number of stages) there is nothing to
    upsample: ``upsample`` is then an MLP ``Linear(d_y, C) -> BN -> GELU`` on the latent vector,
    ``stages`` is empty and ``upsample[0]`` is that ``Linear`` (its input features are the latent
    entries). ``logit_scale`` multiplies the logits (airbench's 1/9 for the ``airnet`` family).
    """

    def __init__(self, upsample: nn.Sequential, stages: nn.ModuleList, classifier: nn.Linear,
                 pool: str = "avg", logit_scale: float = 1.0) -> None:
        super().__init__()
        self.upsample = upsample
        self.stages = stages
        self.classifier = classifier
        self.pool = pool
        self.logit_scale = logit_scale
        self.spatial = isinstance(upsample[0], nn.ConvTranspose2d)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if not self.spatial:
            return self.classifier(self.upsample(y)) * self.logit_scale
        x = self.upsample(y[:, :, None, None])
        for stage in self.stages:
            x = stage(x)
        return self.classifier(_global_pool(x, self.pool)) * self.logit_scale


class SideBranch(nn.Module):
    """Training-only head on the latent: ``z = normalize(Linear(ReLU(BN(y))))``, ``[B, side_dim]``."""

    def __init__(self, latent_dim: int, side_dim: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(latent_dim)
        self.linear = nn.Linear(latent_dim, side_dim)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.linear(F.relu(self.bn(y))), dim=1)


class SplitAutoencoder(nn.Module):
    """Split autoencoder: encoder (sensor) -> latent y in R^{d_y} -> decoder + classifier (server).

    Plus the side branch used only by the LDR losses (module docstring: layout and provenance).

    Args:
        backbone: registered backbone name (``list_models()``), e.g. ``"resnet8"``.
        latent_dim: d_y, the bottleneck width (the paper screens {32, 64, 128, 256, 512}).
        num_classes: classifier outputs.
        side_dim: side-branch output width (default ``latent_dim``, as the authors' code).
        width: channel multiplier of the backbone.
        split_stage: number of backbone stages on the encoder side, ``1 <= s < num_stages`` for
            ResNets (default 2, the authors' choice), ``1 <= s <= num_stages`` for ``airnet``
            (default: all three groups at the sensor, the decoder an MLP on y).
        bottleneck_hidden: hidden width ``h`` of the encoder's MLP (default 512, as the authors).
        image_size: input side length; fixes the decoder's upsampling target.
        truncated_from: set by :meth:`truncate`: the latent width of the untruncated model.

    Attributes:
        encoder, decoder, side_branch: the three sub-networks (for freezing / parameter groups).
        config: JSON-able dict of the arguments above; ``from_config(config)`` rebuilds the model.

    Example:
        >>> m = SplitAutoencoder("resnet8", latent_dim=16, num_classes=10)
        >>> out = m(torch.zeros(2, 3, 32, 32))
        >>> out.y.shape, out.logits.shape, out.z.shape
        (torch.Size([2, 16]), torch.Size([2, 10]), torch.Size([2, 16]))
        >>> m.truncate(8).encode(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 8])
    """

    def __init__(
        self,
        backbone: str,
        latent_dim: int,
        num_classes: int,
        side_dim: int | None = None,
        *,
        width: float = 1.0,
        split_stage: int | None = None,
        bottleneck_hidden: int = 512,
        image_size: int = 32,
        truncated_from: int | None = None,
    ) -> None:
        super().__init__()
        for key, val in (("latent_dim", latent_dim), ("num_classes", num_classes),
                         ("bottleneck_hidden", bottleneck_hidden), ("image_size", image_size)):
            if not isinstance(val, int) or isinstance(val, bool) or val < 1:
                raise ValueError(f"{key} must be a positive int, got {val!r}")
        side_dim = latent_dim if side_dim is None else side_dim
        if not isinstance(side_dim, int) or side_dim < 1:
            raise ValueError(f"side_dim must be a positive int, got {side_dim!r}")
        if truncated_from is not None and (not isinstance(truncated_from, int)
                                           or truncated_from < latent_dim):
            raise ValueError(f"truncated_from must be an int >= latent_dim, got {truncated_from!r}")
        spec = backbone_spec(backbone)
        net = spec.build(num_classes, width=float(width))
        n_stages = len(net.stages)
        if split_stage is None:
            split_stage = spec.default_split_stage
        if not isinstance(split_stage, int) or not 1 <= split_stage <= n_stages:
            raise ValueError(
                f"split_stage must be an int in [1, {n_stages}] for {backbone!r}, got {split_stage!r}"
            )
        if spec.family == "resnet":
            if split_stage == n_stages:
                raise ValueError(f"split_stage must be < {n_stages} for the ResNet {backbone!r}")
            split_size = image_size // 2 ** (split_stage - 1)
            if split_size * 2 ** (split_stage - 1) != image_size:
                raise ValueError(
                    f"image_size={image_size} must be divisible by 2^(split_stage-1)={2 ** (split_stage - 1)}"
                )
        else:  # the map size at the split, from a dry run (eval mode: BN statistics untouched)
            with torch.no_grad():
                probe = net.eval().stem(torch.zeros(1, 3, image_size, image_size))
                for stage in net.stages[:split_stage]:
                    probe = stage(probe)
            net.train()
            split_size = int(probe.shape[-1])
        pool = getattr(net, "pool", "avg")
        logit_scale = float(getattr(net, "logit_scale", 1.0))
        self._config: dict[str, Any] = {
            "backbone": backbone,
            "latent_dim": latent_dim,
            "num_classes": num_classes,
            "side_dim": side_dim,
            "width": float(width),
            "split_stage": split_stage,
            "bottleneck_hidden": bottleneck_hidden,
            "image_size": image_size,
            "truncated_from": truncated_from,
        }
        c_split = net.stage_channels[split_stage - 1]
        norm1d = getattr(net, "norm1d", nn.BatchNorm1d)
        bottleneck = nn.Sequential(
            nn.Linear(c_split, bottleneck_hidden, bias=False),
            norm1d(bottleneck_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(bottleneck_hidden, latent_dim),
        )
        self.encoder = SplitEncoder(net.stem, nn.ModuleList(net.stages[:split_stage]), bottleneck,
                                    pool)
        if split_stage == n_stages:
            up: list[nn.Module] = [nn.Linear(latent_dim, c_split, bias=False),
                                   norm1d(c_split), nn.GELU()]
        else:
            k0, steps = _upsample_plan(split_size)
            up = [nn.ConvTranspose2d(latent_dim, c_split, k0)]
            for _ in range(steps):
                up += [nn.BatchNorm2d(c_split), nn.ReLU(inplace=True),
                       nn.ConvTranspose2d(c_split, c_split, 2, stride=2)]
            up += [nn.BatchNorm2d(c_split), nn.ReLU(inplace=True)]
        self.decoder = SplitDecoder(
            nn.Sequential(*up),
            nn.ModuleList(net.stages[split_stage:]),
            nn.Linear(net.stage_channels[-1], num_classes, bias=spec.family == "resnet"),
            pool, logit_scale,
        )
        self.side_branch = SideBranch(latent_dim, side_dim)
        init_weights(self.decoder.upsample)
        init_weights(self.side_branch)
        init_weights(self.encoder.bottleneck)

    # ----------------------------------------------------------------- properties
    @property
    def config(self) -> dict[str, Any]:
        """JSON-able description of the architecture (a copy)."""
        return dict(self._config)

    @property
    def latent_dim(self) -> int:
        """d_y, the number of latent entries the encoder outputs."""
        return int(self._config["latent_dim"])

    @property
    def num_classes(self) -> int:
        """Classifier outputs."""
        return int(self._config["num_classes"])

    @property
    def side_dim(self) -> int:
        """Side-branch output width."""
        return int(self._config["side_dim"])

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SplitAutoencoder:
        """Rebuild an (untrained) model from :attr:`config`; unknown keys are an error."""
        if not isinstance(config, dict):
            raise TypeError("config must be a dict")
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise ValueError(f"unknown SplitAutoencoder config keys {unknown}; valid: {list(_CONFIG_KEYS)}")
        missing = [k for k in ("backbone", "latent_dim", "num_classes") if k not in config]
        if missing:
            raise ValueError(f"SplitAutoencoder config lacks required keys {missing}")
        return cls(**config)

    def extra_repr(self) -> str:
        return json.dumps(self._config)

    # ----------------------------------------------------------------- compute
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Sensor side: ``x float [B, 3, H, W]`` (normalised) -> ``y float [B, d_y]``."""
        return self.encoder(x)

    def decode(self, y: torch.Tensor) -> torch.Tensor:
        """Server side: ``y float [B, d_y]`` -> logits ``float [B, num_classes]``."""
        if y.dim() != 2 or y.shape[1] != self.latent_dim:
            raise ValueError(f"y must have shape [B, {self.latent_dim}], got {tuple(y.shape)}")
        return self.decoder(y)

    def side(self, y: torch.Tensor) -> torch.Tensor:
        """Training-only side branch: ``y [B, d_y]`` -> unit-norm ``z float [B, side_dim]``."""
        return self.side_branch(y)

    def forward(self, x: torch.Tensor, *, with_side: bool = True) -> SplitOutput:
        """``SplitOutput(y, logits, z)`` for a batch ``x float [B, 3, H, W]``."""
        y = self.encode(x)
        return SplitOutput(y, self.decoder(y), self.side_branch(y) if with_side else None)

    # ----------------------------------------------------------------- truncation
    @torch.no_grad()
    def truncate(self, k: int) -> SplitAutoencoder:
        """A new model that keeps only the first ``k`` latent entries (paper §3.4).

        The encoder's last linear layer keeps its first ``k`` output units (rows of weight and
        bias, bit for bit), so the new encoder outputs ``y[:, :k]`` of this one (equal up to the
        summation order of the matrix product, ~1e-7 relative). The decoder's first
        transposed convolution and the side branch's BN and linear layer keep the matching ``k``
        input channels, so ``new.decode(y[:, :k]) == self.decode(cat(y[:, :k], 0))``. All other
        weights, BN statistics, ``requires_grad`` flags, the device and the train/eval mode are
        copied; the result is independent of ``self`` and can be fine-tuned.
        ``config["truncated_from"]`` records the original d_y.
        """
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.latent_dim:
            raise ValueError(f"k must be an int in [1, {self.latent_dim}], got {k!r}")
        cfg = self.config
        cfg["latent_dim"] = k
        cfg["truncated_from"] = self._config["truncated_from"] or self.latent_dim
        ref = next(self.parameters())
        new = type(self).from_config(cfg).to(device=ref.device, dtype=ref.dtype)
        state = {name: t.clone() for name, t in self.state_dict().items()}
        enc_w, enc_b = "encoder.bottleneck.3.weight", "encoder.bottleneck.3.bias"
        state[enc_w] = state[enc_w][:k]
        state[enc_b] = state[enc_b][:k]
        up_w = state["decoder.upsample.0.weight"]  # ConvT [d_y, C, k, k] or Linear [C, d_y]
        state["decoder.upsample.0.weight"] = up_w[:, :k] if up_w.dim() == 2 else up_w[:k]
        for n in ("weight", "bias", "running_mean", "running_var"):
            state[f"side_branch.bn.{n}"] = state[f"side_branch.bn.{n}"][:k]
        state["side_branch.linear.weight"] = state["side_branch.linear.weight"][:, :k]
        new.load_state_dict({n: t.contiguous() for n, t in state.items()})
        for (_, p_new), (_, p_old) in zip(new.named_parameters(), self.named_parameters(), strict=True):
            p_new.requires_grad_(p_old.requires_grad)
        new.train(self.training)
        return new

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor) -> None:
        """Data-dependent initialisation (the ``airnet`` whitening stem) from normalised training
        images ``float [N, 3, H, W]``; a no-op for backbones without one."""
        for m in self.modules():
            if m is not self and hasattr(m, "init_from_data"):
                m.init_from_data(images)

    def clone(self) -> SplitAutoencoder:
        """A deep copy (same weights, independent parameters)."""
        return copy.deepcopy(self)


register_model(SPLIT_AUTOENCODER, SplitAutoencoder)
