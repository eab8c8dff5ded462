"""Result files of a scenario run: ``results.json``, ``results.csv``, ``per_seed.csv``, ``timeline.json``.

``results.json`` holds everything except the per-frame timelines (``timeline.json``); the CSV
files are the same rows for spreadsheets and pandas. NaN (e.g. the mean SNR of a capacity-only
channel) is written as ``null`` in JSON and as an empty cell in CSV. :func:`load_results` reads a
run directory back into the dict :func:`save_results` was given (NaN restored), which is what
``commsldr plot RUN_DIR`` draws from.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from commsldr._atomic import atomic_write_text
from commsldr.csv_cells import safe_cell

__all__ = ["save_results", "load_results", "RESULT_FILES"]

RESULT_FILES = ("results.json", "results.csv", "per_seed.csv", "timeline.json")
_NAN_FIELDS = ("mean_snr_db", "capacity_violations", "mean_capacity_bits", "mean_bits_per_image",
               "sensor_macs", "channel_uses_per_image")


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _clean(obj.item())
    return obj


def _csv_text(rows: list[dict[str, Any]]) -> str:
    import io

    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writerow({c: safe_cell(c) for c in columns})  # no cell is a spreadsheet formula
    for r in rows:
        w.writerow({k: safe_cell("" if v is None else json.dumps(v) if isinstance(v, (list, dict))
                                 else v) for k, v in _clean(r).items()})
    return buf.getvalue()


def save_results(run_dir: str | Path, results: dict[str, Any]) -> list[Path]:
    """Write the result files of a run into ``run_dir``; returns their paths."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    main = {k: v for k, v in results.items() if k != "timeline"}
    files = {
        "results.json": json.dumps(_clean(main), indent=1, allow_nan=False),
        "results.csv": _csv_text(results.get("rows", [])),
        "per_seed.csv": _csv_text(results.get("per_seed", [])),
        "timeline.json": json.dumps(_clean(results.get("timeline", {})), allow_nan=False),
    }
    paths = []
    for name, text in files.items():
        atomic_write_text(run_dir / name, text)
        paths.append(run_dir / name)
    return paths


def _restore_nan(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        for f in _NAN_FIELDS:
            if f in r and r[f] is None:
                r[f] = float("nan")


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """Read a run directory written by :func:`save_results`.

    Raises:
        FileNotFoundError: ``results.json`` is missing (the message names the directory).
        ValueError: a result file is not valid JSON.
    """
    run_dir = Path(run_dir)
    path = run_dir / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no results.json (is this a run directory?)")
    try:
        results = json.loads(path.read_text())
        tl = run_dir / "timeline.json"
        results["timeline"] = json.loads(tl.read_text()) if tl.is_file() else {}
    except json.JSONDecodeError as e:
        raise ValueError(f"{run_dir}: corrupt result file: {e}") from None
    _restore_nan(results.get("rows", []))
    _restore_nan(results.get("per_seed", []))
    return results
