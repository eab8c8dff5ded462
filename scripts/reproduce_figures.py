"""The paper's CIFAR-10 figures (Qi et al., Figs. 2-5) and comparison numbers from trained runs.

Reads the models written by ``scripts/reproduce_cifar10.sh`` (missing stages are skipped and
reported), computes with the library (:func:`commsldr.report.paper_figures.paper_figures`):

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
from pathlib import Path
from typing import Any

import torch

from commsldr.coding import DEFAULT_RULE
from commsldr.data import load_dataset
from commsldr.report.paper_figures import DISTORTION_KINDS, SEVERITIES, TARGET_BITS, paper_figures


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


def phase_seconds(run_dir: Path) -> float:
    """Training seconds of a stage: the sum of ``time_s`` over its metrics.jsonl records."""
    f = run_dir / "metrics.jsonl"
    if not f.is_file():
        return math.nan
    return float(sum(json.loads(line).get("time_s", 0.0) for line in f.read_text().splitlines()
                     if line.strip()))


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
    ap.add_argument("--data", required=True, help="ImageFolder copy of CIFAR-10 (train/, test/)")
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

    def load_train(train_config: Any) -> Any:
        key = (train_config.get("num_per_class"), train_config.get("seed", 0))
        if key not in train_cache:
            train_cache[key] = load_dataset("imagefolder", "train", root=args.data,
                                            num_per_class=key[0], seed=key[1], progress=False)
        return train_cache[key]

    labels = list(paths)
    fig3 = [lbl for lbl in (f"CE-T d{args.dy}", f"CE-T d{args.dy} +CE", f"DuPHiL d{args.dy}",
                            f"LDR-FT d{args.dy}") if lbl in paths]
    fig4 = [lbl for lbl in (f"CE-T d{args.trunc_from}", f"CE-T d{args.keep}",
                            f"CE-T d{args.trunc_from}->{args.keep}",
                            f"LDR-FT d{args.trunc_from}->{args.keep}") if lbl in paths]
    fig5 = [lbl for lbl in dict.fromkeys((
        f"CE-T d{args.keep}", f"CE-T d{args.trunc_from}", f"CE-T d{args.trunc_from}->{args.keep}",
        f"LDR-FT d{args.trunc_from}->{args.keep}", f"LDR-FT d{args.dy}")) if lbl in paths]
    summary = paper_figures(
        paths, test, out, train=load_train, entropy_targets=TARGET_BITS, rule=args.rule,
        distortions=not args.no_distortions, seed=args.seed,
        rate_labels=[lbl for lbl in labels if "->" not in lbl], truncation_labels=fig4,
        std_labels=fig5, distortion_labels=fig3, store_stats=True,
        log=lambda line: print(line, flush=True))
    summary["missing"] = missing
    for lbl, entry in summary["models"].items():
        entry["train_seconds_stage"] = phase_seconds(paths[lbl].parent)
    written = summary.pop("figures")
    summary["claims"] = claims(summary, args.dy, args.trunc_from, args.keep)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(summary_markdown(summary))
    print("wrote " + ", ".join(written) + f", {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
