"""Running a scenario: model → operating-point table → simulations → result files and figures.

Steps (each cached or reproducible):

1. **Model** — a checkpoint, a shipped pretrained model, or a training recipe run once and cached
   under ``<cache_dir>/models/<recipe>-<hash of the TrainConfig>/`` (truncated variants: plain
   :meth:`SplitAutoencoder.truncate`, or fine-tuned with the ``truncate`` recipe, also cached).
2. **Table** — :func:`commsldr.link.build_table` on the test set for every variant × scale and
   every packet size ``m`` the sweep uses; cached under ``<cache_dir>/tables/<hash>`` keyed by
   the model id and the coding settings.
3. **Simulations** — for every sweep point, channel, seed and policy:
   :func:`commsldr.link.simulate`. Channel states are drawn from
   ``derive_seed(seed, "channel/<label>")``, so every policy *and every sweep point* of one seed
   sees the same underlying fading draws (common random numbers), and the simulator's own
   streams (image schedule, CSI error, PHY) come from the same seed for every policy.
   Policies other than the Oracle see the scenario's CSI model; the Oracle always sees perfect CSI.
   The PHY's own link adaptation (e.g. the NR MCS choice) sees the same CSI as the policy, also
   for static policies (which ignore it). ``link.max_attempts`` and ``link.deadline_frames``
   set retransmission. Every simulation (and analog run) is an independent job with a stable
   key (:mod:`commsldr.scenario.jobs`; sweep points that agree on a job's settings share it), run
   by a backend (:mod:`commsldr.scenario.backends`: this process, a local pool, Ray); each
   finished job appends its row to ``jobs.jsonl``, which ``resume`` reads back.
4. **Files** — ``config.yaml`` (resolved), ``results.json``, ``results.csv``, ``per_seed.csv``,
   ``timeline.json`` (all built from the job rows) and the figures (:mod:`commsldr.report.plots`).
5. **Paper figures** (optional ``paper_figures`` section) — Figs. 2-5 of the paper for the listed
   models (:func:`commsldr.report.paper_figures.paper_figures`) into ``figures/``, their summary into
   ``paper_figures/summary.json``.

Steps 1 and 2 live in :mod:`commsldr.scenario.assets` (re-exported here: :func:`obtain_model`,
:func:`prepare_table`, :func:`cache_lock`, :func:`training_environment`).
"""

from __future__ import annotations

import errno
import importlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import yaml
from tqdm import tqdm

from commsldr._atomic import atomic_write_text
from commsldr.adapt.regret import regret_summary
from commsldr.cache import resolve_cache_dir
from commsldr.logs import run_log
from commsldr.provenance import provenance
from commsldr.report.results import save_results
from commsldr.rundir import RunDirError, claim_run_dir, discard_run_dir, probe_creatable
from commsldr.scenario import backends
from commsldr.scenario.assets import (
    LazyTrain,
    analog_context,
    cache_lock,
    load_split,
    model_cache_entry,
    obtain_model,
    prepare_table,
    training_environment,
)
from commsldr.scenario.backends import Backend, PoolBackend
from commsldr.scenario.jobs import JobContext
from commsldr.scenario.load import SAFE_NAME, LoadedScenario, phy_class, resolve_model_ref
from commsldr.scenario.plan import SPLIT_AE, Job, RunPlan
from commsldr.scenario.rows import JobRow
from commsldr.scenario.schema import Scenario, ScenarioError
from commsldr.scenario.scheme_assets import cost_table, job_assets, prepare_schemes, scheme_context
from commsldr.scenario.sections import plan_jobs
from commsldr.scenario.store import ROWS_FILE, RowStore

if TYPE_CHECKING:
    from commsldr.link import OperatingPointTable

__all__ = ["RunOutput", "run_scenario", "prepare_table", "obtain_model", "make_run_dir",
           "cache_lock", "training_environment", "model_cache_entry"]

#: a ``print``-like function for status lines
Log = Callable[[str], object]

logger = logging.getLogger("commsldr.run")


