"""Verdicts of the CIFAR-10 study (``scripts/reproduce_cifar10.sh``) with intervals over seeds.

For every finished model of every seed it measures, on the full test set:

* the float accuracy;
* accuracy at common **real coded payload budgets** (bits per image counted from the
  constriction codec's bytes; :func:`commsldr.train.screening.rate_accuracy_at_budgets`): the
  primary rate axis;
* the paper's Gaussian total entropy at the scale that meets each budget (the secondary axis);
* accuracy under the paper's test-time distortions (severity 3);
* the per-entry standard deviation of the test latents (Fig. 5) and its participation ratio
  ``(Σσ²)² / Σσ⁴`` (how many entries carry the variance).

Then it compares models seed by seed (paired differences) and states a verdict for each claim
with one rule:

    **holds** when the 95 % interval of the mean difference over seeds (Student t, n − 1 degrees
    of freedom) lies entirely on the side of zero the paper claims; **refuted** when it lies
    entirely on the other side; **inconclusive** otherwise. With one seed only, the 95 % interval
    of the difference from the test set alone (two independent binomials) stands in, and the
    verdict says so.

Outputs (``--out``): ``summary.json`` (every number), ``summary.md`` (the tables and verdicts
that ``docs/reproduction.md`` quotes) and figures with one colour per model.

Usage::

    python scripts/study_report.py --runs runs/cifar10-study --data PATH/cifar10-jpeg \
        --out docs/figures/study
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from study_config import (
    BUDGETS_BITS,
    CHECK_RULE,
    CHECK_RULE_BUDGETS_BITS,
    CHECK_RULE_MODELS,
    CLAIMS,
    CONVERGED_SHARE,
    LOW_BITS,
    MODELS,
    NOISE_FRACTIONS,
    PAPER,
    SCREEN_DIMS,
    TARGET,
    TOPK,
    TRANSFORM,
)
from study_figures import figures
from study_measure import (
    STATS_VERSION,
    latent_stats_cached,
    measure_cached,
    measure_klt_cached,
    measure_rule_cached,
    measure_structure_cached,
    phase_convergence,
)
from study_stats import (
    NON_PROPORTIONS,
    accuracy_band,
    accuracy_interval,
    add_rate_mean,
    binomial_diff_interval,
    t_interval,
    test_set_diff_interval,
    verdict,
)

# the names this script's parts define, for the scripts and tests that import them from here
__all__ = ["BUDGETS_BITS", "CHECK_RULE", "CHECK_RULE_BUDGETS_BITS", "CHECK_RULE_MODELS", "CLAIMS",
           "LOW_BITS", "MODELS", "NOISE_FRACTIONS", "NON_PROPORTIONS", "STATS_VERSION", "TOPK",
           "TRANSFORM", "accuracy_band", "add_rate_mean", "binomial_diff_interval", "compare",
           "figures", "latent_stats_cached", "main", "markdown", "measure_structure_cached",
           "phase_convergence", "t_interval", "target_check", "test_set_diff_interval",
           "verdict"]


def target_check(results: dict[str, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """The best (model, allocation rule) at the target budget, by mean accuracy over seeds."""
    best: dict[str, Any] = {**TARGET, "model": None, "rule": None, "mean_accuracy": None}
    for label, by_seed in results.items():
        for rule, suffix in (("precision", ""), (CHECK_RULE, f"_{CHECK_RULE}"),
                             (f"{TRANSFORM} + {CHECK_RULE}", f"_{TRANSFORM}")):
            key = f"acc@{TARGET['budget_bits']:g}b{suffix}"
            vals = [r[key] for r in by_seed.values() if r.get(key) is not None]
            if vals and (best["mean_accuracy"] is None or np.mean(vals) > best["mean_accuracy"]):
                best.update(model=label, rule=rule, mean_accuracy=float(np.mean(vals)),
                            seeds=len(vals))
    best["met"] = best["mean_accuracy"] is not None and best["mean_accuracy"] >= TARGET["accuracy"]
    return best


def compare(results: dict[str, dict[int, dict[str, Any]]], n_test: int) -> list[dict[str, Any]]:
    rows = []
    for claim, a, b, metric, direction in CLAIMS:
        seeds = sorted(set(results.get(a, {})) & set(results.get(b, {})))
        pairs = [(results[a][s][metric], results[b][s][metric]) for s in seeds
                 if results[a][s].get(metric) is not None and results[b][s].get(metric) is not None]
        diffs = [pa - pb for pa, pb in pairs]
        row: dict[str, Any] = {"claim": claim, "a": a, "b": b, "metric": metric,
                               "direction": direction, "seeds": seeds, "diffs": diffs}
        if pairs and metric not in NON_PROPORTIONS:
            _, tlo, thi = test_set_diff_interval(pairs, n_test)
            row.update(test_lo=tlo, test_hi=thi)
        else:
            row.update(test_lo=None, test_hi=None)
        if len(diffs) >= 2:
            m, lo, hi = t_interval(diffs)
            row.update(mean=m, lo=lo, hi=hi, interval="t over seeds")
        elif len(diffs) == 1:
            pa, pb = pairs[0]
            # a difference of differences, or not a proportion: no binomial shortcut
            if metric in NON_PROPORTIONS:
                row.update(mean=diffs[0], lo=-math.inf, hi=math.inf, interval="one seed")
            else:
                m, lo, hi = binomial_diff_interval(pa, pb, n_test)
                row.update(mean=m, lo=lo, hi=hi, interval="test set only (one seed)")
        else:
            row.update(mean=None, lo=None, hi=None, interval="not enough runs")
        row["verdict"] = (verdict(row["lo"], row["hi"], direction) if row["lo"] is not None
                          else "not run yet")
        rows.append(row)
    return rows


def markdown(summary: dict[str, Any]) -> str:
    res, n_test = summary["results"], summary["test_images"]
    lines = ["| model | seeds | float acc | " + " | ".join(
        f"acc @ {b:g} bits" for b in BUDGETS_BITS) + " |", "|---" * (3 + len(BUDGETS_BITS)) + "|"]

    def cell(label: str, key: str) -> str:
        vals = [r[key] for r in res[label].values() if r.get(key) is not None]
        if not vals:
            return "—"
        m, lo, _ = accuracy_interval(vals, n_test)
        return f"{100 * m:.2f} ± {100 * (m - lo):.2f}" + ("†" if len(vals) == 1 else "")

    for label in res:
        lines.append(f"| {label} | {len(res[label])} | {cell(label, 'float_acc')} | " + " | ".join(
            cell(label, f"acc@{b:g}b") for b in BUDGETS_BITS) + " |")
    lines += ["", "Accuracy in %, mean ± 95 % interval over seeds (Student t); † one seed: the "
              "95 % binomial interval of the test set."]
    checked = [lab for lab in CHECK_RULE_MODELS if lab in res]
    if checked:
        lines += ["", f"The same models with the `{CHECK_RULE}` allocation (reverse water-filling) "
                  "instead of the paper's rule:", "",
                  "| model | seeds | " + " | ".join(f"acc @ {b:g} bits" for b in
                                                    CHECK_RULE_BUDGETS_BITS) + " |",
                  "|---" * (2 + len(CHECK_RULE_BUDGETS_BITS)) + "|"]
        for label in checked:
            lines.append(f"| {label} | {len(res[label])} | " + " | ".join(
                cell(label, f"acc@{b:g}b_{CHECK_RULE}") for b in CHECK_RULE_BUDGETS_BITS) + " |")
    coded = [lab for lab in CHECK_RULE_MODELS if lab in res
             and any(f"acc@{LOW_BITS:g}b_{TRANSFORM}" in r for r in res[lab].values())]
    if coded:
        lines += ["", "Transform coding: the KLT of the training latents, then reverse water-filling "
                  "on its (uncorrelated) coefficients, the same codec and real bits:", "",
                  "| model | seeds | " + " | ".join(f"acc @ {b:g} bits" for b in
                                                    CHECK_RULE_BUDGETS_BITS) + " |",
                  "|---" * (2 + len(CHECK_RULE_BUDGETS_BITS)) + "|"]
        for label in coded:
            lines.append(f"| {label} | {len(res[label])} | " + " | ".join(
                cell(label, f"acc@{b:g}b_{TRANSFORM}") for b in CHECK_RULE_BUDGETS_BITS) + " |")
    shown = [lab for lab in CHECK_RULE_MODELS if lab in res
             and any(f"acc_top{TOPK[0]}" in r for r in res[lab].values())]
    if shown:
        lines += ["", "Where the class information sits (float latents): accuracy with only the k "
                  "highest-variance entries kept (the others at their training mean), and with "
                  "Gaussian noise of std f·σ_i added to every entry:", "",
                  "| model | seeds | " + " | ".join(f"top {k}" for k in TOPK) + " | " +
                  " | ".join(f"noise {f:g}σ" for f in NOISE_FRACTIONS) + " |",
                  "|---" * (2 + len(TOPK) + len(NOISE_FRACTIONS)) + "|"]
        for label in shown:
            lines.append(f"| {label} | {len(res[label])} | " + " | ".join(
                cell(label, f"acc_top{k}") for k in TOPK) + " | " + " | ".join(
                cell(label, f"acc_noise{f:g}") for f in NOISE_FRACTIONS) + " |")
    t = summary.get("target")
    if t:
        lines += ["", f"Target: the best model keeps ≥ {100 * t['accuracy']:g} % at ≤ "
                  f"{t['budget_bits']:g} real payload bits per image. " + (
                      "No model measured yet." if t["model"] is None else
                      f"Best: {t['model']} with the `{t['rule']}` rule, "
                      f"{100 * t['mean_accuracy']:.2f} % (mean of {t['seeds']} seed(s)): "
                      f"**{'met' if t['met'] else 'not met'}**.")]
    conv = summary.get("convergence") or []
    if conv:
        lines += ["", "Did the LDR phases converge? The epoch-mean training loss of each phase's "
                  "own objective, and the share of its decrease (first epoch to last) made in the "
                  f"last epoch; converged: < {100 * CONVERGED_SHARE:g} %. Test accuracy from the "
                  "training log (bf16 autocast).", "",
                  "| model | seed | phase | loss | per epoch | last epoch's share | test acc at "
                  "its end |", "|---|---|---|---|---|---|---|"]
        for r in conv:
            share = r["last_epoch_share"]
            share_s = "—" if share != share else (
                f"{100 * share:.0f} % ({'converged' if r['converged'] else 'still falling'})")
            acc = "—" if r["test_acc"] is None else f"{100 * r['test_acc']:.2f} %"
            lines.append(f"| {r['model']} | {r['seed']} | {r['phase']} | {r['loss']} | "
                         + " → ".join(f"{v:.3g}" for v in r["losses"]) + f" | {share_s} | {acc} |")
    lines += ["", "| claim | A − B | seeds | mean | 95 % interval | test-set 95 % interval | verdict |",
              "|---|---|---|---|---|---|---|"]
    for r in summary["claims"]:
        scale = 1 if r["metric"] == "participation_ratio" else 100

        def fmt(v: float | None, scale: int = scale) -> str:
            return "—" if v is None or not math.isfinite(v) else f"{scale * v:+.2f}"

        lines.append(f"| {r['claim']} | {r['a']} − {r['b']} ({r['metric']}) | {len(r['diffs'])} | "
                     f"{fmt(r['mean'])} | [{fmt(r['lo'])}, {fmt(r['hi'])}] ({r['interval']}) | "
                     + ("—" if r.get("test_lo") is None
                        else f"[{fmt(r['test_lo'])}, {fmt(r['test_hi'])}]")
                     + f" | **{r['verdict']}** |")
    lines += ["", "The verdict applies the rule to the \"95 % interval\" column (over seeds). The "
              "test-set interval beside it is the part of the uncertainty that comes from the "
              "test images alone (binomial, seeds independent); \"—\" where the metric is not an "
              "accuracy."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from commsldr.data import load_dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, default=Path("runs/cifar10-study"))
    ap.add_argument("--data", required=True, help="ImageFolder copy of CIFAR-10")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("docs/figures/study"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    train = load_dataset("imagefolder", "train", root=args.data, progress=False)
    test = load_dataset("imagefolder", "test", root=args.data, progress=False)
    results: dict[str, dict[int, dict[str, Any]]] = {}
    missing = []
    stages = dict(MODELS)
    stages.update({f"CE-T d{d}": f"screen/d{d}" for d in SCREEN_DIMS if d not in (64, 128)})
    seeds = [int(s) for s in args.seeds.split(",")]
    for seed in seeds:
        for label, rel in stages.items():
            path = args.runs / f"s{seed}" / rel / "model.pt"
            if not path.is_file():
                missing.append(str(path.relative_to(args.runs)))  # no machine paths in docs
                continue
            print(f"measuring {label} (seed {seed})", flush=True)
            row = add_rate_mean(measure_cached(path, train, test, args.out / "measurements"))
            if label in CHECK_RULE_MODELS:
                print(f"measuring {label} (seed {seed}) with the {CHECK_RULE} rule", flush=True)
                row.update(measure_rule_cached(path, train, test, args.out / "measurements"))
                print(f"measuring {label} (seed {seed}) with the KLT", flush=True)
                row.update(measure_klt_cached(path, train, test, args.out / "measurements"))
                row.update(measure_structure_cached(path, train, test, args.out / "measurements"))
            results.setdefault(label, {})[seed] = row
    summary = {"test_images": len(test), "budgets_bits": list(BUDGETS_BITS), "paper": PAPER,
               "rule": "holds / refuted / inconclusive: 95 % interval of the mean paired "
                       "difference over seeds (Student t) entirely on the claimed side / the other "
                       "side / neither; one seed: the test-set binomial interval",
               "results": results, "missing": missing}
    summary["claims"] = compare(results, len(test))
    summary["convergence"] = phase_convergence(args.runs, seeds)
    summary["target"] = target_check(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (args.out / "summary.md").write_text(markdown(summary))
    figures(summary, args.out)
    print(markdown(summary))
    if missing:
        print(f"{len(missing)} model(s) not trained yet, e.g. {missing[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
