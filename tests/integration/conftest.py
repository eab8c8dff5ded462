"""A tiny model and table shared by the integration tests (trained once per session, cached)."""

from __future__ import annotations

import os

import pytest

#: See ``MODEL_SEED`` in tests/conftest.py: the trained model's seed, varied by CI.
_MODEL_SEED = int(os.environ.get("COMMSLDR_TEST_MODEL_SEED", "0") or 0)

TINY_OVERRIDES = [
    "data.train_per_class=12",
    "data.test_per_class=6",
    "model.recipe=ce",
    f"model.train={{backbone: resnet8, latent_dim: 8, epochs: 1, batch_size: 40, seed: {_MODEL_SEED}}}",
    "model.truncations=[4]",
    "coding.scales=[0.5, 2.0]",
    "policies={fixed: {type: fixed, k: 8, scale: 0.5}, greedy: {type: capacity-greedy},"
    " sat: {type: scale-and-truncation}, oracle: {type: oracle}}",
    "seeds=[0]",
    "frames=80",
    "outputs.formats=[png]",
]


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory):
    """A cache directory shared by every integration test (one tiny model, its tables)."""
    return tmp_path_factory.mktemp("commsldr-cache")


@pytest.fixture(scope="session")
def tiny_overrides(tiny_cache):
    return [*TINY_OVERRIDES, f"model.cache_dir={tiny_cache}"]
