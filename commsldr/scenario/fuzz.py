"""Seeded mutation fuzzing of scenarios: validation must end in a valid scenario or a UserError.

Used by ``tests/unit/scenario/test_scenario_fuzz.py`` (a few hundred cases) and
``benchmarks/scenario_fuzz.py`` (the campaign whose numbers the guide page "Robustness" reports).
Each case applies 1-3 mutations to a valid scenario mapping: a value anywhere in the tree replaced
by one of :data:`VALUES` (wrong types, zero, negative, huge, non-finite, empty, nested), a key
deleted, or an unknown key added.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator

__all__ = ["EDGES", "EXTREMES", "RUN_BASE", "VALUES", "mutate", "paths", "run_paths", "set_path"]

#: replacement values: wrong types, boundaries, huge and non-finite numbers, containers
VALUES: tuple[object, ...] = (
    None, True, False, 0, -1, 1, 2**31, 10**15, -(10**15), 0.5, -0.5, 1e308, -1e308,
    float("inf"), float("-inf"), float("nan"), "", "x", "0.1", "../..", "/", "a" * 5000,
    [], [0], [1, 2, 3], [[1]], ["x"], [float("nan")], {}, {"a": 1}, {"type": "awgn"},
    {"x": {"y": {"z": [1]}}},
)


def paths(node: object, prefix: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    """Every path (dict keys and list indices) into ``node``, containers included."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


def _parent(raw: object, path: tuple[object, ...]) -> object:
    node = raw
    for p in path[:-1]:
        node = node[p]
    return node


def mutate(raw: dict[str, object], rng: random.Random) -> tuple[dict[str, object], list[str]]:
    """A mutated deep copy of ``raw`` and a description of each mutation."""
    out = copy.deepcopy(raw)
    done = []
    for _ in range(rng.randint(1, 3)):
        all_paths = list(paths(out))
        if not all_paths:
            break
        path = rng.choice(all_paths)
        parent = _parent(out, path)
        op = rng.random()
        if op >= 0.7 and not isinstance(parent, dict):  # lists: replace an entry instead
            op = 0.0
        if op < 0.7:
            value = copy.deepcopy(rng.choice(VALUES))
            parent[path[-1]] = value
            done.append(f"{'.'.join(map(str, path))} = {value!r:.40}")
        elif op < 0.85:
            del parent[path[-1]]
            done.append(f"del {'.'.join(map(str, path))}")
        else:
            parent["unknown_" + str(rng.randint(0, 99))] = rng.choice(VALUES[:12])
            done.append(f"add unknown key under {'.'.join(map(str, path[:-1])) or '(top)'}")
    return out, done


# ---------------------------------------------------------------------------------------------
# run-time fuzzing: extreme numbers where they change the simulations, not the trained model
# ---------------------------------------------------------------------------------------------
#: a small scenario whose model and table train in seconds and are then cached
RUN_BASE: dict[str, object] = {
    "name": "hyp",
    "data": {"train_per_class": 8, "test_per_class": 4},
    "model": {"recipe": "ce", "train": {"backbone": "resnet8", "width": 0.25, "latent_dim": 4,
                                        "epochs": 1, "batch_size": 40}},
    "coding": {"scales": [1.0]},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0, "coherence_frames": 2},
                 "dop": {"type": "doppler-fading", "mean_snr_db": 10.0, "speed_mps": 3.0},
                 "ge": {"type": "gilbert-elliott", "snr_good_db": 15.0, "snr_bad_db": 0.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "frame_s": 1e-3, "images_per_packet": 1,
             "max_attempts": 1, "deadline_frames": 1},
    "csi": {"type": "delayed", "delay_frames": 1},
    "policies": {"fixed": {"type": "fixed", "k": 4, "scale": 1.0},
                 "greedy": {"type": "capacity-greedy", "margin": 0.1},
                 "outage": {"type": "outage-aware", "snr_std_db": 1.0}},
    "seeds": [0],
    "frames": 20,
    "outputs": {"figures": ["timeline"]},
}
#: extreme finite numbers (and the float range's edges)
EXTREMES: tuple[object, ...] = (
    0, -1, 1, 2, 2**31, 2**63, 10**15, 10**16, 10**400, 1e-308, 5e-324, 1e308, -1e308, 1e15,
    -1e15, 0.5, -0.5, 1e-9, 1e3, 1e12)
#: the edges of the documented ranges (commsldr.scenario.bounds, commsldr_channels._validate)
EDGES: tuple[object, ...] = (200, -200, 200.0, 1e4, 1e12, 1e-9, 1000, 10**6, 10**9, 10**12, 1e15,
                          -1e15, 2**62)


def run_paths(raw: dict[str, object] = RUN_BASE) -> list[tuple[object, ...]]:
    """The parameters of ``raw`` that change simulations but not the model or its table:
    channel and policy parameters, link and CSI parameters (not ``type``/``phy``/packet size)."""
    return [p for p in paths(raw)
            if ((p[0] in ("channels", "policies") and len(p) == 3)
                or (p[0] in ("link", "csi") and len(p) == 2))
            and p[-1] not in ("type", "phy", "images_per_packet")]


def set_path(raw: dict[str, object], path: tuple[object, ...], value: object) -> None:
    """``raw[path] = value`` where the path still exists (earlier mutations may have cut it)."""
    node: object = raw
    for p in path[:-1]:
        if isinstance(node, dict) and isinstance(node.get(p), (dict, list)):
            node = node[p]
        elif isinstance(node, list) and isinstance(p, int) and p < len(node):
            node = node[p]
        else:
            return
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
