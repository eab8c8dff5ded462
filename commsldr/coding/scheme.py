"""A deployable source coder: one quantizer and one entropy codec for a scale ``s``.

:func:`make_source_coder` builds the pair from training statistics (and, for the categorical
codec, training latents); :func:`scale_for_budget` finds the scale that fits a bit budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .codec import CODEC_KINDS, LatentCodec
from .quantize import (
    DEFAULT_RULE,
    Quantizer,
    ScaleSolution,
    allocate_steps,
    bits_increase_with_scale,
    solve_scale_for_budget,
)
from .stats import LatentStats
from .transform import KLTransform

__all__ = ["SourceCoder", "make_source_coder", "scale_for_budget"]


@dataclass
class SourceCoder:
    """Quantizer + entropy codec for one operating point.

    Attributes:
        quantizer: maps latents ``[m, k]`` to symbols and back.
        codec: entropy models for those symbols.
        scale: the scale ``s`` it was built for.
        rule: the allocation rule.
        scale_index: the index of ``scale`` in the deployed scale grid (what packet headers
            carry), or ``None`` when the coder is not part of a grid. A receiver given this one
            coder (:func:`~commsldr.coding.decode_packet`) rejects packets with another index.
        transform: a :class:`~commsldr.coding.KLTransform` applied before quantization (and
            undone after dequantization), or ``None``. With it, ``quantizer`` and ``codec`` work
            on the transform's coefficients; every method still takes and returns latents.
    """

    quantizer: Quantizer
    codec: LatentCodec
    scale: float
    rule: str
    scale_index: int | None = None
    transform: KLTransform | None = None

    def __post_init__(self) -> None:
        si = self.scale_index
        if si is not None and (isinstance(si, bool) or not isinstance(si, (int, np.integer))
                               or not 0 <= int(si) < 1 << 32):
            raise ValueError(f"scale_index must be None or an int in [0, 2^32), got {si!r}")
        if self.transform is not None and self.transform.dim != self.quantizer.k:
            raise ValueError(f"transform has {self.transform.dim} entries, the quantizer "
                             f"{self.quantizer.k}")

    @property
    def k(self) -> int:
        """Number of latent entries."""
        return self.quantizer.k

    def symbols(self, y: torch.Tensor) -> torch.Tensor:
        """Latents ``float [m, k]`` -> the integer symbols the codec codes."""
        return self.quantizer.quantize(y if self.transform is None else self.transform.forward(y))

    def latents(self, symbols: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Symbols -> dequantized latents ``float32 [m, k]`` (what the server decodes)."""
        c = self.quantizer.dequantize(symbols)
        return c if self.transform is None else self.transform.inverse(c)

    def reconstruct(self, y: torch.Tensor) -> torch.Tensor:
        """``latents(symbols(y))``: what the server sees of ``y`` after an error-free link."""
        return self.latents(self.symbols(y))

    def encode(self, y: torch.Tensor) -> bytes:
        """Latents ``float [m, k]`` -> payload bytes (one message)."""
        return self.codec.encode(self.symbols(y))

    def decode(self, payload: bytes, num_images: int, *, verify: bool = False) -> torch.Tensor:
        """Payload -> dequantized latents ``float32 [m, k]``."""
        return self.latents(self.codec.decode(payload, num_images, verify=verify))

    def image_bits(self, y: torch.Tensor) -> np.ndarray:
        """Exact payload bits of each image coded as its own message, ``int64 [m]``."""
        return self.codec.image_bits(self.symbols(y))

    def message_bits(self, y: torch.Tensor, images_per_message: int) -> np.ndarray:
        """Each image's share of the payload bits when consecutive images are coded
        ``images_per_message`` to a message, ``float64 [m]``
        (:meth:`~commsldr.coding.LatentCodec.message_bits`)."""
        return self.codec.message_bits(self.symbols(y), images_per_message)


