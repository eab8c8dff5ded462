"""TrainConfig is the one strict validator of training settings (CLI and scenarios share it)."""

from __future__ import annotations

import pytest

from commsldr.train import TrainConfig
from commsldr.train.config import TrainConfigError


@pytest.mark.parametrize(("changes", "key", "words"), [
    ({"lr": "0.1"}, "lr", "finite number"),
    ({"lr": float("inf")}, "lr", "finite number"),
    ({"width": float("nan")}, "width", "finite number"),
    ({"epochs": True}, "epochs", "integer"),
    ({"epochs": 2.0}, "epochs", "integer"),
    ({"latent_dim": "64"}, "latent_dim", "integer"),
    ({"augment": 1}, "augment", "expected a string"),
    ({"milestones": [0.5, "x"]}, "milestones[1]", "finite number"),
    ({"milestones": 0.5}, "milestones", "list"),
    ({"dims": [16, 32.5]}, "dims[1]", "integer"),
    ({"backbone": "resnet9"}, "backbone", "did you mean 'resnet8'"),
    ({"optimizer": "adamw"}, "optimizer", "did you mean 'adam'"),
    ({"seed": -1}, "seed", ">= 0"),
    ({"data_root": 3}, "data_root", "string"),
])
def test_bad_values_name_the_field(changes, key, words):
    with pytest.raises(TrainConfigError) as info:
        TrainConfig.from_dict(changes)
    assert info.value.key == key and words in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_keys_get_a_suggestion():
    with pytest.raises(TrainConfigError, match="did you mean 'latent_dim'"):
        TrainConfig.from_dict({"latent_dm": 8})
    with pytest.raises(TrainConfigError, match="did you mean 'epochs'"):
        TrainConfig().replace(epoch=3)


def test_integers_become_floats_where_a_float_is_due():
    cfg = TrainConfig.from_dict({"lr": 1, "width": 1})
    assert isinstance(cfg.ce.lr, float) and isinstance(cfg.model.width, float)
