"""Scalar quantization of latents and the step-size allocation rules.

A :class:`Quantizer` maps ``y [B, k]`` to integer symbols ``q_i = round((y_i - c_i) / Delta_i)``
and back to ``y_hat_i = q_i Delta_i + c_i`` (midpoint reconstruction); ``c_i`` is an optional
offset (the training mean, "centred" quantization) and ``Delta_i = inf`` drops an entry
(``q_i = 0``, ``y_hat_i = c_i``).

:func:`allocate_steps` computes ``Delta`` from :class:`~commsldr.coding.LatentStats` and a scale
``s`` with one of the rules in :data:`ALLOCATION_RULES`:

``precision`` (default)
    The paper's ``q_i = s * H(y_i)`` read as a **precision multiplier**,
    ``y_hat_i = round(q_i y_i)``, i.e. ``Delta_i = 1 / (s H_i)``: higher-entropy entries get
    finer steps and a smaller ``s`` gives fewer bits -- what the text of Qi et al. Sec. 3.3
    claims (see the guide page "Source coding" for the measurement).
``step``
    The literal formula ``y_hat_i = y_i / q_i``: ``Delta_i = s H_i`` (step size). Higher-entropy
    entries get coarser steps; a smaller ``s`` gives *more* bits.
``uniform``
    ``Delta_i = s`` for every entry.
``waterfill``
    Reverse water-filling for independent Gaussians (Cover & Thomas Thm 10.3.3) at a target
    rate of ``s`` bits per latent: ``D_i = min(theta, sigma_i^2)`` with
    ``sum_i max(0, 1/2 log2(sigma_i^2 / theta)) = s``; active entries get the step whose
    uniform-quantization MSE ``Delta^2 / 12`` equals ``theta``, inactive ones ``Delta = inf``.

``H_i`` is :attr:`LatentStats.entropy_bits` floored at ``entropy_floor_bits`` so that no step is
0 or infinite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .stats import LatentStats

__all__ = [
    "ALLOCATION_RULES",
    "DEFAULT_RULE",
    "Quantizer",
    "ScaleSolution",
    "allocate_steps",
    "bits_increase_with_scale",
    "solve_scale_for_budget",
    "waterfill_level",
]

#: allocation rule -> whether the number of bits grows with the scale ``s``
ALLOCATION_RULES: dict[str, bool] = {
    "precision": True,
    "step": False,
    "uniform": False,
    "waterfill": True,
}
DEFAULT_RULE = "precision"
_INT32_MAX = 2**31 - 1


class Quantizer:
    """Per-entry uniform scalar quantizer ``q = round((y - offset) / step)``.

    Args:
        step_sizes: ``[k]`` steps ``Delta_i > 0`` (``inf`` = entry dropped).
        offsets: ``[k]`` offsets ``c_i`` (default 0, the paper's uncentred quantizer).

    Example:
        >>> qz = Quantizer(torch.tensor([0.5, 2.0]))
        >>> qz.quantize(torch.tensor([[1.2, -3.1]])).tolist()
        [[2, -2]]
    """

    def __init__(self, step_sizes: torch.Tensor, offsets: torch.Tensor | None = None) -> None:
        step = torch.as_tensor(step_sizes, dtype=torch.float64).detach().cpu()
        if step.dim() != 1:
            raise ValueError(f"step_sizes must be 1-D, got shape {tuple(step.shape)}")
        if torch.isnan(step).any() or (step <= 0).any():
            raise ValueError("step_sizes must be > 0 (inf allowed, NaN not)")
        if offsets is None:
            off = torch.zeros_like(step)
        else:
            off = torch.as_tensor(offsets, dtype=torch.float64).detach().cpu()
            if off.shape != step.shape:
                raise ValueError(f"offsets has shape {tuple(off.shape)}, step_sizes "
                                 f"{tuple(step.shape)}")
            if not torch.isfinite(off).all():
                raise ValueError("offsets must be finite")
        self.step_sizes = step
        self.offsets = off

    @property
    def k(self) -> int:
        """Number of latent entries."""
        return int(self.step_sizes.shape[0])

    def _check(self, y: torch.Tensor | np.ndarray, name: str) -> None:
        shape = tuple(np.shape(y))
        if len(shape) != 2 or shape[1] != self.k:
            raise ValueError(f"{name} must have shape [B, {self.k}], got {shape}")

    def quantize(self, y: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``float [B, k] -> int32 [B, k]``; values beyond the int32 range saturate.

        Input:
            y (``float [B, k]``): latents, a tensor or a NumPy array.

        Output:
            ``int32 [B, k]``: ``q = round((y − offset) / Δ)`` per dimension (step sizes ``Δ`` of
            :func:`allocate_steps`).
        """
        if not isinstance(y, torch.Tensor):
            try:
                y = torch.as_tensor(np.asarray(y, dtype=np.float64))
            except (TypeError, ValueError):
                raise TypeError(f"y: expected latents [B, {self.k}] (a tensor or array of "
                                f"numbers), got {type(y).__name__}") from None
        self._check(y, "y")
        if not torch.isfinite(y).all():
            raise ValueError("y contains NaN or inf")
        z = (y.detach().cpu().double() - self.offsets) / self.step_sizes
        z = torch.round(z).clamp_(-_INT32_MAX, _INT32_MAX)
        return z.to(torch.int32)

    def dequantize(self, q: torch.Tensor) -> torch.Tensor:
        """``int [B, k] -> float32 [B, k]``: ``q * step + offset`` (``offset`` where ``step = inf``).

        Input:
            q (``int [B, k]``): symbols, a tensor or a NumPy array.

        Output:
            ``float32 [B, k]``: ``ŷ = q·Δ + offset``.
        """
        self._check(q, "q")
        step = self._finite_steps()
        qn = q.detach().cpu().numpy() if isinstance(q, torch.Tensor) else np.asarray(q)
        y = qn * step  # float64, like the torch path it replaces (bit-identical)
        y += self.offsets.numpy()
        return torch.from_numpy(y.astype(np.float32))

    def _finite_steps(self) -> np.ndarray:
        """``Delta_i`` with ``inf`` (dropped entries) as 0, float64, cached per step tensor."""
        cached = getattr(self, "_steps_cache", None)
        if cached is not None and cached[0] is self.step_sizes:
            return cached[1]
        s = self.step_sizes.numpy()
        steps = np.where(np.isfinite(s), s, 0.0)
        self._steps_cache = (self.step_sizes, steps)
        return steps

    def __repr__(self) -> str:
        return f"Quantizer(k={self.k})"


def bits_increase_with_scale(rule: str) -> bool:
    """Whether rule ``rule`` spends more bits as ``s`` grows (else fewer)."""
    if rule not in ALLOCATION_RULES:
        raise ValueError(f"unknown rule {rule!r}; valid rules: {sorted(ALLOCATION_RULES)}")
    return ALLOCATION_RULES[rule]


def waterfill_level(variances: torch.Tensor | np.ndarray, rate_bits: float) -> float:
    """Water level ``theta`` of reverse water-filling at ``rate_bits`` bits in total.

    Solves ``sum_i max(0, 1/2 log2(var_i / theta)) = rate_bits`` exactly: with the ``n`` largest
    variances active, ``log2 theta = (sum_active log2 var_i - 2 R) / n``.

    Returns:
        ``theta`` (``max(var)`` when ``rate_bits == 0``).
    """
    v = np.sort(np.asarray(variances, dtype=np.float64).reshape(-1))[::-1]
    if rate_bits < 0 or not math.isfinite(rate_bits):
        raise ValueError(f"rate_bits must be finite and >= 0, got {rate_bits}")
    v = v[v > 0]
    if v.size == 0:
        raise ValueError("variances must contain a positive entry")
    if rate_bits == 0:
        return float(v[0])
    logs = np.cumsum(np.log2(v))
    for n in range(1, v.size + 1):
        log_theta = (logs[n - 1] - 2.0 * rate_bits) / n
        nxt = math.log2(v[n]) if n < v.size else -math.inf
        if log_theta >= nxt:
            return float(2.0**log_theta)
    raise AssertionError("unreachable")  # pragma: no cover


def allocate_steps(
    stats: LatentStats,
    scale: float,
    rule: str = DEFAULT_RULE,
    *,
    entropy_floor_bits: float = 1e-3,
) -> torch.Tensor:
    """Step sizes ``Delta [d]`` (``float64``) for scale ``s`` under rule ``rule``.

    Args:
        stats: training-set statistics (``entropy_bits`` is ``H_i``, ``std`` is ``sigma_i``).
        scale: ``s > 0`` (``>= 0`` for ``waterfill``, where it is the target rate in bits).
        rule: one of :data:`ALLOCATION_RULES`.
        entropy_floor_bits: lower bound applied to ``H_i``.

    Returns:
        ``float64 [d]`` steps; monotone in ``s`` entry by entry (non-increasing for rules whose
        bits grow with ``s``, non-decreasing otherwise).
    """
    bits_increase_with_scale(rule)
    if not math.isfinite(scale) or scale < 0 or (scale == 0 and rule != "waterfill"):
        raise ValueError(f"scale must be finite and > 0 (>= 0 for waterfill), got {scale}")
    if not entropy_floor_bits > 0:
        raise ValueError(f"entropy_floor_bits must be > 0, got {entropy_floor_bits}")
    h = stats.entropy_bits.double().clamp(min=entropy_floor_bits)
    if rule == "precision":
        return 1.0 / (scale * h)
    if rule == "step":
        return scale * h
    if rule == "uniform":
        return torch.full_like(h, float(scale))
    var = stats.std.double().pow(2)
    if not (var > 0).any():
        return torch.full_like(h, math.inf)
    theta = waterfill_level(var.numpy(), float(scale))
    active = var > theta
    return torch.where(active, torch.full_like(h, math.sqrt(12.0 * theta)),
                       torch.full_like(h, math.inf))


@dataclass(frozen=True)
class ScaleSolution:
    """Result of :func:`solve_scale_for_budget`.

    Attributes:
        scale: the chosen ``s`` (its bits are ``<= budget_bits``).
        bits: the measured bits at ``scale``.
        iterations: number of bit measurements made.
    """

    scale: float
    bits: float
    iterations: int


def solve_scale_for_budget(
    bits_at: Callable[[float], float],
    budget_bits: float,
    *,
    scale_min: float,
    scale_max: float,
    increasing: bool,
    rel_tol: float = 1e-3,
    max_iter: int = 60,
) -> ScaleSolution:
    """Largest-rate scale whose measured bits do not exceed ``budget_bits`` (bisection).

    The bracket end that meets the budget is kept at every step, so the returned scale always
    satisfies ``bits_at(scale) <= budget_bits`` even where measured bits are not exactly
    monotone in ``s``. Bisection is geometric when ``scale_min > 0``.

    Args:
        bits_at: ``s -> bits`` (e.g. mean coded bits per image at scale ``s``).
        budget_bits: the budget ``B``.
        scale_min: lower end of the search bracket, ``>= 0``.
        scale_max: upper end of the search bracket, ``> scale_min``.
        increasing: whether bits grow with ``s`` (:func:`bits_increase_with_scale`).
        rel_tol: stop when the bracket is narrower than ``rel_tol * scale``.
        max_iter: cap on the number of bisection steps.

    Raises:
        ValueError: when even the cheapest end of the bracket exceeds the budget.
    """
    if not 0 <= scale_min < scale_max or not math.isfinite(scale_max):
        raise ValueError(f"need 0 <= scale_min < scale_max < inf, got {scale_min}, {scale_max}")
    cheap, rich = (scale_min, scale_max) if increasing else (scale_max, scale_min)
    b_cheap = float(bits_at(cheap))
    if b_cheap > budget_bits:
        raise ValueError(f"budget_bits={budget_bits} is infeasible: the cheapest scale "
                         f"{cheap} already costs {b_cheap} bits")
    b_rich = float(bits_at(rich))
    if b_rich <= budget_bits:
        return ScaleSolution(rich, b_rich, 2)
    ok, ok_bits, bad = cheap, b_cheap, rich
    it = 2
    geometric = scale_min > 0
    while it < max_iter + 2 and abs(bad - ok) > rel_tol * max(abs(ok), abs(bad)):
        mid = math.sqrt(ok * bad) if geometric else 0.5 * (ok + bad)
        b = float(bits_at(mid))
        it += 1
        if b <= budget_bits:
            ok, ok_bits = mid, b
        else:
            bad = mid
    return ScaleSolution(ok, ok_bits, it)
