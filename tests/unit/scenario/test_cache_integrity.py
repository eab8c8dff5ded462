"""Caches: a corrupt model or table entry is detected by its hash, reported, deleted and rebuilt."""

from __future__ import annotations

import torch

from commsldr.link.table import OperatingPointTable
from commsldr.scenario.assets import load_cache_entry, train_cached
from commsldr.train import TrainConfig, load_model


def _flip_a_weight(path) -> None:
    ck = torch.load(path, weights_only=True)
    name = next(k for k, v in ck["model_state"].items() if v.is_floating_point() and v.numel())
    ck["model_state"][name].view(-1)[0] += 1.0
    torch.save(ck, path)


def test_a_corrupt_cached_model_is_reported_and_retrained(tmp_path):
    cfg = TrainConfig.from_dict(dict(width=0.25, latent_dim=8, epochs=1, num_per_class=4, test_num_per_class=1,
                      batch_size=20, augment=False, progress=False))
    lines: list[str] = []
    first = train_cached("ce", cfg, tmp_path, lines.append, progress=False)
    good = load_model(first)
    assert train_cached("ce", cfg, tmp_path, lines.append, progress=False) == first
    assert lines[-1].startswith("model: cached")
    _flip_a_weight(first)
    again = train_cached("ce", cfg, tmp_path, lines.append, progress=False)
    assert any("cache: model" in x and "corrupt" in x and "rebuilding" in x for x in lines)
    rebuilt = load_model(again)  # verifies the content hash
    assert all(torch.equal(v, rebuilt.state_dict()[k]) for k, v in good.state_dict().items())


def test_a_corrupt_table_is_reported_and_removed(tmp_path):
    stem = tmp_path / "abc"
    stem.with_suffix(".npz").write_bytes(b"PK\x03\x04 not really a zip")
    stem.with_suffix(".json").write_text('{"format_version": 1, "npz_sha256": "00", '
                                         '"model_id": "x", "images_per_packet": [1]}')
    lines: list[str] = []
    got = load_cache_entry([stem.with_suffix(".npz"), stem.with_suffix(".json")],
                            lambda: OperatingPointTable.load(stem), "table", lines.append)
    assert got is None
    assert "cache: table" in lines[0] and "rebuilding" in lines[0]
    assert not stem.with_suffix(".npz").exists() and not stem.with_suffix(".json").exists()


def test_an_absent_entry_is_not_reported(tmp_path):
    lines: list[str] = []
    assert load_cache_entry([tmp_path / "none.npz"], lambda: 1 / 0, "table", lines.append) is None
    assert lines == []
