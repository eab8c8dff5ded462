"""Edge-only inference: the whole classifier runs on the sensor, only the label is sent.

The sensor runs the scenario's split model whole (``decode(encode(x))``, the same network as
the split autoencoder, so the accuracy is its clean accuracy) and sends the predicted label:

- ``label_coding: fixed`` (default) — ``b = ceil(log2 C)`` bits per label (4 bits for 10
  classes), the ``m`` labels of a packet packed MSB-first into ``ceil(m·b / 8)`` bytes;
- ``label_coding: prior`` — the ``m`` labels range-coded in one message with the class prior
  (the training labels' histogram, :meth:`commsldr.coding.LatentCodec.fit_categorical`).

This is the lowest-rate point of every study and the upper bound on sensor compute (the whole
network's MACs). One operating point ``(k=1, scale_index=0, scale=1.0)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from commsldr.coding import LatentCodec
from commsldr.data import to_float
from commsldr.link.table import OperatingPoint
from commsldr.models import model_id
from commsldr.schemes._common import predict_images, table_from_payloads
from commsldr.schemes.base import DigitalProduct, Scheme, SchemeContext
from commsldr.schemes.cost import count_macs
from commsldr.schemes.registry import register_scheme

__all__ = ["EdgeLabelScheme", "pack_labels"]


def pack_labels(labels: np.ndarray, bits_per_label: int) -> bytes:
    """``labels`` as ``bits_per_label``-bit unsigned integers, MSB first, zero-padded to bytes."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= 1 << bits_per_label):
        raise ValueError(f"labels: must lie in [0, 2^{bits_per_label})")
    bits = ((labels[:, None] >> np.arange(bits_per_label - 1, -1, -1)) & 1).reshape(-1)
    return np.packbits(bits.astype(np.uint8)).tobytes()


@register_scheme("edge-label")
class EdgeLabelScheme(Scheme):
    """Whole classifier on the sensor; the label is sent (fixed-length or prior-coded).

    Args:
        label_coding: ``"fixed"`` (``ceil(log2 C)`` bits) or ``"prior"`` (range-coded).
    """

    def __init__(self, label_coding: str = "fixed") -> None:
        if label_coding not in ("fixed", "prior"):
            raise ValueError(f"label_coding: must be 'fixed' or 'prior', got {label_coding!r}")
        self.label_coding = label_coding

    def params(self) -> dict[str, Any]:
        return {"label_coding": self.label_coding}

    def menu_points(self) -> list[tuple[int, float]]:
        return [(1, 1.0)]

    def prepare(self, ctx: SchemeContext) -> DigitalProduct:
        import torch

        model = ctx.model()
        train, test = ctx.data()
        labels = test.labels.numpy().astype(np.int64)
        pred = predict_images(model, test.images)
        c = int(model.num_classes)
        b = max(1, math.ceil(math.log2(c)))
        if self.label_coding == "fixed":
            def payload(_p: int, g: np.ndarray) -> bytes:
                return pack_labels(pred[g], b)

            image_bits = np.full((1, len(labels)), 8 * math.ceil(b / 8), dtype=np.int64)
        else:
            codec = LatentCodec.fit_categorical(train.labels.numpy()[:, None])

            def payload(_p: int, g: np.ndarray) -> bytes:
                return codec.encode(pred[g][:, None])

            # a zero-byte message (possible: the most probable interval can hold the point 0)
            # is stored as 1 bit, since a table needs positive sizes; packets are exact
            image_bits = np.maximum(np.array(
                [[8 * len(codec.encode(pred[i:i + 1, None])) for i in range(len(pred))]]), 1)
        table = table_from_payloads(
            [OperatingPoint(1, 0, 1.0)], image_bits, (pred == labels)[None], labels, payload,
            images_per_packet=ctx.images_per_packet, crc_bits=ctx.crc_bits,
            model_id=model_id(model), seed=ctx.seed,
            meta={"scheme": self.name, "label_coding": self.label_coding,
                  "crc_bits": ctx.crc_bits, "dataset": ctx.dataset},
            prior_class=int(np.bincount(train.labels.numpy()).argmax()))
        example = to_float(test.images[:2])
        with torch.no_grad():
            macs = count_macs(lambda x: model.decode(model.encode(x)), example)
        return DigitalProduct(table, np.array([macs]), [f"label ({self.label_coding})"],
                              info={"bits_per_label": b if self.label_coding == "fixed" else None,
                                    "sensor_macs": "FlopCounterMode (whole network)"})
