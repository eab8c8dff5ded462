"""Regenerate the numbers of the baselines guide (``docs/guide/baselines.md``) from a run.

    python scripts/baselines_numbers.py baselines_quick --run --write --images   # a fresh run
    python scripts/baselines_numbers.py baselines_cifar10 --run-dir runs/bc10 --write --images
    python scripts/baselines_numbers.py baselines_quick --run-dir DIR --check

For the scenario named (``baselines_quick`` or ``baselines_cifar10``) the script reads a run
directory (``--run-dir``) or runs the scenario now in this process (``--run``, with a fresh model
cache unless ``--cache-dir``; extra ``--set`` overrides are passed on, e.g. a local CIFAR-10
copy), and collects: the accuracy table of the first channel (every scheme and policy at every
SNR of the sweep) with its interval method and widest half-width, the largest difference to the
other channels, the mean frame capacity per SNR, every scheme's operating points with every
packet delivered (bits per image with header and CRC, accuracy, sensor MACs), facts the guide's
text rests on (smallest packet per scheme, best scheme at the lowest and highest SNR, the widest
gap between the adaptive policy and the Oracle per scheme) and the run's times. They are stored in
``docs/figures/<scenario>/numbers.json`` and rendered into the guide between
``<!-- <scenario> numbers -->`` and ``<!-- end <scenario> numbers -->`` (``--write``);
``--check`` exits 1 when the stored numbers or the page's block differ from the run's
(accuracies, bits and capacities; times are not compared); ``--images`` copies the run's
figures into ``docs/figures/<scenario>/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from doc_numbers import add_source_options, copy_figures, replace_block, run_measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "guide" / "baselines.md"
SCENARIOS = ("baselines_quick", "baselines_cifar10")
FIGURES = ("accuracy_vs_snr", "accuracy_vs_capacity", "accuracy_vs_rate",
           "accuracy_vs_sensor_compute")
SNR_KEY = "channels.*.mean_snr_db"


def numbers_path(scenario: str) -> Path:
    return REPO / "docs" / "figures" / scenario / "numbers.json"


def markers(scenario: str) -> tuple[str, str]:
    return f"<!-- {scenario} numbers -->", f"<!-- end {scenario} numbers -->"


def _points(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every scheme's operating points with every packet delivered."""
    out: dict[str, dict[str, Any]] = {}
    for name, s in res["schemes"].items():
        pts = s.get("operating_points") or []
        bits = [p["bits_per_image"] for p in pts if isinstance(p.get("bits_per_image"), (int, float))]
        out[name] = {
            "type": s.get("type", name),
            "labels": [p.get("label", "") for p in pts],
            "bits_per_image": [round(b, 1) for b in bits],
            "accuracy": ([round(p["accuracy"], 4) for p in pts] if pts else
                         [round(s["clean_accuracy"], 4)] if "clean_accuracy" in s else []),
            "sensor_macs": sorted({round(p["sensor_macs"]) for p in pts
                                   if p.get("sensor_macs") is not None}
                                  or ({round(s["sensor_macs"])}
                                      if isinstance(s.get("sensor_macs"), (int, float)) else set())),
            "channel_uses_per_image": s.get("channel_uses_per_image"),
        }
    return out


def _public(override: str) -> str:
    """An override as the page shows it: a local absolute path becomes ``PATH/<its name>``."""
    key, sep, value = override.partition("=")
    return f"{key}=PATH/{Path(value).name}" if sep and value.startswith("/") else override


def _run_command(scenario: str, overrides: list[str]) -> str:
    """The ``commsldr run`` command the page shows for ``overrides`` (local paths hidden)."""
    return " ".join(["commsldr run", scenario, "--jobs 1", *[f"--set '{_public(s)}'" for s in overrides]])


def recorded_run(run_dir: Path) -> tuple[list[str], int | None]:
    """The overrides and the torch threads an existing run directory recorded (its
    ``provenance.json``; threads only when the command that made it named ``--threads``)."""
    try:
        prov = json.loads((run_dir / "provenance.json").read_text())
    except (OSError, ValueError):
        return [], None
    argv = [str(a) for a in prov.get("command") or []]
    threads = None
    if "--threads" in argv[:-1]:
        try:
            threads = int(argv[argv.index("--threads") + 1])
        except ValueError:
            threads = None
    return [str(s) for s in prov.get("overrides") or []], threads


