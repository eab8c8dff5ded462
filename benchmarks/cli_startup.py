"""Start-up time of the quick ``commsldr`` commands (goal: < 1 s each).

Runs every command ``--runs`` times as a fresh process (``python -m commsldr.cli ...``) and takes
the median wall time and the median CPU time (user + system of the finished child). On a busy
machine the wall time includes waiting for a core; the CPU time does not. Also checks, once per
command, that torch was not imported. Prints a table and, on its last line, one JSON object:

``{"<command>": {"wall_s": median, "cpu_s": median}, ..., "max_wall_s": ..., "max_cpu_s": ...,
"torch_imported": [commands that imported torch]}``

Usage: ``python benchmarks/cli_startup.py [--runs 5] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [["--help"], ["--version"], ["run", "--help"], *(
    ["list", k] for k in ("channels", "policies", "csi", "phys", "models", "recipes",
                          "pretrained", "scenarios"))]
_PROBE = ("import sys, runpy; sys.argv = ['commsldr', *sys.argv[1:]]\n"
          "try:\n    runpy.run_module('commsldr.cli', run_name='__main__')\n"
          "except SystemExit:\n    pass\n"
          "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr)")


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "commsldr.cli", *argv], env=env, cwd=REPO,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 runs")
    args = ap.parse_args(argv)
    runs = 3 if args.quick else args.runs
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out: dict[str, object] = {}
    torch_imported = []
    for cmd in COMMANDS:
        name = " ".join(cmd)
        probe = subprocess.run([sys.executable, "-c", _PROBE, *cmd], env=env, cwd=REPO,
                               capture_output=True, text=True, check=False)
        if probe.stderr.strip().splitlines()[-1:] == ["TORCH"]:
            torch_imported.append(name)
        _time(cmd, env)  # warm-up (file system cache)
        samples = [_time(cmd, env) for _ in range(runs)]
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        out[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        print(f"commsldr {name:<22} wall {wall:6.3f} s   cpu {cpu:6.3f} s")
    out["max_wall_s"] = max(v["wall_s"] for v in out.values() if isinstance(v, dict))
    out["max_cpu_s"] = max(v["cpu_s"] for v in out.values() if isinstance(v, dict))
    out["torch_imported"] = torch_imported
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
