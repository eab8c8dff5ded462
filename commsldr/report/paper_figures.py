"""The paper's figures (Qi et al., Figs. 2-5) from trained split autoencoders.

For every model (a checkpoint path), with the library's own coding and evaluation code:

* the training-set latent statistics (stored in the checkpoint, or computed on ``train``:
  :func:`commsldr.coding.latent_stats_from_latents`);
* accuracy versus rate on the test set (:func:`commsldr.coding.rate_accuracy_from_latents`) at
  quantization scales chosen so that the paper's total entropy
  :math:`\\sum_i h(y_i) - \\log_2 \\Delta_i` (high-resolution approximation, Qi et al. Sec. 3.3)
  hits the same targets for every model (bisection on ``log2 s``);
* accuracy on distorted test sets (:func:`commsldr.data.distort`: rotation, flip, colour jitter
  at severities 1, 3, 5; the same distorted images for every model);

and draws Fig. 2 (accuracy vs total entropy, with the actual coded payload and packet bits as
further x-axes), Fig. 3 (distortions), Fig. 4 (truncation) and Fig. 5 (per-entry latent std).

Used by ``scripts/reproduce_figures.py`` and by the ``paper_figures`` section of a scenario
(:mod:`commsldr.scenario.runner`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from commsldr._atomic import atomic_write, atomic_write_text
from commsldr.coding import (
    DEFAULT_RULE,
    RateAccuracyResult,
    allocate_steps,
    attach_latent_stats,
    encode_dataset,
    highres_entropy_bits,
    latent_stats_from_latents,
    load_latent_stats,
    rate_accuracy_from_latents,
)
from commsldr.data import ImageTensors, derive_seed, distort
from commsldr.report.coding_figures import (
    legend_outside,
    model_colors,
    plot_latent_std,
    plot_rate_accuracy,
)
from commsldr.train import evaluate, load_checkpoint, load_model

__all__ = [
    "TARGET_BITS",
    "DISTORTION_KINDS",
    "SEVERITIES",
    "paper_figures",
    "paper_entropy_bits",
    "scale_for_entropy",
]

#: default total-entropy targets (bits per image) of the rate-accuracy grids
TARGET_BITS: tuple[float, ...] = (10.0, 14.0, 20.0, 28.0, 40.0, 56.0, 72.0, 88.0)
#: the paper's test-time distortions (Sec. 4.2) and the severities evaluated
DISTORTION_KINDS: tuple[str, ...] = ("rotation", "flip", "color_jitter")
SEVERITIES: tuple[int, ...] = (1, 3, 5)
#: rate measures on the x-axes of Figs. 2 and 4
MEASURES = ("paper_entropy_bits", "payload_bits", "packet_bits")

TrainSource = ImageTensors | Callable[[Mapping[str, Any]], ImageTensors] | None


def paper_entropy_bits(test_std: np.ndarray, stats: Any, scale: float, rule: str) -> float:
    """The paper's total entropy (bits/image) of latents with per-entry std ``test_std``
    (float64, shape ``(d,)``) at quantization scale ``s`` (steps from ``stats`` by ``rule``)."""
    bits, _ = highres_entropy_bits(test_std, allocate_steps(stats, scale, rule).numpy())
    return float(bits.sum())


def scale_for_entropy(test_std: np.ndarray, stats: Any, target_bits: float, rule: str) -> float:
    """The scale ``s`` whose paper total entropy is ``target_bits`` (80 bisection steps on
    ``log2 s`` over ``[-40, 40]``; the entropy is monotone in ``s``)."""
    lo, hi = -40.0, 40.0
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


def _latent_stats(path: Path, ck: Mapping[str, Any], model: torch.nn.Module, train: TrainSource,
                  store: bool) -> Any:
    try:
        return load_latent_stats(path)
    except KeyError:
        pass
    if train is None:
        raise ValueError(f"models: {path} holds no latent statistics and no training set was "
                         "given to compute them")
    data = train(ck.get("train_config") or {}) if callable(train) else train
    stats = latent_stats_from_latents(encode_dataset(model, data))
    if store:
        attach_latent_stats(path, stats)
    return stats


def _safe(label: str) -> str:
    return label.replace(" ", "_").replace(">", "").replace("/", "_")


def _plot_distortions(dist: Mapping[str, Mapping[str, Any]], path_stem: Path,
                      formats: Sequence[str],
                      colors: Mapping[str, object] | None = None) -> list[Path]:
    colors = model_colors(dist, colors)
    fig = Figure(figsize=(4.0 * len(DISTORTION_KINDS) + 1.6, 3.4), layout="constrained")
    axes = fig.subplots(1, len(DISTORTION_KINDS), sharey=True, squeeze=False)[0]
    for ax, kind in zip(axes, DISTORTION_KINDS, strict=True):
        for lbl, d in dist.items():
            ys = [100 * d["clean"], *(100 * d[kind][str(s)] for s in SEVERITIES)]
            ax.plot([0, *SEVERITIES], ys, marker="o", ms=3, color=colors[lbl], label=lbl)
        ax.set_title(kind)
        ax.set_xlabel("severity level")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy [%]")
    legend_outside(fig, axes[0])
    written = []
    for fmt in formats:
        p = path_stem.with_suffix(f".{fmt}")
        atomic_write(p, lambda fh, fmt=fmt: fig.savefig(fh, format=fmt, dpi=150,
                                                        bbox_inches="tight"))
        written.append(p)
    return written


def truncated_labels(info: dict[str, dict[str, Any]]) -> list[str]:
    """The labels of ``info`` (label -> ``{"latent_dim", "truncated_from"}``) that are truncated
    variants. A "truncation" that kept every entry (a fine-tune of the same size, e.g. an
    equal-epoch CE control) is not one."""
    return [lbl for lbl, e in info.items() if e.get("truncated_from") is not None
            and int(e["truncated_from"]) > int(e["latent_dim"])]


def _read_distortions(path: Path, log: Callable[[str], Any]) -> dict[str, Any]:
    """``distortions.json`` (``{model key: {kind: {severity: accuracy}}}``), the accuracies
    measured by earlier runs; a file that is not of this shape (edited, cut short) is reported
    and measured again, never an internal error."""
    if not path.is_file():
        return {}
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        table = None
    ok = isinstance(table, dict) and all(
        isinstance(kinds, dict) and all(
            isinstance(sevs, dict) and all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                           for a in sevs.values())
            for sevs in kinds.values())
        for kinds in table.values())
    if not ok:
        log(f"paper figures: {path} is not a table of accuracies; measuring them again")
        return {}
    return table


def paper_figures(
    models: Mapping[str, str | os.PathLike[str]],
    test: ImageTensors,
    out_dir: str | os.PathLike[str],
    *,
    train: TrainSource = None,
    figures_dir: str | os.PathLike[str] | None = None,
    entropy_targets: Sequence[float] = TARGET_BITS,
    rule: str = DEFAULT_RULE,
    distortions: bool = True,
    seed: int = 0,
    rate_labels: Sequence[str] | None = None,
    truncation_labels: Sequence[str] | None = None,
    std_labels: Sequence[str] | None = None,
    distortion_labels: Sequence[str] | None = None,
    store_stats: bool = False,
    progress: bool = False,
    log: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Compute the paper's curves for ``models`` and draw Figs. 2-5.

    Args:
        models: legend label -> checkpoint path (a :class:`~commsldr.models.SplitAutoencoder`
            checkpoint, e.g. from :func:`commsldr.models.pretrained.get_pretrained_path`).
        test: the evaluation images (uint8 ``(N, 3, H, W)``) and labels.
        out_dir: receives ``summary.json`` and ``curves/<label>.json|csv`` (curves and test
            latents found there from an earlier call with the same scales are reused).
        train: training images for models whose checkpoint lacks latent statistics: an
            :class:`~commsldr.data.ImageTensors`, or a function of the checkpoint's
            ``train_config`` dict returning one; ``None``: every checkpoint must hold them.
        figures_dir: where ``fig2_accuracy_vs_rate``, ``fig3_distortions``, ``fig4_truncation``
            and ``fig5_latent_std`` (``.png`` and ``.pdf``) go (default ``out_dir``).
        entropy_targets: paper total-entropy targets in bits per image (all > 0).
        rule: step allocation rule (:data:`commsldr.coding.ALLOCATION_RULES`).
        distortions: evaluate the distorted test sets and draw Fig. 3.
        seed: seed of the distortions (one generator per kind and severity, derived with
            :func:`commsldr.data.derive_seed`).
        rate_labels: models in Fig. 2 (default: those that are not truncated variants, i.e. whose
            config has no ``truncated_from``).
        truncation_labels: models in Fig. 4 (default: the truncated variants plus the untruncated
            models whose d_y is a truncation's source or target; no figure if there are none).
        std_labels: models in Fig. 5 (default: all).
        distortion_labels: models in Fig. 3 (default: ``rate_labels``).
        store_stats: write computed latent statistics back into the checkpoint.
        progress: tqdm progress bars.
        log: a ``print``-like function for status lines.

    Returns:
        The summary (also written to ``out_dir/summary.json``): ``targets_bits``, ``rule``,
        ``num_test``, ``models`` (per label: checkpoint, model_id, latent_dim, train_images,
        test_acc_unquantized, the curve rows, latent_std_test, ...), ``distortions`` (per label:
        clean and per kind/severity accuracy) and ``figures`` (the written paths).
    """
    if not models:
        raise ValueError("models: at least one model is needed")
    targets = [float(t) for t in entropy_targets]
    if not targets or any(not np.isfinite(t) or t <= 0 for t in targets):
        raise ValueError(f"entropy_targets: expected positive bits, got {list(entropy_targets)}")
    for name, sel in (("rate_labels", rate_labels), ("truncation_labels", truncation_labels),
                      ("std_labels", std_labels), ("distortion_labels", distortion_labels)):
        unknown = [lbl for lbl in sel or () if lbl not in models]
        if unknown:
            raise ValueError(f"{name}: unknown model label(s) {unknown}; known: {list(models)}")
    out = Path(out_dir)
    fig_dir = Path(figures_dir) if figures_dir is not None else out
    (out / "curves").mkdir(parents=True, exist_ok=True)
    fig_dir.mkdir(parents=True, exist_ok=True)

    summary: dict[str, Any] = {"targets_bits": targets, "rule": rule, "num_test": len(test),
                               "models": {}}
    curves: dict[str, RateAccuracyResult] = {}
    loaded: dict[str, torch.nn.Module] = {}
    for label, path_like in models.items():
        path = Path(path_like)
        t0 = time.perf_counter()
        ck = load_checkpoint(path)
        model = load_model(path).eval()
        loaded[label] = model
        stats = _latent_stats(path, ck, model, train, store_stats)
        cache = out / "curves" / f"latents-{ck['model_id']}-n{len(test)}.pt"
        if cache.is_file():
            y_test = torch.load(cache, weights_only=True)
        else:
            y_test = encode_dataset(model, test)
            torch.save(y_test, cache)
        test_std = y_test.double().std(0).numpy()
        scales = [scale_for_entropy(test_std, stats, t, rule) for t in targets]
        curve_file = out / "curves" / f"{_safe(label)}.json"
        res = None
        if curve_file.is_file():
            res = RateAccuracyResult.from_json(curve_file)
            if res.label != label or [r["scale"] for r in res.rows] != scales:
                res = None
        if res is None:
            with torch.no_grad():
                res = rate_accuracy_from_latents(y_test, test.labels, model.decode, stats, scales,
                                                 rule=rule, label=label, progress=progress)
            res.to_json(curve_file)
            res.to_csv(curve_file.with_suffix(".csv"))
        curves[label] = res
        metrics = ck.get("metrics") or {}
        summary["models"][label] = {
            "checkpoint": str(path), "model_id": ck["model_id"],
            "latent_dim": int(model.latent_dim),
            "truncated_from": model.config.get("truncated_from"),
            "train_images": stats.num_samples,
            "test_acc_unquantized": res.unquantized_accuracy,
            "test_acc_recipe": metrics.get("test_acc"),
            "test_acc_truncated_no_finetune": metrics.get("test_acc_truncated_no_finetune"),
            "curve": [{k: r[k] for k in ("scale", "accuracy", "paper_entropy_bits",
                                         "exact_entropy_bits", "payload_bits", "packet_bits")}
                      for r in res.rows],
            "latent_std_test": res.latent_std,
        }
        log(f"{label}: acc {100 * res.unquantized_accuracy:.2f} %, curve "
            + ", ".join(f"{r['paper_entropy_bits']:.0f}b:{100 * r['accuracy']:.1f}"
                        for r in res.rows)
            + f" ({time.perf_counter() - t0:.0f} s)")

    info = summary["models"]
    truncated = truncated_labels(info)
    if rate_labels is None:
        rate_labels = [lbl for lbl in models if lbl not in truncated]
    if truncation_labels is None:
        dims = {info[lbl]["latent_dim"] for lbl in truncated} | {
            int(info[lbl]["truncated_from"]) for lbl in truncated}
        truncation_labels = ([lbl for lbl in models if lbl not in truncated
                              and info[lbl]["latent_dim"] in dims] + truncated
                             if truncated else [])
    std_labels = list(models) if std_labels is None else std_labels
    distortion_labels = rate_labels if distortion_labels is None else distortion_labels

    colors = model_colors(models)  # one colour per model in every figure
    written: list[Path] = []
    if rate_labels:  # Fig. 2
        written += plot_rate_accuracy([curves[lbl] for lbl in rate_labels],
                                      fig_dir / "fig2_accuracy_vs_rate", measures=MEASURES,
                                      colors=colors)
    if truncation_labels:  # Fig. 4
        written += plot_rate_accuracy([curves[lbl] for lbl in truncation_labels],
                                      fig_dir / "fig4_truncation", measures=MEASURES,
                                      colors=colors)
    if std_labels:  # Fig. 5: sorted, raw and relative to each model's largest entry
        written += plot_latent_std({lbl: curves[lbl].latent_std for lbl in std_labels},
                                   fig_dir / "fig5_latent_std", sort=True, colors=colors)

    if distortions and distortion_labels:  # Fig. 3
        dist_file = out / "distortions.json"
        table = _read_distortions(dist_file, log)
        key = {lbl: f"{info[lbl]['model_id']}/n{len(test)}/seed{seed}" for lbl in distortion_labels}
        for kind in DISTORTION_KINDS:
            for sev in SEVERITIES:
                todo = [lbl for lbl in distortion_labels
                        if str(sev) not in table.get(key[lbl], {}).get(kind, {})]
                if not todo:
                    continue
                g = torch.Generator().manual_seed(derive_seed(seed, f"distort/{kind}/{sev}"))
                dtest = type(test)(distort(test.images, kind, sev, g), test.labels, test.classes)
                for lbl in todo:
                    acc = evaluate(loaded[lbl], dtest)
                    table.setdefault(key[lbl], {}).setdefault(kind, {})[str(sev)] = acc
                    log(f"distortion {kind} {sev}: {lbl} {100 * acc:.2f} %")
                atomic_write_text(dist_file, json.dumps(table, indent=2))
        summary["distortions"] = {
            lbl: {"clean": info[lbl]["test_acc_unquantized"], **table[key[lbl]]}
            for lbl in distortion_labels}
        written += _plot_distortions(summary["distortions"], fig_dir / "fig3_distortions",
                                     ("png", "pdf"), colors)
    summary["figures"] = [str(p) for p in written]
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    return summary
