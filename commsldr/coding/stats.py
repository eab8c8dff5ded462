"""Per-dimension latent statistics on the training set, stored with the model.

``H(y_i)`` in the paper's allocation rule ``q_i = s * H(y_i)`` (Qi et al., Sec. 3.3) is "the
average entropy of y_i on the training set for Gaussian y_i". The differential entropy
``1/2 log2(2 pi e sigma_i^2)`` is negative for ``sigma_i < 0.242`` and cannot scale a step size,
so we use the entropy (bits) of the Gaussian ``y_i`` **quantized at a reference step**
``Delta_ref``: ``H_i = H(round((y_i - mu_i) / Delta_ref))`` computed exactly from the normal CDF
(:func:`~commsldr.coding.entropy.binned_gaussian_entropy_bits`). It is ``>= 0``, increases with
``sigma_i`` and is ``h(y_i) - log2 Delta_ref`` within 0.06 bits once ``sigma_i / Delta_ref >= 1``.
By default ``Delta_ref = rms_i(sigma_i) / 8`` (so a dimension of typical spread has
``H_i ~ 5`` bits), stored in :attr:`LatentStats.ref_step`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from commsldr._atomic import atomic_torch_save
from commsldr.data import to_float
from commsldr.data.tensors import INFERENCE_BATCH_SIZE

from .entropy import binned_gaussian_entropy_bits, empirical_entropy_bits

__all__ = [
    "DEFAULT_REF_STEP_FRACTION",
    "LatentStats",
    "attach_latent_stats",
    "compute_latent_stats",
    "encode_dataset",
    "latent_stats_from_latents",
    "load_latent_stats",
]

#: default reference step as a fraction of the RMS latent standard deviation
DEFAULT_REF_STEP_FRACTION = 1.0 / 8.0
_KEYS = ("mean", "std", "entropy_bits", "empirical_entropy_bits", "ref_step", "num_samples")


@dataclass(frozen=True)
class LatentStats:
    """Per-dimension statistics of the latent ``y`` (``d`` entries) on the training set.

    Attributes:
        mean: ``float64 [d]`` sample mean ``mu_i``.
        std: ``float64 [d]`` sample standard deviation ``sigma_i`` (``ddof = 1``).
        entropy_bits: ``float64 [d]`` ``H_i``: entropy of ``N(mu_i, sigma_i^2)`` quantized at
            ``ref_step`` (the ``H(y_i)`` of the allocation rules).
        empirical_entropy_bits: ``float64 [d]`` plug-in entropy of the training symbols
            ``round((y_i - mu_i) / ref_step)`` (a check on the Gaussian assumption).
        ref_step: the reference step ``Delta_ref`` (latent units).
        num_samples: number of training latents the statistics were computed on.
    """

    mean: torch.Tensor
    std: torch.Tensor
    entropy_bits: torch.Tensor
    empirical_entropy_bits: torch.Tensor
    ref_step: float
    num_samples: int

    def __post_init__(self) -> None:
        d = self.mean.shape
        for name in ("std", "entropy_bits", "empirical_entropy_bits"):
            if getattr(self, name).shape != d:
                raise ValueError(f"LatentStats.{name} has shape {tuple(getattr(self, name).shape)}, "
                                 f"expected {tuple(d)}")
        if self.mean.dim() != 1:
            raise ValueError(f"LatentStats.mean must be 1-D, got shape {tuple(d)}")
        if not self.ref_step > 0:
            raise ValueError(f"LatentStats.ref_step must be > 0, got {self.ref_step}")

    @property
    def dim(self) -> int:
        """Number of latent entries ``d``."""
        return int(self.mean.shape[0])

    def truncate(self, k: int) -> LatentStats:
        """Statistics of the first ``k`` entries (for the truncated variant ``y[:, :k]``)."""
        if not 1 <= k <= self.dim:
            raise ValueError(f"k must be in [1, {self.dim}], got {k}")
        return LatentStats(self.mean[:k], self.std[:k], self.entropy_bits[:k],
                           self.empirical_entropy_bits[:k], self.ref_step, self.num_samples)

    def to_dict(self) -> dict[str, torch.Tensor]:
        """A dict of tensors for a checkpoint's ``latent_stats`` (loads with ``weights_only``)."""
        return {
            "mean": self.mean.clone(),
            "std": self.std.clone(),
            "entropy_bits": self.entropy_bits.clone(),
            "empirical_entropy_bits": self.empirical_entropy_bits.clone(),
            "ref_step": torch.tensor(self.ref_step, dtype=torch.float64),
            "num_samples": torch.tensor(self.num_samples, dtype=torch.int64),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatentStats:
        """Inverse of :meth:`to_dict`; a missing key raises ``KeyError`` naming it."""
        missing = [k for k in _KEYS if k not in d]
        if missing:
            raise KeyError(f"latent_stats lacks the key(s) {missing}")
        # float64 from lists and Python floats too (``torch.as_tensor`` would make them float32)
        t = {k: torch.as_tensor(d[k], dtype=None if k == "num_samples" else torch.float64)
             for k in _KEYS}
        return cls(
            mean=t["mean"].double(),
            std=t["std"].double(),
            entropy_bits=t["entropy_bits"].double(),
            empirical_entropy_bits=t["empirical_entropy_bits"].double(),
            ref_step=float(t["ref_step"]),
            num_samples=int(t["num_samples"]),
        )


def latent_stats_from_latents(y: torch.Tensor, *, ref_step: float | None = None) -> LatentStats:
    """Statistics of training latents ``y`` (``float [N, d]``, ``N >= 2``).

    Args:
        y: training-set latents.
        ref_step: the reference step ``Delta_ref``; default ``rms(sigma) / 8``.
    """
    if y.dim() != 2 or y.shape[0] < 2:
        raise ValueError(f"y must have shape [N, d] with N >= 2, got {tuple(y.shape)}")
    if not torch.isfinite(y).all():
        raise ValueError("y contains NaN or inf")
    y64 = y.detach().cpu().double()
    mean = y64.mean(0)
    std = y64.std(0, unbiased=True)
    if ref_step is None:
        rms = float(std.pow(2).mean().sqrt())
        ref_step = rms * DEFAULT_REF_STEP_FRACTION if rms > 0 else 1.0
    if not ref_step > 0:
        raise ValueError(f"ref_step must be > 0, got {ref_step}")
    ent = binned_gaussian_entropy_bits(mean.numpy(), std.numpy(), ref_step, mean.numpy())
    sym = torch.round((y64 - mean) / ref_step).numpy()
    emp = empirical_entropy_bits(sym)
    return LatentStats(mean, std, torch.from_numpy(ent), torch.from_numpy(emp),
                       float(ref_step), int(y.shape[0]))


@torch.no_grad()
def encode_dataset(model: torch.nn.Module, data: Any, *,
                   batch_size: int = INFERENCE_BATCH_SIZE) -> torch.Tensor:
    """Sensor-side latents of a whole dataset: ``model.encode(to_float(images))``.

    Args:
        model: a ``SplitAutoencoder`` (anything with ``encode(x) -> y [B, d]``), run in eval
            mode (its mode is restored afterwards).
        data: an :class:`~commsldr.data.ImageTensors`, or its ``uint8 [N, 3, H, W]`` images.
        batch_size: images per forward pass.

    Returns:
        ``float32 [N, d]`` on the CPU.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    images = data if isinstance(data, torch.Tensor) else data.images
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        out = [model.encode(to_float(images[i:i + batch_size], channels_last=True).to(device))
               .float().cpu()
               for i in range(0, len(images), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.zeros(0, getattr(model, "latent_dim", 0))


def compute_latent_stats(
    model: torch.nn.Module, data: Any, *, batch_size: int = INFERENCE_BATCH_SIZE, ref_step: float | None = None
) -> LatentStats:
    """:func:`latent_stats_from_latents` of ``model``'s latents on ``data`` (the training set)."""
    return latent_stats_from_latents(encode_dataset(model, data, batch_size=batch_size),
                                     ref_step=ref_step)


def attach_latent_stats(checkpoint_path: str | os.PathLike[str], stats: LatentStats) -> None:
    """Store ``stats`` as the checkpoint's ``latent_stats`` entry (atomic rewrite)."""
    path = Path(checkpoint_path)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path} does not hold a checkpoint dict")
    ckpt["latent_stats"] = stats.to_dict()
    atomic_torch_save(ckpt, path)


def load_latent_stats(checkpoint_path: str | os.PathLike[str]) -> LatentStats:
    """Read the ``latent_stats`` of a checkpoint (``weights_only=True``)."""
    ckpt = torch.load(Path(checkpoint_path), map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "latent_stats" not in ckpt:
        raise KeyError(f"checkpoint {checkpoint_path} has no 'latent_stats' entry")
    return LatentStats.from_dict(ckpt["latent_stats"])
