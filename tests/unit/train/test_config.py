"""TrainConfig validation, the --paper preset and CLI precedence."""

from __future__ import annotations

import argparse

import pytest

from commsldr.cli.train import add_arguments, config_from_args
from commsldr.train import TrainConfig, paper_config


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
        TrainConfig.from_dict({key: value})


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_round_trip_through_dict():
    c = TrainConfig.from_dict(dict(latent_dim=64, dims=[8, 16]))
    assert TrainConfig.from_dict(c.to_dict()) == c


def test_paper_preset_matches_the_paper_and_authors_code():
    p = paper_config()
    assert (p.model.backbone, p.ce.epochs, p.ce.lr, p.optim.momentum, p.optim.weight_decay) == ("resnet18", 200, 0.1, 0.9, 5e-4)
    assert p.screen.dims == (32, 64, 128, 256, 512) and p.ldr.eps_sq == 0.5
    assert p.finetune.lr < p.ldr.lr  # step 3 at a smaller learning rate (§3.1)


def test_cli_precedence_defaults_paper_flags():
    c = _parse(["--recipe", "ldr-ft"])
    assert c.model.backbone == "resnet8" and c.run.out == "runs/train/ldr-ft" and c.recipe == "ldr-ft"
    c = _parse(["--recipe", "ce", "--paper", "--epochs", "3", "--set", "rate_weight=0.5"])
    assert c.model.backbone == "resnet18" and c.ce.epochs == 3 and c.ldr.rate_weight == 0.5
    c = _parse(["--recipe", "screen", "--dims", "8,16", "--from", "x.pt", "--no-augment"])
    assert c.screen.dims == (8, 16) and c.run.from_checkpoint == "x.pt" and c.data.augment == "none"


# --------------------------------------------------------------- issue 16: the preset's provenance

_PRESET_TAGS = {"paper", "authors' code", "our choice"}


@pytest.mark.parametrize("dataset,backbone", [("cifar10", "resnet18"), ("cifar100", "resnet34"),
                                              ("imagefolder", "resnet18")])
def test_paper_preset_picks_the_papers_backbone_per_dataset(dataset, backbone):
    p = paper_config(dataset=dataset)
    assert p.model.backbone == backbone and p.model.width == 1.0
    assert p.provenance["backbone"] == "paper"
    # an explicit backbone wins and is tagged as the user's
    q = paper_config(dataset=dataset, backbone="resnet8")
    assert q.model.backbone == "resnet8" and q.provenance["backbone"] == "user"


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_every_preset_value_is_tagged(dataset):
    from commsldr.train.config import paper_provenance

    p = paper_config(dataset=dataset)
    prov = paper_provenance(dataset)
    default = TrainConfig()
    changed = {k for k, v in p.to_dict().items() if k != "provenance" and v != default.to_dict()[k]}
    assert changed - {"dataset"} <= set(p.provenance), "a preset value without a tag"
    assert set(p.provenance) == set(prov)
    tags = {k: t for k, t in p.provenance.items() if k != "dataset" or dataset == "cifar10"}
    assert set(tags.values()) <= _PRESET_TAGS
    assert all(prov[k][1] for k in prov)  # every tag names its source
    # values the issue found unmarked are tagged as what they are
    assert p.provenance["ldr_epochs"] == "authors' code" and "400" in prov["ldr_epochs"][1]
    assert p.provenance["finetune_lr"] == "our choice"
    assert p.provenance["finetune_epochs"] == "our choice"
    assert p.provenance["ssl_views"] == "our choice"
    assert p.provenance["epochs"] == "paper" and p.provenance["dims"] == "paper"
    # the resolved config carries the tags (config.json, checkpoints)
    assert TrainConfig.from_dict(p.to_dict()).provenance == p.provenance


def test_cifar100_preset():
    p = paper_config(dataset="cifar100")
    assert (p.data.dataset, p.model.backbone, p.model.width, p.ce.epochs, p.ce.batch_size) == ("cifar100", "resnet34", 1.0, 200, 200)
    assert p.screen.dims == (32, 64, 128, 256, 512) and p.provenance["dims"] == "paper"
    assert p.model.latent_dim == 64 and p.provenance["latent_dim"] == "our choice"  # paper: no choice
    assert p.provenance["dataset"] == "user"
    assert paper_config().provenance["latent_dim"] == "paper"  # CIFAR-10: d_y = 64, §4.1
    c = _parse(["--recipe", "ldr-ft", "--paper", "--dataset", "cifar100"])
    assert c.model.backbone == "resnet34" and c.provenance["backbone"] == "paper"


def test_provenance_is_validated():
    with pytest.raises(ValueError, match="provenance"):
        TrainConfig(provenance={"backbone": "folklore"})
    with pytest.raises(ValueError, match="provenance"):
        TrainConfig(provenance={"not_a_field": "paper"})


def test_print_config_shows_the_tags(capsys):
    from commsldr.cli import main as cli_main

    assert cli_main(["train", "--paper", "--dataset", "cifar100", "--print-config"]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()[2:]}
    assert '"resnet34"' in lines["backbone"] and "paper" in lines["backbone"]
    assert "ResNet-34" in lines["backbone"]
    assert "authors' code" in lines["ldr_epochs"] and "400" in lines["ldr_epochs"]
    assert "our choice" in lines["finetune_lr"]
    assert "default" in lines["seed"]
    assert cli_main(["train", "--paper", "--print-config", "--latent-dim", "128"]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()[2:]}
    assert "128" in lines["latent_dim"] and "user" in lines["latent_dim"]
    assert cli_main(["train", "--epochs", "1"]) == 2
    assert "--recipe: is required" in capsys.readouterr().err


def test_paper_run_says_which_backbone_it_picked(monkeypatch, capsys, tmp_path):
    import commsldr.train.recipes as recipes
    from commsldr.cli import main as cli_main
    from commsldr.train.recipes import RecipeResult

    seen = {}

    def fake_run(name, config):  # stop before any data or training
        seen["config"] = config
        return RecipeResult(tmp_path / "model.pt", {"test_acc": 0.5})

    import commsldr.train.checks as checks

    monkeypatch.setattr(recipes, "run_recipe", fake_run)
    monkeypatch.setattr(checks, "check_data_available", lambda config: None)  # no CIFAR-100 here
    assert cli_main(["train", "--recipe", "ce", "--paper", "--dataset", "cifar100",
                     "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "--paper: dataset cifar100, backbone resnet34 (paper, §4: 'a ResNet-34 backbone'" in out
    assert seen["config"].model.backbone == "resnet34"
    assert seen["config"].provenance["backbone"] == "paper"
