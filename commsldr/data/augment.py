"""The augmentation family T of the paper (§3.1) as one batched, seeded tensor transform,
and the multi-view batches of LDR-SSL (eq. 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .functional import adjust_color, affine_warp, as_unit_float, grayscale
from .tensors import DEFAULT_MEAN, DEFAULT_STD, to_float

__all__ = ["AUGMENT_MODES", "Augment", "LightAugment", "make_augment", "make_views"]

#: Training augmentation modes: ``light`` (flip + translate, :class:`LightAugment`), ``heavy``
#: (the family T, :class:`Augment`), ``none``.
AUGMENT_MODES = ("light", "heavy", "none")


@dataclass
class Augment:
    """Random crop with padding, horizontal flip, rotation, colour jitter and grayscale.

    Each image of a batch draws its own parameters from ``generator`` (a CPU
    :class:`torch.Generator`); the geometric part is one ``grid_sample`` for the batch, the colour
    part a few broadcast ops. Per image, in this order:

    1. crop: shift by integers ``dx, dy ~ U{-crop_padding..crop_padding}`` with zero fill (the
       same as ``RandomCrop(size, padding=crop_padding)``);
    2. horizontal flip with probability ``flip_p``;
    3. rotation by ``U(-rotation_deg, rotation_deg)`` with probability ``rotation_p`` (bilinear);
    4. with probability ``jitter_p``: brightness, contrast, saturation factors
       ``U(1 - v, 1 + v)`` and hue shift ``U(-hue, hue)`` (see
       :func:`~commsldr.data.functional.adjust_color`);
    5. grayscale with probability ``grayscale_p``;
    6. normalisation with ``mean``/``std`` (:func:`~commsldr.data.to_float`); ``normalize=False``
       returns floats in [0, 1] instead.

    The defaults follow the SimCLR/MCR² CIFAR recipe with a mild rotation.

    Example:
        >>> aug = Augment()
        >>> x = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
        >>> aug(x, torch.Generator().manual_seed(0)).shape
        torch.Size([4, 3, 32, 32])
    """

    crop_padding: int = 4
    flip_p: float = 0.5
    rotation_deg: float = 15.0
    rotation_p: float = 0.5
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.4
    hue: float = 0.1
    jitter_p: float = 0.8
    grayscale_p: float = 0.2
    normalize: bool = True
    mean: Sequence[float] = DEFAULT_MEAN
    std: Sequence[float] = DEFAULT_STD

    def __post_init__(self) -> None:
        for name in ("flip_p", "rotation_p", "jitter_p", "grayscale_p"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {v}")
        for name in ("brightness", "contrast", "saturation"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if not 0.0 <= self.hue <= 0.5:
            raise ValueError(f"hue must be in [0, 0.5], got {self.hue}")
        if self.crop_padding < 0 or int(self.crop_padding) != self.crop_padding:
            raise ValueError(f"crop_padding must be a non-negative int, got {self.crop_padding}")
        if self.rotation_deg < 0:
            raise ValueError(f"rotation_deg must be >= 0, got {self.rotation_deg}")

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Augment a batch.

        Args:
            images: ``uint8 [B, 3, H, W]`` or float in [0, 1].
            generator: CPU generator driving every draw (same state -> same output).

        Returns:
            ``float32 [B, 3, H, W]``: normalised (or in [0, 1] with ``normalize=False``).
        """
        if not isinstance(generator, torch.Generator):
            raise TypeError("generator must be a torch.Generator")
        x = as_unit_float(images)
        b = x.shape[0]
        g = generator
        # draw everything up front, in a fixed order, whatever the probabilities
        p = int(self.crop_padding)
        shift = torch.randint(-p, p + 1, (b, 2), generator=g).float()
        hflip = torch.rand(b, generator=g) < self.flip_p
        angle = (torch.rand(b, generator=g) * 2 - 1) * self.rotation_deg
        angle = torch.where(torch.rand(b, generator=g) < self.rotation_p, angle, 0.0)
        u = torch.rand(b, 4, generator=g) * 2 - 1
        jit = torch.rand(b, generator=g) < self.jitter_p
        gray = torch.rand(b, generator=g) < self.grayscale_p

        x = affine_warp(x, angle, shift, hflip)
        one = torch.ones(b)
        bri = torch.where(jit, 1 + self.brightness * u[:, 0], one)
        con = torch.where(jit, 1 + self.contrast * u[:, 1], one)
        sat = torch.where(jit, 1 + self.saturation * u[:, 2], one)
        hue = torch.where(jit, self.hue * u[:, 3], 0.0)
        x = adjust_color(x, bri, con, sat, hue)
        if bool(gray.any()):
            x = torch.where(gray.to(x.device).view(b, 1, 1, 1), grayscale(x).expand_as(x), x)
        return to_float(x, self.mean, self.std) if self.normalize else x


