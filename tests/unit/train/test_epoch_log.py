"""One summary line per epoch through the ``commsldr.train`` logger, and a model cache key that
changes with everything that changes the weights (thread count included)."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import torch

from commsldr.train.loop import epoch_summary


def test_epoch_summary_line() -> None:
    rec = {"phase": "ce", "epoch": 3, "loss_ce": 1.23456, "lr_ce": 0.1, "train_acc": 0.5123,
           "test_acc": 0.48, "time_s": 2.06}
    assert epoch_summary(rec, 10) == "ce 3/10:  loss_ce 1.235  train_acc 0.512  test_acc 0.480  (2.1 s)"
    rec = {"phase": "ldr", "epoch": 1, "loss_ldr": -3.0, "rate": 12.5, "class_rate": 3.25,
           "test_acc": math.nan, "time_s": 0.5}
    assert epoch_summary(rec, 1) == "ldr 1/1:  loss_ldr -3  rate 12.5  class_rate 3.25  (0.5 s)"


def test_training_logs_one_line_per_epoch(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    from commsldr.train import TrainConfig, run_recipe

    cfg = TrainConfig.from_dict(dict(dataset="synthetic", num_per_class=4, test_num_per_class=2,
                                     augment=False, backbone="resnet8", width=0.25, latent_dim=4,
                                     epochs=2, batch_size=20, seed=0, progress=False,
                                     out=str(tmp_path), recipe="ce"))
    with caplog.at_level(logging.INFO, logger="commsldr.train"):
        run_recipe("ce", cfg)
    lines = [r.getMessage() for r in caplog.records if r.name == "commsldr.train"]
    assert [ln.split(":")[0] for ln in lines] == ["ce-t 1/2", "ce-t 2/2"]
    assert all("loss_ce" in ln and "test_acc" in ln and ln.endswith(" s)") for ln in lines)


def test_model_cache_key_covers_threads() -> None:
    from commsldr.scenario.runner import training_environment

    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = training_environment("cpu")
        torch.set_num_threads(2)
        two = training_environment("cpu")
    finally:
        torch.set_num_threads(n)
    assert one != two and one["threads"] == 1 and two["threads"] == 2
    assert {"device", "torch", "source"} <= set(one)
    assert training_environment("cuda")["device"] == "cuda"


def test_cache_key_ignores_docstrings_and_comments(tmp_path, monkeypatch) -> None:
    import shutil

    import commsldr
    from commsldr.scenario import runner

    src = Path(commsldr.__file__).parent
    fake = tmp_path / "commsldr"
    for sub in ("data", "models", "losses", "train"):
        shutil.copytree(src / sub, fake / sub)
    (fake / "__init__.py").write_text("")
    monkeypatch.setattr(commsldr, "__file__", str(fake / "__init__.py"))
    base = runner.training_environment("cpu")["source"]
    f = fake / "models" / "resnet.py"
    text = f.read_text()
    f.write_text('"""another docstring"""\n# a comment\n' + text.split('"""', 2)[2])
    assert runner.training_environment("cpu")["source"] == base
    f.write_text(text + "\nEXTRA = 1\n")
    assert runner.training_environment("cpu")["source"] != base
