"""Wall-clock and CPU time of ``scenarios/baselines_quick.yaml`` from an empty cache and again
with the cache (every network trained once, then loaded).

Prints progress lines and, on the last line, one JSON object:
``{"fresh": {"wall_s", "cpu_s"}, "cached": {"wall_s", "cpu_s"}, "load_average": [1, 5, 15 min],
"threads": n, "schemes": [...]}``. CPU time is that of this process (user + system); on a shared
machine the wall time depends on the load, which is why the load average is printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch


def _run(cache: Path, out: Path) -> dict[str, float]:
    from commsldr.scenario import load_scenario
    from commsldr.scenario.runner import run_scenario

    loaded = load_scenario("baselines_quick", [f"model.cache_dir={cache}"])
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_scenario(loaded, out=out, progress=False, log=lambda *_: None)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    _run.schemes = sorted({r["scheme"] for r in res.results["rows"]})  # type: ignore[attr-defined]
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="baselines-bench-") as tmp:
        cache, runs = Path(tmp) / "cache", Path(tmp) / "runs"
        fresh = _run(cache, runs / "fresh")
        print(f"fresh cache: {fresh}", flush=True)
        cached = _run(cache, runs / "cached")
        print(f"with cache: {cached}", flush=True)
    print(json.dumps({"fresh": fresh, "cached": cached,
                      "load_average": [round(x, 2) for x in os.getloadavg()],
                      "threads": args.threads, "schemes": _run.schemes}))  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
