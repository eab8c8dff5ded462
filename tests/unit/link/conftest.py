"""Fixtures of the link tests: a small trained model, its latent statistics and a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from commsldr.coding import compute_latent_stats
from commsldr.link import build_table

SCALES = (0.25, 1.0, 4.0)


@dataclass
class LinkSetup:
    model: Any
    variant: Any  # model.truncate(k // 2)
    stats: Any
    train: Any
    test: Any
    table: Any
    scales: tuple = SCALES


@pytest.fixture(scope="session")
def link_setup(tiny_trained) -> LinkSetup:
    """The project's tiny trained model (tests/conftest.py) with a table over 2 variants x 3 scales."""
    torch.set_num_threads(1)
    from commsldr.train import load_model

    model = load_model(tiny_trained.checkpoint_path).eval()  # a private copy
    variant = model.truncate(model.latent_dim // 2).eval()
    stats = compute_latent_stats(model, tiny_trained.train)
    test = tiny_trained.test
    table = build_table([model, variant], stats, SCALES, test, images_per_packet=(1, 3),
                        train_labels=tiny_trained.train.labels, seed=0)
    return LinkSetup(model, variant, stats, tiny_trained.train, test, table)


@pytest.fixture(scope="session")
def direct_predictions():
    """Quantize -> dequantize -> decoder, without any coding (the "direct network evaluation")."""
    from commsldr.coding import make_source_coder
    from commsldr.link import classify_latents, encode_latents

    def run(model, stats, scale, images, rule="precision") -> np.ndarray:
        coder = make_source_coder(stats, scale, rule=rule, k=model.latent_dim)
        y = encode_latents(model, images)
        return classify_latents(model, coder.quantizer.dequantize(coder.quantizer.quantize(y)))

    return run


def constructed_table(num_images: int = 60, bits=(100, 200, 400), overhead_bits: int = 64):
    """A table built from known numbers instead of a trained model: point ``p`` codes every image
    in ``bits[p]`` bits, a packet of one image costs ``bits[p] + overhead_bits``, and the server
    classifies every delivered image correctly. Properties of the simulator are checked on it
    exactly, independent of what a training run on this CPU produced."""
    from commsldr.link import OperatingPoint, OperatingPointTable

    points = [OperatingPoint(8, i, float(2**i)) for i in range(len(bits))]
    per_image = np.repeat(np.asarray(bits, dtype=np.int64)[:, None], num_images, axis=1)
    labels = np.arange(num_images, dtype=np.int64) % 10
    groups = np.arange(num_images, dtype=np.int64)[:, None]
    return OperatingPointTable(points, per_image, np.ones_like(per_image, dtype=bool), labels,
                               {1: groups}, {1: per_image + overhead_bits},
                               {"model_id": "constructed"}, prior_class=0)


@pytest.fixture(scope="session")
def make_constructed_table():
    """:func:`constructed_table` as a fixture (the test folders are not packages)."""
    return constructed_table
