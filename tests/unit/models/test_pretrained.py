"""The pretrained-model index: lookup, listing, checksum verification, bad indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from commsldr.models import SplitAutoencoder
from commsldr.models.pretrained import (
    INDEX_FORMAT,
    PretrainedError,
    get_pretrained_path,
    list_pretrained,
    pretrained_dir,
    pretrained_info,
    sha256_file,
)
from commsldr.train import load_model, save_checkpoint


def _ship(tmp_path: Path, name: str = "tiny") -> Path:
    torch.manual_seed(0)
    model = SplitAutoencoder("resnet8", 8, 10, width=0.25)
    path = tmp_path / f"{name}.pt"
    save_checkpoint(path, model)
    index = {"format": INDEX_FORMAT,
             "models": {name: {"file": path.name, "sha256": sha256_file(path), "latent_dim": 8}}}
    (tmp_path / "index.json").write_text(json.dumps(index))
    return path


def test_lookup_and_load(tmp_path: Path) -> None:
    path = _ship(tmp_path)
    assert list_pretrained(tmp_path) == ["tiny"]
    assert get_pretrained_path("tiny", tmp_path) == path
    assert pretrained_info("tiny", tmp_path)["latent_dim"] == 8
    assert load_model(get_pretrained_path("tiny", tmp_path)).latent_dim == 8


def test_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ship(tmp_path)
    monkeypatch.setenv("COMMSLDR_MODELS", str(tmp_path))
    assert pretrained_dir() == tmp_path
    assert list_pretrained() == ["tiny"]


def test_unknown_name_lists_available(tmp_path: Path) -> None:
    _ship(tmp_path)
    with pytest.raises(PretrainedError, match="unknown pretrained model 'nope'.*tiny"):
        get_pretrained_path("nope", tmp_path)


def test_no_index_is_empty(tmp_path: Path) -> None:
    assert list_pretrained(tmp_path) == []
    with pytest.raises(PretrainedError, match="none shipped"):
        get_pretrained_path("x", tmp_path)


def test_corrupt_file_detected(tmp_path: Path) -> None:
    path = _ship(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(PretrainedError, match="SHA-256"):
        get_pretrained_path("tiny", tmp_path)
    assert get_pretrained_path("tiny", tmp_path, verify=False) == path


def test_missing_file(tmp_path: Path) -> None:
    _ship(tmp_path).unlink()
    with pytest.raises(PretrainedError, match="missing"):
        get_pretrained_path("tiny", tmp_path)


@pytest.mark.parametrize("index, key", [
    ({"format": "other", "models": {}}, "format"),
    ({"format": INDEX_FORMAT, "models": []}, "models"),
    ({"format": INDEX_FORMAT, "models": {"a": {"file": "a.pt"}}}, "sha256"),
    ({"format": INDEX_FORMAT, "models": {"a": {"file": "../a.pt", "sha256": "0"}}}, "bare file"),
])
def test_malformed_index(tmp_path: Path, index: dict, key: str) -> None:
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(PretrainedError, match=key):
        list_pretrained(tmp_path)


def test_shipped_index_consistent() -> None:
    """Every shipped checkpoint matches its digest, loads, and carries latent statistics (an
    entropy-bottleneck model carries its learned coder instead)."""
    from commsldr.coding import load_latent_stats
    from commsldr.train import load_checkpoint
    from commsldr.train.bottleneck import EB_STATE_KEY, load_entropy_bottleneck

    for name in list_pretrained():
        path = get_pretrained_path(name)
        info = pretrained_info(name)
        model = load_model(path)
        assert model.latent_dim == info["latent_dim"], name
        if EB_STATE_KEY in load_checkpoint(path):
            eb = load_entropy_bottleneck(path)
            assert eb.channels == model.latent_dim, name
            assert len(info["rate_points"]) == eb.num_rates, name
        else:
            assert load_latent_stats(path).dim == model.latent_dim, name
        # the airnet models are 2.16 M parameters in float32 (8.7 MB); scripts/ship_pretrained.py
        # refuses anything above 12 MB so that the repository stays cloneable
        assert path.stat().st_size < 12_000_000, name
