"""One clear line for a malicious checkpoint and for a damaged training state on resume."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from commsldr.data import make_synthetic
from commsldr.safe_load import describe_load_error, load_tensors
from commsldr.train import CheckpointError, Phase, Step, TrainConfig, build_model, train_phase
from commsldr.train.checkpoint import load_checkpoint


class _Evil:
    def __reduce__(self):  # what a malicious checkpoint does: call os.system on load
        return (os.system, ("touch /nonexistent/pwned",))


def _phase() -> Phase:
    return Phase(name="p", steps=(Step(("encoder", "decoder"), "ce", 0.05),), epochs=1,
                 batch_size=20, augment=False, seed=1)


def test_malicious_checkpoint_is_refused_without_weights_only_false_advice(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "commsldr-checkpoint/1", "x": _Evil()}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert "weights_only" not in text
    assert "pickled code" in text and "system" in text and str(path) in text
    assert len(text.splitlines()) == 1
    with pytest.raises(ValueError, match="pickled code") as info2:
        load_tensors(path)
    assert "weights_only" not in str(info2.value)


@pytest.mark.parametrize("blob, reason", [
    (b"", "it is empty, not a torch file"),
    (b"PK\x03\x04garbage", "truncated or not a torch file"),
    (b"\x80\x02garbage", "pickled code|cannot be read|truncated or not a torch file"),
    (b'{"rows": []}\n', "it is a JSON or text file, not a torch file"),
    (b"hello world\n", "it is a text file, not a torch file"),
    (b"\x00\x01\xff", "neither a zip archive nor a pickle"),
])
def test_garbage_files(tmp_path, blob, reason):
    path = tmp_path / "g.pt"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match=reason):
        load_checkpoint(path)


def test_describe_load_error_never_advises_weights_only_false():
    exc = pickle.UnpicklingError("Weights only load failed. ... set `weights_only=False` ... "
                                 "Trying to load unsupported GLOBAL posix.system whose module")
    text = describe_load_error(exc)
    assert "weights_only" not in text and "posix.system" in text


@pytest.mark.parametrize("damage", ["renamed_key", "wrong_shape", "missing_optimizer"])
def test_damaged_training_state_on_resume_is_a_checkpoint_error(tmp_path, damage):
    train, test = make_synthetic(4, seed=3), make_synthetic(1, seed=4)
    model = build_model(TrainConfig.from_dict(dict(width=0.25, latent_dim=8)), num_classes=10)
    train_phase(model, _phase(), train, test, tmp_path, progress=False)
    ck = torch.load(tmp_path / "last.pt", weights_only=True)
    name = next(iter(ck["model_state"]))
    if damage == "renamed_key":
        ck["model_state"]["garbage." + name] = ck["model_state"].pop(name)
    elif damage == "wrong_shape":
        ck["model_state"][name] = torch.zeros(3, 1, 7)
    else:
        ck["optimizers"] = []
    torch.save(ck, tmp_path / "last.pt")
    fresh = build_model(TrainConfig.from_dict(dict(width=0.25, latent_dim=8)), num_classes=10)
    with pytest.raises(CheckpointError, match=r"cannot resume from .*last.pt") as info:
        train_phase(fresh, _phase(), train, test, tmp_path, resume=True, progress=False)
    assert len(str(info.value)) <= 600
