"""A tiny model and table shared by the integration tests (trained once per session, cached)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

#: See ``MODEL_SEED`` in tests/conftest.py: the trained model's seed, varied by CI.
_MODEL_SEED = int(os.environ.get("COMMSLDR_TEST_MODEL_SEED", "0") or 0)

REPO = Path(__file__).resolve().parents[2]

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


@pytest.fixture(scope="session")
def copy_checkout() -> Callable[[Path], None]:
    """``copy_checkout(dst)``: the tracked files of the repository under ``dst``, links kept as
    links (as a clone has them: ``commsldr/shipped/{scenarios,models}`` point to the top-level
    folders)."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    tracked = [f for f in out.stdout.decode().split("\0") if f]

    def copy(dst: Path) -> None:
        for rel in tracked:
            src, target = REPO / rel, dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                target.symlink_to(os.readlink(src))
            elif src.is_file():
                shutil.copy2(src, target)

    return copy
