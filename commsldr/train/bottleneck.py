"""Training and evaluating a split autoencoder with a learned entropy bottleneck.

The recipe ``entropy-bottleneck`` (registered in :mod:`commsldr.train.recipes`) fine-tunes a
CE-T model end to end on ``CE + lambda_r * R`` (``R``: bits per image,
:class:`~commsldr.coding.bottleneck.EntropyBottleneck`), every mini-batch spread evenly over the
rate points ``r`` (image ``n`` of a batch uses point ``(n + step) mod R``), so one encoder and one
decoder serve every rate (gain vectors, Cui et al. 2021).

**From the CE-T checkpoint, not from scratch**, for two reasons: (1) the comparison with the
paper's method is at equal training, and LDR-FT, the CE controls and the truncations are all
fine-tunes of the same converged CE-T model; (2) a from-scratch run costs the 18 epochs of CE-T
again (about 29 min on 2 idle cores) per seed, a fine-tune ``finetune_epochs`` epochs.

The model parameters use the CE fine-tune's optimiser (the recipe's SGD settings at
``finetune_lr``, its schedule, lookahead, label smoothing and augmentation: those of the CE
controls); the gains and priors use Adam at ``eb_lr``. Before the first step the priors are
fitted for :data:`PRIOR_WARMUP_STEPS` Adam steps to the noisy latents of
:data:`PRIOR_WARMUP_IMAGES` training images (encoder frozen), so the rate term starts from a
density that matches the latent instead of the prior's wide initial guess.

A held-out validation split (``val_fraction`` of every class of the training set, the same
stratified draw as the ``screen`` recipe) is scored after every epoch (accuracy and estimated
bits per rate point); the test set is scored once, at the end.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from commsldr.coding.bottleneck import EntropyBottleneck
from commsldr.data import BatchLoader, ImageTensors, derive_seed, make_augment, to_float
from commsldr.train.checkpoint import (
    CheckpointError,
    atomic_write_text,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from commsldr.train.loop import (
    LOOKAHEAD_DECAY,
    LOOKAHEAD_EVERY,
    LOOKAHEAD_START,
    Phase,
    TrainingDivergedError,
    _float_state,
    _lookahead_update,
    _make_optimizer,
    _make_scheduler,
    _param_groups,
    part_modules,
)
from commsldr.train.screening import bits_summary

__all__ = ["EB_STATE_KEY", "PRIOR_WARMUP_IMAGES", "PRIOR_WARMUP_STEPS", "best_rate_point",
           "eb_budgets", "eb_predictions", "eb_rate_points", "load_entropy_bottleneck",
           "train_entropy_bottleneck"]

#: checkpoint key of the bottleneck (``{"config": ..., "state": ...}``)
EB_STATE_KEY = "entropy_bottleneck"
PRIOR_WARMUP_IMAGES = 5000
PRIOR_WARMUP_STEPS = 300
_EVAL_BATCH = 500


def load_entropy_bottleneck(path: str | Path) -> EntropyBottleneck:
    """The :class:`EntropyBottleneck` stored in a checkpoint (eval mode).

    Raises:
        CheckpointError: the checkpoint holds no entropy bottleneck.
    """
    ck = load_checkpoint(path)
    entry = ck.get(EB_STATE_KEY)
    if not isinstance(entry, dict):
        raise CheckpointError(f"{path} holds no entropy bottleneck (it was not trained with the "
                              "recipe 'entropy-bottleneck')")
    eb = EntropyBottleneck.from_config(entry["config"])
    eb.load_state_dict(entry["state"])
    return eb.eval()


def eb_state(eb: EntropyBottleneck) -> dict[str, Any]:
    """What :func:`load_entropy_bottleneck` reads back."""
    return {"config": eb.config, "state": {k: v.detach().cpu() for k, v in eb.state_dict().items()}}


@torch.no_grad()
def eb_latents(model: torch.nn.Module, data: ImageTensors) -> torch.Tensor:
    """Float latents ``[N, k]`` of ``data`` (eval mode, float32)."""
    model.eval()
    device = next(model.parameters()).device
    out = [model.encode(to_float(data.images[s: s + _EVAL_BATCH]).to(device)).float().cpu()
           for s in range(0, len(data), _EVAL_BATCH)]
    return torch.cat(out) if out else torch.zeros(0, model.latent_dim)


@torch.no_grad()
def eb_predictions(model: torch.nn.Module, eb: EntropyBottleneck, latents: torch.Tensor,
                   rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Server predictions and estimated bits at rate point ``rate`` from float ``latents``.

    Output:
        ``(pred int64 [N], bits float64 [N])``: labels from the rounded latent and
        ``-sum log2 P(q)`` per image.
    """
    model.eval()
    eb.eval()
    device = next(model.parameters()).device
    preds, bits = [], []
    for s in range(0, latents.shape[0], _EVAL_BATCH):
        y = latents[s: s + _EVAL_BATCH]
        idx = torch.full((y.shape[0],), rate, dtype=torch.int64)
        y_hat, b = eb(y, idx)
        preds.append(model.decode(y_hat.to(device)).argmax(1).cpu())
        bits.append(b.double())
    return torch.cat(preds).numpy(), torch.cat(bits).numpy()


