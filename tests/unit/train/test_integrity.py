"""Training integrity: resume verifies the content hash and the configuration, divergence stops
training with the last good checkpoint kept, and a killed writer's temporary files are removed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from commsldr._atomic import remove_stale_temp_files
from commsldr.data import make_synthetic
from commsldr.train import CheckpointError, Phase, Step, TrainConfig, build_model, train_phase
from commsldr.train.checkpoint import load_checkpoint
from commsldr.train.loop import TrainingDivergedError


@pytest.fixture(scope="module")
def data():
    return make_synthetic(4, seed=3), make_synthetic(1, seed=4)


def _model():
    return build_model(TrainConfig.from_dict(dict(width=0.25, latent_dim=8)), num_classes=10)


def _phase(lr: float = 0.05, epochs: int = 2) -> Phase:
    return Phase(name="p", steps=(Step(("encoder", "decoder"), "ce", lr),), epochs=epochs,
                 batch_size=20, augment=False, seed=1)


def _flip_a_weight(path) -> None:
    """Rewrite ``path`` with one weight changed but the stored model id kept (a bit flip)."""
    ck = torch.load(path, weights_only=True)
    name = next(k for k, v in ck["model_state"].items() if v.is_floating_point() and v.numel())
    ck["model_state"][name].view(-1)[0] = 3.9e37
    torch.save(ck, path)


def test_resume_refuses_weights_that_do_not_match_their_hash(data, tmp_path):
    train, test = data
    train_phase(_model(), _phase(epochs=1), train, test, tmp_path, progress=False)
    _flip_a_weight(tmp_path / "last.pt")
    with pytest.raises(CheckpointError, match="content hash"):
        train_phase(_model(), _phase(epochs=1), train, test, tmp_path, resume=True,
                    progress=False)


def test_resume_refuses_a_changed_data_or_model_config_and_lists_the_differences(data, tmp_path):
    train, test = data
    cfg = TrainConfig.from_dict(dict(width=0.25, latent_dim=8, num_per_class=4))
    train_phase(_model(), _phase(epochs=1), train, test, tmp_path, progress=False,
                extra_state={"train_config": cfg.to_dict()})
    changed = cfg.replace(num_per_class=5, dataset="cifar10", out="elsewhere", resume=True)
    with pytest.raises(CheckpointError, match=r"differences: dataset: 'synthetic' -> 'cifar10'; "
                                              r"num_per_class: 4 -> 5$"):
        train_phase(_model(), _phase(epochs=1), train, test, tmp_path, resume=True,
                    progress=False, extra_state={"train_config": changed.to_dict()})
    # run-only settings (out, resume, progress, device) may change
    same = cfg.replace(out="elsewhere", resume=True, progress=False)
    train_phase(_model(), _phase(epochs=1), train, test, tmp_path, resume=True, progress=False,
                extra_state={"train_config": same.to_dict()})


def test_divergence_stops_training_and_keeps_the_last_good_checkpoint(data, tmp_path):
    train, test = data
    model = _model()
    kept = {}

    def blow_up_after_epoch_1(epoch, record):  # what an exploding gradient does to a weight
        if epoch == 1:
            kept["id"] = load_checkpoint(tmp_path / "last.pt")["model_id"]
            with torch.no_grad():
                next(model.parameters()).view(-1)[0] = float("inf")

    with pytest.raises(TrainingDivergedError, match=r"epoch 2: .*NaN or infinite.*last.pt "
                                                    r"\(epoch 1\) is kept"):
        train_phase(model, _phase(epochs=3), train, test, tmp_path, progress=False,
                    on_epoch_end=blow_up_after_epoch_1)
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["model_id"] == kept["id"] and ck["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ck["model_state"].values()
               if v.is_floating_point())


def test_divergence_in_the_first_epoch_writes_no_checkpoint(data, tmp_path):
    train, test = data
    with pytest.raises(TrainingDivergedError, match="no checkpoint was written"):
        train_phase(_model(), _phase(lr=1e30, epochs=1), train, test, tmp_path, progress=False)
    assert not (tmp_path / "last.pt").exists()


def test_temp_files_of_a_killed_writer_are_removed_on_the_next_start(data, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)  # a process that has exited
    stale = tmp_path / f".last.pt.{pid}.abc123.tmp"
    live = tmp_path / f".last.pt.{os.getpid()}.def456.tmp"
    other = tmp_path / ".notes.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert live.exists() and other.exists()
    stale.write_bytes(b"partial")
    train, test = data
    train_phase(_model(), _phase(epochs=1), train, test, tmp_path, progress=False)
    assert not stale.exists() and live.exists()
