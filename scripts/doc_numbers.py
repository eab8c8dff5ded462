"""What the scripts that regenerate a page's numbers from a scenario run share
(``tutorial_numbers.py``, ``baselines_numbers.py``): their command-line options, running the
scenario in this process with its CPU time measured, replacing the page's marked block and
copying the run's figures."""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def add_source_options(ap: argparse.ArgumentParser, what: str, threads: int) -> None:
    """``--run`` / ``--run-dir`` / ``--render-only`` and the options every such script takes."""
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", action="store_true", help=f"run {what} now")
    src.add_argument("--run-dir", type=Path, help=f"an existing run directory of {what}")
    src.add_argument("--render-only", action="store_true",
                     help="rewrite the page's block from the stored numbers file")
    ap.add_argument("--threads", type=int, default=threads, help="torch threads for --run")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="model cache for --run (default: a new temporary directory)")
    ap.add_argument("--out", type=Path, default=None, help="run directory for --run")
    ap.add_argument("--write", action="store_true", help="update the page and the numbers file")
    ap.add_argument("--check", action="store_true", help="exit 1 if the page differs")
    ap.add_argument("--images", action="store_true", help="copy the figures into the docs")


def run_measured(scenario: str, args: argparse.Namespace, extra_args: list[str],
                 prefix: str) -> tuple[Path, float]:
    """``commsldr run SCENARIO --quiet --out OUT --set model.cache_dir=CACHE EXTRA_ARGS`` in this
    process with ``args.threads`` torch threads (a fresh cache unless ``args.cache_dir``).

    Returns:
        (the run directory, CPU seconds of the process, user + system, spent in the run); a
        failed command exits with its status.
    """
    import torch

    from commsldr.cli import main as cli

    torch.set_num_threads(args.threads)
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix=f"commsldr-{prefix}-"))
    out = args.out or Path(tempfile.mkdtemp(prefix=f"commsldr-{prefix}-run-")) / scenario
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    rc = cli(["run", scenario, "--quiet", "--out", str(out), "--set", f"model.cache_dir={cache}",
              *extra_args])
    if rc:
        raise SystemExit(rc)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    print(f"run: {out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return out, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def replace_block(text: str, block: str, begin: str, end: str, page: Path) -> str:
    """``text`` with the part from ``begin`` to ``end`` (markers included) replaced by ``block``."""
    if begin not in text or end not in text:
        raise SystemExit(f"{page}: no {begin} ... {end} block")
    i, j = text.index(begin), text.index(end) + len(end)
    return text[:i] + block + text[j:]


def copy_figures(run_dir: Path, names: tuple[str, ...], dest: Path, prefix: str = "") -> None:
    """Copy ``run_dir/figures/<name>.png`` to ``dest/<prefix><name>.png`` where it exists."""
    for name in names:
        png = run_dir / "figures" / f"{name}.png"
        if png.is_file():
            shutil.copyfile(png, dest / f"{prefix}{name}.png")
