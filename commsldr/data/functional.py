"""Batched, per-sample image operations on float tensors in ``[0, 1]`` (shape ``[B, 3, H, W]``).

These are the building blocks of :class:`~commsldr.data.Augment` and
:func:`~commsldr.data.distort`. Every operation takes per-sample parameters as 1-D tensors of
length ``B`` so that a whole batch is transformed with a handful of tensor ops (one
``grid_sample`` for all geometric changes), never a Python loop over images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["adjust_color", "affine_warp", "as_unit_float", "from_unit_float", "grayscale"]

_LUMA = (0.299, 0.587, 0.114)


def as_unit_float(images: torch.Tensor) -> torch.Tensor:
    """``uint8`` 0..255 -> ``float32`` in [0, 1]; floating input is returned as float32 unchanged."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape [B, 3, H, W], got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    if images.is_floating_point():
        return images.float()
    raise TypeError(f"images must be uint8 or floating, got {images.dtype}")


def from_unit_float(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Return ``x`` (float in [0, 1]) in the dtype of ``like`` (uint8 -> rounded 0..255)."""
    if like.dtype == torch.uint8:
        return x.clamp(0.0, 1.0).mul(255.0).round_().to(torch.uint8)
    return x.to(like.dtype)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B`` as ``[B, 1, H, W]``."""
    w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def affine_warp(
    x: torch.Tensor,
    angle_deg: torch.Tensor,
    shift_px: torch.Tensor,
    hflip: torch.Tensor,
    vflip: torch.Tensor | None = None,
    *,
    mode: str = "bilinear",
) -> torch.Tensor:
    """Rotate, flip and translate every image of the batch in one ``grid_sample``.

    The output pixel at ``p`` samples the input at ``A (p - c) + c - t`` where ``c`` is the image
    centre, ``A = R(-angle) diag(sx, sy)`` with ``sx = -1`` for a horizontal flip, and ``t`` the
    shift. Pixels from outside the image are 0 (as ``RandomCrop(padding=p)`` with zero fill when
    the shift is an integer and the angle 0).

    Args:
        x: ``float [B, C, H, W]``.
        angle_deg: ``[B]`` counter-clockwise rotation in degrees.
        shift_px: ``[B, 2]`` translation ``(dx, dy)`` in pixels (positive = right / down).
        hflip: ``bool [B]`` mirror left-right.
        vflip: optional ``bool [B]`` mirror top-bottom.
        mode: ``grid_sample`` interpolation.

    Returns:
        ``float [B, C, H, W]``.
    """
    b, _, h, w = x.shape
    dev, dt = x.device, x.dtype
    a = angle_deg.to(dev, dt) * (math.pi / 180.0)
    cos, sin = torch.cos(a), torch.sin(a)
    sx = torch.where(hflip.to(dev), -1.0, 1.0).to(dt)
    sy = torch.ones_like(sx) if vflip is None else torch.where(vflip.to(dev), -1.0, 1.0).to(dt)
    # normalised coordinates: u = (2 px + 1) / W - 1; aspect ratio handled via (w/h) factors
    theta = torch.zeros(b, 2, 3, dtype=dt, device=dev)
    theta[:, 0, 0] = cos * sx
    theta[:, 0, 1] = sin * sy * (h / w)
    theta[:, 1, 0] = -sin * sx * (w / h)
    theta[:, 1, 1] = cos * sy
    shift = shift_px.to(dev, dt)
    theta[:, 0, 2] = -2.0 * shift[:, 0] / w
    theta[:, 1, 2] = -2.0 * shift[:, 1] / h
    grid = F.affine_grid(theta, [b, x.shape[1], h, w], align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)


def adjust_color(
    x: torch.Tensor,
    brightness: torch.Tensor,
    contrast: torch.Tensor,
    saturation: torch.Tensor,
    hue: torch.Tensor,
) -> torch.Tensor:
    """Per-sample colour jitter in torchvision's order (brightness, contrast, saturation, hue).

    With factors ``b, c, s`` (1 = unchanged) and hue shift ``h`` (fraction of a turn, 0 =
    unchanged): ``x <- clip(b x)``; ``x <- clip(c x + (1 - c) mean(gray(x)))``;
    ``x <- clip(s x + (1 - s) gray(x))``; hue rotates the chroma plane of YIQ by ``2 pi h``
    (a linear approximation of the HSV hue shift that keeps the batch vectorised).

    Args:
        x: ``float [B, 3, H, W]`` in [0, 1].
        brightness: ``[B]`` brightness factors.
        contrast: ``[B]`` contrast factors.
        saturation: ``[B]`` saturation factors.
        hue: ``[B]`` hue shifts in turns.

    Returns:
        ``float [B, 3, H, W]`` in [0, 1].
    """
    dev, dt = x.device, x.dtype

    def col(v: torch.Tensor) -> torch.Tensor:
        return v.to(dev, dt).view(-1, 1, 1, 1)

    x = (x * col(brightness)).clamp(0.0, 1.0)
    m = grayscale(x).mean(dim=(2, 3), keepdim=True)
    c = col(contrast)
    x = (c * x + (1 - c) * m).clamp(0.0, 1.0)
    s = col(saturation)
    x = (s * x + (1 - s) * grayscale(x)).clamp(0.0, 1.0)
    if bool((hue != 0).any()):
        rgb2yiq = torch.tensor(
            [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
            dtype=dt,
            device=dev,
        )
        yiq2rgb = torch.linalg.inv(rgb2yiq)
        ang = hue.to(dev, dt) * (2 * math.pi)
        rot = torch.zeros(len(ang), 3, 3, dtype=dt, device=dev)
        rot[:, 0, 0] = 1.0
        rot[:, 1, 1] = torch.cos(ang)
        rot[:, 1, 2] = -torch.sin(ang)
        rot[:, 2, 1] = torch.sin(ang)
        rot[:, 2, 2] = torch.cos(ang)
        mat = yiq2rgb @ rot @ rgb2yiq  # [B, 3, 3]
        x = torch.einsum("bij,bjhw->bihw", mat, x).clamp(0.0, 1.0)
    return x
