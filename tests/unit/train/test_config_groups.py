"""The nested TrainConfig: groups of one concept each, a Phase that composes the
config's optimiser group, and the flat spelling unchanged wherever it is stored or typed.

``data/config_records.json`` was written by the code *before* the groups existed (the flat
dataclass and ``PhaseSettings``), from constructed configs only: for each case the flat record
``TrainConfig.to_dict()`` and the phase record ``Phase.to_dict()`` of every recipe's phases, as
JSON text. The grouped code must reproduce them byte for byte (checkpoints store both; resume
compares them; the scenario's model cache key hashes the flat record).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from commsldr.scenario import load_scenario
from commsldr.scenario.build import train_config
from commsldr.scenario.schema import ScenarioError
from commsldr.train import OptimSettings, Phase, SideSettings, TrainConfig
from commsldr.train.config import TrainConfigError, fast_config, paper_config
from commsldr.train.recipes import ce_phase, duphil_phases, ldr_ft_phases
from commsldr.train.settings import FLAT_KEYS, FLAT_PATHS, GROUPS, TOP_KEYS, flat_settings

RECORDS = json.loads((Path(__file__).parent / "data" / "config_records.json").read_text())
_PRESETS = {"plain": TrainConfig.from_dict, "paper": lambda d: paper_config(**d),
            "fast": lambda d: fast_config(**d)}


def _phases(cfg: TrainConfig) -> dict[str, list[Phase]]:
    """The phases each recipe builds (as the recipes and the generator of the fixture do)."""
    return {"ce": [ce_phase(cfg)], "duphil": duphil_phases(cfg, "ldr"),
            "ldr-ft": ldr_ft_phases(cfg),
            "truncate-ce": [ce_phase(cfg, "truncate-8-ce", lr=cfg.finetune.lr,
                                     epochs=cfg.finetune_epochs_resolved)],
            "truncate-ldr-ft": ldr_ft_phases(cfg, prefix="truncate-8-ldr-ft"),
            "entropy-bottleneck": [ce_phase(cfg, "entropy-bottleneck", lr=cfg.finetune.lr,
                                            epochs=cfg.finetune_epochs_resolved)]}


def _nested(flat: dict) -> dict:
    """``flat`` in the group spelling (``{"optim": {"momentum": 0.8}}``)."""
    out: dict = {}
    for k, v in flat.items():
        if k in TOP_KEYS:
            out[k] = v
        else:
            group, name = FLAT_PATHS[k]
            out.setdefault(group, {})[name] = v
    return out


def _dotted(flat: dict) -> dict:
    return {k if k in TOP_KEYS else ".".join(FLAT_PATHS[k]): v for k, v in flat.items()}


@pytest.mark.parametrize("case", sorted(RECORDS))
def test_records_are_byte_identical_to_the_flat_code(case):
    rec = RECORDS[case]
    cfg = _PRESETS[rec["preset"]](rec["overrides"])
    assert json.dumps(cfg.to_dict()) == rec["config"]  # same keys, order and values
    built = _phases(cfg)
    assert set(built) == set(rec["phases"])
    for recipe, phases in built.items():
        assert [json.dumps(p.to_dict()) for p in phases] == rec["phases"][recipe], recipe


@pytest.mark.parametrize("case", sorted(RECORDS))
def test_flat_nested_and_dotted_spellings_give_equal_configs(case):
    rec = RECORDS[case]
    flat = json.loads(rec["config"])  # every setting, non-defaults included
    cfg = TrainConfig.from_dict(flat)
    assert TrainConfig.from_dict(_nested(flat)) == cfg
    assert TrainConfig.from_dict(_dotted(flat)) == cfg
    assert TrainConfig.from_dict(cfg.to_nested()) == cfg
    assert TrainConfig.from_dict(cfg.to_dict()).to_dict() == flat
    # the constructor takes each group as a mapping of its fields, too
    assert TrainConfig(**{k: v for k, v in _nested(flat).items()}) == cfg
    # the presets take the nested spelling for their overrides
    overrides = rec["overrides"]
    preset = _PRESETS[rec["preset"]]
    if rec["preset"] != "plain":
        assert (_PRESETS[rec["preset"]](_nested(overrides)) == preset(overrides))


def test_every_flat_key_has_one_place():
    assert set(FLAT_KEYS) == set(FLAT_PATHS) | set(TOP_KEYS)
    assert len(FLAT_KEYS) == len(set(FLAT_KEYS)) == len(FLAT_PATHS) + len(TOP_KEYS)
    assert list(TrainConfig().to_dict()) == list(FLAT_KEYS)
    for flat, (group, name) in FLAT_PATHS.items():
        assert name in {f.name for f in dataclasses.fields(GROUPS[group])}
        # a group's field keeps the flat key's name or drops its group's prefix
        assert flat == name or flat.endswith(name), flat
    nested = TrainConfig().to_nested()
    assert list(nested) == ["recipe", *GROUPS, "provenance"]


def test_groups_are_immutable_values():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.optim.momentum = 0.5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.ce = cfg.ce  # type: ignore[misc]
    changed = cfg.replace(momentum=0.5, ldr={"epochs": 3})
    assert (changed.optim.momentum, changed.ldr.epochs) == (0.5, 3)
    assert (cfg.optim.momentum, cfg.ldr.epochs) == (0.9, None)
    assert cfg.replace(optim=OptimSettings(momentum=0.5)).optim == OptimSettings(momentum=0.5)


def test_a_phase_reuses_the_configs_optimiser_and_side_groups():
    cfg = TrainConfig.from_dict({"momentum": 0.7, "nesterov": True, "schedule": "multistep",
                                 "milestones": [0.4], "ldr_milestones": [0.2, 0.6],
                                 "side_input": "quantized", "side_step": 0.5})
    (ce,) = _phases(cfg)["ce"]
    assert type(ce.optim) is OptimSettings and ce.optim == cfg.optim
    assert ce.side == SideSettings()  # a CE-only phase never uses the side branch
    (duphil,) = duphil_phases(cfg, "ldr")
    assert duphil.optim == dataclasses.replace(cfg.optim, milestones=(0.2, 0.6))
    assert duphil.side is cfg.side
    assert (duphil.eps_sq, duphil.ssl_views, duphil.seed) == (cfg.ldr.eps_sq, cfg.ldr.ssl_views,
                                                             cfg.run.seed)


@pytest.mark.parametrize(("data", "key", "words"), [
    ({"momentum": 0.8, "optim": {"momentum": 0.9}}, "optim.momentum", "given twice"),
    ({"ldr_epochs": 2, "ldr.epochs": 3}, "ldr.epochs", "given twice"),
    ({"optim": {"momentm": 0.8}}, "optim.momentm", "did you mean 'momentum'"),
    ({"ldr.epoch": 3}, "ldr.epoch", "did you mean 'epochs'"),
    ({"optim": 0.8}, "optim", "expected a mapping"),
    ({"learning_rate": 0.1}, "learning_rate", "unknown training setting"),
    ({"ldr_epoch": 3}, "ldr_epoch", "did you mean 'ldr_epochs'"),
    ({"ldr": {"epochs": 0}}, "ldr_epochs", ">= 1"),  # values are named by their flat key
    ({"side": {"input": "noisy"}}, "side_input", "allowed values: clean, quantized"),
])
def test_bad_keys_are_named_in_one_line(data, key, words):
    with pytest.raises(TrainConfigError) as info:
        TrainConfig.from_dict(data)
    assert info.value.key == key and words in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_flat_settings_keeps_flat_keys_as_they_are():
    assert flat_settings({"momentum": 0.8, "recipe": "ce"}) == {"momentum": 0.8, "recipe": "ce"}
    assert flat_settings({"side": {"step": 0.5}, "eb.lambdas": [0.1]}) == {
        "side_step": 0.5, "eb_lambdas": [0.1]}


# ---------------------------------------------------------------- the user-facing spellings

_SCENARIO = {
    "name": "tiny",
    "data": {"train_per_class": 20, "test_per_class": 10},
    "model": {"recipe": "ce", "train": {"epochs": 1, "latent_dim": 16}},
    "coding": {"scales": [0.5, 1.0]},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "images_per_packet": 2},
    "policies": {"oracle": {"type": "oracle"}},
    "seeds": [0],
    "frames": 50,
}


def _scenario_config(overrides: list[str], train: dict | None = None) -> TrainConfig:
    raw = json.loads(json.dumps(_SCENARIO))
    if train is not None:
        raw["model"]["train"] = train
    return train_config(load_scenario(raw, overrides).scenario)


def test_a_scenario_takes_model_train_flat_nested_or_dotted():
    flat = _scenario_config([], {"epochs": 1, "latent_dim": 16, "momentum": 0.8,
                                 "ldr_epochs": 3})
    nested = _scenario_config([], {"ce": {"epochs": 1}, "model": {"latent_dim": 16},
                                   "optim": {"momentum": 0.8}, "ldr": {"epochs": 3}})
    dotted = _scenario_config(["model.train.optim.momentum=0.8", "model.train.ldr.epochs=3"])
    assert flat == nested == dotted
    assert flat.optim.momentum == 0.8 and flat.to_dict()["ldr_epochs"] == 3


@pytest.mark.parametrize(("train", "key", "words"), [
    ({"optim": {"momentm": 0.8}}, "model.train.optim.momentm", "did you mean 'momentum'"),
    ({"data": {"dataset": "cifar10"}}, "model.train.dataset", "set it as data.dataset"),
    ({"run": {"out": "x"}}, "model.train.out", "set it as model.cache_dir"),
    ({"ldr": {"lr": "0.1"}}, "model.train.ldr_lr", "finite number"),
])
def test_a_scenarios_bad_train_keys_are_named(train, key, words):
    with pytest.raises(ScenarioError) as info:
        _scenario_config([], train)
    assert info.value.key == key and words in str(info.value), str(info.value)


def test_commsldr_train_set_takes_the_group_spelling(capsys):
    import argparse

    from commsldr.cli import main as cli_main
    from commsldr.cli.train import add_arguments, config_from_args

    def parse(argv):
        p = argparse.ArgumentParser()
        add_arguments(p)
        return config_from_args(p.parse_args(argv))

    assert parse(["--set", "optim.momentum=0.8", "--set", "ldr.epochs=3"]) == parse(
        ["--set", "momentum=0.8", "--set", "ldr_epochs=3"])
    # an explicit flag still wins over --set, whichever spelling --set uses
    assert parse(["--set", "ldr.epochs=3", "--ldr-epochs", "5"]).ldr.epochs == 5
    assert cli_main(["train", "--set", "optim.momentm=0.8", "--print-config"]) == 2
    err = capsys.readouterr().err
    assert "--set optim.momentm" in err and "did you mean 'momentum'" in err
    assert cli_main(["train", "--paper", "--print-config", "--set", "ldr.epochs=7"]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()[2:]}
    assert "7" in lines["ldr_epochs"] and "user" in lines["ldr_epochs"]


# ---------------------------------------------------------------- the shipped checkpoints


@pytest.mark.slow
def test_every_shipped_checkpoints_train_config_round_trips():
    from commsldr.models.pretrained import list_pretrained, pretrained_dir, pretrained_info
    from commsldr.train.checkpoint import load_checkpoint
    from commsldr.train.loop import _upgrade

    names = [n for n in list_pretrained() if pretrained_info(n)["file"].endswith(".pt")]
    assert len(names) >= 30
    for name in names:
        stored = load_checkpoint(pretrained_dir() / pretrained_info(name)["file"])["train_config"]
        upgraded = _upgrade(stored)
        back = TrainConfig.from_dict(upgraded).to_dict()
        assert {k: back[k] for k in upgraded} == upgraded, name
        # settings added after the checkpoint was written take their defaults
        assert set(back) - set(upgraded) <= {"eb_lambdas", "eb_lr"}, name
        assert TrainConfig.from_dict(back).to_dict() == back, name
