"""Regenerate the numbers and figures of the "first study" tutorial from a run of the quickstart.

    python scripts/tutorial_numbers.py --run --threads 2 --write --images   # a fresh run
    python scripts/tutorial_numbers.py --run-dir runs/quickstart/<stamp> --check

``--run`` runs ``commsldr run quickstart`` in this process (with ``--threads`` torch threads and a
fresh model cache under ``--cache-dir`` unless ``--reuse-cache``) and measures its wall and CPU
time; ``--run-dir`` reads an existing run. The numbers (model accuracy, the table's accuracy and
bits per encoder variant, run times, the thread count) are written to
``docs/tutorials/img/quickstart_numbers.json`` and rendered into the block of
``docs/tutorials/first_study.md`` between ``<!-- numbers -->`` and ``<!-- end numbers -->``
(``--write``); ``--check`` exits 1 when the page's block differs from the run's (accuracies and
bits; times are not compared); ``--images`` copies the run's figures into ``docs/tutorials/img/``.

Training is not bit-identical across thread counts (see
``commsldr.scenario.runner.training_environment``), so the numbers are those of the recorded
thread count; the model cache key includes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from doc_numbers import add_source_options, copy_figures, replace_block, run_measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "tutorials" / "first_study.md"
IMG = REPO / "docs" / "tutorials" / "img"
NUMBERS = IMG / "quickstart_numbers.json"
BEGIN, END = "<!-- numbers -->", "<!-- end numbers -->"
FIGURES = ("accuracy_vs_snr", "accuracy_vs_capacity", "accuracy_vs_rate", "timeline")


def numbers_of_run(run_dir: Path) -> dict[str, Any]:
    """The tutorial's numbers from a quickstart run directory (and its cached model)."""
    res = json.loads((run_dir / "results.json").read_text())
    source = res["model"]["source"] or ""
    ckpt = Path(source[source.index("(") + 1:source.rindex(")")]) if "(" in source else None
    model_acc = env = None
    if ckpt is not None and (ckpt.parent / "metrics.jsonl").is_file():
        records = [json.loads(x) for x in (ckpt.parent / "metrics.jsonl").read_text().splitlines()]
        model_acc = next(r["test_acc"] for r in reversed(records) if "test_acc" in r)
        if (ckpt.parent / "environment.json").is_file():
            env = json.loads((ckpt.parent / "environment.json").read_text())
    per_k: dict[str, Any] = {}
    for p in res["operating_points"]:
        e = per_k.setdefault(str(p["k"]), {"accuracy": 0.0, "bits": []})
        e["accuracy"] = max(e["accuracy"], p["accuracy"])
        e["bits"].append(p["bits_per_image"])
    table = {k: {"best_accuracy": round(v["accuracy"], 4), "bits_min": round(min(v["bits"]), 1),
                 "bits_max": round(max(v["bits"]), 1)} for k, v in per_k.items()}
    n_sims = len(res["per_seed"])
    return {
        "model_test_accuracy": None if model_acc is None else round(model_acc, 4),
        "table": table,
        "simulations": n_sims,
        "frames": res["frames"],
        "environment": env,
        "seconds": {k: round(v, 1) for k, v in res["seconds"].items()},
    }


def render(n: dict[str, Any]) -> str:
    """The Markdown block of the tutorial page."""
    t = n["table"]
    ks = sorted(t, key=int)
    env = n.get("environment") or {}
    acc = "; ".join(f"`k = {k}`: {100 * t[k]['best_accuracy']:.0f} % at "
                    f"{t[k]['bits_min']:.0f}–{t[k]['bits_max']:.0f} bits per image" for k in ks)
    lines = [
        BEGIN,
        f"Numbers of a fresh run (`python scripts/tutorial_numbers.py --run --threads "
        f"{env.get('threads', '?')}`; torch {env.get('torch', '?')}, {env.get('device', '?')}, "
        f"{env.get('threads', '?')} thread(s) — training is not bit-identical across thread "
        f"counts, and the model cache key includes the count):",
        "",
        f"- the model's test accuracy (float latents): "
        f"**{100 * n['model_test_accuracy']:.0f} %**" if n["model_test_accuracy"] is not None
        else "- the model's test accuracy: (model not trained by this run)",
        f"- the table's operating points, best accuracy over the scales if every packet "
        f"arrives (header and CRC included in the bits): {acc}",
        f"- {n['simulations']} simulations of {n['frames']} frames each",
        "",
        "Wall times depend on the machine and on what else runs on it (this run shared 2 cores "
        "with other jobs); the CPU time is the process's own.",
        "",
        "| run | wall time |",
        "|---|---|",
        f"| whole run | {n['seconds']['total']:.0f} s |",
        f"| of which model + table | {n['seconds']['table']:.0f} s |",
        f"| of which the {n['simulations']} simulations, result files and figures | "
        f"{n['seconds']['total'] - n['seconds']['table']:.0f} s |",
    ]
    if n.get("cpu_s") is not None:
        lines.append(f"| CPU time of the process (user + system) | {n['cpu_s']:.0f} s |")
    lines.append(END)
    return "\n".join(lines)


def _replace_block(text: str, block: str) -> str:
    return replace_block(text, block, BEGIN, END, PAGE)


def _comparable(n: dict[str, Any]) -> dict[str, Any]:
    return {"model_test_accuracy": n["model_test_accuracy"], "table": n["table"],
            "simulations": n["simulations"], "threads": (n.get("environment") or {}).get("threads")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_source_options(ap, "the quickstart", threads=2)
    args = ap.parse_args(argv)

    if args.render_only:
        PAGE.write_text(_replace_block(PAGE.read_text(), render(json.loads(NUMBERS.read_text()))))
        return 0
    cpu_s = None
    if args.run:
        run_dir, cpu_s = run_measured("quickstart", args, [], "tutorial")
    else:
        run_dir = args.run_dir
    numbers = numbers_of_run(run_dir)
    numbers["cpu_s"] = None if cpu_s is None else round(cpu_s, 1)
    print(json.dumps(numbers, indent=1))
    if args.check:
        page = PAGE.read_text()
        stored = json.loads(NUMBERS.read_text())
        if _comparable(stored) != _comparable(numbers) or render(stored) not in page:
            print("the tutorial's numbers differ from this run:\n"
                  f"page: {json.dumps(_comparable(stored))}\nrun:  "
                  f"{json.dumps(_comparable(numbers))}", file=sys.stderr)
            return 1
        print("the tutorial's numbers match this run", file=sys.stderr)
    if args.write:
        NUMBERS.write_text(json.dumps(numbers, indent=1) + "\n")
        PAGE.write_text(_replace_block(PAGE.read_text(), render(numbers)))
    if args.images:
        copy_figures(run_dir, FIGURES, IMG, prefix="quickstart_")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
