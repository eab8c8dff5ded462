"""Operating-point tables: exact bits and server correctness per (operating point, test image).

An operating point is one (encoder variant ``k``, quantization scale ``s``). For every test image
and point the table stores

* ``bits[p, i]`` — the exact payload bits of the image coded alone (``8 * len(codec.encode(q_i))``
  with the real :class:`~commsldr.coding.LatentCodec`);
* ``correct[p, i]`` — whether the server classifies the image correctly after decoding
  (``decoder(dequantize(q_i))``; the codec is lossless, so the decoded symbols are ``q_i``).

**Packets of m images.** A packet carries the *joint* message of its ``m`` images, whose size is
not the sum of the images' sizes (one range-coder message: information content plus at most ~1
bit, rounded to bytes, once per packet). Instead of approximating, the table fixes a grouping of
the test images into packets (a seeded permutation cut into ``N // m`` groups; the leftover
``N mod m`` images are not used for that ``m``) and stores, per group and point, the exact size
of the *real packet*, ``8 * len(build_packet(header, codec.encode(q[group])))`` — header and CRC
included. The simulator then sends whole groups, so a table lookup gives exactly what encoding,
framing, decoding and classifying the same images would give.

Saved as ``<stem>.npz`` (arrays) plus ``<stem>.json`` (metadata: model id, dataset, rule, scales,
CRC width, and the SHA-256 of the ``.npz``, so a corrupt or mismatched pair is detected on load).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from commsldr._atomic import atomic_write_bytes
from commsldr.coding.scheme import make_source_coder
from commsldr.coding.stats import encode_dataset
from commsldr.coding.transform import fit_klt
from commsldr.data.tensors import INFERENCE_BATCH_SIZE
from commsldr.models.coded import CodedModel
from commsldr.models.functional import model_id, predict_from_latent

__all__ = [
    "OperatingPoint",
    "OperatingPointTable",
    "build_table",
    "make_coders",
    "encode_latents",
    "classify_latents",
    "TABLE_FORMAT_VERSION",
]

TABLE_FORMAT_VERSION = 1


@dataclass(frozen=True, order=True)
class OperatingPoint:
    """One operating point: encoder variant ``k`` (latent entries kept) and scale ``scale``,
    the ``scale_index``-th entry of the table's scale grid."""

    k: int
    scale_index: int
    scale: float

    def __post_init__(self) -> None:
        if int(self.k) < 1:
            raise ValueError(f"k: must be >= 1, got {self.k}")
        if int(self.scale_index) < 0:
            raise ValueError(f"scale_index: must be >= 0, got {self.scale_index}")
        if isinstance(self.scale, bool) or not (math.isfinite(float(self.scale))
                                                and float(self.scale) > 0):
            raise ValueError(f"scale: must be a finite number > 0, got {self.scale!r}")


