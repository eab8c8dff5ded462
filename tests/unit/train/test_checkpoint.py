"""Checkpoints: round trips, weights_only loading, model ids, corruption, evaluation helpers."""

from __future__ import annotations

import pytest
import torch

from commsldr.data import to_float
from commsldr.train import (
    CheckpointError,
    TrainConfig,
    build_model,
    evaluate,
    load_checkpoint,
    load_model,
    model_id,
    predict_from_latent,
    save_checkpoint,
)


def _model(seed=0, latent_dim=8):
    return build_model(TrainConfig.from_dict(dict(width=0.25, latent_dim=latent_dim, seed=seed)), num_classes=10)


def test_round_trip_is_exact_and_weights_only(tmp_path):
    m = _model()
    stats = {"mean": torch.arange(8.0), "std": torch.ones(8)}
    mid = save_checkpoint(tmp_path / "m.pt", m, latent_stats=stats, epoch=3)
    raw = torch.load(tmp_path / "m.pt", weights_only=True)  # loads without pickled code
    assert raw["model_id"] == mid == model_id(m)
    assert raw["epoch"] == 3 and torch.equal(raw["latent_stats"]["mean"], stats["mean"])
    back = load_model(tmp_path / "m.pt")
    assert back.config == m.config and not back.training
    for k, v in m.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp files left


def test_model_id_tracks_weights_and_config():
    a, b = _model(seed=0), _model(seed=0)
    assert model_id(a) == model_id(b)  # seeded init is reproducible
    assert model_id(_model(seed=1)) != model_id(a)
    with torch.no_grad():
        b.decoder.classifier.bias[0] += 1e-6
    assert model_id(b) != model_id(a)


def test_truncated_model_round_trip(tmp_path):
    t = _model(latent_dim=8).truncate(3)
    save_checkpoint(tmp_path / "t.pt", t)
    back = load_model(tmp_path / "t.pt")
    assert back.latent_dim == 3 and back.config["truncated_from"] == 8
    x = torch.zeros(2, 3, 32, 32)
    t.eval()
    assert torch.equal(back.encode(x), t.encode(x))


def test_corrupt_truncated_and_tampered_files_are_rejected(tmp_path):
    m = _model()
    path = tmp_path / "m.pt"
    save_checkpoint(path, m)
    data = path.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read"):
        load_model(tmp_path / "trunc.pt")
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "missing.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a commsldr checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    ck = torch.load(path, weights_only=True)
    ck["model_state"]["decoder.classifier.bias"] += 1.0
    torch.save(ck, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="model id mismatch"):
        load_model(tmp_path / "tampered.pt")
    ck["config"]["latent_dim"] = 5
    torch.save(ck, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="do not match its config"):
        load_model(tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="reserved"):
        save_checkpoint(tmp_path / "x.pt", m, model_state={})


def test_evaluate_and_predict_from_latent_agree_with_a_manual_forward(tiny_trained):
    model, test = tiny_trained.model, tiny_trained.test
    x = to_float(test.images)
    with torch.no_grad():
        logits = model.decode(model.encode(x))
    manual = float((logits.argmax(1) == test.labels).double().mean())
    assert evaluate(model, test, batch_size=7) == pytest.approx(manual)
    with torch.no_grad():
        y = model.encode(x)
    assert torch.equal(predict_from_latent(model, y), logits.argmax(1))
    with pytest.raises(ValueError, match="latent_dim"):
        predict_from_latent(model, y[:, :3])