def numbers_of_run(run_dir: Path) -> dict[str, Any]:
    """The guide's numbers from a baselines run directory."""
    res = json.loads((run_dir / "results.json").read_text())
    rows = list(csv.DictReader((run_dir / "results.csv").open(newline="")))
    if not rows or SNR_KEY not in rows[0]:
        raise SystemExit(f"{run_dir}: results.csv has no {SNR_KEY} sweep column")
    channels = list(dict.fromkeys(r["channel"] for r in rows))
    snrs = sorted({float(r[SNR_KEY]) for r in rows})
    acc: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    half: list[float] = []
    cap: dict[str, list[float]] = defaultdict(list)
    methods, seeds = set(), set()
    for r in rows:
        key = f"{r['scheme']}/{r['policy']}"
        a = float(r["accuracy"])
        acc[r["channel"]][key][r[SNR_KEY]] = round(a, 4)
        if r["channel"] == channels[0]:
            half.append(max(float(r["accuracy_high"]) - a, a - float(r["accuracy_low"])))
            if r["scheme_type"] != "analog-jscc":
                cap[r[SNR_KEY]].append(float(r["mean_capacity_bits"]))
        methods.add(r["ci_method"])
        seeds.add(r["seeds"])
    first = acc[channels[0]]
    other_diff = max((abs(first[k][s] - acc[c][k][s]) for c in channels[1:] for k in first
                      for s in first[k] if s in acc[c].get(k, {})), default=0.0)
    points = _points(res)
    lo, hi = f"{snrs[0]}", f"{snrs[-1]}"
    digital = {k: v for k, v in first.items() if not k.startswith("analog")}
    gaps = {}
    for scheme in {k.split("/")[0] for k in first}:
        ad, orc = first.get(f"{scheme}/adaptive"), first.get(f"{scheme}/oracle")
        if ad and orc:
            gaps[scheme] = round(max(orc[s] - ad[s] for s in ad), 4)
    facts = {
        "smallest_packet_bits": {n: min(p["bits_per_image"]) for n, p in points.items()
                                 if p["bits_per_image"]},
        "best_at_lowest_snr": max(first, key=lambda k: first[k][lo]),
        "best_digital_at_lowest_snr": max(digital, key=lambda k: digital[k][lo]),
        "best_at_highest_snr": max(first, key=lambda k: first[k][hi]),
        "oracle_minus_adaptive_max": gaps,
    }
    return {
        "scenario": res["scenario"],
        "channels": channels,
        "snr_db": snrs,
        "accuracy": {k: [v[f"{s}"] for s in snrs] for k, v in first.items()},
        "ci": {"methods": sorted(methods), "seeds": sorted(seeds), "confidence": res["confidence"],
               "max_half_width": round(max(half), 3)},
        "max_diff_other_channels": round(other_diff, 3),
        "mean_capacity_bits": [round(sum(cap[f"{s}"]) / len(cap[f"{s}"])) for s in snrs],
        "operating_points": points,
        "facts": facts,
        "frames": res["frames"],
        "seeds": res["seeds"],
        "seconds": {k: round(v, 1) for k, v in res["seconds"].items()},
    }


def _fmt_macs(m: float) -> str:
    return f"{m / 1e6:.2f} M" if m >= 1e6 else f"{m / 1e3:.0f} k"


