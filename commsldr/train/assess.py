"""The numbers ``commsldr evaluate`` reports for a model: float test accuracy with its 95 %
interval, mirror TTA, and accuracy at real coded payload budgets (the command itself is
:mod:`commsldr.cli.evaluate`)."""

from __future__ import annotations

import math
from typing import Any

from commsldr.train.bottleneck import eb_budgets, eb_rate_points
from commsldr.train.evaluation import count_correct
from commsldr.train.screening import rate_accuracy_at_budgets

__all__ = ["assess"]


def assess(model: Any, test: Any, *, budgets_bits: list[float], flip_tta: bool,
           stats: Any = None, train: Any = None, eb: Any = None) -> dict[str, Any]:
    """Every number ``commsldr evaluate`` prints for one loaded model.

    Input:
        model (:class:`~commsldr.models.SplitAutoencoder`): the model (eval mode is used).
        test (:class:`~commsldr.data.ImageTensors`): the test images and labels.
        budgets_bits (``list[float]``, bits per image): mean real coded payload budgets.
        flip_tta (bool): also the mirror test-time-augmented accuracy.
        stats (:class:`~commsldr.coding.LatentStats` | None): training-set latent statistics
            (else computed from ``train``).
        train (:class:`~commsldr.data.ImageTensors` | None): the calibration images (training
            split) the budgets' scales, or an entropy bottleneck's rate point per budget, are
            chosen on.
        eb (:class:`~commsldr.coding.EntropyBottleneck` | None): the model's entropy bottleneck
            (then each budget gets the rate point most accurate on the calibration images
            among those whose mean calibration bits fit it).

    Output:
        dict: ``test_images``; ``float_acc`` in [0, 1] with ``float_acc_ci95`` (normal
        approximation of the binomial, ``acc ± 1.96·sqrt(acc(1−acc)/N)`` clipped to [0, 1]);
        ``flip_tta_acc`` (with ``flip_tta``); ``budgets`` and ``rule`` (with ``budgets_bits``:
        :func:`~commsldr.train.screening.rate_accuracy_at_budgets`, or with ``eb`` also
        ``rate_points``, :func:`~commsldr.train.bottleneck.eb_rate_points`).
    """
    correct, n = count_correct(model, test)
    acc = correct / n
    half = 1.96 * math.sqrt(acc * (1 - acc) / n)
    out: dict[str, Any] = {"test_images": n, "float_acc": acc,
                           "float_acc_ci95": [max(0.0, acc - half), min(1.0, acc + half)]}
    if flip_tta:
        c, _ = count_correct(model, test, flip_tta=True)
        out["flip_tta_acc"] = c / n
    if budgets_bits and eb is not None:
        out["rate_points"] = eb_rate_points(model, eb, test, train)
        out["budgets"] = eb_budgets(out["rate_points"], list(budgets_bits))
        out["rule"] = "entropy-bottleneck"
    elif budgets_bits:
        rate = rate_accuracy_at_budgets(model, train, test, list(budgets_bits), stats=stats)
        out["budgets"] = rate["budgets"]
        out["rule"] = rate["rule"]
    return out
