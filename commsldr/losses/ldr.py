"""The LDR (MCR²) losses: L_LDR (eq. 1) and L_LDR-SSL (eq. 2) of Qi et al.

    L_LDR     = −ΔR(Z) = −γ·R(Z) + Rc(Z, Π)        Π   : ground-truth class partition
    L_LDR-SSL = −ΔR(Z) = −γ·R(Z) + Rc(Z, Π^T)      Π^T : augmentation pseudo-labels

γ (``rate_weight``, ``gam2`` in the official code) is 1 in the paper. For L_LDR-SSL every image of a
mini-batch is augmented into n views by transformations drawn from the family T
(:func:`commsldr.data.make_views`); the n views of one image form one group of Π^T, so there are
B groups of n samples (Yu et al. 2020, §3 "self-supervised"; Qi et al. §3.1).

Features are L2-normalised rows ``[N, d]`` and computed in float32 (see
:mod:`commsldr.losses.coding_rate` for the ε² convention and the batched log-determinants).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from commsldr.losses.coding_rate import DEFAULT_EPS_SQ, class_coding_rate, coding_rate

__all__ = ["LDRLoss", "LDRTerms", "ldr_loss", "ldr_ssl_loss"]


@dataclass(frozen=True)
class LDRTerms:
    """Value of an LDR loss and its two parts (all scalar tensors, nats).

    Attributes:
        loss: −γ·R + Rc (differentiable; minimise this).
        rate: R(Z), the coding rate of the whole batch.
        class_rate: Rc(Z, Π), the class-wise coding rate.
    """

    loss: torch.Tensor
    rate: torch.Tensor
    class_rate: torch.Tensor


def _prepare(z: torch.Tensor, normalize: bool) -> torch.Tensor:
    if z.ndim != 2:
        raise ValueError(f"z must have shape [N, d], got {tuple(z.shape)}")
    z = z.to(torch.float64 if z.dtype == torch.float64 else torch.float32)
    return F.normalize(z, dim=1) if normalize else z


def ldr_loss(
    z: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int | None = None,
    *,
    eps_sq: float = DEFAULT_EPS_SQ,
    rate_weight: float = 1.0,
    normalize: bool = True,
) -> LDRTerms:
    """L_LDR = −γ·R(Z) + Rc(Z, Π) (Qi et al. eq. 1; Yu et al. 2020 eq. 8).

    Args:
        z: ``[N, d]`` side-branch features (any float dtype; computed in float32).
        labels: ``[N]`` int64 class labels defining Π.
        num_classes: K (defaults to ``labels.max() + 1``).
        eps_sq: ε² — the official code's ``eps`` (see :mod:`commsldr.losses.coding_rate`).
        rate_weight: γ multiplying R (``gam2`` in the official code; 1 in the paper).
        normalize: L2-normalise the rows first (idempotent for the side branch's output).

    Returns:
        :class:`LDRTerms` with ``loss``, ``rate`` and ``class_rate``.

    Example:
        >>> z = torch.nn.functional.normalize(torch.randn(100, 16), dim=1)
        >>> terms = ldr_loss(z, torch.arange(100) % 10, num_classes=10)
        >>> bool(terms.loss < 0)
        True
    """
    with torch.autocast(device_type=z.device.type, enabled=False):
        z = _prepare(z, normalize)
        rate = coding_rate(z, eps_sq)
        class_rate = class_coding_rate(z, labels, num_classes, eps_sq)
        return LDRTerms(loss=-rate_weight * rate + class_rate, rate=rate, class_rate=class_rate)


def ldr_ssl_loss(
    z: torch.Tensor,
    view_labels: torch.Tensor,
    *,
    eps_sq: float = DEFAULT_EPS_SQ,
    rate_weight: float = 1.0,
    normalize: bool = True,
) -> LDRTerms:
    """L_LDR-SSL = −γ·R(Z) + Rc(Z, Π^T) (Qi et al. eq. 2) with augmentation pseudo-labels.

    Args:
        z: ``[n·B, d]`` features of n augmented views of B images.
        view_labels: ``[n·B]`` int64 group index (which source image a view comes from), as returned
            by :func:`commsldr.data.make_views`; groups are ``0 .. B-1``.
        eps_sq: ε², as in :func:`ldr_loss`.
        rate_weight: γ, as in :func:`ldr_loss`.
        normalize: L2-normalise the rows first.

    Returns:
        :class:`LDRTerms`; here Rc uses the B view groups as its partition.
    """
    if view_labels.numel() == 0:
        raise ValueError("view_labels must not be empty")
    num_groups = int(view_labels.max().item()) + 1
    return ldr_loss(
        z, view_labels, num_groups, eps_sq=eps_sq, rate_weight=rate_weight, normalize=normalize
    )


class LDRLoss(torch.nn.Module):
    """Module wrapper of :func:`ldr_loss` holding ε² and γ (the authors' ``MaximalCodingRateReduction``).

    Args:
        eps_sq: ε² (the official code's ``eps``), default 0.5 as in the authors' DuPHiL runs.
        rate_weight: γ (``gam2``), default 1.

    Call: ``LDRLoss()(z [N, d], labels [N], num_classes) -> LDRTerms``.
    """

    def __init__(self, eps_sq: float = DEFAULT_EPS_SQ, rate_weight: float = 1.0) -> None:
        super().__init__()
        if eps_sq <= 0:
            raise ValueError(f"eps_sq must be > 0, got {eps_sq}")
        self.eps_sq = float(eps_sq)
        self.rate_weight = float(rate_weight)

    def forward(
        self, z: torch.Tensor, labels: torch.Tensor, num_classes: int | None = None
    ) -> LDRTerms:
        return ldr_loss(
            z, labels, num_classes, eps_sq=self.eps_sq, rate_weight=self.rate_weight
        )

    def extra_repr(self) -> str:
        return f"eps_sq={self.eps_sq}, rate_weight={self.rate_weight}"
