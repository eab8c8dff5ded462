"""Run-time scenario fuzz campaign: accepted scenarios with extreme values run or stop cleanly.

Starts from :data:`commsldr.scenario.fuzz.RUN_BASE` (a tiny model, trained once and cached), sets
1-3 seeded parameters that change the simulations (channel, policy, link and CSI parameters:
:func:`~commsldr.scenario.fuzz.run_paths`) to extreme finite values or the edges of the documented
ranges, and runs ``commsldr run`` in-process for each case. Counts exit codes and the failures the
guide page "Robustness" promises never happen: an internal error (exit 1 or any other exit), a
partial run directory left by a run that stopped with exit 2, and a non-finite accuracy, mean SNR
or mean capacity in ``results.json`` of a run that finished.

    python benchmarks/scenario_run_fuzz.py [--cases N] [--seed S] [--cache DIR]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import random
import tempfile
import time
from pathlib import Path

import torch
import yaml

from commsldr.cli import main as cli_main
from commsldr.scenario.fuzz import EDGES, EXTREMES, RUN_BASE, run_paths, set_path


def _nonfinite(run: Path) -> list[str]:
    bad = []
    for row in json.loads((run / "results.json").read_text())["rows"]:
        keys = ["accuracy"] + (["mean_snr_db", "mean_capacity_bits"]
                               if row["scheme"] == "split-ae" else [])
        bad += [f"{row['channel']}/{row['policy']}: {k}" for k in keys
                if row.get(k) is None or not math.isfinite(row[k])]
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", default=None, help="model cache (default: a temporary directory)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="run-fuzz-"))
    cache = args.cache or str(work / "cache")
    values = list(EXTREMES + EDGES) + [3, 7, 0.1, 50, 20.0]
    where = run_paths()
    counts = {"exit_0": 0, "exit_2": 0, "internal_error": 0, "partial_run_dir": 0,
              "non_finite_results": 0}
    failures: list[str] = []
    t0 = time.perf_counter()
    for i in range(args.cases):
        raw = copy.deepcopy(RUN_BASE)
        raw["model"]["cache_dir"] = cache
        muts = [(rng.choice(where), rng.choice(values)) for _ in range(rng.randint(1, 3))]
        for path, value in muts:
            set_path(raw, path, value)
        scenario, out = work / f"s{i}.yaml", work / f"run{i}"
        scenario.write_text(yaml.safe_dump(raw))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = cli_main(["run", str(scenario), "--out", str(out), "--no-plot", "--quiet",
                           "--jobs", "1"])
        what = ", ".join(f"{'.'.join(map(str, p))}={v!r:.30}" for p, v in muts)
        if rc not in (0, 2) or "internal error" in err.getvalue():
            counts["internal_error"] += 1
            failures.append(f"{what}: {err.getvalue().strip()[-300:]}")
        elif rc == 2:
            counts["exit_2"] += 1
            if out.exists():
                counts["partial_run_dir"] += 1
                failures.append(f"{what}: partial run directory")
        else:
            counts["exit_0"] += 1
            bad = _nonfinite(out)
            if bad:
                counts["non_finite_results"] += 1
                failures.append(f"{what}: non-finite {bad[:3]}")
    out_json = {"cases": args.cases, "seed": args.seed, **counts,
                "seconds": round(time.perf_counter() - t0, 1), "failures": failures[:20]}
    print(json.dumps(out_json))


if __name__ == "__main__":
    main()
