"""The one training loop: phases made of per-mini-batch steps over parameter groups.

A :class:`Phase` trains for ``epochs`` epochs; every mini-batch runs its :class:`Step` s in order.
A step names the model parts it updates (``encoder``, ``decoder``, ``side``) and its loss:

* ``ce``       — cross-entropy on ``decode(encode(x))``; the encoder runs without gradients when it
  is not one of the step's parts (DuPHiL's decoder step), the side branch is not used at all
  (detached), which is CE-T of Qi et al. §4;
* ``ldr``      — L_LDR (eq. 1) on ``side(encode(x))`` with the ground-truth partition Π;
* ``ldr-ssl``  — L_LDR-SSL (eq. 2) on ``side(encode(views))`` for ``ssl_views`` augmented views of
  every image, Π^T the view groups (:func:`commsldr.data.make_views`).

What the side branch sees is ``Phase.side.input``: ``clean`` (the float latent ``y``) or
``quantized`` (the latent as the channel will carry it, with a step ``Δ = side_step``), trained
through either additive uniform noise ``y + Δ·u``, ``u ~ U(-side_noise, side_noise)`` (the authors'
``Quantizer`` module: ``x + 2·rand - 1``, i.e. ``Δ = 1``, ``side_noise = 1``) or the
straight-through estimator ``y + sg(Δ·round(y/Δ) - y)`` (forward rounds, backward is the
identity). The decoder always gets the clean latent here (in the authors' code it gets the noisy
one too). See the guide page "Training".

Each step has its own optimizer (SGD or Adam) and learning-rate schedule (cosine, multistep or
constant; stepped once per epoch), as in the authors' DuPHiL code that keeps one optimizer for the
MCR² parameters and one for the CE parameters. Parts not trained by any step of a phase are frozen
(``requires_grad=False``) and kept in eval mode (BatchNorm statistics frozen too).

Every epoch ends with a test evaluation, one record in ``metrics.jsonl`` (loss parts, train and
test accuracy, learning rates, seconds) and an atomic checkpoint ``last.pt`` holding the model,
optimizers, schedulers, AMP scalers, epoch, metric history and every RNG state (data order,
augmentation, global). ``resume=True`` continues from it and reproduces the uninterrupted run
bit for bit (same device, same thread count).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from commsldr._atomic import remove_stale_temp_files
from commsldr.data import (
    Augment,
    BatchLoader,
    ImageTensors,
    derive_seed,
    make_augment,
    make_views,
    to_float,
)
from commsldr.errors import UserError
from commsldr.losses import LDRTerms, ldr_loss, ldr_ssl_loss
from commsldr.train.checkpoint import (
    CheckpointError,
    atomic_write_text,
    capture_rng,
    load_checkpoint,
    model_id,
    restore_rng,
    save_checkpoint,
)
from commsldr.train.distributed import DistContext
from commsldr.train.evaluation import count_correct
from commsldr.train.phase import (
    LOSSES,
    PARTS,
    SCHEDULES,
    SIDE_INPUTS,
    SIDE_QUANTIZERS,
    Phase,
    Step,
)

logger = logging.getLogger("commsldr.train")

__all__ = ["PARTS", "LOSSES", "SCHEDULES", "SIDE_INPUTS", "SIDE_QUANTIZERS", "Phase", "PhaseResult",
           "Step", "TrainingDivergedError", "epoch_summary", "part_modules", "side_latent", "train_phase"]

#: TrainConfig fields that do not change what is trained (may differ on resume). The side-branch
#: settings are compared through the phase record instead (only phases with an LDR step use and
#: record them); the screen settings and the provenance tags never change what a phase trains.
_RUN_ONLY = ("out", "resume", "progress", "device", "eval_every", "provenance", "screen_rule",
             "screen_budgets", "screen_at_bits", "side_input", "side_quantizer", "side_step",
             "side_noise")
#: train-config keys that choose which phases run, not how one runs: a CE-T phase trained by
#: ``--recipe ce`` is the same phase when a ``screen`` (with its ``dims``) resumes it; the phase
#: itself is compared in full
_RECIPE_ONLY = ("recipe", "dims")


class TrainingDivergedError(UserError):
    """The loss or the weights became NaN/inf; the last good checkpoint is kept."""

    def __init__(self, message: str) -> None:
        super().__init__("", message)


def _differences(old: Any, new: Any, ignore: tuple[str, ...] = ()) -> list[str]:
    """``["key: old -> new", ...]`` for the entries of two dicts that differ."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"{old!r} -> {new!r}"]
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new))
            if k not in ignore and old.get(k) != new.get(k)]


