"""scripts/fast_recipe.sh (the flags the study's shell scripts share) spells out the library's
fast recipe, commsldr.train.FAST_PRESET, setting for setting."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from commsldr.train.config import FAST_PRESET

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

#: presets the scripts leave to the stage (epochs, latent size) or that do not change training
STAGE_OWN = {"epochs", "latent_dim", "eval_every"}
FLAG_KEY = {"--backbone": "backbone", "--width": "width", "--batch-size": "batch_size",
            "--optimizer": "optimizer", "--schedule": "schedule", "--lr": "lr",
            "--augment": "augment"}


def _flags() -> list[str]:
    out = subprocess.run(["bash", "-c", f'source "{SCRIPTS / "fast_recipe.sh"}"; '
                          'printf "%s\\n" "${FAST_RECIPE[@]}"'],
                         capture_output=True, text=True, check=True, timeout=30)
    return out.stdout.splitlines()


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "null": None}.get(text, text)


def test_the_shared_flags_are_the_library_fast_preset():
    flags = _flags()
    got: dict = {}
    i = 0
    while i < len(flags):
        f = flags[i]
        if f == "--set":
            key, _, val = flags[i + 1].partition("=")
            got[key] = _value(val)
            i += 2
        elif f in FLAG_KEY:
            got[FLAG_KEY[f]] = _value(flags[i + 1])
            i += 2
        elif f == "--amp":
            got["amp"] = True
            i += 1
        elif f == "--fast":
            i += 1
        else:
            raise AssertionError(f"unexpected flag {f!r} in fast_recipe.sh")
    want = {k: v for k, v in FAST_PRESET.items() if k not in STAGE_OWN}
    assert got.pop("side_dim") is None  # the study's models have no side branch
    assert got.keys() == want.keys()
    for key, val in want.items():
        expected = pytest.approx(val, rel=1e-12) if isinstance(val, float) else val
        assert got[key] == expected, key


@pytest.mark.parametrize("script", ["reproduce_cifar10.sh", "train_entropy_bottleneck.sh",
                                    "fast_recipe_epochs.sh"])
def test_the_study_scripts_use_the_shared_flags(script):
    text = (SCRIPTS / script).read_text()
    assert 'fast_recipe.sh"' in text and '"${FAST_RECIPE[@]}"' in text
    assert "1.500127388535032" not in text  # no second copy of the recipe's numbers
