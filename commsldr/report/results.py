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
from commsldr.errors import show

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


#: columns of a result row that hold numbers (``null``: NaN, e.g. the latency of a policy that
#: delivered nothing; never the accuracy)
_ROW_NUMBERS = ("point", "seed", "mean_capacity_bits", "mean_snr_db", "accuracy", "accuracy_low",
                "accuracy_high", "delivered_rate", "outage_probability", "capacity_violations",
                "switches_per_1000", "mean_bits_per_image", "images", "correct", "frames",
                "latency_frames", "accuracy_se", "block_frames", "seeds", "sensor_macs",
                "channel_uses_per_image")
#: columns every row has, and their kind (the figures read them)
_ROW_REQUIRED = {"channel": str, "policy": str, "accuracy": float, "accuracy_low": float,
                 "accuracy_high": float}
#: columns that hold text when present (labels and kinds)
_ROW_TEXT = ("scheme", "policy_type", "scheme_type", "ci_method")
#: top-level entries and their JSON kind (when present)
_TOP_KINDS: dict[str, type | tuple[type, ...]] = {
    "rows": list, "per_seed": list, "channels": list, "policies": list, "sweep_keys": list,
    "sweep_values": list, "operating_points": list, "schemes": dict, "timeline": dict,
    "timeline_point": (dict, type(None)), "regret": dict, "scenario": str, "seeds": list,
    "ci": str}
#: top-level entries every results.json has (the figures read them)
_TOP_REQUIRED = ("rows", "scenario", "channels")
#: top-level lists whose entries are text (labels and dotted keys)
_TOP_TEXT_LISTS = ("channels", "policies", "sweep_keys")
#: series every timeline line has (the timeline figure draws them)
_TIMELINE_SERIES = ("capacity_bits", "packet_bits", "k", "delivered", "num_correct")
#: the lists of a regret curve (same length, numbers; ``null``: NaN)
_REGRET_SERIES = ("frames", "regret", "regret_low", "regret_high")


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _kind(v: object) -> str:
    return "null" if v is None else type(v).__name__


def _check_points(points: object, where: str, *, need_k: bool) -> None:
    """Operating points: objects with numbers ``accuracy`` and ``bits_per_image`` (and ``k``
    for the table's own), ``sensor_macs`` a number or null when present."""
    if not isinstance(points, list):
        raise ValueError(f"{where}: expected a list, got {_kind(points)}")
    for i, op in enumerate(points):
        needed = ("accuracy", "bits_per_image", "k") if need_k else ("accuracy", "bits_per_image")
        if not (isinstance(op, dict) and all(_is_number(op.get(k)) for k in needed)):
            raise ValueError(f"{where}[{i}]: expected an object with numbers "
                             f"{', '.join(needed)}")
        if op.get("sensor_macs") is not None and not _is_number(op["sensor_macs"]):
            raise ValueError(f"{where}[{i}].sensor_macs: expected a number, got "
                             f"{show(op['sensor_macs'])}")


def _check_regret(regret: dict[str, Any]) -> None:
    """``regret``: ``{point, references: {kind: label}, curves: [{point, channel, policy,
    reference, frames, regret, regret_low, regret_high}]}`` (lists of equal length)."""
    where = "results.json: regret"
    point = regret.get("point")
    if point is not None and not (isinstance(point, int) and not isinstance(point, bool)):
        raise ValueError(f"{where}.point: expected an integer, got {show(point)}")
    refs = regret.get("references", {})
    if not (isinstance(refs, dict) and all(isinstance(v, str) for v in refs.values())):
        raise ValueError(f"{where}.references: expected an object of policy labels")
    curves = regret.get("curves", [])
    if not isinstance(curves, list):
        raise ValueError(f"{where}.curves: expected a list, got {_kind(curves)}")
    for i, e in enumerate(curves):
        at = f"{where}.curves[{i}]"
        if not isinstance(e, dict):
            raise ValueError(f"{at}: expected an object, got {_kind(e)}")
        for name in ("channel", "policy", "reference"):
            if not isinstance(e.get(name), str):
                raise ValueError(f"{at}.{name}: expected text, got {show(e.get(name))}")
        if "point" not in e:
            raise ValueError(f"{at}: no 'point'")
        lengths = set()
        for name in _REGRET_SERIES:
            values = e.get(name)
            if not (isinstance(values, list) and values
                    and all(v is None or _is_number(v) for v in values)):
                raise ValueError(f"{at}.{name}: expected a non-empty list of numbers")
            lengths.add(len(values))
        if len(lengths) > 1:
            raise ValueError(f"{at}: {', '.join(_REGRET_SERIES)} of different lengths "
                             f"{sorted(lengths)}")
        if any(v is None for v in e["frames"]):
            raise ValueError(f"{at}.frames: expected numbers, got null")


