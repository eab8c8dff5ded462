"""A seeded operating-point table with the shape of a measured one, for examples and tests.

No network is involved: per image the coded size grows with the encoder variant ``k`` and with
finer quantization, and the server's correctness is drawn from an accuracy that rises with the
bits per latent entry and saturates,

.. math:: a(k, s) = a_\\max - (a_\\max - a_0)\\,2^{-b(k, s)/b_{1/2}},\\qquad
          b(k, s) = \\frac{k}{k_\\max}\\log_2\\!\\left(1 + \\frac{c}{s}\\right),

(``b_{1/2}`` halves the gap to ``a_max``), so cheaper points are less accurate, as in a real
rate–accuracy table. Use a table built from a model (:func:`commsldr.link.build_table`) for
results; this one is for wiring, speed measurements and teaching.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from commsldr.link.table import OperatingPoint, OperatingPointTable

__all__ = ["synthetic_table"]


def synthetic_table(variants: Sequence[int] = (8, 16, 32),
                    scales: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0), *,
                    num_images: int = 500, bits_per_entry: float = 6.0, header_bits: int = 72,
                    accuracy_floor: float = 0.3, accuracy_max: float = 0.95,
                    half_bits: float = 0.6, seed: int = 0,
                    images_per_packet: Sequence[int] = (1,)) -> OperatingPointTable:
    """A table of ``len(variants)·len(scales)`` points over ``num_images`` images (seeded).

    Args:
        variants: encoder variants ``k`` (latent entries kept).
        scales: quantization scales ``s`` (larger = coarser = fewer bits).
        num_images: ``N`` images (10 classes, labels ``i mod 10``).
        bits_per_entry: mean coded bits of one latent entry at ``s = 1``.
        header_bits: header + CRC bits of a packet.
        accuracy_floor: ``a_0``, the accuracy at no information; ``accuracy_max``: ``a_max``.
        half_bits: ``b_{1/2}`` of the module equation.
        seed: seeds every draw.
        images_per_packet: packet sizes ``m`` to build (consecutive images form a packet).

    Returns:
        :class:`~commsldr.link.table.OperatingPointTable` (``meta["model_id"] = "synthetic"``).
    """
    rng = np.random.default_rng(seed)
    kmax = max(variants)
    points, bits, correct = [], [], []
    u = rng.random(num_images)  # one difficulty per image: correctness is nested across points
    for k in variants:
        for j, s in enumerate(scales):
            points.append(OperatingPoint(k=int(k), scale_index=j, scale=float(s)))
            entry = bits_per_entry * np.log2(1.0 + 1.0 / float(s)) / np.log2(2.0)
            b = np.maximum(1, np.round(k * entry * rng.uniform(0.8, 1.2, num_images)))
            bits.append(b.astype(np.int64))
            info = (k / kmax) * np.log2(1.0 + 4.0 / float(s))
            acc = accuracy_max - (accuracy_max - accuracy_floor) * 2.0 ** (-info / half_bits)
            correct.append(u < acc)
    bits_a, correct_a = np.stack(bits), np.stack(correct)
    groups, pbits = {}, {}
    for m in images_per_packet:
        g = np.arange((num_images // m) * m).reshape(-1, m)
        groups[int(m)] = g
        pbits[int(m)] = bits_a[:, g].sum(axis=2) + header_bits
    return OperatingPointTable(points, bits_a, correct_a, np.arange(num_images) % 10, groups,
                               pbits, {"model_id": "synthetic"}, prior_class=0)
