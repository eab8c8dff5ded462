"""A small synthetic operating-point table for the cell tests (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from commsldr.link.table import OperatingPoint, OperatingPointTable

HEADER_BITS = 64


def make_table(num_images: int = 200, seed: int = 0) -> OperatingPointTable:
    """Three encoder variants x two scales: bigger packets are more accurate."""
    rng = np.random.default_rng(seed)
    points, bits, correct = [], [], []
    for j, (k, mean_bits, acc) in enumerate([(4, 150, 0.45), (4, 300, 0.6), (8, 600, 0.72),
                                              (8, 1200, 0.8), (16, 2400, 0.86), (16, 4800, 0.9)]):
        points.append(OperatingPoint(k=k, scale_index=j % 2, scale=1.0 + j))
        bits.append(rng.integers(int(0.8 * mean_bits), int(1.2 * mean_bits), num_images))
        correct.append(rng.random(num_images) < acc)
    bits = np.array(bits, dtype=np.int64)
    groups = np.arange(num_images, dtype=np.int64)[:, None]
    return OperatingPointTable(points, bits, np.array(correct), rng.integers(0, 10, num_images),
                               {1: groups}, {1: bits + HEADER_BITS}, {"model_id": "synthetic"},
                               prior_class=0)


@pytest.fixture(scope="session")
def table() -> OperatingPointTable:
    return make_table()