def _non_finite(model: torch.nn.Module) -> list[str]:
    """Names of parameters and floating buffers holding NaN or inf."""
    return [n for n, t in model.state_dict().items()
            if t.is_floating_point() and not bool(torch.isfinite(t).all())]

#: the ``triangle`` schedule (:data:`~commsldr.train.phase.SCHEDULES`): from 0.2·lr up to lr at
#: ``warmup`` of the steps, then down to 0.07·lr (airbench94's schedule)
TRIANGLE_START, TRIANGLE_END = 0.2, 0.07
#: airbench94's lookahead (``Phase.optim.lookahead``): from 30 % of the epochs on, every 5 steps the
#: weights are pulled into a running average with decay ``0.95^5 · (step / total)^3`` (weak at
#: first, strong at the end) and set to it.
LOOKAHEAD_START, LOOKAHEAD_EVERY, LOOKAHEAD_DECAY = 0.3, 5, 0.95
#: Phase fields added after checkpoints were first written, with the value older checkpoints
#: implicitly used (so they still resume).
#: Their values are the defaults (:meth:`Phase.record_defaults`, read by :func:`_upgrade`).
_PHASE_FIELDS_ADDED = ("side_input", "side_quantizer", "side_step", "side_noise", "nesterov",
                       "label_smoothing", "bias_lr_scale", "warmup", "channels_last", "lookahead")


def _upgrade(stored: Any) -> Any:
    """A phase record or train config written by an older version, with the fields added since
    then at the values it implicitly used (``augment`` was a bool: True meant the family T)."""
    if not isinstance(stored, dict):
        return stored
    defaults = Phase.record_defaults()
    out = {**{k: defaults[k] for k in _PHASE_FIELDS_ADDED}, **stored}
    if isinstance(out.get("augment"), bool):
        out["augment"] = "heavy" if out["augment"] else "none"
    return out


@dataclass
class PhaseResult:
    """What :func:`train_phase` returns: the per-epoch records and the checkpoint path."""

    name: str
    history: list[dict[str, Any]] = field(default_factory=list)
    checkpoint_path: Path | None = None

    @property
    def final(self) -> dict[str, Any]:
        return self.history[-1] if self.history else {}


def part_modules(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """The modules behind the part names: ``encoder``, ``decoder`` (decoder + classifier), ``side``."""
    parts = getattr(model, "parts", None)
    if callable(parts):
        mods = dict(parts())
    else:
        mods = {"encoder": model.encoder, "decoder": model.decoder, "side": model.side_branch}
    missing = [p for p in PARTS if p not in mods]
    if missing:
        raise TypeError(f"model lacks the parts {missing}")
    return mods


def _params(mods: dict[str, torch.nn.Module], names: tuple[str, ...]) -> list[torch.nn.Parameter]:
    return [p for n in names for p in mods[n].parameters()]


def _float_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}


@torch.no_grad()
def _lookahead_update(model: torch.nn.Module, average: dict[str, torch.Tensor], rho: float) -> None:
    """airbench's lookahead: ``average <- rho·average + (1 − rho)·weights``, then the weights are
    set to the average (every floating tensor of the state dict, BN statistics included)."""
    state = model.state_dict()
    for k, avg in average.items():
        avg.lerp_(state[k], 1.0 - rho)
        state[k].copy_(avg)


