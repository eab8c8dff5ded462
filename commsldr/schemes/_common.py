"""Helpers shared by the schemes: server prediction, hashing, the cache, tables from payloads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from commsldr.coding.packets import PacketHeader, build_packet, packet_model_id
from commsldr.data import to_float
from commsldr.data.tensors import INFERENCE_BATCH_SIZE
from commsldr.link.table import OperatingPointTable

__all__ = ["predict_images", "cache_key", "table_from_payloads", "cached_table"]


@torch.no_grad()
def predict_images(model: torch.nn.Module, images: torch.Tensor,
                   batch_size: int = INFERENCE_BATCH_SIZE) -> np.ndarray:
    """``uint8 [N, 3, H, W]`` images -> ``int64 [N]`` labels of ``decode(encode(x))`` (eval mode)."""
    was = model.training
    model.eval()
    try:
        out = [model.decode(model.encode(to_float(images[i:i + batch_size],
                                                  channels_last=True))).argmax(1)
               for i in range(0, images.shape[0], batch_size)]
    finally:
        model.train(was)
    return torch.cat(out).cpu().numpy().astype(np.int64)


def cache_key(obj: Any) -> str:
    """16 hex digits of the SHA-256 of ``obj`` as sorted JSON."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _groups(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    if n // m < 1:
        raise ValueError(f"images_per_packet: {m} images per packet but only {n} test images")
    if m == 1:
        return np.arange(n, dtype=np.int64)[:, None]
    return rng.permutation(n)[: (n // m) * m].reshape(n // m, m).astype(np.int64)


def table_from_payloads(
    points: Sequence[Any],
    image_bits: np.ndarray,
    correct: np.ndarray,
    labels: np.ndarray,
    joint_payload: Callable[[int, np.ndarray], bytes],
    *,
    images_per_packet: Sequence[int],
    crc_bits: int,
    model_id: str,
    seed: int,
    meta: dict[str, Any],
    prior_class: int | None = None,
) -> Any:
    """An :class:`~commsldr.link.OperatingPointTable` whose packets are real packets.

    Args:
        points: the ``P`` :class:`~commsldr.link.OperatingPoint` s.
        image_bits: ``int [P, N]`` payload bits of each image sent alone.
        correct: ``bool [P, N]`` server decision correct.
        labels: ``int64 [N]``.
        joint_payload: ``(p, group int64 [m]) -> bytes``: the payload of the packet that carries
            the images ``group`` at point ``p``.
        images_per_packet: the packet sizes ``m``.
        crc_bits: CRC width.
        model_id: the id in the table's metadata and (first 8 hex digits) in every header.
        seed: seeds the grouping of images into packets (as :func:`commsldr.link.build_table`).
        meta: more metadata.
        prior_class: the ``"prior"`` fallback class.

    Every packet is ``build_packet(PacketHeader(model_id, k, scale_index, m), payload, crc_bits)``
    and its size is ``8 * len(packet)``.
    """
    rng = np.random.default_rng(seed)
    n = int(np.asarray(labels).shape[0])
    ms = sorted({int(m) for m in images_per_packet})
    groups = {m: _groups(n, m, rng) for m in ms}
    mid = packet_model_id(model_id)
    pbits = {}
    for m in ms:
        pbits[m] = np.array([[8 * len(build_packet(
            PacketHeader(mid, int(pt.k), int(pt.scale_index), m), joint_payload(p, g), crc_bits))
            for g in groups[m]] for p, pt in enumerate(points)], dtype=np.int64)
    return OperatingPointTable(list(points), np.asarray(image_bits, dtype=np.int64),
                               np.asarray(correct, dtype=bool), np.asarray(labels, np.int64),
                               groups, pbits, {"model_id": model_id, "seed": int(seed), **meta},
                               prior_class=prior_class)


def cached_table(path: Path, build: Callable[[], Any], log: Callable[[str], Any]) -> Any:
    """Load the table at ``path`` (``.npz`` + ``.json``) or build and save it."""
    if path.with_suffix(".npz").is_file() and path.with_suffix(".json").is_file():
        log(f"table: cached {path}.npz")
        return OperatingPointTable.load(path)
    table = build()
    table.save(path)
    return table