def make_source_coder(
    stats: LatentStats,
    scale: float,
    *,
    rule: str = DEFAULT_RULE,
    codec: str = "gaussian",
    train_latents: torch.Tensor | None = None,
    center: bool = True,
    k: int | None = None,
    alpha: float = 0.5,
    scale_index: int | None = None,
    transform: KLTransform | None = None,
) -> SourceCoder:
    """Build the coder for scale ``s``.

    Args:
        stats: training-set statistics.
        scale: ``s`` (see :func:`~commsldr.coding.allocate_steps`).
        rule: allocation rule.
        codec: ``"gaussian"`` (models from ``stats``) or ``"categorical"`` (fitted on
            ``train_latents``).
        train_latents: ``float [N, d]`` training latents, required for ``"categorical"``.
        center: quantize ``y - mean`` (offsets = training mean) instead of ``y``.
        k: use the first ``k`` entries (default all ``stats.dim``).
        alpha: smoothing count of the categorical model.
        scale_index: index of ``scale`` in the deployed grid (see :class:`SourceCoder`).
        transform: code the coefficients of this :class:`~commsldr.coding.KLTransform` instead
            of the latent; ``stats`` must then be the coefficients' statistics (both from
            :func:`~commsldr.coding.fit_klt`), ``train_latents`` stay latents, and ``k`` must
            keep every entry.
    """
    if codec not in CODEC_KINDS:
        raise ValueError(f"unknown codec {codec!r}; valid: {list(CODEC_KINDS)}")
    if transform is not None:
        if transform.dim != stats.dim:
            raise ValueError(f"transform has {transform.dim} entries, stats {stats.dim}")
        if k is not None and k != stats.dim:
            raise ValueError("a transform codes every entry: k must be None or stats.dim")
        if train_latents is not None:
            train_latents = transform.forward(train_latents[:, : stats.dim])
    st = stats if k is None or k == stats.dim else stats.truncate(k)
    steps = allocate_steps(st, scale, rule)
    qz = Quantizer(steps, st.mean if center else None)
    if codec == "gaussian":
        lc = LatentCodec.from_stats(st, qz)
    else:
        if train_latents is None:
            raise ValueError("codec='categorical' needs train_latents")
        lc = LatentCodec.fit_categorical(qz.quantize(train_latents[:, : st.dim]), alpha=alpha)
    return SourceCoder(qz, lc, float(scale), rule, scale_index, transform)


def scale_for_budget(
    stats: LatentStats,
    latents: torch.Tensor,
    budget_bits: float,
    *,
    rule: str = DEFAULT_RULE,
    codec: str = "gaussian",
    train_latents: torch.Tensor | None = None,
    overhead_bits: int = 0,
    statistic: str = "mean",
    scale_min: float | None = None,
    scale_max: float | None = None,
    rel_tol: float = 1e-3,
    center: bool = True,
    transform: KLTransform | None = None,
    images_per_message: int = 1,
) -> ScaleSolution:
    """Scale ``s`` whose coded bits per image on ``latents`` are ``<= budget_bits``.

    The measured quantity is ``overhead_bits`` plus the exact payload bits of each image coded
    alone (:meth:`SourceCoder.image_bits`), reduced by ``statistic`` (``"mean"`` or ``"max"``);
    with ``images_per_message`` > 1, each image's share of a message of that many consecutive
    calibration images (:meth:`SourceCoder.message_bits`) instead.
    Bisection over ``s`` (:func:`solve_scale_for_budget`) keeps the budget met.

    Args:
        stats: statistics the coders are built from.
        latents: ``float [n, d]`` calibration latents.
        budget_bits: the budget per image.
        overhead_bits: added to every image (e.g. header + CRC bits of a one-image packet).
        scale_min: lower end of the bracket (default 1e-4; 0 for waterfill).
        scale_max: upper end of the bracket (default 1e4; ``64 d`` for waterfill).
        rule: allocation rule.
        codec: codec kind.
        train_latents: training latents (categorical codec).
        statistic: ``"mean"`` or ``"max"`` over the calibration images.
        rel_tol: relative width of the final bracket.
        center: build centred coders (quantize ``y - mean``), as :func:`make_source_coder`;
            must match the coder that will be deployed at the returned scale.
        transform: as :func:`make_source_coder` (``stats`` are then the coefficients').
        images_per_message: images coded to one message (1: each image alone).
    """
    if statistic not in ("mean", "max"):
        raise ValueError(f"statistic must be 'mean' or 'max', got {statistic!r}")
    reduce = np.mean if statistic == "mean" else np.max
    if rule == "waterfill":
        lo, hi = 0.0, 64.0 * stats.dim
    else:
        lo, hi = 1e-4, 1e4
    lo = lo if scale_min is None else scale_min
    hi = hi if scale_max is None else scale_max
    y = latents[:, : stats.dim]

    def bits_at(s: float) -> float:
        coder = make_source_coder(stats, s, rule=rule, codec=codec, train_latents=train_latents,
                                  center=center, transform=transform)
        return float(reduce(coder.message_bits(y, images_per_message))) + overhead_bits

    if not math.isfinite(budget_bits):
        raise ValueError(f"budget_bits must be finite, got {budget_bits}")
    return solve_scale_for_budget(bits_at, budget_bits, scale_min=lo, scale_max=hi,
                                  increasing=bits_increase_with_scale(rule), rel_tol=rel_tol)