def _score(model: torch.nn.Module, eb: EntropyBottleneck, data: ImageTensors,
           prefix: str) -> dict[str, Any]:
    lat = eb_latents(model, data)
    labels = data.labels.numpy()
    rec: dict[str, Any] = {}
    for r in range(eb.num_rates):
        pred, bits = eb_predictions(model, eb, lat, r)
        rec[f"{prefix}_acc_r{r}"] = float((pred == labels).mean())
        rec[f"{prefix}_bits_r{r}"] = float(bits.mean())
    return rec


def _warm_priors(model: torch.nn.Module, eb: EntropyBottleneck, train: ImageTensors,
                 seed: int) -> None:
    """Fit the priors (gains fixed) to the noisy latents of the first training images."""
    lat = eb_latents(model, train.subset(torch.arange(min(PRIOR_WARMUP_IMAGES, len(train)))))
    g = torch.Generator().manual_seed(derive_seed(seed, "eb/prior-warmup"))
    opt = torch.optim.Adam(eb.priors.parameters(), lr=0.05)
    eb.train()
    for _ in range(PRIOR_WARMUP_STEPS):
        idx = torch.randint(0, eb.num_rates, (lat.shape[0],), generator=g)
        opt.zero_grad(set_to_none=True)
        _, bits = eb(lat, idx, generator=g)
        bits.mean().backward()
        opt.step()
    eb.log_gains.grad = None


