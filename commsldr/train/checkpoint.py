"""Checkpoints: atomic writes, ``weights_only`` loading, a model id, and RNG-state capture.

A checkpoint is a ``dict`` saved with :func:`torch.save` holding only tensors and plain Python
containers/scalars, so it loads with ``torch.load(..., weights_only=True)`` (no pickled code):

``format``       ``"commsldr-checkpoint/1"``
``config``       the model's JSON-able config (:meth:`SplitAutoencoder.from_config` rebuilds it)
``model_state``  ``model.state_dict()``
``model_id``     16 hex digits: SHA-256 of the config JSON and every state tensor (name, dtype,
                 shape, bytes); identical weights ⇔ identical id
``latent_stats`` optional ``dict[str, Tensor]`` (written by :mod:`commsldr.coding`)
...              any other keyword state (optimizer, scheduler, epoch, RNG states, train config)

Writes go to a temporary file in the target directory followed by :func:`os.replace`, so a
crash never leaves a half-written checkpoint under the final name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from commsldr._atomic import atomic_torch_save, atomic_write_text
from commsldr.errors import UserError
from commsldr.models import SplitAutoencoder
from commsldr.models.functional import model_id
from commsldr.safe_load import describe_load_error

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "atomic_write_text",
    "load_checkpoint",
    "load_model",
    "model_from_checkpoint",
    "model_id",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "commsldr-checkpoint/1"
_RESERVED = {"format", "config", "model_state", "model_id"}


class CheckpointError(UserError):
    """A checkpoint file is missing, unreadable, of an unknown format or inconsistent."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)


def save_checkpoint(path: str | os.PathLike[str], model: torch.nn.Module, **state: Any) -> str:
    """Atomically save ``model`` (config + weights + id) and any extra ``state`` to ``path``.

    Args:
        path: destination file (parent directories are created).
        model: a model with a JSON-able ``config`` attribute (e.g. ``SplitAutoencoder``).
        **state: extra entries (tensors, dicts, lists, numbers, strings), e.g. ``epoch=3``,
            ``optimizer=opt.state_dict()``, ``latent_stats={"mean": ..., "std": ...}``.

    Returns:
        The model id stored in the checkpoint.
    """
    clash = _RESERVED & set(state)
    if clash:
        raise ValueError(f"state keys {sorted(clash)} are reserved by the checkpoint format")
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise TypeError("model must have a dict `config` attribute (e.g. SplitAutoencoder)")
    mid = model_id(model)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": config,
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model_id": mid,
        **state,
    }
    atomic_torch_save(payload, path)
    return mid


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint dict with ``weights_only=True`` and check its format and keys."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt / truncated / not a torch file / pickled code
        raise CheckpointError(f"cannot read checkpoint {path}: {describe_load_error(exc, path)}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is not a commsldr checkpoint (format {CHECKPOINT_FORMAT!r} expected)"
        )
    for key in ("config", "model_state", "model_id"):
        if key not in ckpt:
            raise CheckpointError(f"checkpoint {path} lacks the key {key!r}")
    return ckpt


def load_model(path: str | os.PathLike[str], *, verify: bool = True) -> SplitAutoencoder:
    """Rebuild the model stored in a checkpoint (``SplitAutoencoder.from_config`` + weights).

    Args:
        path: a file written by :func:`save_checkpoint`.
        verify: recompute the model id and raise :class:`CheckpointError` if it differs from
            the stored one (detects corrupted or tampered weights).

    Returns:
        The :class:`~commsldr.models.SplitAutoencoder` in eval mode, on the CPU.
    """
    return model_from_checkpoint(load_checkpoint(path), path, verify=verify)


def model_from_checkpoint(ckpt: dict[str, Any], path: str | os.PathLike[str] = "<checkpoint>", *,
                          verify: bool = True) -> SplitAutoencoder:
    """:func:`load_model` of a checkpoint already read with :func:`load_checkpoint` (``path``
    names it in errors)."""
    model = SplitAutoencoder.from_config(ckpt["config"])
    try:
        model.load_state_dict(ckpt["model_state"])
    except RuntimeError as exc:
        raise CheckpointError(f"weights in {path} do not match its config: {exc}") from exc
    model.eval()
    if verify and model_id(model) != ckpt["model_id"]:
        raise CheckpointError(
            f"model id mismatch in {path}: stored {ckpt['model_id']}, computed {model_id(model)}"
        )
    return model


def capture_rng(generators: dict[str, torch.Generator]) -> dict[str, torch.Tensor]:
    """States of the named generators plus torch's global CPU (and CUDA) RNG."""
    states = {f"gen/{k}": g.get_state() for k, g in generators.items()}
    states["torch_cpu"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            states[f"torch_cuda/{i}"] = s
    return states


def restore_rng(generators: dict[str, torch.Generator], states: dict[str, torch.Tensor]) -> None:
    """Inverse of :func:`capture_rng`; every named generator must be present in ``states``."""
    for k, g in generators.items():
        key = f"gen/{k}"
        if key not in states:
            raise CheckpointError(f"checkpoint lacks the RNG state {key!r}")
        g.set_state(states[key])
    torch.set_rng_state(states["torch_cpu"])
    if torch.cuda.is_available():
        cuda = [states[k] for k in sorted(states) if k.startswith("torch_cuda/")]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
