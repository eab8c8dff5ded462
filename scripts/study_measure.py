"""Measuring the study's models (cached per checkpoint) and the convergence of their phases
(see ``study_report.py``)."""

from __future__ import annotations

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
    CONVERGED_SHARE,
    DISTORTION_SEVERITY,
    LOW_BITS,
    MODELS,
    NOISE_FRACTIONS,
    PHASED_MODELS,
    TOPK,
    TRANSFORM,
)

#: bump when :func:`measure` changes what it measures (old cached measurements are then redone);
#: 2: every budget's scale is solved on training images (``rate_accuracy_at_budgets``), no
#: longer on the test latents
MEASURE_VERSION = 2


def measure_cached(path: Path, train: Any, test: Any, cache: Path) -> dict[str, Any]:
    """:func:`measure`, cached in ``cache/<sha256 of the checkpoint>.json`` (the report is re-run
    as the study's stages finish; a finished model is measured once)."""
    from commsldr.models.pretrained import sha256_file

    key = f"{sha256_file(path)[:24]}-v{MEASURE_VERSION}-n{len(test)}"
    entry = cache / f"{key}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    out = measure(path, train, test, stats=latent_stats_cached(path, train, cache))
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


STATS_VERSION = 1


def latent_stats_cached(path: Path, train: Any, cache: Path) -> Any:
    """The training-set :class:`~commsldr.coding.LatentStats` of the checkpoint ``path``: stored
    in it, or computed once (50,000 training images to encode) and kept in
    ``cache/<sha256 of the checkpoint>-stats-v<N>.json`` (``ship_pretrained.py --stats-cache``
    reads the same files)."""
    from commsldr.coding import LatentStats, compute_latent_stats
    from commsldr.models import model_id
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_checkpoint, load_model

    entry = cache / f"{sha256_file(path)[:24]}-stats-v{STATS_VERSION}.json"
    if entry.is_file():
        return LatentStats.from_dict(json.loads(entry.read_text()))
    ck = load_checkpoint(path)
    model = load_model(path)
    if "latent_stats" in ck and ck.get("model_id") == model_id(model):
        return LatentStats.from_dict(ck["latent_stats"])
    stats = compute_latent_stats(model, train)
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(_stats_json(stats)) + "\n")
    return stats


def measure_rule_cached(path: Path, train: Any, test: Any, cache: Path,
                        rule: str = CHECK_RULE) -> dict[str, Any]:
    """Accuracy and real payload at :data:`CHECK_RULE_BUDGETS_BITS` under allocation ``rule``
    (keys ``acc@<B>b_<rule>``, ``acc@<B>b_<rule>_payload_bits``), cached like
    :func:`measure_cached`."""
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_model
    from commsldr.train.screening import rate_accuracy_at_budgets

    entry = cache / f"{sha256_file(path)[:24]}-{rule}-v{MEASURE_VERSION}-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    model = load_model(path)
    stats = latent_stats_cached(path, train, cache)
    rate = rate_accuracy_at_budgets(model, train, test, list(CHECK_RULE_BUDGETS_BITS), rule=rule,
                                    stats=stats)
    out = _budget_rows(rate, f"_{rule}")
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


def _stats_json(stats: Any) -> dict[str, Any]:
    """A :class:`~commsldr.coding.LatentStats` as JSON-able lists (``LatentStats.from_dict``
    reads it back)."""
    return {k: v.tolist() if isinstance(v, torch.Tensor) else v
            for k, v in stats.to_dict().items()}


def _budget_rows(rate: dict[str, Any], suffix: str) -> dict[str, Any]:
    """``acc@<B>b<suffix>`` and ``..._payload_bits`` of each budget of a
    :func:`~commsldr.train.screening.rate_accuracy_at_budgets` result (``None``: infeasible)."""
    from commsldr.train.screening import budget_key

    out: dict[str, Any] = {}
    for b in rate["budgets"]:
        key = f"{budget_key(b['budget_bits'])}{suffix}"
        out[key] = b["accuracy"] if b["feasible"] else None
        out[key + "_payload_bits"] = b["payload_bits"]
    return out


KLT_VERSION = 1


def measure_klt_cached(path: Path, train: Any, test: Any, cache: Path) -> dict[str, Any]:
    """Accuracy and real payload at :data:`CHECK_RULE_BUDGETS_BITS` with transform coding: the
    KLT fitted on the 50,000 training latents, reverse water-filling on its coefficients (keys
    ``acc@<B>b_klt``, ``acc@<B>b_klt_payload_bits``). The fitted transform is kept in
    ``cache/<sha>-klt-v<N>.json`` beside the numbers."""
    from commsldr.coding import KLTransform, LatentStats, encode_dataset, fit_klt
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_model
    from commsldr.train.screening import rate_accuracy_at_budgets

    sha = sha256_file(path)[:24]
    entry = cache / f"{sha}-{TRANSFORM}-acc-v{KLT_VERSION}.{MEASURE_VERSION}-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    model = load_model(path)
    fitted = cache / f"{sha}-{TRANSFORM}-v{KLT_VERSION}.json"
    if fitted.is_file():
        saved = json.loads(fitted.read_text())
        klt = KLTransform.from_dict(saved["transform"])
        stats = LatentStats.from_dict(saved["coefficient_stats"])
    else:
        ytr = encode_dataset(model, train)
        klt, stats = fit_klt(ytr)
        cache.mkdir(parents=True, exist_ok=True)
        fitted.write_text(json.dumps({"transform": klt.to_dict(),
                                      "coefficient_stats": _stats_json(stats)}) + "\n")
    rate = rate_accuracy_at_budgets(model, train, test, list(CHECK_RULE_BUDGETS_BITS),
                                    rule=CHECK_RULE, stats=stats, transform=klt)
    out = _budget_rows(rate, f"_{TRANSFORM}")
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


