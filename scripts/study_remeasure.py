"""Re-measure the study's rate numbers with quantization scales fitted on training images.

The study's stored measurements (``docs/figures/study/summary.json``) solved the scale of each
budget on the test latents whose accuracy they report. This script re-measures every shipped
checkpoint the study's rate verdicts use (every shipped seed, ``CHECKPOINTS``) with the
scale of every budget solved on **calibration images from the training split** (500 per class,
a seeded stratified draw: the set ``commsldr evaluate --budgets`` and
``benchmarks/rate_accuracy.py`` use) and
the test set only scoring. Per checkpoint it writes one JSON (``<out>/<model name>.json``; a
finished one is skipped, so a killed run loses at most the checkpoint in progress):

* ``float_acc``, the per-entry std of the test latents and its participation ratio;
* ``precision``: the paper's entropy-based allocation (``Delta_i = 1 / (s H_i)``, the training
  statistics stored in the checkpoint) at the study's budgets ``BUDGETS_BITS`` (10 … 64 bits);
* for the d_y = 64 models of the coding comparison (``CHECK_RULE_MODELS``): ``waterfill``
  (reverse water-filling on the same statistics) and ``klt`` (the KLT fitted on the calibration
  latents, water-filling on its coefficients) at ``CHECK_RULE_BUDGETS_BITS`` (10 … 28 bits).

Each feasible budget records the scale, the calibration images' mean payload, the test images'
real payload (mean, p50, p95, max per image: each image coded alone by the constriction range
coder, bits from its bytes) and accuracy, and the paper's Gaussian total entropy at that scale
(``sum_i log2(sqrt(2 pi e) sigma_i / Delta_i)``, sigma_i the std of the test latents, or of
their KLT coefficients; the definition ``study_report.py`` used).

Scale-independent numbers (distortions, top-k entries) are not re-measured: they do not depend
on the quantizer. ``scripts/study_corrected.py --remeasured <out>`` re-derives the verdicts.

Usage::

    OMP_NUM_THREADS=1 python scripts/study_remeasure.py --data-root PATH/cifar10-jpeg \
        --out docs/figures/study/remeasured [--only cifar10-ce-d64,...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from study_report import (
    BUDGETS_BITS,
    CHECK_RULE,
    CHECK_RULE_BUDGETS_BITS,
    CHECK_RULE_MODELS,
    TRANSFORM,
)

CALIBRATION = ("500 training images of every class, a seeded stratified draw "
               "(load_dataset(..., num_per_class=500, seed=0), the draw of commsldr evaluate "
               "--budgets and benchmarks/rate_accuracy.py)")
#: bump when what is measured changes (a JSON of another version is measured again)
VERSION = 1
SEED_SUFFIX = {0: "", 1: "-s1", 2: "-s2"}
#: study label -> (shipped model name without the seed suffix, seeds shipped), in the order
#: they are measured (the d_y = 64 comparison first)
STUDY_MODELS: dict[str, tuple[str, tuple[int, ...]]] = {
    "CE-T": ("cifar10-ce-d64", (0, 1, 2)),
    "LDR-FT": ("cifar10-ldr-ft-d64", (0, 1, 2)),
    "CE control": ("cifar10-ce-control-d64", (0, 1, 2)),
    "trunc CE": ("cifar10-trunc128to64-ce", (0, 1, 2)),
    "CE-T d128": ("cifar10-ce-d128", (0, 1, 2)),
    "trunc CE control": ("cifar10-trunc128to64-ce-control", (0, 1, 2)),
    "trunc LDR-FT": ("cifar10-trunc128to64-ldr-ft", (0, 1, 2)),
    "trunc LDR-FT control": ("cifar10-trunc128to64-ldr-ft-control", (0, 1, 2)),
    "DuPHiL": ("cifar10-duphil-d64", (0, 1, 2)),
    "CE-T d32": ("cifar10-ce-d32", (0, 1, 2)),
    "CE-T d256": ("cifar10-ce-d256", (0, 1, 2)),
    # the long-phase check (seed 0's run directories were not kept, so it is not shipped)
    "LDR-FT long": ("cifar10-ldr-ft-long-d64", (1, 2)),
    "CE control long": ("cifar10-ce-control-long-d64", (1, 2)),
}
#: every (shipped name, study label, seed) re-measured
CHECKPOINTS: list[tuple[str, str, int]] = [
    (base + SEED_SUFFIX[s], label, s) for label, (base, seeds) in STUDY_MODELS.items()
    for s in seeds]


def _paper_entropy(test_std: np.ndarray, stats: Any, scale: float | None, rule: str) -> float | None:
    from commsldr.report.paper_figures import paper_entropy_bits

    return None if scale is None else paper_entropy_bits(test_std, stats, scale, rule)


def _rule_block(model: torch.nn.Module, y: torch.Tensor, labels: torch.Tensor,
                y_cal: torch.Tensor, stats: Any, budgets: tuple[float, ...], rule: str,
                test_std: np.ndarray, transform: Any = None) -> dict[str, Any]:
    from commsldr.train.screening import rate_accuracy_from_latents

    rate = rate_accuracy_from_latents(model, y, labels, y_cal, stats, list(budgets), rule=rule,
                                      transform=transform)
    for b in rate["budgets"]:
        b["paper_entropy_bits"] = _paper_entropy(test_std, stats, b["scale"], rule)
    return {"float_acc": rate["float_acc"], "rule": rule,
            "transform": None if transform is None else TRANSFORM, "budgets": rate["budgets"]}


def measure_checkpoint(path: Path, label: str, cal: Any, test: Any) -> dict[str, Any]:
    """Every rate number of one checkpoint (see the module docstring)."""
    from commsldr.coding import encode_dataset, fit_klt, load_latent_stats
    from commsldr.train import load_model

    model = load_model(path).eval()
    stats = load_latent_stats(path)
    y = encode_dataset(model, test)
    y_cal = encode_dataset(model, cal)
    std = y.double().std(0).numpy()
    precision = _rule_block(model, y, test.labels, y_cal, stats, BUDGETS_BITS, "precision", std)
    out: dict[str, Any] = {
        "float_acc": precision.pop("float_acc"), "latent_std": std.tolist(),
        "participation_ratio": float((std ** 2).sum() ** 2 / (std ** 4).sum()),
        "precision": precision}
    if label in CHECK_RULE_MODELS:
        out[CHECK_RULE] = _rule_block(model, y, test.labels, y_cal, stats,
                                      CHECK_RULE_BUDGETS_BITS, CHECK_RULE, std)
        klt, coef_stats = fit_klt(y_cal)
        coef_std = klt.forward(y.double()).std(0).numpy()
        out[TRANSFORM] = _rule_block(model, y, test.labels, y_cal, coef_stats,
                                     CHECK_RULE_BUDGETS_BITS, CHECK_RULE, coef_std, transform=klt)
        for key in (CHECK_RULE, TRANSFORM):
            out[key].pop("float_acc")
    return out


#: per-budget numbers carried into a study row, ``acc@<B>b<suffix>_<key>``
BUDGET_KEYS = ("payload_bits", "payload_p50", "payload_p95", "payload_max", "calibration_bits",
               "scale", "paper_entropy_bits")
#: a JSON's rule block -> the suffix of its keys in a study row (``study_report``'s names)
RULE_SUFFIX = {"precision": "", CHECK_RULE: f"_{CHECK_RULE}", TRANSFORM: f"_{TRANSFORM}"}


def is_rate_key(key: str) -> bool:
    """Whether a study row's ``key`` depends on the quantizer's scale."""
    return key.startswith("acc@") or key in ("rate_mean", "quant_loss")


def row_from_json(measured: dict[str, Any]) -> dict[str, Any]:
    """One re-measured checkpoint as the keys of a ``study_report`` row (``acc@14b``,
    ``acc@14b_payload_p95``, ``acc@14b_klt``, …, ``rate_mean``, ``quant_loss``)."""
    from study_report import LOW_BITS, add_rate_mean

    row: dict[str, Any] = {k: measured[k] for k in ("float_acc", "latent_std",
                                                     "participation_ratio")}
    for block, suffix in RULE_SUFFIX.items():
        for b in (measured.get(block) or {}).get("budgets", []):
            key = f"acc@{b['budget_bits']:g}b{suffix}"
            row[key] = b["accuracy"] if b["feasible"] else None
            for k in BUDGET_KEYS:
                row[f"{key}_{k}"] = b.get(k)
    low = row.get(f"acc@{LOW_BITS:g}b")
    row["quant_loss"] = None if low is None else low - row["float_acc"]
    return add_rate_mean(row)


def load_remeasured(directory: Path, summary: dict[str, Any]
                    ) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, Any]]:
    """The study's results (``summary["results"]``) with every scale-dependent number replaced
    by the re-measured one of ``directory``. The scale-independent numbers (distortions, top-k
    entries) stay the study's. A model/seed that was not re-measured keeps no rate number
    (its rate claims then read "not measured"). Also returns what was found: the re-measured
    and missing (label, seed) pairs and the float accuracies that differ from the study's."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    done: set[tuple[str, str]] = set()
    float_diff = []
    for path in sorted(directory.glob("*.json")):
        m = json.loads(path.read_text())
        if m.get("version") != VERSION:
            continue
        label, seed = m["label"], str(m["seed"])
        base = dict(summary["results"].get(label, {}).get(seed, {}))
        if base and abs(base["float_acc"] - m["float_acc"]) > 1e-12:
            float_diff.append({"model": m["model"], "study": base["float_acc"],
                               "remeasured": m["float_acc"]})
        row = {k: v for k, v in base.items() if not is_rate_key(k)}
        row.update(row_from_json(m))
        results.setdefault(label, {})[seed] = row
        done.add((label, seed))
    missing, unshipped = [], []
    shipped = {(label, str(seed)) for _, label, seed in CHECKPOINTS}
    for label, seeds in summary["results"].items():
        for seed, base in seeds.items():
            if (label, seed) not in done:
                (missing if (label, seed) in shipped else unshipped).append(
                    f"{label} seed {seed}")
                results.setdefault(label, {})[seed] = {k: v for k, v in base.items()
                                                       if not is_rate_key(k)}
    order = list(summary["results"])  # the study's order of models, then any new label
    results = dict(sorted(results.items(), key=lambda kv: order.index(kv[0])
                          if kv[0] in order else len(order)))
    info = {"remeasured": sorted(f"{lab} seed {s}" for lab, s in done),
            "not_remeasured": missing, "not_shipped": unshipped, "float_acc_differs": float_diff}
    return results, info


