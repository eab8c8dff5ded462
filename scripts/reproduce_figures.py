"""The paper's CIFAR-10 figures (Qi et al., Figs. 2-5) and comparison numbers from trained runs.

Reads the models written by ``scripts/reproduce_cifar10.sh`` (missing stages are skipped and
reported), computes with the library:

* the training-set latent statistics of every model (stored in its checkpoint,
  :func:`commsldr.coding.attach_latent_stats`);
* accuracy versus rate on the full test set (:func:`commsldr.coding.rate_accuracy_from_latents`)
  at quantization scales chosen so that the paper's total entropy hits the same targets for every
  model (bisection on ``s``; the default allocation rule of :mod:`commsldr.coding`);
* accuracy on distorted test sets (:func:`commsldr.data.distort`, rotation / flip / colour jitter);

and draws Fig. 2 (accuracy vs total entropy, with the actual coded payload and packet bits as
further x-axes), Fig. 3 (distortions), Fig. 4 (truncation) and Fig. 5 (per-entry latent std).
Everything lands in ``--out``: ``summary.json``, ``curves/*.json|csv``, ``fig*.png|pdf``.

Usage::

    python scripts/reproduce_figures.py --runs runs/repro_cifar10 --dy 64 --out runs/repro_cifar10/figures
    python scripts/reproduce_figures.py --pretrained --out runs/figures_pretrained   # shipped models
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from commsldr.coding import (
    DEFAULT_RULE,
    RateAccuracyResult,
    allocate_steps,
    attach_latent_stats,
    encode_dataset,
    highres_entropy_bits,
    latent_stats_from_latents,
    load_latent_stats,
    plot_latent_std,
    plot_rate_accuracy,
    rate_accuracy_from_latents,
)
from commsldr.data import derive_seed, distort, load_dataset
from commsldr.train import evaluate, load_checkpoint, load_model

#: total-entropy targets (bits per image) of the rate-accuracy grids
TARGET_BITS = (10.0, 14.0, 20.0, 28.0, 40.0, 56.0, 72.0, 88.0)
#: the paper's test-time distortions (Sec. 4.2) and the severities evaluated
DISTORTION_KINDS = ("rotation", "flip", "color_jitter")
SEVERITIES = (1, 3, 5)


def model_paths(runs: Path, dy: int, dims: list[int], trunc_from: int, keep: int) -> dict[str, Path]:
    """Label -> final checkpoint of every stage of the pipeline (existing or not)."""
    paths = {f"CE-T d{d}": runs / "screen" / f"d{d}" / "model.pt" for d in dims}
    paths[f"DuPHiL d{dy}"] = runs / f"duphil-d{dy}" / "model.pt"
    paths[f"LDR-FT d{dy}"] = runs / f"ldr-ft-d{dy}" / "model.pt"
    paths[f"CE-T d{dy} +CE"] = runs / f"ce-control-d{dy}" / "model.pt"
    paths[f"CE-T d{trunc_from}->{keep}"] = runs / f"trunc-d{trunc_from}-k{keep}-ce" / "model.pt"
    paths[f"LDR-FT d{trunc_from}->{keep}"] = runs / f"trunc-d{trunc_from}-k{keep}-ldr-ft" / "model.pt"
    return paths


def pretrained_paths(dy: int, dims: list[int], trunc_from: int, keep: int) -> dict[str, Path]:
    """Label -> shipped checkpoint (:mod:`commsldr.models.pretrained`) for every stage shipped."""
    from commsldr.models.pretrained import get_pretrained_path, list_pretrained

    names = {f"CE-T d{d}": f"cifar10-ce-d{d}" for d in dims}
    names[f"DuPHiL d{dy}"] = f"cifar10-duphil-d{dy}"
    names[f"LDR-FT d{dy}"] = f"cifar10-ldr-ft-d{dy}"
    names[f"CE-T d{dy} +CE"] = f"cifar10-ce-control-d{dy}"
    names[f"CE-T d{trunc_from}->{keep}"] = f"cifar10-trunc{trunc_from}to{keep}-ce"
    names[f"LDR-FT d{trunc_from}->{keep}"] = f"cifar10-trunc{trunc_from}to{keep}-ldr-ft"
    shipped = set(list_pretrained())
    return {lbl: get_pretrained_path(n) if n in shipped else Path(f"(not shipped: {n})")
            for lbl, n in names.items()}


def paper_entropy_bits(test_std: np.ndarray, stats: Any, scale: float, rule: str) -> float:
    """The paper's total entropy (bits/image) of the test latents at scale ``s``."""
    bits, _ = highres_entropy_bits(test_std, allocate_steps(stats, scale, rule).numpy())
    return float(bits.sum())


