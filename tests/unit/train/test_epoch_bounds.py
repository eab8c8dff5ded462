"""Epoch counts are bounded (a scenario with ``epochs: 10**12`` trained until killed and left a
partial run directory): every training phase, nested or flat, the analog-JSCC and codec schemes,
and a scenario's ``model.train`` refuse more than MAX_EPOCHS by name, before any work."""

from __future__ import annotations

import pytest

from commsldr.scenario import ScenarioError, load_scenario
from commsldr.schemes import create_scheme
from commsldr.train import TrainConfig
from commsldr.train.settings import MAX_EPOCHS, MAX_SSL_VIEWS, TrainConfigError


@pytest.mark.parametrize("flat, nested", [("epochs", ("ce", "epochs")),
                                          ("ldr_epochs", ("ldr", "epochs")),
                                          ("finetune_epochs", ("finetune", "epochs")),
                                          ("ssl_views", ("ldr", "ssl_views"))])
def test_counts_hold_their_upper_bound_flat_and_nested(flat, nested):
    hi = MAX_SSL_VIEWS if flat == "ssl_views" else MAX_EPOCHS
    assert TrainConfig.from_dict({flat: hi}).to_dict()[flat] == hi
    for bad in (hi + 1, 10**12):
        with pytest.raises(TrainConfigError, match=rf"^{flat}: must be <= {hi}, got {bad}$"):
            TrainConfig.from_dict({flat: bad})
        with pytest.raises(TrainConfigError, match=rf"^{flat}: must be <= {hi}"):
            TrainConfig.from_dict({nested[0]: {nested[1]: bad}})


@pytest.mark.parametrize("kind, key, params", [
    ("analog-jscc", "epochs", {}),
    ("jpeg", "finetune_epochs", {"qualities": [10, 50]}),
])
def test_scheme_epochs_hold_their_bounds(kind, key, params):
    create_scheme(kind, **params, **{key: MAX_EPOCHS})
    with pytest.raises(ValueError, match=rf"^{key}: must be an integer in \[1, {MAX_EPOCHS}\]"):
        create_scheme(kind, **params, **{key: MAX_EPOCHS + 1})


def test_scenario_with_huge_epochs_is_refused_by_name():
    raw = {
        "name": "tiny",
        "data": {"train_per_class": 20, "test_per_class": 10},
        "model": {"recipe": "ce", "train": {"epochs": 10**12, "latent_dim": 16}},
        "channels": {"awgn": {"type": "awgn", "snr_db": 10.0}},
        "link": {"phy": "shannon", "bandwidth_hz": 1e5},
        "policies": {"fixed": {"type": "fixed", "k": 16, "scale": 1.0}},
        "seeds": [0],
        "frames": 50,
    }
    with pytest.raises(ScenarioError, match=r"model\.train\.epochs.*<= 10000"):
        load_scenario(raw)
