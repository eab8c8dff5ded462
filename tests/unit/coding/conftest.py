"""Shared synthetic latents for the coding tests (no trained model needed)."""

import pytest
import torch

from commsldr.coding import latent_stats_from_latents


@pytest.fixture(scope="module")
def gaussian_latents():
    """Independent Gaussian latents with spreads from 0.02 to 3 and non-zero means:
    ``(train [4000, 24], test [1000, 24])``."""
    g = torch.Generator().manual_seed(1234)
    d = 24
    std = torch.logspace(-1.7, 0.48, d)
    mean = torch.linspace(-1.0, 2.0, d)
    train = torch.randn(4000, d, generator=g) * std + mean
    test = torch.randn(1000, d, generator=g) * std + mean
    return train, test


@pytest.fixture(scope="module")
def gaussian_stats(gaussian_latents):
    return latent_stats_from_latents(gaussian_latents[0])