def measure_structure_cached(path: Path, train: Any, test: Any, cache: Path) -> dict[str, Any]:
    """``acc_top<k>`` for k in :data:`TOPK` and ``acc_noise<f>`` for f in
    :data:`NOISE_FRACTIONS` (noise drawn from a fixed seed), cached like :func:`measure_cached`."""
    from commsldr.coding import encode_dataset
    from commsldr.models import predict_from_latent
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_model

    entry = cache / f"{sha256_file(path)[:24]}-structure-v1-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    model = load_model(path).eval()
    stats = latent_stats_cached(path, train, cache)
    y = encode_dataset(model, test)
    mean, std = stats.mean.to(y.dtype), stats.std.to(y.dtype)
    order = torch.argsort(stats.std, descending=True)

    def acc(z: torch.Tensor) -> float:
        return float((predict_from_latent(model, z) == test.labels).double().mean())

    out: dict[str, Any] = {}
    for k in TOPK:
        z = mean.expand_as(y).clone()
        z[:, order[:k]] = y[:, order[:k]]
        out[f"acc_top{k}"] = acc(z)
    for f in NOISE_FRACTIONS:
        g = torch.Generator().manual_seed(0)
        out[f"acc_noise{f:g}"] = acc(y + f * std * torch.randn(y.shape, generator=g, dtype=y.dtype))
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


def measure(path: Path, train: Any, test: Any, stats: Any) -> dict[str, Any]:
    """Every number of one model (see the module docstring); ``stats``: its training-set latent
    statistics (:func:`latent_stats_cached`)."""
    from commsldr.coding import encode_dataset
    from commsldr.data import derive_seed, distort
    from commsldr.report.paper_figures import paper_entropy_bits
    from commsldr.train import evaluate, load_model
    from commsldr.train.screening import budget_key, rate_accuracy_at_budgets

    model = load_model(path)
    rate = rate_accuracy_at_budgets(model, train, test, list(BUDGETS_BITS), stats=stats)
    y = encode_dataset(model, test)
    std = y.double().std(0).numpy()
    out: dict[str, Any] = {"float_acc": rate["float_acc"], "latent_std": std.tolist(),
                           "participation_ratio": float((std ** 2).sum() ** 2 / (std ** 4).sum())}
    for b in rate["budgets"]:
        key = budget_key(b["budget_bits"])
        out[key] = b["accuracy"] if b["feasible"] else None
        out[key + "_payload_bits"] = b["payload_bits"]
        out[key + "_paper_entropy_bits"] = (
            paper_entropy_bits(std, stats, b["scale"], rate["rule"]) if b["feasible"] else None)
    low = out.get(budget_key(LOW_BITS))
    out["quant_loss"] = None if low is None else low - out["float_acc"]
    dist = {}
    for kind in ("rotation", "flip", "color_jitter", "noise"):
        g = torch.Generator().manual_seed(derive_seed(0, f"study/{kind}"))
        images = distort(test.images, kind, DISTORTION_SEVERITY, g)
        dist[kind] = evaluate(model, type(test)(images, test.labels, test.classes))
    out["distortions"] = dist
    out["distorted_acc"] = float(np.mean(list(dist.values())))
    return out


def phase_convergence(runs: Path, seeds: list[int]) -> list[dict[str, Any]]:
    """Per model of :data:`PHASED_MODELS`, seed and phase: the epoch-mean training loss of the
    phase's own objective (L_LDR, L_LDR-SSL or CE) per epoch, from the stage's
    ``<phase>/metrics.jsonl``, the share of the phase's decrease made in its last epoch, and the
    test accuracy after the phase. No model is loaded."""
    rows = []
    for label in PHASED_MODELS:
        for seed in seeds:
            stage = runs / f"s{seed}" / MODELS[label]
            if not (stage / "model.pt").is_file():
                continue
            for metrics in sorted(stage.glob("*/metrics.jsonl")):
                records = [json.loads(line) for line in metrics.read_text().splitlines() if line]
                if not records:
                    continue
                keys = [k for k in records[0] if k.startswith("loss_")]
                key = next((k for k in keys if k != "loss_ce"), "loss_ce")
                losses = [float(r[key]) for r in records]
                drop = losses[0] - losses[-1]
                last = losses[-2] - losses[-1] if len(losses) > 1 else math.nan
                share = last / drop if len(losses) > 1 and drop > 0 else math.nan
                rows.append({"model": label, "seed": seed, "phase": metrics.parent.name,
                             "loss": key.removeprefix("loss_"), "losses": losses,
                             "last_epoch_share": share,
                             "converged": bool(share < CONVERGED_SHARE) if share == share else None,
                             "test_acc": records[-1].get("test_acc")})
    return rows