@dataclass(frozen=True)
class RunOutput:
    """What a run produced: its directory and the results written there."""

    run_dir: Path
    results: dict[str, object]


def make_run_dir(sc: Scenario, out: str | Path | None = None, *, overwrite: bool = False) -> Path:
    """Create the run directory: ``out`` if given, else ``<outputs.dir>/<name>/<YYYYmmdd-HHMMSS>``.

    The default directory is created with one atomic ``mkdir`` under a fresh name (``-1``,
    ``-2``, ... appended when taken), so two runs started in the same second never share it, and
    it always lies under ``outputs.dir`` (``name`` must be a safe path component). An ``out``
    that already holds files is refused unless ``overwrite``.

    Raises:
        ScenarioError: an unsafe name, an ``out`` that is a file or not empty, or a directory
            that cannot be created (naming ``--out`` or ``outputs.dir``).
    """
    if out is not None:  # created, locked and checked under the lock (commsldr.rundir)
        try:
            return claim_run_dir(out, key="--out", overwrite=overwrite)
        except RunDirError as e:
            raise ScenarioError(e.key, e.message) from None
    if not SAFE_NAME.fullmatch(sc.name) or not sc.name.strip("."):
        raise ScenarioError("name", f"{sc.name!r} is not a safe directory name")
    root = Path(sc.outputs.dir)
    base = root / sc.name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        base.mkdir(parents=True, exist_ok=True)
        for i in range(10_000):
            path = base / (stamp if i == 0 else f"{stamp}-{i}")
            try:
                path.mkdir()  # atomic: exactly one process creates each name
                break
            except FileExistsError:
                continue
        else:
            raise ScenarioError("outputs.dir", f"no free run directory name under {base}")
    except OSError as e:
        raise ScenarioError("outputs.dir", f"cannot create a run directory under {base}: "
                                           f"{e.strerror or e}") from None
    if not path.resolve().is_relative_to(root.resolve()):  # e.g. a symlinked <name>
        path.rmdir()
        raise ScenarioError("name", f"the run directory {path} resolves outside outputs.dir "
                                    f"({root})")
    try:
        return claim_run_dir(path, key="outputs.dir", fresh=True)
    except RunDirError as e:
        raise ScenarioError(e.key, e.message) from None