def render(n: dict[str, Any]) -> str:
    """The Markdown block of the guide for one run's numbers."""
    begin, end = markers(n.get("label") or n["scenario"])
    snrs = n["snr_db"]
    ci = n["ci"]
    env = n.get("environment") or {}
    cmd = n.get("command") or f"commsldr run {n['scenario']}"
    label = n.get("label") or n["scenario"]
    again = f"python scripts/baselines_numbers.py {n['scenario']}" + (
        f" --label {label}" if label != n["scenario"] else "") + " --run --write"
    lines = [begin, f"Numbers of a run (`{cmd}`; {len(n['seeds'])} seeds × {n['frames']} frames "
             f"per point; torch {env.get('torch', '?')}, {env.get('threads', '?')} torch thread(s), "
             f"{env.get('cores', '?')} cores; regenerate with `{again}`"
             f"{' and the same overrides' if ' --set ' in cmd else ''}).", ""]
    lines.append(f"Accuracy on the `{n['channels'][0]}` channel. The 95 % intervals "
                 f"({', '.join(ci['methods'])} over {', '.join(map(str, ci['seeds']))} seeds) are "
                 f"at most ±{ci['max_half_width']:.3f}; the other channel"
                 f"{'s differ' if len(n['channels']) > 2 else ' differs'} by at most "
                 f"{n['max_diff_other_channels']:.3f} at any point.")
    lines += ["", "| scheme | policy | " + " | ".join(f"{s:g} dB" for s in snrs) + " |",
              "|---|---|" + "---|" * len(snrs)]
    for key, vals in n["accuracy"].items():
        scheme, policy = key.split("/")
        lines.append(f"| {scheme} | {policy} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    lines += ["", "Mean frame capacity at those SNRs: "
              + ", ".join(f"{c:,}" for c in n["mean_capacity_bits"]) + " bits.", ""]
    lines += ["Operating points with every packet delivered (bits per image, packet header and CRC "
              "included):", "", "| scheme | points | bits / image | accuracy | sensor MACs / image |",
              "|---|---|---|---|---|"]
    for name, p in n["operating_points"].items():
        bits = p["bits_per_image"]
        b = ("analog: " + f"{p['channel_uses_per_image']:g} channel uses" if not bits else
             f"{min(bits):.0f}" if len(bits) == 1 else f"{min(bits):.0f} … {max(bits):.0f}")
        a = p["accuracy"]
        acc = ("—" if not a else f"{a[0]:.3f}" if len(a) == 1 else f"{min(a):.3f} … {max(a):.3f}")
        if not bits and a:
            acc += " without noise"
        macs = " / ".join(_fmt_macs(m) for m in p["sensor_macs"]) or "—"
        lines.append(f"| {name} | {len(p['labels']) or 1} | {b} | {acc} | {macs} |")
    f = n["facts"]
    lines += ["", "- Smallest packet per scheme: " + ", ".join(
        f"{k} {v:.0f} bits" for k, v in f["smallest_packet_bits"].items()) + ".",
        f"- Best at {snrs[0]:g} dB: {f['best_at_lowest_snr']} (best digital: "
        f"{f['best_digital_at_lowest_snr']}); best at {snrs[-1]:g} dB: "
        f"{f['best_at_highest_snr']}.",
        "- Widest gap Oracle − adaptive over the SNRs: " + ", ".join(
            f"{k} {100 * v:+.1f} points" for k, v in sorted(f["oracle_minus_adaptive_max"].items()))
        + "."]
    s = n["seconds"]
    t = f"- Time of this run: {s['total']:.0f} s wall ({s.get('table', 0):.0f} s the split " \
        f"model and its table, {s.get('simulations', 0):.0f} s the simulations; the rest builds the " \
        f"other schemes' tables and trains their networks where the cache has none)"
    if n.get("cpu_s") is not None:
        t += f", {n['cpu_s']:.0f} s CPU"
    lines += [t + (", from an empty model cache." if n.get("fresh_cache") else "."), end]
    return "\n".join(lines)


def _replace_block(text: str, block: str, scenario: str) -> str:
    return replace_block(text, block, *markers(scenario), PAGE)


def _comparable(n: dict[str, Any]) -> dict[str, Any]:
    return {k: n[k] for k in ("accuracy", "mean_capacity_bits", "operating_points", "snr_db")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=SCENARIOS)
    ap.add_argument("--label", default=None,
                    help="name of the page's block and of the numbers' folder (default: the "
                         "scenario's name; e.g. a run with other --set overrides)")
    add_source_options(ap, "the scenario", threads=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an override for --run (repeatable)")
    args = ap.parse_args(argv)
    label = args.label or args.scenario
    stored_path = numbers_path(label)

    if args.render_only:
        block = render(json.loads(stored_path.read_text()))
        PAGE.write_text(_replace_block(PAGE.read_text(), block, label))
        return 0
    extra: dict[str, Any] = {"cpu_s": None, "fresh_cache": False, "command": None}
    if args.run:
        run_dir, cpu_s = run_measured(
            args.scenario, args, ["--jobs", "1", *[x for s in args.set for x in ("--set", s)]],
            "baselines")
        extra = {"cpu_s": round(cpu_s, 1), "fresh_cache": args.cache_dir is None,
                 "command": _run_command(args.scenario, args.set)}
        threads = args.threads
    else:
        run_dir = args.run_dir
        overrides, threads = recorded_run(run_dir)
        extra["command"] = _run_command(args.scenario, overrides)
    numbers = numbers_of_run(run_dir)
    numbers.update(extra)
    numbers["label"] = label
    numbers["environment"] = {"torch": __import__("torch").__version__,
                              "threads": threads,
                              "cores": os.cpu_count(), "machine": platform.machine()}
    print(json.dumps(_comparable(numbers)))
    if args.check:
        stored = json.loads(stored_path.read_text())
        if _comparable(stored) != _comparable(numbers) or render(stored) not in PAGE.read_text():
            print(f"the guide's {args.scenario} numbers differ from this run", file=sys.stderr)
            return 1
        print(f"the guide's {args.scenario} numbers match this run", file=sys.stderr)
    if args.write:
        stored_path.parent.mkdir(parents=True, exist_ok=True)
        stored_path.write_text(json.dumps(numbers, indent=1) + "\n")
        PAGE.write_text(_replace_block(PAGE.read_text(), render(numbers), label))
    if args.images:
        copy_figures(run_dir, FIGURES, stored_path.parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