def main(argv: list[str] | None = None) -> int:
    from commsldr.data import load_dataset
    from commsldr.models.pretrained import get_pretrained_path, sha256_file
    from commsldr.train.screening import CALIBRATION_PER_CLASS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", required=True, help="ImageFolder copy of CIFAR-10")
    ap.add_argument("--out", type=Path, default=Path("docs/figures/study/remeasured"))
    ap.add_argument("--only", default=None, help="comma-separated shipped model names")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    todo = CHECKPOINTS
    if args.only:
        names = args.only.split(",")
        unknown = sorted(set(names) - {n for n, _, _ in CHECKPOINTS})
        if unknown:
            ap.error(f"--only: {', '.join(unknown)} not among the study's checkpoints "
                     f"({', '.join(n for n, _, _ in CHECKPOINTS)})")
        todo = [c for c in CHECKPOINTS if c[0] in names]
    args.out.mkdir(parents=True, exist_ok=True)
    test = cal = None
    for name, label, seed in todo:
        entry = args.out / f"{name}.json"
        path = get_pretrained_path(name)
        sha = sha256_file(path)
        if entry.is_file():
            old = json.loads(entry.read_text())
            if old.get("version") == VERSION and old.get("sha256") == sha:
                print(f"study_remeasure: {name} done already", file=sys.stderr, flush=True)
                continue
        if test is None:
            test = load_dataset("imagefolder", "test", root=args.data_root, progress=False)
            cal = load_dataset("imagefolder", "train", root=args.data_root,
                               num_per_class=CALIBRATION_PER_CLASS, progress=False)
        print(f"study_remeasure: {name} ({label}, seed {seed})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        row = measure_checkpoint(path, label, cal, test)
        row.update(model=name, label=label, seed=seed, sha256=sha, version=VERSION,
                   test_images=len(test), calibration_images=len(cal),
                   calibration=CALIBRATION,
                   threads=args.threads, seconds=round(time.perf_counter() - t0, 1))
        tmp = entry.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(row, indent=1, allow_nan=False) + "\n")
        tmp.replace(entry)
        print(f"study_remeasure: {name} in {row['seconds']} s", file=sys.stderr, flush=True)
    print(json.dumps({"out": str(args.out), "checkpoints": len(todo),
                      "done": sum((args.out / f"{n}.json").is_file() for n, _, _ in todo)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
