"""Seeded scenario fuzzing: 400 mutated scenarios each end valid or in a UserError (what the CLI
prints in one or two lines with exit code 2), never in another exception. The larger campaign is
``benchmarks/scenario_fuzz.py``."""

from __future__ import annotations

import random

from commsldr.errors import UserError
from commsldr.scenario import load_scenario
from commsldr.scenario.fuzz import mutate

BASE = {
    "name": "fuzz",
    "data": {"train_per_class": 20, "test_per_class": 10},
    "model": {"recipe": "ce", "train": {"epochs": 1, "latent_dim": 16, "lr": 0.1},
              "truncations": [8]},
    "coding": {"scales": [0.5, 1.0], "crc_bits": 16},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0, "coherence_frames": 2},
                 "ge": {"type": "gilbert-elliott", "snr_good_db": 15.0, "snr_bad_db": 0.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "images_per_packet": 2},
    "csi": {"type": "noisy", "std_db": 1.0},
    "policies": {"fixed": {"type": "fixed", "k": 16, "scale": 1.0},
                 "greedy": {"type": "capacity-greedy", "margin": 0.1}},
    "sweep": {"channels.ray.mean_snr_db": [0.0, 10.0]},
    "seeds": [0, 1],
    "frames": 50,
    "outputs": {"figures": ["timeline"], "confidence": 0.9},
}


def test_the_base_is_valid():
    assert load_scenario(BASE).points


def test_mutated_scenarios_end_valid_or_in_a_user_error():
    rng = random.Random(13)
    outcomes = {"valid": 0, "user_error": 0}
    for _ in range(400):
        raw, what = mutate(BASE, rng)
        try:
            load_scenario(raw)
            outcomes["valid"] += 1
        except UserError as err:
            outcomes["user_error"] += 1
            assert len(str(err)) <= 600 and "\n" not in str(err).strip(), (what, str(err))
        except Exception as err:  # pragma: no cover - the failure report
            raise AssertionError(f"{what}: {type(err).__name__}: {err}") from err
    assert outcomes["user_error"] > 300 and outcomes["valid"] > 10, outcomes