def _param_groups(phase: Phase, mods: dict[str, torch.nn.Module], names: tuple[str, ...],
                  lr: float) -> list[dict[str, Any]]:
    """One group, or two when ``bias_lr_scale != 1``: BatchNorm biases at ``lr * scale`` with
    the weight decay divided by the same factor (so the decay per step is unchanged; airbench's
    ``bias_scaler``), everything else (BatchNorm scales included) at ``lr``."""
    if phase.optim.bias_lr_scale == 1.0:
        return [{"params": _params(mods, names), "lr": lr,
                 "weight_decay": phase.optim.weight_decay}]
    norm_ids = {id(m.bias) for n in names for m in mods[n].modules()
                if isinstance(m, torch.nn.modules.batchnorm._NormBase) and m.bias is not None}
    params = _params(mods, names)
    scale = phase.optim.bias_lr_scale
    return [
        {"params": [p for p in params if id(p) in norm_ids], "lr": lr * scale,
         "weight_decay": phase.optim.weight_decay / scale},
        {"params": [p for p in params if id(p) not in norm_ids], "lr": lr,
         "weight_decay": phase.optim.weight_decay},
    ]


def _make_optimizer(phase: Phase, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    if phase.optim.optimizer == "sgd":
        return torch.optim.SGD(groups, momentum=phase.optim.momentum,
                               nesterov=phase.optim.nesterov)
    return torch.optim.Adam(groups)


def _triangle(step: int, total: int, warmup: float) -> float:
    peak = max(1, int(warmup * total))
    if step <= peak:
        return TRIANGLE_START + (1 - TRIANGLE_START) * step / peak
    return 1 + (TRIANGLE_END - 1) * min(1.0, (step - peak) / max(1, total - peak))


def _make_scheduler(phase: Phase, opt: torch.optim.Optimizer,
                    steps_per_epoch: int = 1) -> torch.optim.lr_scheduler.LRScheduler:
    if phase.optim.schedule == "triangle":
        total = phase.epochs * steps_per_epoch
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda i: _triangle(i, total, phase.optim.warmup))
    if phase.optim.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=phase.epochs)
    milestones = [] if phase.optim.schedule == "constant" else sorted(
        {max(1, int(f * phase.epochs)) for f in phase.optim.milestones}
    )
    return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones,
                                                gamma=phase.optim.gamma)


