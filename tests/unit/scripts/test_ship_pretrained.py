"""scripts/ship_pretrained.py finds every study stage where scripts/reproduce_cifar10.sh and the
study's layout (scripts/study_config.py) put it."""

from __future__ import annotations

from pathlib import Path


def test_every_study_model_is_shipped_from_its_study_directory(load_script):
    ship = load_script("ship_pretrained")
    config = load_script("study_config")
    runs = Path("runs")
    todo = ship.stages(runs, [0, 1], [0], [32, 64, 128, 256], 64, 128, 64)
    todo.update(ship.long_stages(runs, [0, 1], 64))
    sources = {path for path, _ in todo.values()}
    for seed in (0, 1):
        for label, stage in config.MODELS.items():
            assert runs / f"s{seed}" / stage / "model.pt" in sources, (label, seed)
    # seed 0 gets the plain names, other seeds a suffix; no two stages share a name or a file
    assert "cifar10-ldr-ft-long-d64" in todo and "cifar10-ce-control-long-d64-s1" in todo
    assert len(sources) == len(todo)


def test_long_phase_names_match_the_remeasured_study_models(load_script):
    ship = load_script("ship_pretrained")
    remeasure = load_script("study_remeasure")
    shipped = ship.long_stages(Path("runs"), [0, 1, 2], 64)
    for label in ("LDR-FT long", "CE control long"):
        base, seeds = remeasure.STUDY_MODELS[label]
        for s in seeds:
            assert base + remeasure.SEED_SUFFIX[s] in shipped, (label, s)
