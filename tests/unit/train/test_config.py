"""TrainConfig validation, the --paper preset and CLI precedence."""

from __future__ import annotations

import argparse

import pytest

from commsldr.train import TrainConfig, paper_config
from commsldr.train.command import add_arguments, config_from_args


def _parse(argv):
    p = argparse.ArgumentParser()
    add_arguments(p)
    return config_from_args(p.parse_args(argv))


@pytest.mark.parametrize("key,value", [
    ("dataset", "mnist"), ("optimizer", "rmsprop"), ("schedule", "step"), ("epochs", 0),
    ("latent_dim", -1), ("lr", 0.0), ("eps_sq", -1.0), ("milestones", [1.5]), ("dims", []),
    ("ssl_views", 1), ("duphil_mode", "both"), ("keep", 0),
])
def test_bad_values_name_the_field(key, value):
    with pytest.raises(ValueError, match=key):
        TrainConfig(**{key: value})


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_round_trip_through_dict():
    c = TrainConfig(latent_dim=64, dims=[8, 16])
    assert TrainConfig.from_dict(c.to_dict()) == c


def test_paper_preset_matches_the_paper_and_authors_code():
    p = paper_config()
    assert (p.backbone, p.epochs, p.lr, p.momentum, p.weight_decay) == ("resnet18", 200, 0.1, 0.9, 5e-4)
    assert p.dims == [32, 64, 128, 256, 512] and p.eps_sq == 0.5
    assert p.finetune_lr < p.ldr_lr  # step 3 at a smaller learning rate (§3.1)


def test_cli_precedence_defaults_paper_flags():
    c = _parse(["--recipe", "ldr-ft"])
    assert c.backbone == "resnet8" and c.out == "runs/train/ldr-ft" and c.recipe == "ldr-ft"
    c = _parse(["--recipe", "ce", "--paper", "--epochs", "3", "--set", "rate_weight=0.5"])
    assert c.backbone == "resnet18" and c.epochs == 3 and c.rate_weight == 0.5
    c = _parse(["--recipe", "screen", "--dims", "8,16", "--from", "x.pt", "--no-augment"])
    assert c.dims == [8, 16] and c.from_checkpoint == "x.pt" and c.augment == "none"
