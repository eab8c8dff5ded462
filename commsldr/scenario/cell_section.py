"""The ``cell:`` section of a scenario: cell runs as ``cell`` jobs, their result files and figures.

One job per number of sensors × scheduler × policy × seed runs
:func:`commsldr.cell.simulate_cell` on the split autoencoder's operating-point table; its key
hashes the table, the cell settings, N, the scheduler with its parameters, the policy with its
parameters, ``link.images_per_packet``, ``link.fallback``, ``link.max_attempts``,
``link.deadline_frames``, ``link.packet_interval_frames`` and ``link.harq_timing`` (when set),
the CSI model and the seed, so a resumed run skips finished cells. The section writes (:meth:`CellRunSection.write_outputs`):

* ``cell.csv`` — one row per job (:data:`commsldr.cell.CELL_COLUMNS`);
* ``cell_sensors.csv`` — one row per sensor and job (:data:`commsldr.cell.SENSOR_COLUMNS` plus
  ``num_sensors``, ``scheduler``, ``policy``, ``seed``);
* ``cell.json`` — both, and the cell settings;
* figures (:mod:`commsldr.report.cell_figures`): ``cell_accuracy_vs_sensors``, ``cell_accuracy_cdf``,
  ``cell_map``.

The section does not use ``sweep``; its lists (``sensors``, ``schedulers``, ``policies``) are
its sweep.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commsldr._atomic import atomic_write_text
from commsldr.cell import CellConfig, simulate_cell
from commsldr.cell.topology import SCENARIO_DEFAULTS
from commsldr.scenario.cell_checks import cell_config
from commsldr.scenario.plan import (
    SPLIT_AE,
    Job,
    RunAssets,
    Section,
    register_job_kind,
    register_section,
)
from commsldr.scenario.rows import JobRow, SectionResult
from commsldr.scenario.schema import Scenario

if TYPE_CHECKING:
    from commsldr.scenario.jobs import JobContext
    from commsldr.scenario.load import LoadedScenario

__all__ = ["CellRunSection", "run_cell"]

_FORMAT = 1
_EXTRA_KEY = "cell_jobs"


def _policies(sc: Scenario) -> list[str]:
    return list(sc.cell.policies) or list(sc.policies)


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV of ``rows`` (columns: the first row's, in order; NaN as an empty cell)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if isinstance(v, float) and v != v else v) for k, v in r.items()})
    return buf.getvalue()


def _key(spec: Mapping[str, object]) -> str:
    text = json.dumps(spec, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class CellRunSection(Section):
    """The ``cell`` jobs of a scenario and their result files (module docstring)."""

    def __init__(self, loaded: LoadedScenario, assets: RunAssets) -> None:
        sc = loaded.points[0].scenario
        self.scenario = sc
        cell = sc.cell
        specs: dict[str, dict[str, object]] = {}
        self.order: list[str] = []
        jobs: list[Job] = []
        for n in cell.sensors:
            for sched in cell.schedulers:
                for label in _policies(sc):
                    pc = sc.policies[label]
                    for seed in sc.seeds:
                        spec: dict[str, object] = {
                            "format": _FORMAT, "kind": "cell", "table": assets.table_id,
                            "config": cell_config(sc, n, sched).to_dict(),
                            "policy": {"type": pc.type, "params": dict(pc.params)},
                            "policy_label": label,
                            "images_per_packet": sc.link.images_per_packet,
                            "fallback": sc.link.fallback,
                            "max_attempts": sc.link.max_attempts,
                            "deadline_frames": sc.link.deadline_frames,
                            "csi": {"type": sc.csi.type, "params": dict(sc.csi.params)},
                            "seed": int(seed)}
                        # only when set, so that the keys of earlier runs stay valid
                        if sc.link.packet_interval_frames != 1:
                            spec["packet_interval_frames"] = sc.link.packet_interval_frames
                        if sc.link.harq_timing is not None:
                            spec["harq_timing"] = dict(sc.link.harq_timing)
                        key = _key(spec)
                        self.order.append(key)
                        if key not in specs:
                            specs[key] = spec
                            jobs.append(Job(key, "cell", 0, "cell", int(seed), label, SPLIT_AE))
        assets.extra[_EXTRA_KEY] = {**dict(assets.extra.get(_EXTRA_KEY, {})), **specs}  # type: ignore[arg-type]
        self.specs = specs
        self.jobs = jobs
        self.cells = len(self.order)

    def assemble(self, rows: Mapping[str, JobRow]) -> SectionResult:
        """Nothing in ``results.csv`` (a cell row has other columns): see :meth:`write_outputs`."""
        return SectionResult()

    def tables(self, rows: Mapping[str, JobRow]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(cell rows, sensor rows)`` in plan order."""
        cells: list[dict[str, Any]] = []
        sensors: list[dict[str, Any]] = []
        for key in dict.fromkeys(self.order):
            row = rows[key]
            cell_row = dict(row["cell"])  # type: ignore[call-overload]
            cells.append(cell_row)
            tag = {k: cell_row[k] for k in ("num_sensors", "scheduler", "policy", "seed")}
            sensors += [{**tag, **s} for s in row["sensors"]]  # type: ignore[attr-defined]
        return cells, sensors

    def write_outputs(self, run_dir: Path, rows: Mapping[str, JobRow], *, figures: bool,
                      formats: Sequence[str]) -> list[Path]:
        """Write ``cell.csv``, ``cell_sensors.csv``, ``cell.json`` and (``figures``) the
        figures; returns the paths."""
        cells, sensors = self.tables(rows)
        settings = self.scenario.cell
        files = {
            "cell.csv": _csv_text(cells),
            "cell_sensors.csv": _csv_text(sensors),
            "cell.json": json.dumps({"settings": {"sensors": settings.sensors,
                                                  "schedulers": settings.schedulers,
                                                  "scheduler_params": settings.scheduler_params,
                                                  "policies": _policies(self.scenario),
                                                  "frames": settings.frames,
                                                  "settings": settings.settings},
                                     "cells": cells, "sensors": sensors}, indent=1, default=str),
        }
        paths = []
        for name, text in files.items():
            atomic_write_text(run_dir / name, text)
            paths.append(run_dir / name)
        if figures:
            from commsldr.report.cell_figures import plot_cell  # matplotlib only when drawing

            first = cell_config(self.scenario, settings.sensors[0], settings.schedulers[0])
            isd = first.isd_m if first.isd_m is not None else SCENARIO_DEFAULTS[first.scenario]["isd_m"]
            paths += plot_cell(run_dir, cells, sensors, formats=formats, isd_m=isd)
        return paths


