"""Transform coding of the latent: the Karhunen–Loève transform (KLT) before quantization.

The paper quantizes every latent entry on its own (``q_i = s·H(y_i)``) and the Gaussian codec
models the entries as independent. Latent entries are correlated, so part of the bits repeat
each other. The textbook remedy (transform coding; Goyal, "Theoretical foundations of transform
coding", IEEE SPM 2001) rotates the centred latent onto the eigenvectors of its training-set
covariance before quantizing::

    c = (y − μ) V          V: [d, d] orthonormal columns, by decreasing variance λ_1 ≥ … ≥ λ_d
    y = μ + c Vᵀ           (exact; V is orthogonal)

The coefficients ``c`` are uncorrelated on the training set, with variances ``λ``. For Gaussian
latents at high rate, at equal distortion the transform saves ``½·log2(Π σ_i² / Π λ_i)`` bits
per image (the coding gain; ``σ_i²`` the entries' variances), and at equal bits it divides the
distortion by ``(Π σ_i² / Π λ_i)^(1/d)``.

A :class:`~commsldr.coding.SourceCoder` built with ``transform=`` codes ``c`` with the usual
quantizer and codec (their statistics are those of the coefficients: :func:`fit_klt`) and hands
back latents ``y``; packets and budgets are unchanged.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> y = torch.randn(1000, 2, generator=g, dtype=torch.float64) @ torch.tensor([[1.0, 0.9], [0.0, 0.3]], dtype=torch.float64)
    >>> klt, coeff_stats = fit_klt(y)
    >>> bool(torch.allclose(klt.inverse(klt.forward(y)), y))
    True
    >>> bool(coeff_stats.std[0] > coeff_stats.std[1])
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .stats import LatentStats, latent_stats_from_latents

__all__ = ["KLTransform", "fit_klt"]


@dataclass(frozen=True)
class KLTransform:
    """The KLT of a latent: ``forward(y) = (y − mean) @ basis``, ``inverse(c) = mean + c @ basisᵀ``.

    Attributes:
        mean: ``float64 [d]`` training mean ``μ``.
        basis: ``float64 [d, d]`` orthonormal eigenvectors of the training covariance as columns,
            by decreasing eigenvalue; each column's largest-magnitude entry is positive (so the
            transform does not depend on the eigen-solver's sign choice).
        variances: ``float64 [d]`` the eigenvalues ``λ`` (the coefficients' variances), decreasing.
    """

    mean: torch.Tensor
    basis: torch.Tensor
    variances: torch.Tensor

    def __post_init__(self) -> None:
        d = self.mean.shape[0] if self.mean.dim() == 1 else -1
        if d < 1 or self.basis.shape != (d, d) or self.variances.shape != (d,):
            raise ValueError(f"KLTransform needs mean [d], basis [d, d] and variances [d], got "
                             f"{tuple(self.mean.shape)}, {tuple(self.basis.shape)}, "
                             f"{tuple(self.variances.shape)}")
        for name in ("mean", "basis", "variances"):
            if not bool(torch.isfinite(getattr(self, name)).all()):
                raise ValueError(f"KLTransform {name} contains NaN or inf")
        eye = torch.eye(d, dtype=torch.float64)
        if not torch.allclose(self.basis.double().T @ self.basis.double(), eye, atol=1e-6):
            raise ValueError("KLTransform basis must have orthonormal columns")

    @property
    def dim(self) -> int:
        """Number of latent entries ``d``."""
        return int(self.mean.shape[0])

    @classmethod
    def fit(cls, y: torch.Tensor) -> KLTransform:
        """The KLT of training latents ``y`` (``float [N, d]``, ``N >= 2``; covariance with
        ``ddof = 1``, computed in float64)."""
        if y.dim() != 2 or y.shape[0] < 2:
            raise ValueError(f"y must have shape [N, d] with N >= 2, got {tuple(y.shape)}")
        if not bool(torch.isfinite(y).all()):
            raise ValueError("y contains NaN or inf")
        y64 = y.detach().cpu().double()
        mean = y64.mean(0)
        centred = y64 - mean
        cov = centred.T @ centred / (y64.shape[0] - 1)
        lam, vecs = torch.linalg.eigh(cov)  # ascending
        lam, vecs = lam.flip(0).clamp(min=0.0), vecs.flip(1)
        idx = vecs.abs().argmax(0)
        signs = torch.sign(vecs[idx, torch.arange(vecs.shape[1])])
        vecs = vecs * torch.where(signs == 0, 1.0, signs)
        return cls(mean, vecs.contiguous(), lam)

    def _check(self, x: torch.Tensor, what: str) -> None:
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{what} must have shape [m, {self.dim}], got {tuple(x.shape)}")

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Latents ``[m, d]`` -> coefficients ``[m, d]`` (computed in float64, returned in
        ``y``'s floating dtype)."""
        self._check(y, "y")
        out = (y.double() - self.mean) @ self.basis
        return out.to(y.dtype) if y.is_floating_point() else out

    def inverse(self, c: torch.Tensor) -> torch.Tensor:
        """Coefficients ``[m, d]`` -> latents ``[m, d]`` (float64 inside, ``c``'s dtype out)."""
        self._check(c, "c")
        out = self.mean + c.double() @ self.basis.T
        return out.to(c.dtype) if c.is_floating_point() else out

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (JSON and ``torch.save(weights_only=True)`` friendly)."""
        return {"mean": self.mean.tolist(), "basis": self.basis.tolist(),
                "variances": self.variances.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KLTransform:
        missing = [k for k in ("mean", "basis", "variances") if k not in d]
        if missing:
            raise KeyError(f"KLT entry lacks the key(s) {missing}")
        return cls(*(torch.as_tensor(d[k], dtype=torch.float64)
                     for k in ("mean", "basis", "variances")))


def fit_klt(train_latents: torch.Tensor, *, ref_step: float | None = None
            ) -> tuple[KLTransform, LatentStats]:
    """The KLT of ``train_latents`` and the :class:`LatentStats` of their coefficients (what the
    quantizer's allocation and the Gaussian codec are built from when coding with it).

    Args:
        train_latents: ``float [N, d]`` training-set latents.
        ref_step: passed to :func:`~commsldr.coding.latent_stats_from_latents`.
    """
    klt = KLTransform.fit(train_latents)
    return klt, latent_stats_from_latents(klt.forward(train_latents.double()), ref_step=ref_step)
