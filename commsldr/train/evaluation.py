"""Accuracy of a split autoencoder on an in-memory dataset.

:func:`predict_from_latent` lives in :mod:`commsldr.models.functional` (re-exported here).
"""

from __future__ import annotations

import torch

from commsldr.data import INFERENCE_BATCH_SIZE, ImageTensors, to_float
from commsldr.models.functional import device_of, predict_from_latent

__all__ = ["count_correct", "evaluate", "predict_from_latent"]


@torch.no_grad()
def count_correct(
    model: torch.nn.Module,
    data: ImageTensors,
    batch_size: int = INFERENCE_BATCH_SIZE,
    *,
    amp: bool = False,
    flip_tta: bool = False,
) -> tuple[int, int]:
    """``(correct, total)`` of ``model(x).logits.argmax(1) == label`` over ``data`` (eval mode).

    ``flip_tta``: classify by the mean of the logits of the image and its mirror image (test-time
    augmentation; reported separately, never the headline number). The model's train/eval mode
    is restored afterwards.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = device_of(model)
    was_training = model.training
    model.eval()
    correct = 0
    try:
        for start in range(0, len(data), batch_size):
            x = to_float(data.images[start : start + batch_size], channels_last=True).to(device)
            y = data.labels[start : start + batch_size].to(device)
            with torch.autocast(device.type, dtype=_amp_dtype(device), enabled=amp):
                logits = model.decode(model.encode(x))
                if flip_tta:
                    logits = logits + model.decode(model.encode(x.flip(3)))
            correct += int((logits.argmax(1) == y).sum())
    finally:
        model.train(was_training)
    return correct, len(data)


def _amp_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.bfloat16


def evaluate(model: torch.nn.Module, data: ImageTensors,
             batch_size: int = INFERENCE_BATCH_SIZE) -> float:
    """Classification accuracy in ``[0, 1]`` of ``model`` on ``data`` (no augmentation).

    Args:
        model: a :class:`~commsldr.models.SplitAutoencoder` (any device).
        data: images ``uint8 [N, 3, H, W]`` and labels; normalised with
            :func:`~commsldr.data.to_float` as in training.
        batch_size: images per forward pass.

    Returns:
        ``correct / N`` (``0.0`` for an empty set).
    """
    correct, total = count_correct(model, data, batch_size)
    return correct / total if total else 0.0
