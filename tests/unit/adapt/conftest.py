"""Shared fixtures: a menu of operating points shaped like a real rate–accuracy table."""

from __future__ import annotations

import numpy as np
import pytest

from commsldr.adapt import PointMenu


def make_menu(seed: int = 0, variants=(8, 16, 32), scales=(0.5, 1.0, 2.0, 4.0)) -> PointMenu:
    """Accuracy and bits rise with k and with scale (finer steps), with random jitter."""
    from commsldr.link import OperatingPoint

    rng = np.random.default_rng(seed)
    points, acc, bits = [], [], []
    for k in variants:
        for j, s in enumerate(scales):
            points.append(OperatingPoint(k=k, scale_index=j, scale=s))
            acc.append(min(0.99, 0.3 + 0.015 * k + 0.05 * j + rng.uniform(0, 0.02)))
            bits.append(k * (2.0 + 1.5 * j) * 4 + 64 + rng.uniform(0, 10))
    return PointMenu(points=tuple(points), accuracy=np.array(acc), packet_bits=np.array(bits))


@pytest.fixture
def menu() -> PointMenu:
    return make_menu()


@pytest.fixture(name="make_menu")
def make_menu_fixture():
    return make_menu
