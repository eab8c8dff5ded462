"""What every model offers beside its forward pass: a content id and server-side prediction.

These live beside the model (not in :mod:`commsldr.train`) so that the link layer, the coding
layer and the training loop all use them without depending on each other: ``link`` and
``train`` are siblings above ``models``.
"""

from __future__ import annotations

import hashlib
import json

import torch

__all__ = ["device_of", "model_id", "predict_from_latent"]


def device_of(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (CPU for a model without parameters)."""
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def model_id(model: torch.nn.Module) -> str:
    """Content hash of a model: SHA-256 over its config JSON and all state tensors (16 hex chars).

    Two models share an id exactly when their configs and all parameters/buffers are equal.

    Input:
        model (:class:`torch.nn.Module`): any module; its ``config`` attribute (a JSON-able
            dict, e.g. :attr:`~commsldr.models.SplitAutoencoder.config`) is hashed when present.

    Output:
        str: 16 lowercase hex digits, the first 64 bits of
        ``SHA-256(json(config) || name|dtype|shape|bytes for every state tensor, sorted by name)``.
    """
    h = hashlib.sha256()
    config = getattr(model, "config", None)
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


@torch.no_grad()
def predict_from_latent(model: torch.nn.Module, y: torch.Tensor) -> torch.Tensor:
    """Server side: class labels from (dequantized) latents.

    ``labels = argmax_c decode(y)_c``, in eval mode (the previous train/eval mode is restored).

    Input:
        model (:class:`~commsldr.models.SplitAutoencoder`): whose decoder + classifier is used.
        y (``float [B, d]``): latents with ``d == model.latent_dim`` (any float dtype, any
            device; moved to the model's device as ``float32``).

    Output:
        ``int64 [B]``: predicted class labels, on the model's device.
    """
    if y.ndim != 2 or y.shape[1] != model.latent_dim:
        raise ValueError(
            f"y must have shape [B, latent_dim={model.latent_dim}], got {tuple(y.shape)}"
        )
    was_training = model.training
    model.eval()
    try:
        logits = model.decode(y.to(device=device_of(model), dtype=torch.float32))
    finally:
        model.train(was_training)
    return logits.argmax(1)