def train_entropy_bottleneck(
    model: torch.nn.Module,
    eb: EntropyBottleneck,
    phase: Phase,
    eb_lr: float,
    train: ImageTensors,
    val: ImageTensors,
    out_dir: str | Path,
    *,
    resume: bool = False,
    extra_state: dict[str, Any] | None = None,
    log: Any = print,
) -> list[dict[str, Any]]:
    """Fine-tune ``model`` + ``eb`` on ``CE + lambda_r R`` for ``phase.epochs`` epochs.

    Writes ``out_dir/last.pt`` (resumable: model, bottleneck, optimisers, schedulers, RNG
    states, history) and ``out_dir/metrics.jsonl`` after every epoch. Returns the per-epoch
    records (train loss parts, train bits per rate point, validation accuracy and estimated bits
    per rate point, seconds).
    """
    out_dir = Path(out_dir)
    ckpt = out_dir / "last.pt"
    device = next(model.parameters()).device
    mods = part_modules(model)
    trained = ("encoder", "decoder")
    for name, mod in mods.items():
        mod.requires_grad_(name in trained)
    opt = _make_optimizer(phase, _param_groups(phase, mods, trained, phase.steps[0].lr))
    eb_opt = torch.optim.Adam(eb.parameters(), lr=float(eb_lr))
    gens = {"order": torch.Generator().manual_seed(derive_seed(phase.seed, "eb/order")),
            "augment": torch.Generator().manual_seed(derive_seed(phase.seed, "eb/augment")),
            "noise": torch.Generator().manual_seed(derive_seed(phase.seed, "eb/noise"))}
    loader = BatchLoader(train, phase.batch_size, shuffle=True, generator=gens["order"],
                         raw=True, drop_last=len(train) >= phase.batch_size)
    augment = make_augment(phase.augment)
    per_batch = phase.optim.schedule == "triangle"
    sched = _make_scheduler(phase, opt, max(1, len(loader)))
    lam = torch.tensor(eb.lambdas, dtype=torch.float32)
    memory_format = torch.channels_last if phase.optim.channels_last else torch.contiguous_format
    history: list[dict[str, Any]] = []
    lookahead: dict[str, torch.Tensor] | None = None
    start = 0
    if resume and ckpt.exists():
        ck = load_checkpoint(ckpt)
        if ck.get("phase") != phase.to_dict() or ck.get("eb_config") != eb.config:
            raise CheckpointError(f"cannot resume from {ckpt}: it was written for another "
                                  "phase or bottleneck")
        model.load_state_dict(ck["model_state"])
        eb.load_state_dict(ck[EB_STATE_KEY]["state"])
        opt.load_state_dict(ck["optimizer"])
        eb_opt.load_state_dict(ck["eb_optimizer"])
        sched.load_state_dict(ck["scheduler"])
        restore_rng(gens, ck["rng"])
        history = list(ck["history"])
        start = int(ck["epoch"])
        lookahead = ck.get("lookahead")
    elif start == 0:
        _warm_priors(model, eb, train, phase.seed)
        rec0 = {"epoch": 0, **_score(model, eb, val, "val")}
        log(f"entropy-bottleneck: priors fitted; before fine-tuning {json.dumps(rec0)}")
    if phase.optim.channels_last:
        model.to(memory_format=torch.channels_last)
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    total_steps = phase.epochs * len(loader)
    for epoch in range(start, phase.epochs):
        t0 = time.perf_counter()
        for name, mod in mods.items():
            mod.train(name in trained)
        eb.train()
        sums = torch.zeros(2, dtype=torch.float64)
        bit_sums = torch.zeros(eb.num_rates, dtype=torch.float64)
        bit_counts = torch.zeros(eb.num_rates, dtype=torch.float64)
        correct = seen = batches = 0
        step = epoch * len(loader)
        for raw, labels in loader:
            x = augment(raw, gens["augment"]) if augment is not None else to_float(raw)
            x = x.to(device).contiguous(memory_format=memory_format)
            labels = labels.to(device)
            idx = (torch.arange(labels.shape[0]) + step) % eb.num_rates
            opt.zero_grad(set_to_none=True)
            eb_opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=phase.optim.amp):
                y = model.encode(x)
            y_hat, bits = eb(y.float(), idx.to(device), generator=gens["noise"])
            with torch.autocast(device.type, dtype=amp_dtype, enabled=phase.optim.amp):
                logits = model.decode(y_hat)
            ce = F.cross_entropy(logits.float(), labels, label_smoothing=phase.optim.label_smoothing)
            rate = (lam.to(device)[idx.to(device)] * bits).mean()
            (ce + rate).backward()
            opt.step()
            eb_opt.step()
            if per_batch:
                sched.step()
            sums += torch.tensor([float(ce.detach()), float(rate.detach())], dtype=torch.float64)
            bit_sums.index_add_(0, idx, bits.detach().double().cpu())
            bit_counts.index_add_(0, idx, torch.ones(idx.shape[0], dtype=torch.float64))
            correct += int((logits.detach().argmax(1) == labels).sum())
            seen += int(labels.numel())
            batches += 1
            step += 1
            if (phase.optim.lookahead and epoch >= int(LOOKAHEAD_START * phase.epochs)
                    and step % LOOKAHEAD_EVERY == 0):
                if lookahead is None:
                    lookahead = _float_state(model)
                else:
                    rho = LOOKAHEAD_DECAY ** LOOKAHEAD_EVERY * (step / total_steps) ** 3
                    _lookahead_update(model, lookahead, rho)
        if lookahead is not None:
            _lookahead_update(model, lookahead, 1.0)
        if not per_batch:
            sched.step()
        rec: dict[str, Any] = {"phase": phase.name, "epoch": epoch + 1,
                               "loss_ce": float(sums[0]) / max(batches, 1),
                               "loss_rate": float(sums[1]) / max(batches, 1),
                               "train_acc": correct / max(seen, 1)}
        for r in range(eb.num_rates):
            rec[f"train_bits_r{r}"] = float(bit_sums[r] / max(float(bit_counts[r]), 1.0))
        rec.update(_score(model, eb, val, "val"))
        rec["time_s"] = time.perf_counter() - t0
        if not all(math.isfinite(v) for v in rec.values() if isinstance(v, float)):
            raise TrainingDivergedError(f"entropy-bottleneck epoch {epoch + 1}: a loss or metric "
                                        f"became NaN or infinite; lower finetune_lr or eb_lr")
        history.append(rec)
        atomic_write_text(out_dir / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in history))
        save_checkpoint(ckpt, model, phase=phase.to_dict(), eb_config=eb.config, epoch=epoch + 1,
                        complete=epoch + 1 == phase.epochs, optimizer=opt.state_dict(),
                        eb_optimizer=eb_opt.state_dict(), scheduler=sched.state_dict(),
                        rng=capture_rng(gens), history=history, lookahead=lookahead,
                        **{EB_STATE_KEY: eb_state(eb)}, **(extra_state or {}))
        log(f"entropy-bottleneck {epoch + 1}/{phase.epochs}: " + "  ".join(
            f"{k} {v:.4g}" for k, v in rec.items() if isinstance(v, float)))
    for mod in mods.values():
        mod.requires_grad_(True)
    model.eval()
    eb.eval()
    return history