def run_cell(ctx: JobContext, job: Job) -> JobRow:
    """Run one ``cell`` job: :func:`commsldr.cell.simulate_cell` on the split autoencoder's
    table; the row holds the cell row and the sensor rows."""
    spec = ctx.extra[_EXTRA_KEY][job.key]  # type: ignore[index]
    config = CellConfig.from_dict(dict(spec["config"]))
    policy = {"name": spec["policy"]["type"], **spec["policy"]["params"]}
    res = simulate_cell(config, ctx.table, policy, seed=int(spec["seed"]),
                        images_per_packet=int(spec["images_per_packet"]),
                        fallback=str(spec["fallback"]),
                        csi={"name": spec["csi"]["type"], **spec["csi"]["params"]},
                        max_attempts=int(spec["max_attempts"]),
                        deadline_frames=int(spec["deadline_frames"]),
                        packet_interval_frames=int(spec.get("packet_interval_frames", 1)),
                        harq_timing=spec.get("harq_timing"))
    cell_row = {**res.cell_row, "policy": spec["policy_label"]}
    return {"cell": cell_row, "sensors": res.sensor_rows}


def cell_sections(loaded: LoadedScenario, assets: RunAssets) -> list[Section]:
    """The scenario's cell section (none without ``cell.sensors``)."""
    if not loaded.points[0].scenario.cell.sensors:
        return []
    return [CellRunSection(loaded, assets)]


register_job_kind("cell", run_cell)
register_section(cell_sections)
