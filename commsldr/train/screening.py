"""Choosing the latent dimension d_y by rate–accuracy (Qi et al. §4: "we compare the
rate-accuracy performances to choose the best latent dimension").

For one CE-T model of each d_y, :func:`rate_accuracy_at_budgets` measures accuracy at a common
set of **real coded bit budgets** with the project's source coder (:mod:`commsldr.coding`):

1. latent statistics on the training split (:func:`~commsldr.coding.compute_latent_stats`);
2. for every budget ``B`` (payload bits per image), the scale ``s`` of the entropy-based
   allocation (rule ``precision``, ``Delta_i = 1 / (s H_i)``, centred) whose mean exact coded
   payload over **calibration images from the training split** (:data:`CALIBRATION_PER_CLASS`
   per class, a seeded stratified draw; never the images that are scored) is ``<= B``
   (:func:`~commsldr.coding.scale_for_budget`: each image coded alone by the constriction range
   coder, bits counted from the bytes);
3. the accuracy of the decoder on the dequantized selection latents at that scale, and the
   payload those latents really cost (mean, p50, p95, max per image: the mean can exceed ``B``
   a little, since the scale was not fitted on them).

A budget below the cheapest scale's bits is *infeasible* for that model (recorded as such).
:func:`screen_score` turns a row into the number the rule maximises:

``rate-mean``  mean accuracy over the budgets (an area under accuracy-vs-budget with every
               listed budget weighted equally); an infeasible budget counts as chance, ``1/C``
               (what a server that receives nothing achieves by guessing)
``rate-at``    accuracy at the one budget ``screen_at_bits`` (chance if infeasible)
``float``      the unquantized accuracy (the original screen, before rate–accuracy)

Ties go to the smaller d_y. This module is the one place where ``train`` uses ``coding``
(``train → coding``; ``coding`` never imports ``train``, so there is no cycle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from commsldr.coding import (
    DEFAULT_RULE,
    compute_latent_stats,
    encode_dataset,
    make_source_coder,
    scale_for_budget,
)
from commsldr.data import ImageTensors, derive_seed
from commsldr.models.functional import predict_from_latent

__all__ = ["CALIBRATION_PER_CLASS", "bits_summary", "budget_key", "calibration_subset", "pick_best",
           "rate_accuracy_at_budgets", "rate_accuracy_from_latents", "screen_score"]

#: bisection tolerance of the scale (relative); the budget is met at every tolerance
SCALE_REL_TOL = 1e-2
#: training images per class the scale of a budget is solved on
CALIBRATION_PER_CLASS = 500


def calibration_subset(train: ImageTensors, per_class: int = CALIBRATION_PER_CLASS,
                       seed: int = 0) -> ImageTensors:
    """``per_class`` training images of every class (seeded stratified draw, sorted)."""
    g = torch.Generator().manual_seed(derive_seed(seed, "calibration"))
    keep = []
    for c in range(train.num_classes):
        idx = torch.nonzero(train.labels == c).flatten()
        keep.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return train.subset(torch.cat(keep).sort().values)


def bits_summary(bits: Any) -> dict[str, float]:
    """Mean, median, 95th percentile and maximum of per-image bits."""
    b = np.asarray(bits, dtype=np.float64)
    return {"mean": float(b.mean()), "p50": float(np.percentile(b, 50)),
            "p95": float(np.percentile(b, 95)), "max": float(b.max())}


def budget_key(budget_bits: float) -> str:
    """Column name of the accuracy at ``budget_bits``: ``acc@32b``."""
    return f"acc@{budget_bits:g}b"


def _accuracy(model: torch.nn.Module, y: torch.Tensor, labels: torch.Tensor,
              batch_size: int = 500) -> float:
    if len(labels) == 0:
        return 0.0
    correct = 0
    for i in range(0, len(labels), batch_size):
        pred = predict_from_latent(model, y[i:i + batch_size]).cpu()
        correct += int((pred == labels[i:i + batch_size]).sum())
    return correct / len(labels)


def rate_accuracy_at_budgets(
    model: torch.nn.Module,
    train: ImageTensors,
    select: ImageTensors,
    budgets_bits: list[float],
    *,
    rule: str = DEFAULT_RULE,
    rel_tol: float = SCALE_REL_TOL,
    stats: Any = None,
    transform: Any = None,
    calibrate: ImageTensors | None = None,
    statistic: str = "mean",
) -> dict[str, Any]:
    """Accuracy of ``model`` on ``select`` at each payload budget (bits per image).

    Args:
        model: a trained :class:`~commsldr.models.SplitAutoencoder`.
        train: the training split (latent statistics, i.e. the coder's entropy models and the
            step allocation, come from it, as when deployed).
        select: the images accuracy and coded bits are measured on (test or validation split).
        budgets_bits: payload bits per image.
        rule: step-allocation rule (default ``precision``, the entropy-based ``q_i = s H(y_i)``).
        rel_tol: relative bisection tolerance of the scale.
        stats: the training-set :class:`~commsldr.coding.LatentStats` of ``model`` if already
            known (e.g. stored in its checkpoint); computed from ``train`` when ``None``.
        transform: code the coefficients of this :class:`~commsldr.coding.KLTransform`;
            ``stats`` are then required and must be the coefficients' (see
            :func:`~commsldr.coding.fit_klt`).
        calibrate: the images the scale of each budget is solved on (default
            :func:`calibration_subset` of ``train``); never ``select``.
        statistic: ``"mean"`` (default: the mean payload of the calibration images is within
            the budget) or ``"max"`` (each calibration image is: a per-image cap).

    Returns:
        ``{"float_acc": float, "calibration_images": int, "budgets": [{"budget_bits",
        "feasible", "scale", "calibration_bits", "payload_bits", "payload_p50", "payload_p95",
        "payload_max", "accuracy"}, ...]}`` — ``calibration_bits`` is the mean coded payload on
        the calibration images (``<= budget_bits``), ``payload_*`` what the ``select`` images
        cost; every value but ``budget_bits`` and ``feasible`` is ``None`` when the budget is
        infeasible.
    """
    if calibrate is None:
        if train is None:
            raise ValueError("rate_accuracy_at_budgets needs train (or calibrate) images to "
                             "solve the scales on")
        calibrate = calibration_subset(train)
    if stats is None:
        if transform is not None:
            raise ValueError("transform needs the coefficients' stats (fit_klt)")
        stats = compute_latent_stats(model, train)
    return rate_accuracy_from_latents(model, encode_dataset(model, select), select.labels,
                                      encode_dataset(model, calibrate), stats, budgets_bits,
                                      rule=rule, rel_tol=rel_tol, transform=transform,
                                      statistic=statistic)


def rate_accuracy_from_latents(
    model: torch.nn.Module,
    y: torch.Tensor,
    labels: torch.Tensor,
    y_cal: torch.Tensor,
    stats: Any,
    budgets_bits: list[float],
    *,
    rule: str = DEFAULT_RULE,
    rel_tol: float = SCALE_REL_TOL,
    transform: Any = None,
    statistic: str = "mean",
    images_per_message: int = 1,
) -> dict[str, Any]:
    """:func:`rate_accuracy_at_budgets` on latents already encoded (several rules or
    statistics of one model then share one pass of the encoder).

    Input:
        y: ``float [n, d]`` latents of the scored images; labels: ``int64 [n]`` their classes.
        y_cal: ``float [m, d]`` latents of the calibration images (training split, never the
            scored ones) the scale of each budget is solved on.
        stats: the training-set :class:`~commsldr.coding.LatentStats` (of the KLT coefficients
            when ``transform`` is given).
        statistic: ``"mean"`` (the mean payload per image is within the budget) or ``"max"``
            (every calibration image is: a per-image cap).
        images_per_message: consecutive images coded to one message (1: each image alone);
            bits per image are then each image's share of its message, on the calibration
            images (the scale) and on the scored ones (the payload).

    Output: as :func:`rate_accuracy_at_budgets` (``statistic`` and ``images_per_message``
    recorded).
    """
    out: dict[str, Any] = {"float_acc": _accuracy(model, y, labels), "rule": rule,
                           "statistic": statistic, "images_per_message": int(images_per_message),
                           "calibration_images": len(y_cal), "budgets": []}
    for budget in sorted(float(b) for b in budgets_bits):
        entry: dict[str, Any] = {"budget_bits": budget, "feasible": False, "scale": None,
                                 "calibration_bits": None, "payload_bits": None,
                                 "payload_p50": None, "payload_p95": None, "payload_max": None,
                                 "accuracy": None}
        try:
            sol = scale_for_budget(stats, y_cal, budget, rule=rule, rel_tol=rel_tol,
                                   transform=transform, statistic=statistic,
                                   images_per_message=images_per_message)
        except ValueError as exc:
            if "infeasible" not in str(exc):
                raise
            out["budgets"].append(entry)
            continue
        coder = make_source_coder(stats, sol.scale, rule=rule, transform=transform)
        y_hat = coder.reconstruct(y)
        spent = bits_summary(coder.message_bits(y, images_per_message))
        entry.update(feasible=True, scale=sol.scale, calibration_bits=sol.bits,
                     payload_bits=spent["mean"], payload_p50=spent["p50"],
                     payload_p95=spent["p95"], payload_max=spent["max"],
                     accuracy=_accuracy(model, y_hat, labels))
        out["budgets"].append(entry)
    return out


def screen_score(row: dict[str, Any], rule: str, *, num_classes: int,
                 at_bits: float | None = None, float_key: str = "test_acc") -> float:
    """The number ``rule`` maximises for one screen row (see the module docstring).

    ``row`` holds ``float_key`` and ``"rate"`` (a :func:`rate_accuracy_at_budgets` result).
    """
    if rule == "float":
        return float(row[float_key])
    chance = 1.0 / num_classes
    accs = {b["budget_bits"]: (b["accuracy"] if b["feasible"] else chance)
            for b in row["rate"]["budgets"]}
    if rule == "rate-mean":
        return sum(accs.values()) / len(accs)
    if rule == "rate-at":
        if at_bits is None or float(at_bits) not in accs:
            raise ValueError(f"rate-at needs screen_at_bits among the budgets {sorted(accs)}, "
                             f"got {at_bits!r}")
        return accs[float(at_bits)]
    raise ValueError(f"unknown screen rule {rule!r}")


def pick_best(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row with the largest ``score``; ties go to the smaller ``latent_dim``."""
    return max(rows, key=lambda r: (r["score"], -r["latent_dim"]))
