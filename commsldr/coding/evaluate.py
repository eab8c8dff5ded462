"""Accuracy versus rate over a grid of quantization scales, with four rate measures.

For every scale ``s`` the test latents are quantized, dequantized and classified by the model's
decoder (the server), and the rate is reported four ways (all in bits per image):

``paper_entropy_bits``
    The paper's "total entropy" (Qi et al., Sec. 4.1, x-axis of Figs. 2/4): the sum over entries
    of the Gaussian high-resolution entropy ``h(y_i) - log2 Delta_i`` with ``sigma_i`` measured on
    the test set, each entry clamped at 0 (``paper_clamped_entries`` counts the clamps,
    ``paper_unreliable_entries`` the entries with ``sigma_i / Delta_i < 1``).
``exact_entropy_bits``
    The exact entropy of the binned Gaussian (test-set mean and std, the quantizer's offsets).
``empirical_entropy_bits``
    The plug-in entropy of the test-set symbols, per entry, summed.
``payload_bits`` / ``packet_bits``
    The **actual coded bits**: the mean size of each image coded as its own message by the codec
    fitted on the training set, and that plus the header and CRC of a one-image packet.
    ``batch_bits_per_image`` is the size of one message holding all test images, per image.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from commsldr.data.tensors import INFERENCE_BATCH_SIZE

from .entropy import binned_gaussian_entropy_bits, empirical_entropy_bits, highres_entropy_bits
from .packets import packet_bits
from .quantize import DEFAULT_RULE
from .scheme import make_source_coder
from .stats import LatentStats, encode_dataset

__all__ = ["RATE_MEASURES", "RateAccuracyResult", "rate_accuracy_curve",
           "rate_accuracy_from_latents"]

#: the rate columns of a :class:`RateAccuracyResult` (bits per image)
RATE_MEASURES = ("paper_entropy_bits", "exact_entropy_bits", "empirical_entropy_bits",
                 "payload_bits", "packet_bits")
_ROW_KEYS = ("scale", "accuracy") + RATE_MEASURES + (
    "ideal_bits", "batch_bits_per_image", "paper_clamped_entries", "paper_unreliable_entries",
    "dropped_entries")


@dataclass
class RateAccuracyResult:
    """One accuracy-vs-rate curve.

    Attributes:
        rule: allocation rule.
        codec: codec kind.
        center: whether ``y - mean`` was quantized.
        crc_bits: CRC width counted in ``packet_bits``.
        k: number of latent entries.
        unquantized_accuracy: accuracy of the decoder on the raw (float) test latents.
        num_test: number of test images.
        rows: one dict per scale with the keys ``scale``, ``accuracy``, the
            :data:`RATE_MEASURES`, ``ideal_bits`` (mean ``-log2 p`` under the codec's model),
            ``batch_bits_per_image``, ``paper_clamped_entries``, ``paper_unreliable_entries``,
            ``dropped_entries``.
        latent_std: test-set standard deviation of each latent entry ``[k]`` (paper Fig. 5).
        label: a name for legends.
    """

    rule: str
    codec: str
    center: bool
    crc_bits: int
    k: int
    unquantized_accuracy: float
    num_test: int
    rows: list[dict[str, float]] = field(default_factory=list)
    latent_std: list[float] = field(default_factory=list)
    label: str = ""

    def column(self, key: str) -> np.ndarray:
        """One column over the scales, e.g. ``column("payload_bits")``."""
        if key not in _ROW_KEYS:
            raise KeyError(f"unknown column {key!r}; valid: {list(_ROW_KEYS)}")
        return np.array([r[key] for r in self.rows], dtype=np.float64)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the whole result as JSON."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> RateAccuracyResult:
        """Read a result written by :meth:`to_json`."""
        return cls(**json.loads(Path(path).read_text()))

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the rows (one line per scale) as CSV."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(_ROW_KEYS))
            w.writeheader()
            for r in self.rows:
                w.writerow(r)


@torch.no_grad()
def _accuracy(decode_fn: Any, y: torch.Tensor, labels: torch.Tensor, batch_size: int) -> float:
    if len(labels) == 0:
        return 0.0
    correct = 0
    for i in range(0, len(labels), batch_size):
        logits = decode_fn(y[i: i + batch_size])
        correct += int((logits.argmax(1).cpu() == labels[i: i + batch_size]).sum())
    return correct / len(labels)


def rate_accuracy_from_latents(
    test_latents: torch.Tensor,
    labels: torch.Tensor,
    decode_fn: Any,
    stats: LatentStats,
    scales: list[float] | np.ndarray,
    *,
    rule: str = DEFAULT_RULE,
    codec: str = "gaussian",
    train_latents: torch.Tensor | None = None,
    center: bool = True,
    crc_bits: int = 16,
    batch_size: int = 512,
    label: str = "",
    progress: bool = True,
) -> RateAccuracyResult:
    """:func:`rate_accuracy_curve` on precomputed latents.

    Args:
        test_latents: ``float [N, k]`` test-set latents.
        labels: ``int64 [N]`` test labels.
        decode_fn: ``y [B, k] -> logits [B, C]`` (the server).
        stats: training-set statistics (``k`` entries or more).
        scales: the grid of ``s``.
        rule: allocation rule (:func:`~commsldr.coding.make_source_coder`).
        codec: ``"gaussian"`` or ``"categorical"``.
        train_latents: training latents, needed by the categorical codec.
        center: quantize ``y - mean``.
        crc_bits: CRC width counted in ``packet_bits``.
        batch_size: latents per decoder call.
        label: legend name stored in the result.
        progress: show a progress bar.
    """
    y = test_latents.detach().cpu().float()
    if y.dim() != 2:
        raise ValueError(f"test_latents must have shape [N, k], got {tuple(y.shape)}")
    n, k = y.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape [{n}], got {tuple(labels.shape)}")
    if k > stats.dim:
        raise ValueError(f"test_latents have k={k} entries, stats only {stats.dim}")
    st = stats.truncate(k) if k < stats.dim else stats
    y64 = y.double()
    test_mean = y64.mean(0).numpy()
    test_std = y64.std(0).numpy() if n > 1 else np.zeros(k)
    result = RateAccuracyResult(
        rule=rule, codec=codec, center=center, crc_bits=crc_bits, k=k,
        unquantized_accuracy=_accuracy(decode_fn, y, labels, batch_size), num_test=n,
        latent_std=test_std.tolist(), label=label)
    for si, s in enumerate(tqdm(list(scales), desc=f"rate-accuracy ({rule})",
                                disable=None if progress else True)):
        coder = make_source_coder(st, float(s), rule=rule, codec=codec,
                                  train_latents=train_latents, center=center)
        qz = coder.quantizer
        q = qz.quantize(y)
        step = qz.step_sizes.numpy()
        paper, unreliable = highres_entropy_bits(test_std, step)
        raw, _ = highres_entropy_bits(test_std, step, clamp=False)
        payload = coder.codec.image_bits(q)
        row = {
            "scale": float(s),
            "accuracy": _accuracy(decode_fn, qz.dequantize(q), labels, batch_size),
            "paper_entropy_bits": float(paper.sum()),
            "exact_entropy_bits": float(binned_gaussian_entropy_bits(
                test_mean, test_std, step, qz.offsets.numpy()).sum()),
            "empirical_entropy_bits": float(empirical_entropy_bits(q).sum()),
            "payload_bits": float(payload.mean()) if n else 0.0,
            "packet_bits": float(packet_bits(payload, k=k, scale_index=si, crc_bits=crc_bits).mean())
            if n else 0.0,
            "ideal_bits": float(coder.codec.information_bits(q).mean()) if n else 0.0,
            "batch_bits_per_image": coder.codec.bits(q) / n if n else 0.0,
            "paper_clamped_entries": int((raw < 0).sum()),
            "paper_unreliable_entries": int(unreliable.sum()),
            "dropped_entries": int(np.isinf(step).sum()),
        }
        result.rows.append(row)
    return result


def rate_accuracy_curve(
    model: torch.nn.Module,
    stats: LatentStats,
    test_data: Any,
    scales: list[float] | np.ndarray,
    *,
    rule: str = DEFAULT_RULE,
    codec: str = "gaussian",
    train_data: Any = None,
    center: bool = True,
    crc_bits: int = 16,
    batch_size: int = INFERENCE_BATCH_SIZE,
    label: str = "",
    progress: bool = True,
) -> RateAccuracyResult:
    """Accuracy versus rate of a trained split autoencoder over a grid of scales (paper Fig. 2/4).

    Args:
        model: a :class:`~commsldr.models.SplitAutoencoder` (its ``latent_dim`` entries are coded).
        stats: its training-set :class:`LatentStats`.
        test_data: an :class:`~commsldr.data.ImageTensors`.
        scales: the grid of ``s``.
        rule: allocation rule (:data:`~commsldr.coding.ALLOCATION_RULES`).
        codec: ``"gaussian"`` or ``"categorical"`` (the latter needs ``train_data``).
        train_data: training images, needed to fit the categorical codec.
        center: quantize ``y - mean``.
        crc_bits: CRC width counted in ``packet_bits``.

    Returns:
        A :class:`RateAccuracyResult` (``to_json`` / ``to_csv``; plot with
        :func:`~commsldr.coding.plot_rate_accuracy`).
    """
    y = encode_dataset(model, test_data, batch_size=batch_size)
    train_latents = None
    if codec == "categorical":
        if train_data is None:
            raise ValueError("codec='categorical' needs train_data to fit the entropy models")
        train_latents = encode_dataset(model, train_data, batch_size=batch_size)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        return rate_accuracy_from_latents(
            y, test_data.labels, lambda z: model.decode(z.to(device)), stats, scales, rule=rule,
            codec=codec, train_latents=train_latents, center=center, crc_bits=crc_bits,
            batch_size=batch_size, label=label, progress=progress)
    finally:
        model.train(was_training)
