"""Sweep scaling: one scenario run serially, on a 2-process pool, on a local Ray instance, and
killed + resumed.

The scenario is ``quickstart`` (6 SNR points × 2 channels × 3 seeds × 4 policies = 144 jobs) with
a small model trained once into a private cache (so the runs time the simulations, not training
or the table) and ``frames`` per simulation: 30,000 (about a minute serially on one free core),
3,000 with ``--quick``. Times are the runner's own ``seconds.simulations`` (jobs only: the table
comes from the cache, and what the jobs import is imported before the first timed run); the Ray
instance is started before its run is timed (a cluster is running
before a sweep is sent to it), and its start-up time is reported on its own.

Prints one JSON object on its last line:

* ``jobs2_vs_jobs1_speedup`` — serial time / time with ``--jobs 2``. Goal >= 1.6 on 2 free cores.
* ``ray_vs_jobs1_speedup`` — serial time / time on a local 2-CPU Ray instance. Goal >= 1.4 on a
  sweep of at least a minute.
* ``results_identical`` — ``results.csv``, ``per_seed.csv`` and ``timeline.json`` are
  byte-identical for serial, pool, Ray and killed-then-resumed runs.
* ``resume_redone_jobs`` — jobs whose row was written before the kill and that the resumed run
  computed again (goal 0); ``resume_killed_after_rows`` says how far the killed run got.
* ``load_average_1min`` at the start and end: the machine's load (other processes share the
  cores; speed-ups measured under load are lower than on an idle machine).
* ``jobs1_cpu_per_wall``, ``jobs2_cpu_per_wall`` — CPU seconds the run got (this process and the
  pool workers) per wall second: about 1 and 2 on an idle 2-core machine. On a busy Linux
  machine with ``sched_autogroup`` on (reported), the scheduler shares the CPU between
  *sessions*, so the pool's workers (one session) get about one session's share however many
  there are; the wall-clock speed-up then follows the CPU the scheduler gave each run.
* ``jobs1_cpu_seconds``, ``jobs2_cpu_seconds`` — CPU time of each whole run (all processes): the
  pool's extra work, which does not depend on the load.
* ``command_jobs2_vs_jobs1_speedup`` — the whole command as a user types it,
  ``commsldr run quickstart --jobs N --quiet`` (the shipped scenario, default frames, figures
  included, model and table cached by a first run): the median wall time of ``REPS`` runs with
  ``--jobs 1`` over that with ``--jobs 2``, runs alternating; ``command_jobs{1,2}_seconds``
  are the medians, ``command_results_identical`` compares their ``results.csv``. Start-up
  (Python, torch, validation) is serial, so this is lower than the simulations' speed-up. Skip it
  with ``--no-command``.

Usage: ``python benchmarks/sweep_scaling.py [--quick] [--no-ray]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILES = ("results.csv", "per_seed.csv", "timeline.json")


def overrides(cache: Path, frames: int) -> list[str]:
    return [
        "data.train_per_class=20", "data.test_per_class=10",
        "model.train={backbone: resnet8, width: 0.25, latent_dim: 16, epochs: 1, batch_size: 50}",
        "model.truncations=[4, 8]", "coding.scales=[0.25, 0.5, 1.0, 2.0, 4.0]",
        "policies.fixed.k=16", f"frames={frames}", f"model.cache_dir={cache}",
        "outputs.formats=[png]",
    ]


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the pool workers), user + system."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _autogroup() -> bool | None:
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return None


def _same(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in FILES)


def _killed_and_resumed(sets: list[str], run_dir: Path, total: int) -> dict:
    """Start ``commsldr run --jobs 2`` in a subprocess, SIGKILL it (and its workers) once half the
    rows are written, then resume it in this process."""
    from commsldr.scenario import load_scenario
    from commsldr.scenario.runner import run_scenario
    from commsldr.scenario.store import ROWS_FILE

    cmd = [sys.executable, "-m", "commsldr.cli", "run", "quickstart", "--jobs", "2", "--quiet",
           "--no-plot", "--out", str(run_dir)]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    rows = run_dir / ROWS_FILE
    try:
        while proc.poll() is None:
            if rows.is_file() and len(rows.read_bytes().splitlines()) >= total // 2:
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = [json.loads(x)["key"] for x in rows.read_text().splitlines() if x.endswith("}")]
    res = run_scenario(load_scenario(run_dir / "config.yaml"), out=run_dir, resume=True, jobs=2,
                       progress=False, plot=False, log=lambda *_: None).results
    after = []
    for line in rows.read_text().splitlines():
        try:
            after.append(json.loads(line)["key"])
        except ValueError:
            pass
    redone = len(after) - len(set(after))
    return {"killed_after_rows": len(before), "resumed_ran": res["jobs"]["ran"],
            "redone": redone}


def _whole_command(work: Path, reps: int) -> dict:
    """Wall time of ``commsldr run quickstart --jobs {1,2}`` as subprocesses (module docstring)."""
    import statistics

    work.mkdir(parents=True)
    cmd = [sys.executable, "-c", "import sys; from commsldr.cli import main; sys.exit(main())",
           "run", "quickstart", "--quiet", "--set", f"model.cache_dir={work / 'cache'}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([*cmd, "--jobs", "1", "--out", str(work / "warm")], env=env, check=True,
                   capture_output=True)  # trains the model and builds the table once
    times: dict[int, list[float]] = {1: [], 2: []}
    for r in range(reps):
        for j in (1, 2):
            t = time.perf_counter()
            subprocess.run([*cmd, "--jobs", str(j), "--out", str(work / f"j{j}-{r}")], env=env,
                           check=True, capture_output=True)
            times[j].append(time.perf_counter() - t)
    m1, m2 = statistics.median(times[1]), statistics.median(times[2])
    same = all((work / f"j{j}-{r}" / "results.csv").read_bytes()
               == (work / "j1-0" / "results.csv").read_bytes()
               for j in (1, 2) for r in range(reps))
    return {"command_jobs1_seconds": m1, "command_jobs2_seconds": m2,
            "command_jobs2_vs_jobs1_speedup": m1 / m2, "command_results_identical": same}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3,000 frames per job (~15 s serial)")
    ap.add_argument("--frames", type=int, default=None, help="frames per job (overrides --quick)")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    ap.add_argument("--no-command", action="store_true",
                    help="skip timing the whole `commsldr run quickstart` command")
    ap.add_argument("--reps", type=int, default=3, help="runs of each whole command (default 3)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from commsldr.scenario import load_scenario
    from commsldr.scenario.runner import prepare_table, run_scenario

    frames = args.frames or (3_000 if args.quick else 30_000)
    load0 = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="sweep-scaling-"))
    try:
        sets = overrides(work / "cache", frames)
        loaded = load_scenario("quickstart", sets)
        t = time.perf_counter()
        prepare_table(loaded, progress=False, log=lambda *_: None)  # train + table, cached
        t_prepare = time.perf_counter() - t
        # import what the jobs use (Sionna, ...) before any timed run, so the serial run does not
        # pay it and the pool's forked workers inherit it in every run alike
        from commsldr.scenario.jobs import JobContext, warm_up

        warm_up(JobContext(points=[p.scenario for p in loaded.points]))
        quiet = {"progress": False, "plot": False, "log": lambda *_: None}

        cpu_per_wall: dict[str, float] = {}
        cpu: dict[str, float] = {}

        def run(name: str, **kw) -> tuple[float, dict]:
            c, t = _cpu_seconds(), time.perf_counter()
            res = run_scenario(loaded, out=work / name, **quiet, **kw).results
            cpu[name] = _cpu_seconds() - c
            cpu_per_wall[name] = cpu[name] / (time.perf_counter() - t)
            return res["seconds"]["simulations"], res

        t1, r1 = run("jobs1", jobs=1)
        t2, _ = run("jobs2", jobs=2)
        out = {
            "benchmark": "sweep_scaling", "quick": args.quick, "frames_per_job": frames,
            "jobs": r1["jobs"]["unique"], "cpu_count": os.cpu_count(),
            "prepare_seconds": t_prepare, "jobs1_seconds": t1, "jobs2_seconds": t2,
            "jobs2_vs_jobs1_speedup": t1 / t2,
            "jobs1_cpu_per_wall": cpu_per_wall["jobs1"], "jobs2_cpu_per_wall": cpu_per_wall["jobs2"],
            "jobs1_cpu_seconds": cpu["jobs1"], "jobs2_cpu_seconds": cpu["jobs2"],
        }
        identical = _same(work / "jobs1", work / "jobs2")
        if not args.no_ray:
            import ray

            t = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            out["ray_startup_seconds"] = time.perf_counter() - t
            try:
                t_ray, _ = run("ray", backend="ray")
            finally:
                ray.shutdown()
            out["ray_seconds"] = t_ray
            out["ray_vs_jobs1_speedup"] = t1 / t_ray
            identical &= _same(work / "jobs1", work / "ray")
        if not args.no_command:
            out.update(_whole_command(work / "command", args.reps))
        resumed = _killed_and_resumed(sets, work / "resumed", r1["jobs"]["unique"])
        identical &= _same(work / "jobs1", work / "resumed")
        out.update(results_identical=bool(identical), resume_redone_jobs=resumed["redone"],
                   resume_killed_after_rows=resumed["killed_after_rows"],
                   resume_ran_jobs=resumed["resumed_ran"],
                   load_average_1min=[load0, os.getloadavg()[0]],
                   sched_autogroup=_autogroup())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