def scale_for_entropy(test_std: np.ndarray, stats: Any, target_bits: float, rule: str) -> float:
    """The scale ``s`` whose paper total entropy is ``target_bits`` (bisection on log s)."""
    lo, hi = -40.0, 40.0  # log2 s
    grows = paper_entropy_bits(test_std, stats, 2.0 ** 10, rule) > paper_entropy_bits(
        test_std, stats, 2.0 ** -10, rule)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        above = paper_entropy_bits(test_std, stats, 2.0 ** mid, rule) > target_bits
        if above == grows:
            hi = mid
        else:
            lo = mid
    return float(2.0 ** (0.5 * (lo + hi)))


def phase_seconds(run_dir: Path) -> float:
    """Training seconds of a stage: the sum of ``time_s`` over its metrics.jsonl records."""
    f = run_dir / "metrics.jsonl"
    if not f.is_file():
        return math.nan
    return float(sum(json.loads(line).get("time_s", 0.0) for line in f.read_text().splitlines()
                     if line.strip()))


def latent_stats_for(path: Path, model: torch.nn.Module, load_train: Any) -> Any:
    """The checkpoint's training-set latent statistics (computed on ``load_train()`` and stored
    in the checkpoint on first use)."""
    try:
        return load_latent_stats(path)
    except KeyError:
        stats = latent_stats_from_latents(encode_dataset(model, load_train()))
        attach_latent_stats(path, stats)
        return stats


def _acc_at(entry: dict[str, Any], target: float) -> tuple[float, float]:
    """(accuracy, paper entropy) of the curve point nearest to ``target`` bits."""
    row = min(entry["curve"], key=lambda r: abs(r["paper_entropy_bits"] - target))
    return row["accuracy"], row["paper_entropy_bits"]


def claims(summary: dict[str, Any], dy: int, trunc_from: int, keep: int) -> dict[str, Any]:
    """The paper's CIFAR-10 claims, measured on these runs (percentage points)."""
    m = summary["models"]
    out: dict[str, Any] = {}
    ce, ldr = m.get(f"CE-T d{dy}"), m.get(f"LDR-FT d{dy}")
    if ce and ldr:
        out["ldrft_minus_ce_acc_pp"] = 100 * (ldr["test_acc_unquantized"] - ce["test_acc_unquantized"])
        for name, e in (("ce", ce), ("ldrft", ldr)):
            hi, hi_b = _acc_at(e, 72.0)
            lo, lo_b = _acc_at(e, 14.0)
            out[f"{name}_drop_72_to_14_pp"] = 100 * (lo - hi)
            out[f"{name}_drop_float_to_14_pp"] = 100 * (lo - e["test_acc_unquantized"])
            out[f"{name}_bits_hi_lo"] = [hi_b, lo_b]
    ctrl = m.get(f"CE-T d{dy} +CE")
    if ctrl and ldr:
        out["ldrft_minus_ce_control_acc_pp"] = 100 * (ldr["test_acc_unquantized"]
                                                      - ctrl["test_acc_unquantized"])
        hi, _ = _acc_at(ctrl, 72.0)
        lo, _ = _acc_at(ctrl, 14.0)
        out["ce_control_drop_72_to_14_pp"] = 100 * (lo - hi)
    base = m.get(f"CE-T d{trunc_from}")
    for name in ("CE-T", "LDR-FT"):
        t = m.get(f"{name} d{trunc_from}->{keep}")
        if base and t:
            out[f"trunc_{name}_minus_base_pp"] = 100 * (t["test_acc_unquantized"]
                                                       - base["test_acc_unquantized"])
    tc, tl = m.get(f"CE-T d{trunc_from}->{keep}"), m.get(f"LDR-FT d{trunc_from}->{keep}")
    if tc and tl:
        out["trunc_ldrft_minus_ce_pp_per_target"] = {
            str(t): 100 * (_acc_at(tl, t)[0] - _acc_at(tc, t)[0]) for t in summary["targets_bits"]}
    d = summary.get("distortions", {})
    for ref, key in ((f"CE-T d{dy}", "distortion_ldrft_minus_ce_pp"),
                     (f"CE-T d{dy} +CE", "distortion_ldrft_minus_ce_control_pp")):
        if ref in d and f"LDR-FT d{dy}" in d:
            a, b = d[ref], d[f"LDR-FT d{dy}"]
            out[key] = {f"{k}/{s}": 100 * (b[k][s] - a[k][s])
                        for k in DISTORTION_KINDS for s in a.get(k, {})}
    return out