def side_latent(latent: torch.Tensor, phase: Phase,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """What the side branch sees during training: ``y`` (``side_input="clean"``) or the
    quantized latent, ``y + Δ·u`` with ``u ~ U(-side_noise, side_noise)`` drawn from
    ``generator`` on the CPU (``side_quantizer="noise"``) or ``y + sg(Δ·round(y/Δ) - y)``
    (``"ste"``). Shape and dtype of ``latent`` (``[B, d_y]``) are kept."""
    if phase.side.input == "clean":
        return latent
    step = float(phase.side.step)
    if phase.side.quantizer == "ste":
        rounded = torch.round(latent.detach() / step) * step
        return latent + (rounded - latent.detach())
    if generator is None:
        raise ValueError("side_quantizer='noise' needs a generator for the noise draws")
    u = torch.rand(latent.shape, generator=generator, dtype=torch.float32)
    noise = (2.0 * u - 1.0) * (float(phase.side.noise) * step)
    return latent + noise.to(device=latent.device, dtype=latent.dtype)


def _step_loss(
    model: torch.nn.Module,
    step: Step,
    phase: Phase,
    x: torch.Tensor,
    labels: torch.Tensor,
    raw: torch.Tensor,
    augment: Augment,
    generator: torch.Generator,
    side_generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, LDRTerms | None, torch.Tensor | None]:
    """Loss of one step on one mini-batch: ``(loss, LDR terms or None, logits or None)``.

    ``x`` is the (augmented, normalised) batch on the device, ``raw`` the same images as uint8 on
    the CPU (the source of the LDR-SSL views). The encoder runs with gradients only when the
    step trains it; a CE step never touches the side branch.
    """
    if step.loss == "ce":
        with torch.set_grad_enabled("encoder" in step.parts):
            latent = model.encode(x)
        logits = model.decode(latent)
        ce = F.cross_entropy(logits.float(), labels, label_smoothing=phase.optim.label_smoothing)
        return step.weight * ce, None, logits
    if step.loss == "ldr-ssl":
        views, view_labels = make_views(raw, phase.ssl_views, augment, generator)
        with torch.set_grad_enabled("encoder" in step.parts):
            latent = model.encode(views.to(x.device, non_blocking=True))
        terms = ldr_ssl_loss(model.side(side_latent(latent, phase, side_generator)),
                             view_labels.to(x.device),
                             eps_sq=phase.eps_sq, rate_weight=phase.rate_weight)
    else:
        with torch.set_grad_enabled("encoder" in step.parts):
            latent = model.encode(x)
        terms = ldr_loss(model.side(side_latent(latent, phase, side_generator)), labels,
                         int(model.num_classes),
                         eps_sq=phase.eps_sq, rate_weight=phase.rate_weight)
    return step.weight * terms.loss, terms, None


def epoch_summary(record: dict[str, Any], epochs: int) -> str:
    """One line per epoch: phase, epoch, losses, rates, accuracies and time, e.g.
    ``ce 3/10: loss_ce 1.234  train_acc 0.512  test_acc 0.480  (2.1 s)``."""
    parts = [f"{record['phase']} {record['epoch']}/{epochs}:"]
    for k, v in record.items():
        if k.startswith("loss_") or k in ("rate", "class_rate"):
            parts.append(f"{k} {v:.4g}")
    for k in ("train_acc", "test_acc"):
        if k in record and not (isinstance(record[k], float) and math.isnan(record[k])):
            parts.append(f"{k} {record[k]:.3f}")
    parts.append(f"({record.get('time_s', 0.0):.1f} s)")
    return "  ".join(parts)


def train_phase(
    model: torch.nn.Module,
    phase: Phase,
    train: ImageTensors,
    test: ImageTensors | None,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    dist: DistContext | None = None,
    extra_state: dict[str, Any] | None = None,
    on_epoch_end: Callable[[int, dict[str, Any]], None] | None = None,
) -> PhaseResult:
    """Train ``model`` (in place, on its current device) for one phase.

    Args:
        model: a :class:`~commsldr.models.SplitAutoencoder`.
        phase: what to train and how.
        train: training images (augmented with T when ``phase.augment``).
        test: evaluated at the end of every ``eval_every``-th epoch and the last (``None``: skip).
        out_dir: where ``last.pt`` and ``metrics.jsonl`` of this phase go.
        resume: continue from ``out_dir/last.pt`` if it exists (the phase must be identical);
            a completed phase is not trained again.
        progress: tqdm bar over mini-batches (rank 0 only).
        dist: data-parallel context (default: single process).
        extra_state: stored in every checkpoint (e.g. the resolved ``train_config``).
        on_epoch_end: ``callback(epoch, record)`` after each checkpoint (1-based epoch).

    Returns:
        :class:`PhaseResult` with the metric history and ``out_dir/last.pt``.
    """
    dist = dist or DistContext()
    out_dir = Path(out_dir)
    ckpt_path = out_dir / "last.pt"
    device = next(model.parameters()).device
    mods = part_modules(model)

    # freezing: parts trained by no step get requires_grad=False and eval mode
    trained = phase.trained_parts
    for name, mod in mods.items():
        mod.requires_grad_(name in trained)
    step_params = [_params(mods, s.parts) for s in phase.steps]
    optimizers = [_make_optimizer(phase, _param_groups(phase, mods, s.parts, s.lr))
                  for s in phase.steps]
    use_scaler = phase.optim.amp and device.type == "cuda"
    scalers = [torch.amp.GradScaler("cuda", enabled=use_scaler) for _ in phase.steps]
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16

    generators = {
        "order": torch.Generator().manual_seed(derive_seed(phase.seed, f"{phase.name}/order")),
        "augment": torch.Generator().manual_seed(
            derive_seed(phase.seed, f"{phase.name}/augment/{dist.rank}")
        ),
    }
    if phase.side.input == "quantized" and phase.side.quantizer == "noise":
        generators["side"] = torch.Generator().manual_seed(
            derive_seed(phase.seed, f"{phase.name}/side/{dist.rank}"))
    augment = make_augment(phase.augment)
    view_augment = Augment()  # LDR-SSL views always come from the family T
    drop_last = len(train) >= phase.batch_size
    loader = BatchLoader(train, phase.batch_size, shuffle=True, generator=generators["order"],
                         raw=True, drop_last=drop_last)
    per_batch = phase.optim.schedule == "triangle"
    schedulers = [_make_scheduler(phase, o, max(1, len(loader))) for o in optimizers]
    memory_format = torch.channels_last if phase.optim.channels_last else torch.contiguous_format
    if phase.optim.channels_last:
        model.to(memory_format=torch.channels_last)

    history: list[dict[str, Any]] = []
    lookahead: dict[str, torch.Tensor] | None = None
    start_epoch = 0
    if dist.is_main:
        remove_stale_temp_files(out_dir)  # left by a process killed while writing
    if resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path)
        stored_phase = _upgrade(ck.get("phase"))  # older checkpoints lack the newer fields
        diff = _differences(stored_phase, phase.to_dict())
        if diff:
            raise CheckpointError(f"cannot resume from {ckpt_path}: it was written for a different "
                                  f"phase; differences: {'; '.join(diff)}")
        stored = _upgrade(ck.get("train_config"))
        wanted = (extra_state or {}).get("train_config")
        if stored is not None and wanted is not None:
            diff = _differences(stored, wanted, ignore=_RUN_ONLY + _RECIPE_ONLY)
            if diff:
                raise CheckpointError(f"cannot resume from {ckpt_path}: the data or model "
                                      f"configuration changed; differences: {'; '.join(diff)}")
        try:
            model.load_state_dict(ck["model_state"])
            if model_id(model) != ck["model_id"]:
                raise CheckpointError(f"cannot resume from {ckpt_path}: its weights do not match "
                                      f"their content hash (stored {ck['model_id']}, computed "
                                      f"{model_id(model)}); the file is corrupt")
            for obj, state in zip(optimizers, ck["optimizers"], strict=True):
                obj.load_state_dict(state)
            for obj, state in zip(schedulers, ck["schedulers"], strict=True):
                obj.load_state_dict(state)
            for obj, state in zip(scalers, ck["scalers"], strict=True):
                if state:
                    obj.load_state_dict(state)
            rng = ck["rng"]
            restore_rng(generators, rng[dist.rank] if isinstance(rng, list) else rng)
            history = list(ck["history"])
            start_epoch = int(ck["epoch"])
            lookahead = ck.get("lookahead")
        except CheckpointError:
            raise
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            why = (str(exc).strip().splitlines() or [""])[0][:160]
            raise CheckpointError(f"cannot resume from {ckpt_path}: its training state is damaged "
                                  f"({type(exc).__name__}: {why}); delete it to train from "
                                  f"scratch") from None
    dist.broadcast_module(model)

    for epoch in range(start_epoch, phase.epochs):
        t0 = time.perf_counter()
        for name, mod in mods.items():
            mod.train(name in trained)
        # running sums stay on the device (no host sync per step)
        sums = torch.zeros(len(phase.steps), dtype=torch.float64, device=device)
        rates = torch.zeros(2, dtype=torch.float64, device=device)  # R, Rc
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen = 0
        batches = 0
        bar = tqdm(loader, desc=f"{phase.name} {epoch + 1}/{phase.epochs}", leave=False,
                   # None: off when stderr is not a terminal
                   disable=None if (progress and dist.is_main) else True)
        step_count = epoch * len(loader)
        total_steps = phase.epochs * len(loader)
        for raw, labels in bar:
            raw, labels = dist.shard(raw, labels)
            x = augment(raw, generators["augment"]) if augment is not None else to_float(raw)
            x = x.to(device, non_blocking=True).contiguous(memory_format=memory_format)
            labels = labels.to(device, non_blocking=True)
            for i, step in enumerate(phase.steps):
                model.zero_grad(set_to_none=True)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=phase.optim.amp):
                    loss, terms, logits = _step_loss(
                        model, step, phase, x, labels, raw, view_augment, generators["augment"],
                        generators.get("side"),
                    )
                scalers[i].scale(loss).backward()
                dist.average_gradients(step_params[i])
                scalers[i].step(optimizers[i])
                scalers[i].update()
                sums[i] += loss.detach().double()
                if logits is not None:
                    correct += (logits.detach().argmax(1) == labels).sum()
                    seen += labels.numel()
                if terms is not None:
                    rates += torch.stack([terms.rate, terms.class_rate]).detach().double()
                if per_batch:
                    schedulers[i].step()
            batches += 1
            step_count += 1
            if (phase.optim.lookahead and epoch >= int(LOOKAHEAD_START * phase.epochs)
                    and step_count % LOOKAHEAD_EVERY == 0):
                if lookahead is None:
                    lookahead = _float_state(model)
                else:
                    rho = LOOKAHEAD_DECAY ** LOOKAHEAD_EVERY * (step_count / total_steps) ** 3
                    _lookahead_update(model, lookahead, rho)
        if lookahead is not None:  # the weights leave every epoch as the average
            _lookahead_update(model, lookahead, 1.0)
        record: dict[str, Any] = {"phase": phase.name, "epoch": epoch + 1}
        for i, step in enumerate(phase.steps):
            record[f"loss_{step.loss}"] = float(sums[i]) / max(batches, 1)
            record[f"lr_{step.loss}"] = float(optimizers[i].param_groups[-1]["lr"])  # this epoch's
        if not per_batch:
            for s in schedulers:
                s.step()
        dist.broadcast_module(model, buffers_only=True)
        n_ldr = sum(1 for s in phase.steps if s.loss != "ce")
        if n_ldr:
            record["rate"] = float(rates[0]) / max(batches * n_ldr, 1)
            record["class_rate"] = float(rates[1]) / max(batches * n_ldr, 1)
        if seen:
            c, t = dist.sum([float(correct.item()), float(seen)])
            record["train_acc"] = c / t
        last = epoch + 1 == phase.epochs
        if test is not None and (last or (epoch + 1) % phase.eval_every == 0):
            shard = test.subset(torch.arange(dist.rank, len(test), dist.world_size))
            c, t = dist.sum([float(v) for v in count_correct(model, shard, amp=phase.optim.amp)])
            record["test_acc"] = c / t if t else math.nan
        record["time_s"] = time.perf_counter() - t0
        bad_loss = [k for k, v in record.items() if k.startswith("loss_") and not math.isfinite(v)]
        bad_weights = _non_finite(model)
        if bad_loss or bad_weights:
            what = (f"loss {', '.join(bad_loss)}" if bad_loss else
                    f"weights ({', '.join(bad_weights[:3])}{', ...' if len(bad_weights) > 3 else ''})")
            kept = (f"the last good checkpoint {ckpt_path} (epoch {epoch}) is kept"
                    if epoch > start_epoch or ckpt_path.exists() else "no checkpoint was written")
            lrs = ", ".join(str(s.lr) for s in phase.steps)
            raise TrainingDivergedError(
                f"phase {phase.name!r} epoch {epoch + 1}: {what} became NaN or infinite "
                f"(learning rate {lrs}); {kept}. Lower the learning rate or use amp=false.")
        history.append(record)

        rng = capture_rng(generators)
        if dist.enabled:
            import torch.distributed as tdist

            gathered: list[Any] = [None] * dist.world_size
            tdist.all_gather_object(gathered, rng)
            rng = gathered
        if dist.is_main:
            atomic_write_text(out_dir / "metrics.jsonl",
                              "".join(json.dumps(r) + "\n" for r in history))
            save_checkpoint(
                ckpt_path, model,
                phase=phase.to_dict(), epoch=epoch + 1, complete=last,
                optimizers=[o.state_dict() for o in optimizers],
                schedulers=[s.state_dict() for s in schedulers],
                scalers=[s.state_dict() if use_scaler else {} for s in scalers],
                rng=rng, history=history, lookahead=lookahead, **(extra_state or {}),
            )
        dist.barrier()
        if dist.is_main:
            logger.info(epoch_summary(record, phase.epochs))
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, record)

    for mod in mods.values():
        mod.requires_grad_(True)
    model.eval()
    return PhaseResult(name=phase.name, history=history, checkpoint_path=ckpt_path)
