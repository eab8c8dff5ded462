"""A checkpoint that carries its training-set latent statistics is used without re-encoding the
training set (the shipped CIFAR-10 models: minutes saved per table build)."""

from __future__ import annotations

import shutil

from commsldr.coding import attach_latent_stats, compute_latent_stats, load_latent_stats
from commsldr.scenario import assets, load_scenario
from commsldr.scenario.runner import obtain_model, prepare_table
from commsldr.train import load_data
from commsldr.train.checkpoint import load_checkpoint

TINY = {
    "name": "tiny",
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 60000.0, "images_per_packet": 2},
    "csi": {"type": "noisy", "std_db": 1.0},
}


def test_table_uses_the_checkpoints_stats(tiny_overrides, tmp_path, monkeypatch):
    base = load_scenario(TINY, tiny_overrides)
    variants, source = obtain_model(base.scenario, log=lambda *_: None, progress=False)
    ckpt = source.split("(", 1)[1].rstrip(")")
    plain, stored = tmp_path / "plain.pt", tmp_path / "with_stats.pt"
    shutil.copyfile(ckpt, plain)
    shutil.copyfile(ckpt, stored)

    def from_checkpoint(path, cache):
        return [*tiny_overrides, "model.recipe=null", "model.train={}", f"model.checkpoint={path}",
                f"model.cache_dir={tmp_path / cache}"]

    # the reference computes the statistics itself; they are recorded and stored in the checkpoint,
    # so both tables see the very same numbers (statistics of a collapsed latent dimension are
    # rounding noise, which differs between two encodings of the training set)
    computed: list = []

    def record(*args, **kwargs):
        computed.append(compute_latent_stats(*args, **kwargs))
        return computed[-1]

    with monkeypatch.context() as m:
        m.setattr(assets, "compute_latent_stats", record, raising=False)
        m.setattr("commsldr.coding.compute_latent_stats", record)
        reference = prepare_table(load_scenario(TINY, from_checkpoint(plain, "ref")),
                                  log=lambda *_: None, progress=False)
    assert len(computed) == 1
    stats = computed[0]
    attach_latent_stats(stored, stats)
    assert "latent_stats" in load_checkpoint(stored)

    def refuse(*args, **kwargs):
        raise AssertionError("the training set was re-encoded")

    monkeypatch.setattr(assets, "compute_latent_stats", refuse)
    monkeypatch.setattr("commsldr.coding.compute_latent_stats", refuse)
    loaded_splits: list[str] = []
    load_split = assets.load_split
    monkeypatch.setattr(assets, "load_split", lambda sc, split, progress=True: (
        loaded_splits.append(split) or load_split(sc, split, progress)))
    lines: list[str] = []
    table = prepare_table(load_scenario(TINY, from_checkpoint(stored, "cache")), log=lines.append,
                          progress=False)
    assert any("stored in" in line for line in lines)
    assert loaded_splits == ["test"]  # the training images are not even loaded (labels only)
    assert (table.bits == reference.bits).all() and (table.correct == reference.correct).all()
    assert table.prior_class == reference.prior_class
    assert load_latent_stats(stored).to_dict().keys() == stats.to_dict().keys()


def test_stats_of_another_model_are_not_used(tiny_overrides, tmp_path):
    """Stats stored for other weights (a different model id) are recomputed, not trusted."""
    base = load_scenario(TINY, tiny_overrides)
    variants, source = obtain_model(base.scenario, log=lambda *_: None, progress=False)
    stored = tmp_path / "with_stats.pt"
    shutil.copyfile(source.split("(", 1)[1].rstrip(")"), stored)
    train, _ = load_data(assets.train_config(base.scenario))
    attach_latent_stats(stored, compute_latent_stats(variants[max(variants)], train))
    sc = load_scenario(TINY, [*tiny_overrides, "model.recipe=null", "model.train={}",
                              f"model.checkpoint={stored}"]).scenario
    lines: list[str] = []
    other = variants[min(variants)]  # the truncated variant: another model id
    stats = assets.latent_stats(sc, other, train, lines.append)
    assert not any("stored in" in line for line in lines)
    assert len(stats.to_dict()["std"]) == other.latent_dim


def test_training_latents_encoded_once_give_the_stats(tiny_overrides, tmp_path, monkeypatch):
    """coding.transform / categorical encode the training set per variant anyway: the full
    model's statistics come from those latents, not from a second encoding."""
    def refuse(*args, **kwargs):
        raise AssertionError("the training set was encoded a second time for the statistics")

    monkeypatch.setattr("commsldr.coding.compute_latent_stats", refuse)
    monkeypatch.setattr(assets, "compute_latent_stats", refuse)
    for coding in ({"transform": "klt"}, {"codec": "categorical"}):
        sc = load_scenario({**TINY, "coding": coding},
                           [*tiny_overrides, f"model.cache_dir={tmp_path / str(len(coding))}"])
        lines: list[str] = []
        table = prepare_table(sc, log=lines.append, progress=False)
        assert any("encoding the" in line for line in lines) and table.bits.size
