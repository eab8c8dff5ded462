"""Shipped pretrained checkpoints: look a model up by name, verify it, get its path.

The checkpoints live in one directory -- ``models/`` at the repository root, or
``$COMMSLDR_MODELS`` when that is set -- next to an index file ``index.json``. The index is
package data (:mod:`commsldr.resources`), so an installed package lists the shipped names; the
checkpoint files (265 MB) are not, and asking for one outside a clone says where it lives::

    {"format": "commsldr-pretrained/1",
     "models": {"<name>": {"file": "<name>.pt", "sha256": "<hex>", "model_id": "<16 hex>",
                           "description": "...", ...}}}

Every entry names its checkpoint file and the SHA-256 of its bytes; :func:`get_pretrained_path`
checks the digest, so a truncated or altered file is reported instead of being loaded. Other keys
of an entry (recipe, backbone, latent_dim, test accuracy, training command, ...) are free-form
metadata returned by :func:`pretrained_info`. Scenarios refer to an entry with
``model: {pretrained: <name>}``.

Example:
    >>> from commsldr.models.pretrained import list_pretrained
    >>> names = list_pretrained()  # e.g. ['cifar10-ce-d64', 'cifar10-ldr-ft-d64', ...]
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from commsldr.resources import shipped_models_dir

__all__ = [
    "INDEX_FILE",
    "INDEX_FORMAT",
    "PretrainedError",
    "get_pretrained_path",
    "list_pretrained",
    "pretrained_dir",
    "pretrained_info",
    "sha256_file",
]

#: name of the index file inside :func:`pretrained_dir`
INDEX_FILE = "index.json"
#: value of the index's ``format`` key
INDEX_FORMAT = "commsldr-pretrained/1"


class PretrainedError(ValueError):
    """Unknown name, missing or malformed index, missing file, or a checksum mismatch."""


def pretrained_dir() -> Path:
    """The directory of the checkpoint index and files: ``$COMMSLDR_MODELS``, else the shipped
    one (:func:`commsldr.resources.shipped_models_dir`: ``models/`` in a clone; in an installed
    package it holds the index only)."""
    env = os.environ.get("COMMSLDR_MODELS")
    if env:
        return Path(env).expanduser()
    return shipped_models_dir()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _index(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    d = pretrained_dir() if directory is None else Path(directory)
    path = d / INDEX_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise PretrainedError(f"cannot read the pretrained index {path}: {err}") from err
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        raise PretrainedError(f"{path}: 'format' must be {INDEX_FORMAT!r}")
    models = data.get("models")
    if not isinstance(models, dict):
        raise PretrainedError(f"{path}: 'models' must be a mapping of name -> entry")
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise PretrainedError(f"{path}: entry {name!r} must be a mapping")
        for key in ("file", "sha256"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise PretrainedError(f"{path}: entry {name!r} lacks the string key {key!r}")
        if Path(entry["file"]).name != entry["file"]:
            raise PretrainedError(f"{path}: entry {name!r}: 'file' must be a bare file name, "
                                  f"got {entry['file']!r}")
    return models


def list_pretrained(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the shipped checkpoints (sorted); empty when there is no index.

    Args:
        directory: look here instead of :func:`pretrained_dir`.
    """
    return sorted(_index(None if directory is None else Path(directory)))


def pretrained_info(name: str, directory: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The index entry of ``name`` (file, sha256 and the free-form metadata), a copy.

    Raises:
        PretrainedError: unknown ``name`` (the message lists the available names).
    """
    models = _index(None if directory is None else Path(directory))
    if name not in models:
        raise PretrainedError(f"unknown pretrained model {name!r}; available: "
                              f"{', '.join(sorted(models)) or '(none shipped)'}")
    return dict(models[name])


def get_pretrained_path(name: str, directory: str | os.PathLike[str] | None = None, *,
                        verify: bool = True) -> Path:
    """Path of the checkpoint ``name``, after checking its SHA-256 against the index.

    Load it with :func:`commsldr.train.load_model` (``weights_only=True``); its
    ``latent_stats`` entry holds the training-set latent statistics
    (:func:`commsldr.coding.load_latent_stats`).

    Args:
        name: an entry of :func:`list_pretrained`.
        directory: look here instead of :func:`pretrained_dir`.
        verify: check the file's digest (default).

    Raises:
        PretrainedError: unknown name, missing file or digest mismatch.
    """
    d = pretrained_dir() if directory is None else Path(directory)
    entry = pretrained_info(name, d)
    path = d / entry["file"]
    if not path.is_file():
        raise PretrainedError(
            f"pretrained model {name!r}: file {path} is missing; the checkpoint files are not part "
            f"of the installed package (only their index is): they are in the models/ folder of a "
            f"clone of the repository; set COMMSLDR_MODELS to a folder that holds them")
    if verify:
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            raise PretrainedError(f"pretrained model {name!r}: {path} has SHA-256 {digest}, the "
                                  f"index says {entry['sha256']} (corrupt or replaced file)")
    return path
