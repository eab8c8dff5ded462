"""Coding-rate terms of the MCR² principle: R(Z) and the class-wise Rc(Z, Π).

Conventions (read this before choosing ``eps_sq``)
---------------------------------------------------
Features are **rows**: ``z`` is a ``[N, d]`` float tensor (N samples, feature dimension d), normally
L2-normalised rows (the side branch of :class:`commsldr.models.SplitAutoencoder` outputs those).
In the papers' notation Z = zᵀ ∈ R^{d×N} (columns are samples).

The coding rate of Yu et al. (NeurIPS 2020, "Learning diverse and discriminative representations
via the principle of maximal coding rate reduction"), eq. (1) of Qi et al.::

    R(Z)      = ½ logdet(I_d + d / (ε² N) · Z Zᵀ)
    Rc(Z, Π)  = Σ_j  tr(Π_j) / (2N) · logdet(I_d + d / (ε² tr(Π_j)) · Z Π_j Zᵀ)

(the paper of Qi et al. writes D_in for the factor ``d``; the official MCR² code uses the
feature dimension ``p = d``, which is what is implemented here).

**ε convention.** The paper writes the precision ε and the factor 1/ε². The official MCR² code
(``MaximalCodingRateReduction(eps=...)`` in ``ryanchankh/mcr2`` and in the authors' code
``QiSiyu/MCR2-Guided-Image-Classification``) computes ``p / (m * eps)``, i.e. its ``eps`` argument
**is ε²**. This module follows the code: every function takes ``eps_sq`` = ε². The authors' DuPHiL
runs use ``eps = 0.5`` (ε² = 0.5, ε ≈ 0.707), which is the default here
(:data:`DEFAULT_EPS_SQ`). To use a paper-style ε, pass ``eps_sq=eps**2``.

Efficiency. By Sylvester's identity logdet(I_d + c ZᵀZ) = logdet(I_n + c Z Zᵀ) for Z ∈ R^{n×d};
the functions build whichever Gram matrix is smaller — the d×d feature-dimension form when
n ≥ d (the usual case for R at batch 1000, d = 128), the n×n form otherwise (e.g. LDR-SSL groups of a
few views). All classes are handled by **one** batched log-determinant over a stacked ``[K, m, m]``
tensor (samples scattered into a zero-padded ``[K, n_max, d]`` tensor; zero rows add nothing
to a Gram matrix), never a Python loop over classes. Log-determinants use a batched Cholesky
factorisation (the matrices are I + PSD, hence SPD) and fall back to ``torch.linalg.slogdet`` if
any factorisation fails numerically. Half-precision inputs are computed in float32.
"""

from __future__ import annotations

import torch

__all__ = [
    "DEFAULT_EPS_SQ",
    "class_coding_rate",
    "coding_rate",
    "logdet_spd",
]

#: ε² used by the authors' DuPHiL code (``--eps 0.5``, documented there as "eps squared").
DEFAULT_EPS_SQ: float = 0.5


def _compute_dtype(z: torch.Tensor) -> torch.dtype:
    """float64 stays float64 (for gradient checks); everything else is computed in float32."""
    return torch.float64 if z.dtype == torch.float64 else torch.float32


def logdet_spd(a: torch.Tensor) -> torch.Tensor:
    """Log-determinant of a batch of symmetric positive-definite matrices.

    Args:
        a: ``[..., m, m]`` float tensor, SPD (here always ``I + c·G`` with ``G`` a Gram matrix).

    Returns:
        ``[...]`` tensor, ``log det a``. Computed as ``2 Σ log diag(L)`` with ``L`` the Cholesky
        factor; if any factorisation fails (numerically not positive definite), the whole batch is
        recomputed with ``torch.linalg.slogdet`` (its log-|det| is returned).
    """
    chol, info = torch.linalg.cholesky_ex(a)
    if bool((info != 0).any()):
        return torch.linalg.slogdet(a).logabsdet
    return 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)