@dataclass
class LightAugment:
    """Horizontal flip + random translation by up to ``translate`` pixels with reflect padding.

    The light augmentation of fast CIFAR training (airbench ``flip=True, translate=2``; Page's
    ResNet-9 uses crop-with-padding 4) and of the authors' CE-T. Per image: ``dx, dy ~
    U{-translate..translate}`` (one integer shift, applied as a crop of the reflect-padded image,
    grouped by shift so the cost is ``(2t+1)²`` slices), then a flip with probability ``flip_p``.

    Example:
        >>> LightAugment()(torch.zeros(4, 3, 32, 32, dtype=torch.uint8),
        ...                torch.Generator().manual_seed(0)).shape
        torch.Size([4, 3, 32, 32])
    """

    translate: int = 2
    flip_p: float = 0.5
    normalize: bool = True
    mean: Sequence[float] = DEFAULT_MEAN
    std: Sequence[float] = DEFAULT_STD

    def __post_init__(self) -> None:
        if not isinstance(self.translate, int) or self.translate < 0:
            raise ValueError(f"translate must be a non-negative int, got {self.translate!r}")
        if not 0.0 <= self.flip_p <= 1.0:
            raise ValueError(f"flip_p must be a probability in [0, 1], got {self.flip_p}")

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``uint8 [B, 3, H, W]`` (or float in [0, 1]) -> ``float32 [B, 3, H, W]``."""
        if not isinstance(generator, torch.Generator):
            raise TypeError("generator must be a torch.Generator")
        x = as_unit_float(images)
        b, _, h, w = x.shape
        t = self.translate
        shift = torch.randint(-t, t + 1, (b, 2), generator=generator)
        hflip = torch.rand(b, generator=generator) < self.flip_p
        if t > 0:
            padded = torch.nn.functional.pad(x, (t, t, t, t), mode="reflect")
            out = torch.empty_like(x)
            key = (shift[:, 0] + t) * (2 * t + 1) + (shift[:, 1] + t)
            for k in torch.unique(key).tolist():
                dy, dx = divmod(k, 2 * t + 1)
                sel = torch.nonzero(key == k).flatten()
                out[sel] = padded[sel, :, dy : dy + h, dx : dx + w]
            x = out
        x = torch.where(hflip.view(b, 1, 1, 1), x.flip(3), x)
        return to_float(x, self.mean, self.std) if self.normalize else x


def make_augment(mode: str) -> Augment | LightAugment | None:
    """The training augmentation of ``mode`` (:data:`AUGMENT_MODES`); ``None`` for ``none``."""
    if mode == "light":
        return LightAugment()
    if mode == "heavy":
        return Augment()
    if mode == "none":
        return None
    raise ValueError(f"augment must be one of {list(AUGMENT_MODES)}, got {mode!r}")


def make_views(
    x: torch.Tensor,
    n_views: int,
    augment: Augment,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_views`` independently augmented views of every image, for L_LDR-SSL (eq. 2).

    Args:
        x: ``uint8 [B, 3, H, W]`` (or float in [0, 1]).
        n_views: views per image (>= 1).
        augment: the transform drawn from T.
        generator: CPU generator for the augmentation draws.

    Returns:
        ``(views, view_labels)``: ``views float [n_views * B, 3, H, W]`` laid out view-major
        (``views[v * B + i]`` is view ``v`` of image ``i``), and ``view_labels int64 [n_views * B]``
        with ``view_labels[v * B + i] = i`` — the view-group pseudo-labels Π of eq. 2.
    """
    if not isinstance(n_views, int) or n_views < 1:
        raise ValueError(f"n_views must be a positive int, got {n_views!r}")
    b = x.shape[0]
    reps = x.repeat(n_views, 1, 1, 1)
    views = augment(reps, generator)
    labels = torch.arange(b, dtype=torch.int64, device=views.device).repeat(n_views)
    return views, labels