def summary_markdown(summary: dict[str, Any]) -> str:
    """Tables of the measured numbers (pasted into docs/reproduction.md)."""
    targets = summary["targets_bits"]
    lines = ["| model | d_y | train images | training s (stage) | test acc (float) | "
             + " | ".join(f"@{t:g} b" for t in targets) + " |",
             "|---" * (5 + len(targets)) + "|"]
    for lbl, e in summary["models"].items():
        accs = [f"{100 * _acc_at(e, t)[0]:.2f}" for t in targets]
        lines.append(f"| {lbl} | {e['latent_dim']} | {e['train_images']} | "
                     f"{e['train_seconds_stage']:.0f} | {100 * e['test_acc_unquantized']:.2f} | "
                     + " | ".join(accs) + " |")
    lines += ["", "Actual coded payload / packet bits per image at each target:", "",
              "| model | " + " | ".join(f"@{t:g} b" for t in targets) + " |",
              "|---" * (1 + len(targets)) + "|"]
    for lbl, e in summary["models"].items():
        cells = []
        for t in targets:
            row = min(e["curve"], key=lambda r: abs(r["paper_entropy_bits"] - t))
            cells.append(f"{row['payload_bits']:.1f} / {row['packet_bits']:.1f}")
        lines.append(f"| {lbl} | " + " | ".join(cells) + " |")
    if summary.get("distortions"):
        cols = [f"{k} {s}" for k in DISTORTION_KINDS for s in SEVERITIES]
        lines += ["", "| model | clean | " + " | ".join(cols) + " |",
                  "|---" * (2 + len(cols)) + "|"]
        for lbl, d in summary["distortions"].items():
            lines.append(f"| {lbl} | {100 * d['clean']:.2f} | " + " | ".join(
                f"{100 * d[k][str(s)]:.2f}" for k in DISTORTION_KINDS for s in SEVERITIES) + " |")
    lines += ["", "Claims (percentage points): `" + json.dumps(summary.get("claims", {})) + "`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=Path("runs/repro_cifar10"))
    ap.add_argument("--dy", type=int, default=64, help="d_y of the DuPHiL / LDR-FT stages")
    ap.add_argument("--dims", default="32,64,128", help="screened d_y")
    ap.add_argument("--trunc-from", type=int, default=128)
    ap.add_argument("--keep", type=int, default=64)
    ap.add_argument("--data", default="../shared/datasets/cifar10-jpeg")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rule", default=DEFAULT_RULE, help="step allocation rule")
    ap.add_argument("--test-per-class", type=int, default=None, help="test subset (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-distortions", action="store_true")
    ap.add_argument("--pretrained", action="store_true",
                    help="use the shipped checkpoints (models/, commsldr list pretrained) "
                         "instead of the runs under --runs")
    ap.add_argument("--out", type=Path, default=Path("runs/repro_cifar10/figures"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    dims = [int(d) for d in args.dims.split(",")]
    out = args.out
    (out / "curves").mkdir(parents=True, exist_ok=True)

    if args.pretrained:
        paths = pretrained_paths(args.dy, dims, args.trunc_from, args.keep)
    else:
        paths = model_paths(args.runs, args.dy, dims, args.trunc_from, args.keep)
    missing = [lbl for lbl, p in paths.items() if not p.is_file()]
    paths = {lbl: p for lbl, p in paths.items() if p.is_file()}
    for lbl in missing:
        print(f"[missing] {lbl}: not trained yet, left out")
    if not paths:
        raise SystemExit("no trained model found under " + str(args.runs))

    test = load_dataset("imagefolder", "test", root=args.data, num_per_class=args.test_per_class,
                        seed=args.seed, progress=False)
    train_cache: dict[Any, Any] = {}
    summary: dict[str, Any] = {"targets_bits": list(TARGET_BITS), "rule": args.rule,
                               "num_test": len(test), "missing": missing, "models": {}}
    curves: dict[str, RateAccuracyResult] = {}
    models: dict[str, torch.nn.Module] = {}
    for label, path in paths.items():
        t0 = time.perf_counter()
        ck = load_checkpoint(path)
        tc = ck.get("train_config") or {}
        key = (tc.get("num_per_class"), tc.get("seed", 0))

        def load_train(key: tuple[Any, Any] = key) -> Any:
            if key not in train_cache:
                train_cache[key] = load_dataset("imagefolder", "train", root=args.data,
                                                num_per_class=key[0], seed=key[1], progress=False)
            return train_cache[key]

        model = load_model(path).eval()
        models[label] = model
        stats = latent_stats_for(path, model, load_train)
        cache = out / "curves" / f"latents-{ck['model_id']}.pt"
        if cache.is_file():
            y_test = torch.load(cache, weights_only=True)
        else:
            y_test = encode_dataset(model, test)
            torch.save(y_test, cache)
        test_std = y_test.double().std(0).numpy()
        scales = [scale_for_entropy(test_std, stats, t, args.rule) for t in TARGET_BITS]
        curve_file = out / "curves" / f"{label.replace(' ', '_').replace('>', '')}.json"
        res = None
        if curve_file.is_file():
            res = RateAccuracyResult.from_json(curve_file)
            if res.label != label or [r["scale"] for r in res.rows] != scales:
                res = None
        if res is None:
            with torch.no_grad():
                res = rate_accuracy_from_latents(y_test, test.labels, model.decode, stats, scales,
                                                 rule=args.rule, label=label, progress=False)
            res.to_json(curve_file)
            res.to_csv(curve_file.with_suffix(".csv"))
        curves[label] = res
        metrics = ck.get("metrics") or {}
        summary["models"][label] = {
            "checkpoint": str(path), "model_id": ck["model_id"], "latent_dim": model.latent_dim,
            "train_images": stats.num_samples,
            "test_acc_unquantized": res.unquantized_accuracy,
            "test_acc_recipe": metrics.get("test_acc"),
            "test_acc_truncated_no_finetune": metrics.get("test_acc_truncated_no_finetune"),
            "train_seconds_stage": phase_seconds(path.parent),
            "curve": [{k: r[k] for k in ("scale", "accuracy", "paper_entropy_bits",
                                         "exact_entropy_bits", "payload_bits", "packet_bits")}
                      for r in res.rows],
            "latent_std_test": res.latent_std,
        }
        print(f"{label}: acc {100 * res.unquantized_accuracy:.2f} %, curve "
              + ", ".join(f"{r['paper_entropy_bits']:.0f}b:{100 * r['accuracy']:.1f}"
                          for r in res.rows)
              + f" ({time.perf_counter() - t0:.0f} s)", flush=True)

    # Fig. 2: accuracy vs total entropy, plus the actual coded bits
    measures = ("paper_entropy_bits", "payload_bits", "packet_bits")
    fig2 = [curves[lbl] for lbl in curves if "->" not in lbl]
    written = plot_rate_accuracy(fig2, out / "fig2_accuracy_vs_rate", measures=measures)
    # Fig. 4: truncation (with the untruncated base and the directly trained d_y = keep)
    fig4_labels = [f"CE-T d{args.trunc_from}", f"CE-T d{args.keep}",
                   f"CE-T d{args.trunc_from}->{args.keep}", f"LDR-FT d{args.trunc_from}->{args.keep}"]
    fig4 = [curves[lbl] for lbl in fig4_labels if lbl in curves]
    if fig4:
        written += plot_rate_accuracy(fig4, out / "fig4_truncation", measures=measures)
    # Fig. 5: per-entry std of the test latents
    fig5_labels = [f"CE-T d{args.keep}", f"CE-T d{args.trunc_from}",
                   f"CE-T d{args.trunc_from}->{args.keep}", f"LDR-FT d{args.trunc_from}->{args.keep}",
                   f"LDR-FT d{args.dy}"]
    stds = {lbl: curves[lbl].latent_std for lbl in dict.fromkeys(fig5_labels) if lbl in curves}
    written += plot_latent_std(stds, out / "fig5_latent_std")

    # Fig. 3: distorted test sets, same distorted images for every model
    if not args.no_distortions:
        fig3_labels = [lbl for lbl in (f"CE-T d{args.dy}", f"CE-T d{args.dy} +CE",
                                       f"DuPHiL d{args.dy}", f"LDR-FT d{args.dy}")
                       if lbl in models]
        dist_file = out / "distortions.json"
        table: dict[str, dict[str, list[float]]] = (
            json.loads(dist_file.read_text()) if dist_file.is_file() else {})
        ids = {lbl: summary["models"][lbl]["model_id"] for lbl in fig3_labels}
        for kind in DISTORTION_KINDS:
            for sev in SEVERITIES:
                todo = [lbl for lbl in fig3_labels
                        if str(sev) not in table.get(ids[lbl], {}).get(kind, {})]
                if not todo:
                    continue
                g = torch.Generator().manual_seed(derive_seed(args.seed, f"distort/{kind}/{sev}"))
                dtest = type(test)(distort(test.images, kind, sev, g), test.labels, test.classes)
                for lbl in todo:
                    acc = evaluate(models[lbl], dtest)
                    table.setdefault(ids[lbl], {}).setdefault(kind, {})[str(sev)] = acc
                    print(f"distortion {kind} {sev}: {lbl} {100 * acc:.2f} %", flush=True)
                dist_file.write_text(json.dumps(table, indent=2))
        summary["distortions"] = {
            lbl: {"clean": summary["models"][lbl]["test_acc_unquantized"], **table[ids[lbl]]}
            for lbl in fig3_labels}
        if fig3_labels:
            fig = Figure(figsize=(4.0 * len(DISTORTION_KINDS), 3.4))
            axes = fig.subplots(1, len(DISTORTION_KINDS), sharey=True, squeeze=False)[0]
            for ax, kind in zip(axes, DISTORTION_KINDS, strict=True):
                for lbl in fig3_labels:
                    d = summary["distortions"][lbl]
                    xs = [0, *SEVERITIES]
                    ys = [100 * d["clean"], *(100 * d[kind][str(s)] for s in SEVERITIES)]
                    ax.plot(xs, ys, marker="o", ms=3, label=lbl)
                ax.set_title(kind)
                ax.set_xlabel("severity level")
                ax.grid(alpha=0.3)
            axes[0].set_ylabel("test accuracy [%]")
            axes[0].legend(fontsize=7)
            for suffix in (".png", ".pdf"):
                p = out / f"fig3_distortions{suffix}"
                fig.savefig(p, dpi=150, bbox_inches="tight")
                written.append(p)

    summary["claims"] = claims(summary, args.dy, args.trunc_from, args.keep)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(summary_markdown(summary))
    print("wrote " + ", ".join(str(p) for p in written) + f", {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