def _logdet_gram(p: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``logdet(I_d + scale · pᵀ p)`` for a batch ``p`` of shape ``[K, n, d]`` (``scale``: ``[K]``).

    Uses the smaller of the d×d and n×n Gram matrices (Sylvester's determinant identity).
    """
    k, n, d = p.shape
    if n < d:
        gram = torch.bmm(p, p.transpose(1, 2))  # [K, n, n]
        m = n
    else:
        gram = torch.bmm(p.transpose(1, 2), p)  # [K, d, d]
        m = d
    eye = torch.eye(m, dtype=p.dtype, device=p.device)
    return logdet_spd(eye + scale.view(k, 1, 1) * gram)


def coding_rate(z: torch.Tensor, eps_sq: float = DEFAULT_EPS_SQ) -> torch.Tensor:
    """Coding rate R(Z) = ½ logdet(I + d/(ε² N) ZᵀZ) of a batch of features (nats).

    Args:
        z: ``[N, d]`` features (rows; normally L2-normalised), any float dtype.
        eps_sq: ε², the squared precision (the official MCR² code's ``eps``; see module docs).

    Returns:
        Scalar tensor (float32, or float64 for float64 input), differentiable in ``z``.

    Example:
        >>> z = torch.eye(4)  # orthonormal columns, N = d = 4
        >>> round(float(coding_rate(z, eps_sq=1.0)), 4)  # ½ · 4 · log(1 + 4/4) = 2 log 2
        1.3863
    """
    _check_features(z)
    if eps_sq <= 0:
        raise ValueError(f"eps_sq must be > 0, got {eps_sq}")
    z = z.to(_compute_dtype(z))
    n, d = z.shape
    scale = torch.full((1,), d / (eps_sq * n), dtype=z.dtype, device=z.device)
    return 0.5 * _logdet_gram(z.unsqueeze(0), scale)[0]


def class_coding_rate(
    z: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int | None = None,
    eps_sq: float = DEFAULT_EPS_SQ,
) -> torch.Tensor:
    """Class-wise coding rate Rc(Z, Π) = Σ_j n_j/(2N) · logdet(I + d/(ε² n_j) Z_jᵀ Z_j) (nats).

    Π is given by integer ``labels`` (Π_j = diag(labels == j)); absent classes contribute 0.
    All classes share one batched log-determinant (no Python loop over classes).

    Args:
        z: ``[N, d]`` features (rows; normally L2-normalised).
        labels: ``[N]`` int64 class indices in ``[0, num_classes)``.
        num_classes: K; defaults to ``labels.max() + 1``.
        eps_sq: ε² (see module docs).

    Returns:
        Scalar tensor, differentiable in ``z``.
    """
    _check_features(z)
    if eps_sq <= 0:
        raise ValueError(f"eps_sq must be > 0, got {eps_sq}")
    if labels.ndim != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(
            f"labels must have shape [N] = [{z.shape[0]}], got {tuple(labels.shape)}"
        )
    if labels.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.bool):
        raise TypeError(f"labels must be an integer tensor, got {labels.dtype}")
    labels = labels.to(device=z.device, dtype=torch.int64)
    if num_classes is None:
        num_classes = int(labels.max().item()) + 1
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in [0, num_classes={num_classes}), got range "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
    z = z.to(_compute_dtype(z))
    n, d = z.shape
    counts = torch.bincount(labels, minlength=num_classes)  # [K]
    n_max = int(counts.max().item())
    # Position of every sample inside its class: rank among equal labels (stable sort).
    order = torch.argsort(labels, stable=True)
    starts = torch.cumsum(counts, 0) - counts  # first sorted index of each class
    pos_sorted = torch.arange(n, device=z.device) - starts[labels[order]]
    padded = z.new_zeros(num_classes, n_max, d)
    padded = padded.index_put((labels[order], pos_sorted), z[order])  # differentiable scatter
    counts_f = counts.to(z.dtype)
    scale = d / (eps_sq * counts_f.clamp(min=1.0))
    logdets = _logdet_gram(padded, scale)  # [K]; exactly 0 for an absent class (I)
    return (counts_f / (2.0 * n) * logdets).sum()


def _check_features(z: torch.Tensor) -> None:
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"z must have shape [N, d] with N, d > 0, got {tuple(z.shape)}")
    if not z.is_floating_point():
        raise TypeError(f"z must be a floating-point tensor, got {z.dtype}")
