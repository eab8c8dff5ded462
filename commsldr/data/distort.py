"""Test-time distortions for the robustness study (paper §4.2, Fig. 3).

Severity levels are integers 0..5; level 0 is the identity for every kind.

========================  ========================================================================
kind                      level ``s`` (1..5)
========================  ========================================================================
``rotation``              rotate by ``±ROTATION_DEG[s]`` = ±(5, 10, 20, 30, 45)°, sign drawn per
                          image, bilinear, zero fill outside
``flip``                  each image is mirrored left-right with probability 1/2 and upside-down
                          with probability ``s / 5`` (independent draws; at ``s = 5`` every
                          image is upside-down). Left-right mirroring alone is part of the
                          training augmentation, so the vertical part carries the severity
``color_jitter``          brightness, contrast, saturation factors ``U(1 - 0.1 s, 1 + 0.1 s)`` and hue
                          shift ``U(-0.04 s, 0.04 s)`` turns, drawn per image
``noise``                 additive Gaussian pixel noise with std ``0.02 s`` (images in [0, 1])
========================  ========================================================================

Every random draw comes from the given :class:`torch.Generator`, so a distorted test set is
reproducible.
"""

from __future__ import annotations

import torch

from .functional import adjust_color, affine_warp, as_unit_float, from_unit_float

__all__ = ["DISTORTIONS", "MAX_SEVERITY", "ROTATION_DEG", "distort"]

#: Names accepted by :func:`distort`.
DISTORTIONS: tuple[str, ...] = ("rotation", "flip", "color_jitter", "noise")
#: Highest severity level.
MAX_SEVERITY = 5
#: Rotation magnitude in degrees per severity level.
ROTATION_DEG: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0, 30.0, 45.0)


def distort(
    images: torch.Tensor, kind: str, severity: int, generator: torch.Generator
) -> torch.Tensor:
    """Apply the test-time distortion ``kind`` at level ``severity`` to every image.

    Args:
        images: ``uint8 [N, 3, H, W]`` or float in [0, 1].
        kind: one of :data:`DISTORTIONS`.
        severity: integer in ``[0, MAX_SEVERITY]``; 0 returns an unchanged copy.
        generator: CPU generator for the per-image draws.

    Returns:
        Tensor of the input's dtype and shape.

    Example:
        >>> x = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
        >>> distort(x, "rotation", 3, torch.Generator().manual_seed(0)).dtype
        torch.uint8
    """
    if kind not in DISTORTIONS:
        raise ValueError(f"kind must be one of {list(DISTORTIONS)}, got {kind!r}")
    if not isinstance(severity, int) or isinstance(severity, bool) or not 0 <= severity <= MAX_SEVERITY:
        raise ValueError(f"severity must be an int in [0, {MAX_SEVERITY}], got {severity!r}")
    if not isinstance(generator, torch.Generator):
        raise TypeError("generator must be a torch.Generator")
    x = as_unit_float(images)
    if severity == 0:
        return images.clone()
    n = x.shape[0]
    no = torch.zeros(n, dtype=torch.bool)
    if kind == "rotation":
        sign = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        out = affine_warp(x, sign * ROTATION_DEG[severity], torch.zeros(n, 2), no)
    elif kind == "flip":
        u = torch.rand(n, 2, generator=generator)
        h = u[:, 0] < 0.5
        v = u[:, 1] < severity / MAX_SEVERITY
        out = torch.where(h.view(n, 1, 1, 1).to(x.device), x.flip(3), x)
        out = torch.where(v.view(n, 1, 1, 1).to(x.device), out.flip(2), out)
    elif kind == "color_jitter":
        u = torch.rand(n, 4, generator=generator) * 2 - 1
        a = 0.1 * severity
        out = adjust_color(x, 1 + a * u[:, 0], 1 + a * u[:, 1], 1 + a * u[:, 2], 0.04 * severity * u[:, 3])
    else:  # noise
        noise = torch.randn(x.shape, generator=generator) * (0.02 * severity)
        out = (x + noise.to(x.device)).clamp(0.0, 1.0)
    return from_unit_float(out, images)