def run_scenario(
    loaded: LoadedScenario,
    *,
    out: str | Path | None = None,
    progress: bool = True,
    plot: bool = True,
    log: Log | None = None,
    jobs: int | None = 1,
    backend: str = "local",
    address: str | None = None,
    resume: bool = False,
    device: str = "cpu",
    overwrite: bool = False,
) -> RunOutput:
    """Run a loaded (validated) scenario and write its run directory.

    The simulations are the independent jobs of :func:`commsldr.scenario.jobs.plan_jobs`; a
    backend (:mod:`commsldr.scenario.backends`) runs them, each finished job's row is appended to
    ``<run_dir>/jobs.jsonl``, and every result file is built from the rows at the end, so the
    results do not depend on the backend, the worker count or the order jobs finish in.

    Args:
        loaded: from :func:`commsldr.scenario.load_scenario`.
        out: the run directory (default ``<outputs.dir>/<name>/<timestamp>``).
        progress: tqdm progress bars.
        plot: draw the figures (``commsldr plot RUN_DIR`` can draw them later).
        log: a ``print``-like function for status lines (default: the ``commsldr.run``
            logger at INFO; a given function is called and the lines are logged at DEBUG).
        jobs: worker processes of the ``local`` backend (1: in this process; ``None``: all
            cores); for ``ray`` without an address, the CPUs of the local Ray instance.
        backend: ``"local"`` or ``"ray"``.
        address: the Ray cluster (``"auto"`` or ``"HOST:PORT"``; ``None``: a local instance).
        resume: ``out`` is an interrupted run directory: keep its ``config.yaml`` and the rows in
            its ``jobs.jsonl``, run only the jobs without a row.
        device: ``"cpu"`` or ``"cuda"``: where the network inference of the table build runs.
        overwrite: allow ``out`` to be a directory that already holds files.

    Every ``commsldr`` log record of the run (these status lines, the per-epoch training lines)
    also goes to ``run.log`` in the run directory (appended to on resume).

    Returns:
        :class:`RunOutput` with the run directory and the results dict (as in ``results.json``).
    """
    sc = loaded.scenario
    runner = backends.make_backend(backend, jobs=jobs, address=address)
    try:  # before any directory exists: the model and its table are cached there
        probe_creatable(resolve_cache_dir(sc.model.cache_dir), "model.cache_dir")
    except RunDirError as e:
        raise ScenarioError(e.key, e.message) from None
    made: Path | None = None  # the highest folder this call creates (removed if the run fails)
    if resume:
        if out is None or not (Path(out) / "config.yaml").is_file():
            raise FileNotFoundError(f"{out}: not a run directory (no config.yaml)")
        run_dir = claim_run_dir(out, key="--resume", resume=True)  # locked, no links inside
    else:
        made = _first_missing(Path(out) if out is not None else Path(sc.outputs.dir) / sc.name)
        run_dir = make_run_dir(sc, out, overwrite=overwrite)
        if out is None and made is None:
            made = run_dir  # <outputs.dir>/<name> existed: the timestamped folder is new
    if log is None:
        emit = logger.info
    else:
        def emit(msg: str) -> None:
            log(msg)
            logger.debug(msg)
    try:
        with run_log(run_dir / "run.log"):
            try:
                return _run(loaded, run_dir, progress=progress, plot=plot, log=emit,
                            runner=runner, resume=resume, device=device)
            except BaseException:
                logger.debug("run failed", exc_info=True)  # the traceback goes to run.log only
                raise
    except Exception as exc:  # a run that stopped before any job finished leaves no directory
        rows = run_dir / ROWS_FILE
        started = rows.is_file() and rows.stat().st_size > 0  # finished jobs: --resume can use them
        # a full disk keeps it: the message says to free space and --resume RUN_DIR
        full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        if made is not None and not started and not full:
            discard_run_dir(run_dir)
            _remove_empty(run_dir.parent, made)
        raise


def _first_missing(path: Path) -> Path | None:
    """The highest folder of ``path`` (itself included) that does not exist yet, or ``None``."""
    missing = None
    try:
        for p in (path, *path.parents):
            if p.exists() or p.is_symlink():
                break
            missing = p
    except OSError:  # e.g. a name too long: make_run_dir reports it
        return None
    return missing


def _remove_empty(folder: Path, top: Path) -> None:
    """Remove ``folder`` and its parents up to ``top`` while they are empty (folders a failed
    run created for its run directory; one that another process filled in meanwhile stays)."""
    try:
        top = top.absolute()
        folder = folder.absolute()
        while folder == top or top in folder.parents:
            folder.rmdir()  # only an empty folder; never follows a link
            if folder == top:
                break
            folder = folder.parent
    except OSError:
        pass


#: the provenance of the command that started a run, written when it starts
FIRST_PROVENANCE_FILE = "provenance.json"


def _provenance(run_dir: Path, resume: bool) -> dict[str, object]:
    """This command's provenance; for a resumed run, with the ``--set`` overrides of the command
    that started it (they shaped ``config.yaml``) and that command's record as ``first_run``."""
    prov = provenance()
    if not resume:
        return prov
    first = None
    path = run_dir / FIRST_PROVENANCE_FILE
    try:
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1 << 20:
            first = json.loads(path.read_text())
    except (OSError, ValueError):
        first = None
    if isinstance(first, dict) and isinstance(first.get("overrides"), list):
        prov["overrides"] = [str(o) for o in first["overrides"]]
        prov["first_run"] = first
    else:  # a run directory from before this file existed, or a damaged one
        prov["first_run"] = None
    return prov


