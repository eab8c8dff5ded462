"""Scenario fuzz campaign: mutated scenarios end in a valid scenario or a one-line UserError.

Starts from every shipped scenario that needs no external data, applies 1-3 seeded mutations
(:mod:`commsldr.scenario.fuzz`) and validates each case with :func:`load_scenario`. Counts the
outcomes: ``valid``, ``user_error`` (a :class:`~commsldr.errors.UserError`, what the CLI prints with
exit code 2) and ``other`` (any other exception: a bug; listed). Also the slowest validation (after
one warm-up validation of each base, so first-time imports do not count) and the longest message.

    python benchmarks/scenario_fuzz.py [--cases N] [--seed S]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import warnings

from commsldr.errors import UserError
from commsldr.scenario import load_scenario
from commsldr.scenario.fuzz import mutate
from commsldr.scenario.load import read_yaml, scenarios_dir

BASES = ["quickstart", "awgn_snr_sweep", "rayleigh_block_fading", "gilbert_elliott_bursty",
         "doppler_time_varying", "nr_link_adaptation", "digital_vs_analog"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    bases = {n: read_yaml(scenarios_dir() / f"{n}.yaml") for n in BASES}
    for n in BASES:  # warm-up: first-time imports (torch, Sionna) are not validation time
        load_scenario(scenarios_dir() / f"{n}.yaml")
    rng = random.Random(args.seed)
    counts = {"valid": 0, "user_error": 0, "other": 0}
    others: list[str] = []
    slowest, longest, slowest_case = 0.0, 0, ""
    for i in range(args.cases):
        name = BASES[i % len(BASES)]
        raw, what = mutate(bases[name], rng)
        raw.setdefault("name", name) if isinstance(raw, dict) else None
        t0 = time.perf_counter()
        try:
            load_scenario(raw)
            counts["valid"] += 1
        except UserError as err:
            counts["user_error"] += 1
            longest = max(longest, len(str(err)))
        except Exception as err:  # noqa: BLE001 - a bug: reported
            counts["other"] += 1
            others.append(f"{name}: {what}: {type(err).__name__}: {str(err)[:120]}")
        dt = time.perf_counter() - t0
        if dt > slowest:
            slowest, slowest_case = dt, f"{name}: {what}"
    for line in others[:20]:
        print(line)
    print(json.dumps({"cases": args.cases, "seed": args.seed, **counts,
                      "slowest_validation_s": slowest, "slowest_case": slowest_case,
                      "longest_message_chars": longest,
                      "other_examples": others[:5]}))


if __name__ == "__main__":
    main()