def eb_rate_points(model: torch.nn.Module, eb: EntropyBottleneck, select: ImageTensors,
                   calibrate: ImageTensors | None = None, *,
                   images_per_message: int = 1) -> list[dict[str, Any]]:
    """Every rate point measured with real coded bits (each image coded alone, or with
    ``images_per_message`` > 1 each image's share of a message of that many consecutive images).

    Output:
        one dict per rate point: ``rate``, ``lambda``, ``accuracy`` on ``select``, its
        ``payload_bits`` (mean) / ``payload_p50`` / ``payload_p95`` / ``payload_max`` there,
        ``calibration_bits`` (mean coded bits on ``calibrate``) and ``calibration_accuracy``
        (the accuracy on ``calibrate``; both ``None`` without it).
    """
    lat = eb_latents(model, select)
    cal = eb_latents(model, calibrate) if calibrate is not None else None
    out = []
    for r in range(eb.num_rates):
        coder = eb.source_coder(r)
        q = coder.symbols(lat)
        spent = bits_summary(coder.codec.message_bits(q, images_per_message))
        point = {"rate": r, "lambda": eb.lambdas[r],
                 "accuracy": _coded_accuracy(model, coder, q, select.labels),
                 "payload_bits": spent["mean"], "payload_p50": spent["p50"],
                 "payload_p95": spent["p95"], "payload_max": spent["max"],
                 "calibration_bits": None, "calibration_accuracy": None}
        if cal is not None:  # the calibration images quantized once, as the scored ones
            qc = coder.symbols(cal)
            point["calibration_bits"] = float(
                coder.codec.message_bits(qc, images_per_message).mean())
            point["calibration_accuracy"] = _coded_accuracy(model, coder, qc, calibrate.labels)
        out.append(point)
    return out


def _coded_accuracy(model: torch.nn.Module, coder: Any, symbols: torch.Tensor,
                    labels: torch.Tensor) -> float:
    """Accuracy of the classifier on the latents decoded from ``symbols``."""
    with torch.no_grad():
        pred = model.decode(coder.latents(symbols).to(next(model.parameters()).device))
    return float((pred.argmax(1).cpu().numpy() == labels.cpu().numpy()).mean())


def best_rate_point(fits: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rate point to deploy among those that fit a budget: the most accurate on the
    calibration images (fewer bits on a tie), chosen without the scored images. Points measured
    without ``calibration_accuracy`` (older records) fall back to the most calibration bits."""
    if not fits:
        return None
    if all(p.get("calibration_accuracy") is not None for p in fits):
        return max(fits, key=lambda p: (p["calibration_accuracy"], -(p["calibration_bits"] or 0)))
    return max(fits, key=lambda p: p.get("calibration_bits") or 0)


def eb_budgets(points: list[dict[str, Any]], budgets_bits: list[float]) -> list[dict[str, Any]]:
    """The rate point each budget gets: among those whose mean calibration bits are
    ``<= budget``, the most accurate on the calibration images (:func:`best_rate_point`: the
    deployed choice, made without the scored images). The entries
    have the keys of :func:`commsldr.train.screening.rate_accuracy_at_budgets`' budgets, with
    ``scale`` the rate point's lambda and ``rate`` its index."""
    out = []
    for budget in sorted(float(b) for b in budgets_bits):
        fits = [p for p in points if p["calibration_bits"] is not None
                and p["calibration_bits"] <= budget]
        entry: dict[str, Any] = {"budget_bits": budget, "feasible": bool(fits), "scale": None,
                                 "rate": None, "calibration_bits": None, "payload_bits": None,
                                 "payload_p50": None, "payload_p95": None, "payload_max": None,
                                 "accuracy": None}
        best = best_rate_point(fits)
        if best is not None:
            entry.update({k: best[k] for k in ("calibration_bits", "payload_bits", "payload_p50",
                                               "payload_p95", "payload_max", "accuracy", "rate")},
                         scale=best["lambda"])
        out.append(entry)
    return out