def _run(loaded: LoadedScenario, run_dir: Path, *, progress: bool, plot: bool, log: Log,
         runner: Backend, resume: bool, device: str) -> RunOutput:
    sc = loaded.scenario
    if not resume:
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(sc.to_dict(), sort_keys=False))
        # what started the run: a resumed run's results keep its command and --set overrides
        atomic_write_text(run_dir / FIRST_PROVENANCE_FILE, json.dumps(provenance()) + "\n")
    log(f"run: {run_dir}")
    t0 = time.perf_counter()
    # assets: the split autoencoder's table and every scheme's product, built once here
    table = prepare_table(loaded, log=log, progress=progress, device=device)
    t_table = time.perf_counter() - t0
    table_id = str(table.meta["cache_key"])
    scheme_ctx = scheme_context(loaded, table_fn=lambda: table, log=log, progress=progress)
    prepared = prepare_schemes(loaded, scheme_ctx, table_id, log)
    extra: dict[str, object] = {}  # plug-in sections' shared inputs, filled while planning
    plan = plan_jobs(loaded, table_id, {label: p.ref for label, p in prepared.items()
                                        if label != SPLIT_AE}, extra)
    # jobs: every section's, through the backend; rows appended to jobs.jsonl as they finish
    store = RowStore(run_dir / ROWS_FILE, resume=resume)
    todo = [j for j in plan.jobs if not store.done(j)]
    digital, analog_schemes = job_assets(prepared, scheme_ctx)
    ctx = JobContext(points=[p.scenario for p in loaded.points], digital=digital,
                     analog=(analog_context(loaded, log, progress)
                             if any(j.kind == "analog" for j in todo) else None),
                     analog_schemes=analog_schemes, extra=extra, plugins=list(sc.plugins))
    log(f"jobs: {len(plan.jobs)} ({plan.cells} cells), {len(plan.jobs) - len(todo)} "
        f"already done; backend {runner.name}"
        + (f" × {runner.workers}" if isinstance(runner, PoolBackend) else ""))
    for point in loaded.points:
        phy_class(point.scenario.link.phy)
    bar = tqdm(total=len(plan.jobs), initial=len(plan.jobs) - len(todo), desc="simulations",
               disable=None if progress else True, unit="job")  # None: off if not a tty

    def on_done(job: Job, row: JobRow) -> None:
        store.append(job, row)
        bar.update(1)

    t_sim = time.perf_counter()
    try:
        # while the workers simulate, this process loads the plotting library it needs next
        runner.run(ctx, todo, on_done, idle=_import_plots if plot else None)
    except KeyboardInterrupt:
        bar.close()
        done = sum(store.done(j) for j in plan.jobs)
        log(f"interrupted: {done} of {len(plan.jobs)} jobs done; continue with: "
            f"commsldr run --resume {run_dir}")
        raise
    finally:
        bar.close()
    t_sim = time.perf_counter() - t_sim
    # outputs: every section's rows, in plan order
    results = _assemble(loaded, plan, store.rows, table)
    results["schemes"] = {label: p.description for label, p in prepared.items()}
    results["seconds"] = {"table": t_table, "simulations": t_sim,
                          "total": time.perf_counter() - t0}
    results["jobs"] = {"unique": len(plan.jobs), "cells": plan.cells, "ran": len(todo),
                       "backend": runner.name}
    results["provenance"] = _provenance(run_dir, resume)
    save_results(run_dir, results)
    atomic_write_text(run_dir / "sensor_cost.md", cost_table(results))
    for section in plan.sections:  # a section's own files (the cell's tables and figures)
        own = section.write_outputs(run_dir, store.rows, figures=plot, formats=sc.outputs.formats)
        if own:
            log(f"{type(section).__name__}: {', '.join(p.name for p in own)}")
    if plot:
        written = plot_module().plot_run(run_dir, figures=sc.outputs.figures,
                                         formats=sc.outputs.formats,
                                         jobs=getattr(runner, "workers", 1))
        log(f"figures: {', '.join(p.name for p in written)}")
    if sc.paper_figures.models:
        t_paper = time.perf_counter()
        _paper_figures(sc, run_dir, log, progress)
        log(f"paper figures in {time.perf_counter() - t_paper:.1f} s")
    log(f"done in {time.perf_counter() - t0:.1f} s: {run_dir}")
    return RunOutput(run_dir=run_dir, results=results)


