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

__all__ = ["VALUES", "mutate", "paths"]

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