def _check_shape(results: object) -> None:
    """Raise ValueError naming the first entry of a result file that does not have the shape
    :func:`save_results` writes (a run directory is data: it may have been edited)."""
    if not isinstance(results, dict):
        raise ValueError(f"results.json: expected a JSON object, got {type(results).__name__}")
    for key in _TOP_REQUIRED:
        if key not in results:
            raise ValueError(f"results.json: no {key!r}")
    for key, kind in _TOP_KINDS.items():
        if key in results and not isinstance(results[key], kind):
            raise ValueError(f"results.json: '{key}' has the wrong kind "
                             f"({type(results[key]).__name__})")
    for key in _TOP_TEXT_LISTS:
        for i, v in enumerate(results.get(key) or []):
            if not isinstance(v, str):
                raise ValueError(f"results.json: {key}[{i}]: expected text, got {show(v)}")
    if not results["channels"]:
        raise ValueError("results.json: 'channels' is empty (a run has at least one channel)")
    for i, v in enumerate(results.get("seeds") or []):
        if not (isinstance(v, int) and not isinstance(v, bool)):
            raise ValueError(f"results.json: seeds[{i}]: expected an integer, got {show(v)}")
    conf = results.get("confidence", 0.95)
    if not (_is_number(conf) and 0.0 < conf < 1.0):
        raise ValueError(f"results.json: confidence: expected a number in (0, 1), got {show(conf)}")
    for i, v in enumerate(results.get("sweep_values") or []):
        if not isinstance(v, dict):
            raise ValueError(f"results.json: sweep_values[{i}]: expected an object, got "
                             f"{show(v)}")
    sweep_keys = results.get("sweep_keys") or []
    for table in ("rows", "per_seed"):
        for i, row in enumerate(results.get(table) or []):
            where = f"results.json: {table}[{i}]"
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected an object, got {type(row).__name__}")
            for name, kind in _ROW_REQUIRED.items():
                if name not in row:
                    raise ValueError(f"{where}: no '{name}'")
                if kind is str and not isinstance(row[name], str):
                    raise ValueError(f"{where}.{name}: expected text, got {show(row[name])}")
            for name in _ROW_TEXT:
                if row.get(name) is not None and not isinstance(row[name], str):
                    raise ValueError(f"{where}.{name}: expected text, got {show(row[name])}")
            for name in _ROW_NUMBERS:
                v = row.get(name)
                if name in row and not (_is_number(v) or (v is None and name != "accuracy")):
                    raise ValueError(f"{where}.{name}: expected a number, got {show(v)}")
            for key in sweep_keys:  # a swept value: a scalar (a number, text, true/false)
                if isinstance(row.get(key), (dict, list)):
                    raise ValueError(f"{where}.{key}: expected a number or text, got "
                                     f"{show(row[key])}")
    _check_points(results.get("operating_points") or [], "results.json: operating_points",
                  need_k=True)
    for label, scheme in (results.get("schemes") or {}).items():
        if not isinstance(scheme, dict):
            raise ValueError(f"results.json: schemes.{label}: expected an object, got "
                             f"{_kind(scheme)}")
        _check_points(scheme.get("operating_points") or [],
                      f"results.json: schemes.{label}.operating_points", need_k=False)
    if results.get("regret"):
        _check_regret(results["regret"])


def _check_timeline(timeline: object) -> None:
    """``timeline.json``: ``{channel: {line: {series: [numbers or booleans or null, ...] or a
    number}}}``, the series of a channel's lines of equal length; every line has the series the
    timeline figure draws and a positive ``images_per_packet``."""
    if not isinstance(timeline, dict):
        raise ValueError(f"timeline.json: expected a JSON object, got {type(timeline).__name__}")
    for ch, lines in timeline.items():
        if not isinstance(lines, dict):
            raise ValueError(f"timeline.json: {show(ch)}: expected an object of lines")
        if not lines:
            raise ValueError(f"timeline.json: {show(ch)}: no lines")
        lengths = set()
        for label, series in lines.items():
            where = f"timeline.json: {show(ch)}.{show(label)}"
            if not isinstance(series, dict):
                raise ValueError(f"{where}: expected an object of series")
            for name, values in series.items():
                if isinstance(values, list):
                    lengths.add(len(values))
                    if not all(v is None or isinstance(v, (int, float)) for v in values):
                        raise ValueError(f"{where}.{name}: expected numbers")
                elif not _is_number(values):
                    raise ValueError(f"{where}.{name}: expected a list or a number, got "
                                     f"{show(values)}")
            for name in _TIMELINE_SERIES:
                if not isinstance(series.get(name), list):
                    raise ValueError(f"{where}: no '{name}' list")
            m = series.get("images_per_packet")
            if not (_is_number(m) and m > 0):
                raise ValueError(f"{where}.images_per_packet: expected a positive number, got "
                                 f"{show(m)}")
            if len(lengths) > 1:
                raise ValueError(f"{where}: series of different lengths {sorted(lengths)}")


def _nan_lists(node: dict[str, Any], names: tuple[str, ...] | None = None) -> None:
    """``null`` entries of the lists in ``node`` (all, or ``names``) back to NaN."""
    for name, values in node.items():
        if isinstance(values, list) and (names is None or name in names):
            node[name] = [math.nan if v is None else v for v in values]


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """Read a run directory written by :func:`save_results`.

    Raises:
        FileNotFoundError: ``results.json`` is missing (the message names the directory).
        ValueError: a result file is not valid JSON, or not of the shape :func:`save_results`
            writes (the message names the directory and the first entry that is not).
    """
    run_dir = Path(run_dir)
    path = run_dir / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no results.json (is this a run directory?)")
    try:
        results = json.loads(path.read_text())
        tl = run_dir / "timeline.json"
        _check_shape(results)
        results["timeline"] = json.loads(tl.read_text()) if tl.is_file() else {}
        _check_timeline(results["timeline"])
    except (json.JSONDecodeError, ValueError) as e:
        raise ValueError(f"{run_dir}: corrupt result file: {e}") from None
    _restore_nan(results.get("rows", []))
    _restore_nan(results.get("per_seed", []))
    for lines in results["timeline"].values():  # a NaN of a series was written as null
        for series in lines.values():
            _nan_lists(series)
    for curve in (results.get("regret") or {}).get("curves", []):
        _nan_lists(curve, _REGRET_SERIES)
    return results