class OperatingPointTable:
    """Per operating point and test image: exact coded bits and server correctness.

    Args:
        points: the ``P`` operating points (table order).
        bits: ``int64 [P, N]`` payload bits of each image coded alone.
        correct: ``bool [P, N]`` server decision correct after decoding.
        labels: ``int64 [N]`` test labels.
        packet_groups: ``{m: int64 [G_m, m]}`` image indices of each packet of ``m`` images.
        packet_bits: ``{m: int64 [P, G_m]}`` exact packet bits (header + CRC + joint payload).
        meta: JSON-able metadata (``model_id`` at least).
        prior_class: most frequent training class (for the ``"prior"`` fallback), or ``None``.
    """

    def __init__(
        self,
        points: Sequence[OperatingPoint],
        bits: np.ndarray,
        correct: np.ndarray,
        labels: np.ndarray,
        packet_groups: Mapping[int, np.ndarray],
        packet_bits: Mapping[int, np.ndarray],
        meta: Mapping[str, Any],
        prior_class: int | None = None,
    ) -> None:
        self.points = tuple(points)
        self.bits = np.asarray(bits, dtype=np.int64)
        self.correct = np.asarray(correct, dtype=bool)
        self.labels = np.asarray(labels, dtype=np.int64)
        p, n = len(self.points), self.labels.shape[0]
        if p == 0:
            raise ValueError("points: a table needs at least one operating point")
        if self.bits.shape != (p, n) or self.correct.shape != (p, n):
            raise ValueError(
                f"bits {self.bits.shape} and correct {self.correct.shape} must be [P={p}, N={n}]"
            )
        if np.any(self.bits < 0):
            # 0 is possible: a coder that gives an image's every symbol probability 1 (a collapsed
            # latent) codes it in no payload bits; its packet still carries header and CRC.
            raise ValueError("bits: a coded image cannot have a negative size")
        self.packet_groups = {int(m): np.asarray(g, dtype=np.int64) for m, g in packet_groups.items()}
        self.packet_bits = {int(m): np.asarray(b, dtype=np.int64) for m, b in packet_bits.items()}
        if set(self.packet_groups) != set(self.packet_bits):
            raise ValueError("packet_groups and packet_bits must cover the same packet sizes")
        for m, g in self.packet_groups.items():
            if g.ndim != 2 or g.shape[1] != m or g.shape[0] < 1:
                raise ValueError(f"packet_groups[{m}]: expected shape [G, {m}], got {g.shape}")
            if g.min() < 0 or g.max() >= n:
                raise ValueError(f"packet_groups[{m}]: image index out of range [0, {n})")
            if self.packet_bits[m].shape != (p, g.shape[0]):
                raise ValueError(f"packet_bits[{m}]: expected shape [{p}, {g.shape[0]}]")
        self.meta = dict(meta)
        if "model_id" not in self.meta:
            raise ValueError("meta: must contain 'model_id'")
        self.prior_class = None if prior_class is None else int(prior_class)
        self._index = {pt: i for i, pt in enumerate(self.points)}
        if len(self._index) != p:
            raise ValueError("points: duplicate operating points")

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self.points)

    @property
    def num_images(self) -> int:
        """Number of test images ``N``."""
        return int(self.labels.shape[0])

    @property
    def model_id(self) -> str:
        """Id of the model the table was computed for."""
        return str(self.meta["model_id"])

    def index_of(self, point: OperatingPoint) -> int:
        """Table index of ``point``; a point not in the table raises ``KeyError`` listing them."""
        try:
            return self._index[point]
        except KeyError:
            raise KeyError(f"operating point {point} is not in the table; points: {list(self.points)}") from None

    def accuracy(self) -> np.ndarray:
        """Accuracy of each point when every packet arrives, ``float64 [P]``."""
        return self.correct.mean(axis=1)

    def packets(self, images_per_packet: int) -> tuple[np.ndarray, np.ndarray]:
        """``(groups int64 [G, m], packet_bits int64 [P, G])`` for ``m = images_per_packet``."""
        m = int(images_per_packet)
        if m not in self.packet_groups:
            raise ValueError(
                f"images_per_packet: the table has packets for m in {sorted(self.packet_groups)}, "
                f"not {m} (build it with images_per_packet=[..., {m}])"
            )
        return self.packet_groups[m], self.packet_bits[m]

    def mean_packet_bits(self, images_per_packet: int) -> np.ndarray:
        """Mean exact packet bits per point for ``m`` images per packet, ``float64 [P]``."""
        return self.packets(images_per_packet)[1].mean(axis=1)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``<stem>.npz`` and ``<stem>.json`` (``path`` may carry either suffix or none).

        Returns:
            the two paths written.
        """
        stem = _stem(path)
        arrays: dict[str, np.ndarray] = {
            "point_k": np.array([pt.k for pt in self.points], dtype=np.int64),
            "point_scale_index": np.array([pt.scale_index for pt in self.points], dtype=np.int64),
            "point_scale": np.array([pt.scale for pt in self.points], dtype=np.float64),
            "bits": self.bits,
            "correct": self.correct,
            "labels": self.labels,
        }
        for m in sorted(self.packet_groups):
            arrays[f"groups_m{m}"] = self.packet_groups[m]
            arrays[f"packet_bits_m{m}"] = self.packet_bits[m]
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        blob = buf.getvalue()
        meta = dict(self.meta)
        meta.update(
            format_version=TABLE_FORMAT_VERSION,
            num_points=len(self.points),
            num_images=self.num_images,
            images_per_packet=sorted(self.packet_groups),
            prior_class=self.prior_class,
            npz_sha256=hashlib.sha256(blob).hexdigest(),
        )
        stem.parent.mkdir(parents=True, exist_ok=True)
        npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
        atomic_write_bytes(npz, blob)
        atomic_write_bytes(js, json.dumps(meta, indent=2, sort_keys=True).encode())
        return npz, js

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, model_id: str | None = None) -> OperatingPointTable:
        """Load a table written by :meth:`save`.

        Args:
            path: ``<stem>``, ``<stem>.npz`` or ``<stem>.json``.
            model_id: if given, the table must have been computed for this model.

        Raises:
            ValueError: corrupt or mismatched files (hash, version, shapes) or another model's id.
        """
        stem = _stem(path)
        npz, js = stem.with_suffix(".npz"), stem.with_suffix(".json")
        try:
            meta = json.loads(js.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{js}: not valid JSON ({err})") from err
        if not isinstance(meta, dict):
            raise ValueError(f"{js}: expected a JSON object")
        for key in ("format_version", "npz_sha256", "model_id", "images_per_packet"):
            if key not in meta:
                raise ValueError(f"{js}: missing key {key!r}")
        if meta["format_version"] != TABLE_FORMAT_VERSION:
            raise ValueError(f"{js}: format_version {meta['format_version']} is not {TABLE_FORMAT_VERSION}")
        blob = npz.read_bytes()
        if hashlib.sha256(blob).hexdigest() != meta["npz_sha256"]:
            raise ValueError(f"{npz}: SHA-256 does not match {js.name} (corrupt or mismatched files)")
        if model_id is not None and meta["model_id"] != model_id:
            raise ValueError(f"model_id: the table is for model {meta['model_id']!r}, not {model_id!r}")
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            a = {name: z[name] for name in z.files}
        points = [
            OperatingPoint(int(k), int(i), float(s))
            for k, i, s in zip(a["point_k"], a["point_scale_index"], a["point_scale"], strict=True)
        ]
        ms = [int(m) for m in meta["images_per_packet"]]
        prior = meta.get("prior_class")
        keep = {k: v for k, v in meta.items() if k not in ("npz_sha256", "format_version")}
        return cls(
            points,
            a["bits"],
            a["correct"],
            a["labels"],
            {m: a[f"groups_m{m}"] for m in ms},
            {m: a[f"packet_bits_m{m}"] for m in ms},
            keep,
            prior_class=None if prior is None else int(prior),
        )

    def __repr__(self) -> str:
        return (
            f"OperatingPointTable(model_id={self.model_id!r}, points={len(self.points)}, "
            f"images={self.num_images}, m={sorted(self.packet_groups)})"
        )


def _stem(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".npz", ".json") else p


# ---------------------------------------------------------------------- building
@dataclass(frozen=True)
class _Variant:
    k: int
    model: torch.nn.Module
    stats: Any


def _variants(model_variants: Any, stats: Any) -> list[_Variant]:
    """Normalise ``model_variants`` (a model, a sequence of models or ``{k: model}``) and
    ``stats`` (one :class:`LatentStats` truncated per ``k``, or ``{k: LatentStats}``)."""
    if isinstance(model_variants, torch.nn.Module):
        models = {int(model_variants.latent_dim): model_variants}
    elif isinstance(model_variants, Mapping):
        models = {int(k): m for k, m in model_variants.items()}
    else:
        models = {int(m.latent_dim): m for m in model_variants}
    if not models:
        raise ValueError("model_variants: no model given")
    out = []
    for k in sorted(models):
        m = models[k]
        if int(m.latent_dim) != k:
            raise ValueError(f"model_variants[{k}]: the model has latent_dim {m.latent_dim}")
        if isinstance(stats, Mapping):
            if k not in stats:
                raise ValueError(f"stats: no LatentStats for variant k={k}")
            s = stats[k]
        else:
            s = stats
        if s.dim < k:
            raise ValueError(f"stats: {s.dim} entries, variant k={k} needs {k}")
        out.append(_Variant(k, m, s.truncate(k) if s.dim > k else s))
    return out


def _groups(num_images: int, m: int, generator: np.random.Generator) -> np.ndarray:
    if m < 1:
        raise ValueError(f"images_per_packet: must be >= 1, got {m}")
    g = num_images // m
    if g < 1:
        raise ValueError(f"images_per_packet: {m} images per packet but only {num_images} test images")
    if m == 1:
        return np.arange(num_images, dtype=np.int64)[:, None]
    return generator.permutation(num_images)[: g * m].reshape(g, m).astype(np.int64)


def make_coders(
    stats: Any,
    scales: Sequence[float],
    ks: Sequence[int],
    *,
    rule: str = "precision",
    codec: str = "gaussian",
    center: bool = True,
    train_latents: Mapping[int, torch.Tensor] | None = None,
    transform: str = "none",
) -> dict[tuple[int, int], Any]:
    """The deployed :class:`~commsldr.coding.scheme.SourceCoder` of every ``(k, scale_index)``.

    Args:
        stats: :class:`~commsldr.coding.LatentStats` (truncated per ``k``) or ``{k: stats}``.
        scales: the scale grid.
        ks: the encoder variants.
        rule: step allocation rule (see :func:`commsldr.coding.scheme.make_source_coder`).
        codec: ``"gaussian"`` or ``"categorical"``.
        center: quantize around the training mean.
        train_latents: ``{k: float [N_train, k]}`` training latents, for ``codec="categorical"``
            and ``transform="klt"``.
        transform: ``"none"`` or ``"klt"``: each variant's coders code the coefficients of the
            KLT of its training latents (:func:`commsldr.coding.fit_klt`; ``stats`` are then
            not used for that variant).
    """

    if transform not in ("none", "klt"):
        raise ValueError(f"transform must be 'none' or 'klt', got {transform!r}")
    if transform == "klt" and train_latents is None:
        raise ValueError("transform='klt' needs train_latents ({k: training latents})")
    out = {}
    for k in ks:
        lat = None if train_latents is None else train_latents[k][:, :k]
        klt = None
        if transform == "klt":
            klt, st = fit_klt(lat)
        else:
            st = stats[k] if isinstance(stats, Mapping) else stats
            st = st.truncate(k) if st.dim > k else st
        for si, s in enumerate(scales):
            out[(int(k), si)] = make_source_coder(
                st, float(s), rule=rule, codec=codec, train_latents=lat, center=center,
                scale_index=si, transform=klt,
            )
    return out


def encode_latents(model: torch.nn.Module, images: torch.Tensor,
                   batch_size: int = INFERENCE_BATCH_SIZE) -> torch.Tensor:
    """Sensor side in eval mode: ``uint8 [N, 3, H, W]`` images -> ``float32 [N, k]`` latents (CPU).

    The same computation as :func:`commsldr.coding.encode_dataset` (which it calls).
    """
    return encode_dataset(model, images, batch_size=batch_size)


def classify_latents(model: torch.nn.Module, y_hat: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """Server side: ``float [N, k]`` (dequantized) latents -> ``int64 [N]`` predicted labels."""
    return torch.cat([
        predict_from_latent(model, y_hat[i : i + batch_size]).cpu()
        for i in range(0, y_hat.shape[0], batch_size)
    ]).numpy().astype(np.int64)


def build_table(
    model_variants: Any,
    stats: Any,
    scales: Sequence[float],
    data: Any,
    *,
    rule: str = "precision",
    codec: str = "gaussian",
    center: bool = True,
    train_latents: Mapping[int, torch.Tensor] | None = None,
    transform: str = "none",
    images_per_packet: Sequence[int] = (1,),
    crc_bits: int = 16,
    train_labels: torch.Tensor | np.ndarray | None = None,
    batch_size: int = INFERENCE_BATCH_SIZE,
    seed: int = 0,
    dataset_name: str | None = None,
    progress: bool = False,
) -> OperatingPointTable:
    """Compute the table for every variant x scale on the test set ``data``.

    For variant ``k`` and scale index ``j``: the coder is
    ``make_coders(...)[(k, j)]`` (quantizer + entropy codec of :mod:`commsldr.coding`),
    ``q = quantize(encode(x))``, ``bits = codec.image_bits(q)``, the server decision is
    ``predict_from_latent(variant, dequantize(q))``, and each packet of ``m`` images is the real
    ``encode_images`` packet of its group.

    Args:
        model_variants: a :class:`~commsldr.models.SplitAutoencoder`, a sequence of its
            (possibly fine-tuned) truncated variants, or ``{k: model}``.
        stats: training-set :class:`~commsldr.coding.LatentStats` (truncated to each ``k``), or
            ``{k: LatentStats}``.
        scales: the scale grid (``scale_index`` is the position in it).
        data: :class:`~commsldr.data.ImageTensors` test set.
        rule: step allocation rule (:data:`commsldr.coding.quantize.ALLOCATION_RULES`).
        codec: ``"gaussian"`` or ``"categorical"`` entropy models.
        center: quantize around the training mean.
        train_latents: ``{k: training latents}``, needed for ``codec="categorical"`` and
            ``transform="klt"``.
        transform: ``"none"`` or ``"klt"`` (:func:`make_coders`).
        images_per_packet: the packet sizes ``m`` to precompute exact packets for.
        crc_bits: CRC width of the packets (8, 16 or 32).
        train_labels: training labels; their most frequent class is the ``"prior"`` fallback.
        batch_size: images per forward pass.
        seed: seeds the grouping of images into packets.
        dataset_name: recorded in the metadata.
        progress: show a tqdm progress bar.

    Returns:
        :class:`OperatingPointTable` (its ``meta["model_id"]`` is the
        :func:`commsldr.models.model_id` of the largest variant (the untruncated model),
        ``meta["variant_ids"]`` those of all variants).
    """
    scales = [float(s) for s in scales]
    if not scales:
        raise ValueError("scales: need at least one scale")
    variants = _variants(model_variants, stats)
    ms = sorted({int(m) for m in images_per_packet})
    rng = np.random.default_rng(seed)
    labels = data.labels.cpu().numpy().astype(np.int64)
    n = labels.shape[0]
    groups = {m: _groups(n, m, rng) for m in ms}
    ids = {v.k: model_id(v.model) for v in variants}
    coders = make_coders({v.k: v.stats for v in variants}, scales, [v.k for v in variants],
                         rule=rule, codec=codec, center=center, train_latents=train_latents,
                         transform=transform)
    coded = {v.k: CodedModel(v.model, coders, crc_bits=crc_bits, model_id=ids[v.k])
             for v in variants}
    points, bits, correct = [], [], []
    pbits: dict[int, list[np.ndarray]] = {m: [] for m in ms}
    bar = tqdm(total=len(variants) * len(scales), desc="operating points",
               disable=None if progress else True)  # None: off when not a terminal
    for v in variants:
        y = encode_latents(v.model, data.images, batch_size)
        for si, s in enumerate(scales):
            coder = coders[(v.k, si)]
            q = coder.symbols(y)
            pred = classify_latents(v.model, coder.latents(q), batch_size)
            points.append(OperatingPoint(v.k, si, s))
            bits.append(coder.codec.image_bits(q))
            correct.append(pred == labels)
            for m in ms:
                pbits[m].append(np.array([
                    8 * len(coded[v.k].pack(y[g], scale_index=si)) for g in groups[m]
                ], dtype=np.int64))
            bar.update(1)
    bar.close()
    prior = None
    if train_labels is not None:
        tl = np.asarray(torch.as_tensor(train_labels).cpu().numpy(), dtype=np.int64)
        prior = int(np.bincount(tl).argmax())
    meta = {
        "model_id": ids[variants[-1].k],
        "variant_ids": {str(k): i for k, i in ids.items()},
        "rule": rule,
        "codec": codec,
        "center": bool(center),
        "transform": transform,
        "scales": scales,
        "crc_bits": int(crc_bits),
        "dataset": dataset_name,
        "seed": int(seed),
    }
    return OperatingPointTable(
        points,
        np.stack(bits),
        np.stack(correct),
        labels,
        groups,
        {m: np.stack(pbits[m]) for m in ms},
        meta,
        prior_class=prior,
    )