def plot_module() -> ModuleType:
    """The plotting module (imported on first use: matplotlib costs a second at start-up)."""
    return importlib.import_module("commsldr.report.plots")


def _import_plots() -> None:
    plot_module()


def _assemble(loaded: LoadedScenario, plan: RunPlan, job_rows: Mapping[str, JobRow],
              table: OperatingPointTable) -> dict[str, object]:
    """The results dict (``results.json``) from the job rows: every section's rows, per-seed
    rows and timeline lines in plan order (the results do not depend on the order jobs ran in)."""
    sc = loaded.scenario
    rows: list[dict[str, object]] = []
    per_seed: list[dict[str, object]] = []
    timeline: dict[str, dict[str, object]] = {}
    curves: dict[tuple[object, ...], object] = {}
    for section in plan.sections:
        part = section.assemble(job_rows)
        rows += [r.to_dict() for r in part.rows]
        per_seed += [r.to_dict() for r in part.per_seed]
        for ch, lines in part.timeline.items():
            timeline.setdefault(ch, {}).update(lines)
        curves.update(part.curves)
    m = sc.link.images_per_packet
    return {
        "scenario": sc.name,
        "sweep_keys": list(sc.sweep),
        "sweep_values": [p.values for p in loaded.points],
        "channels": list(sc.channels),
        "policies": list(sc.policies),
        "seeds": list(sc.seeds),
        "frames": sc.frames,
        "ci": sc.outputs.ci,
        "confidence": sc.outputs.confidence,
        "model": {"source": table.meta.get("source"), "model_id": table.model_id},
        "operating_points": [
            {"k": p.k, "scale": p.scale, "accuracy": float(a), "bits_per_image": float(b) / m}
            for p, a, b in zip(table.points, table.accuracy(), table.mean_packet_bits(m),
                               strict=True)
        ],
        "timeline_point": loaded.points[plan.timeline_point].values,
        "rows": rows,
        "per_seed": per_seed,
        "timeline": timeline,
        **_regret(sc, plan, curves),
    }


def _regret(sc: Scenario, plan: RunPlan,
            curves: Mapping[tuple[object, ...], object]) -> dict[str, object]:
    """``{"regret": ...}`` when the jobs stored correct-count curves (figure ``regret``): the
    cumulative regret of every policy vs the Oracle and the best fixed point in hindsight."""
    if not curves:
        return {}
    refs: dict[str, str] = {}
    for kind, ptype in (("oracle", "oracle"), ("hindsight", "best-fixed-hindsight")):
        label = next((k for k, v in sc.policies.items() if v.type == ptype), None)
        if label is not None:
            refs[kind] = label
    return {"regret": {"point": plan.timeline_point, "references": refs,
                       "curves": regret_summary(curves, refs,  # type: ignore[arg-type]
                                                confidence=sc.outputs.confidence)}}


def _paper_figures(sc: Scenario, run_dir: Path, log: Log, progress: bool) -> dict[str, object]:
    """The ``paper_figures`` section: Figs. 2-5 of the listed models on the scenario's test set."""
    # imported here: it loads matplotlib, which a run without this section never needs
    from commsldr.report.paper_figures import paper_figures

    pf = sc.paper_figures
    models = {lbl: resolve_model_ref(ref, f"paper_figures.models.{lbl}")
              for lbl, ref in pf.models.items()}
    test = load_split(sc, "test", progress)
    # the training split only for checkpoints without latent statistics
    train = LazyTrain(sc, progress)
    log(f"paper figures: {len(models)} model(s) on {len(test)} test images")
    return paper_figures(models, test, run_dir / "paper_figures", train=train,
                         figures_dir=run_dir / "figures", entropy_targets=pf.entropy_targets,
                         rule=sc.coding.rule, distortions=pf.distortions, seed=sc.seeds[0],
                         rate_labels=pf.rate_models or None,
                         distortion_labels=pf.distortion_models or None,
                         truncation_labels=pf.truncation_models or None,
                         progress=progress, log=log)
