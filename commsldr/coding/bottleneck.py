"""A learned factorized-prior entropy bottleneck with a rate menu (gain vectors), in PyTorch.

The latent ``y [B, k]`` of the split encoder is scaled by a learned positive **gain vector**
``g_r [k]`` of rate point ``r`` and quantized to integers, ``q = round(g_r * y)``; the server
gets ``y_hat = q / g_r``. Each rate point has its own **factorized prior**: one univariate density
per channel, the monotone "density network" of Ballé et al. (2018), appendix 6.1::

    c(x) = sigmoid(f_K ∘ ... ∘ f_1 (x)),   f_j(x) = g_j(H_j x + b_j),
    g_j(x) = x + tanh(a_j) ⊙ tanh(x)  (j < K),     H_j = softplus(H~_j) > 0,

a cumulative distribution function for every parameter value (each ``f_j`` is increasing:
``softplus > 0`` and ``tanh(a) > -1``). The probability of an integer symbol is the mass of its
bin, ``P(q) = c(q + 1/2) - c(q - 1/2)``.

**Training** (Ballé et al. 2018; Singh et al. 2020, "End-to-end learning of compressible
features"): the rate is the negative log-likelihood of ``g_r y + u``, ``u ~ U(-1/2, 1/2)`` (the
continuous relaxation of rounding) in bits, ``R = -sum_i log2 P(g_r y + u)_i``; the decoder gets
the rounded latent through the straight-through estimator, ``y_hat = (g_r y + sg(round(g_r y) -
g_r y)) / g_r`` (Minnen & Singh 2020, "Channel-wise autoregressive entropy models", §3), so it
trains on what it will receive. **At test** the latent is rounded and ``R = -sum_i log2 P(q_i)``.

**Variable rate from one encoder** (the "gained" variable-rate scheme of Cui et al. 2021,
"Asymmetric gained deep image compression with continuous rate adaptation"): the rate points
share the encoder and the decoder; only the gain vector and the prior differ, so a rate point is
an operating point of one deployed encoder. :meth:`EntropyBottleneck.source_coder` turns one
into the library's :class:`~commsldr.coding.SourceCoder` (a :class:`~commsldr.coding.Quantizer`
with steps ``1 / g_r`` and a categorical :class:`~commsldr.coding.LatentCodec` whose tables are
the prior's discretised bin masses), so packets, operating-point tables and every policy take it
unchanged.

Real bits: ``constriction``'s range coder with the discretised prior (symbols outside a
channel's support ``[lo_i, hi_i]`` — each tail holds below :data:`TAIL_MASS` — go through the
codec's escape, 32 raw bits). A message costs its information content plus at most about
1 bit plus byte rounding (see :mod:`commsldr.coding.codec`).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .codec import MAX_ALPHABET, LatentCodec
from .quantize import Quantizer
from .scheme import SourceCoder

__all__ = ["EB_RULE", "TAIL_MASS", "EntropyBottleneck", "FactorizedPrior"]

#: the ``rule`` recorded in the :class:`SourceCoder` of a rate point
EB_RULE = "entropy-bottleneck"
#: probability mass left outside each side of a channel's coded support (coded by escape)
TAIL_MASS = 1e-9
#: smallest likelihood used in the rate (keeps ``log`` finite; CompressAI's ``likelihood_bound``)
LIKELIHOOD_BOUND = 1e-9
#: largest |symbol| searched for a channel's support
_SEARCH = 1 << 13


class FactorizedPrior(nn.Module):
    """One monotone cumulative-distribution network per channel (Ballé et al. 2018, app. 6.1).

    Args:
        channels: ``k``, the number of independent channels.
        filters: hidden widths of the density network (Ballé's ``(3, 3, 3)``).
        init_scale: the initial density is roughly uniform on ``[-init_scale, init_scale]``.

    Input (:meth:`cdf_logits`, :meth:`likelihood`):
        x: ``float [N, k]``, symbol units.

    Output:
        ``float [N, k]``: the CDF's logit at ``x``, or the bin mass ``c(x + 1/2) - c(x - 1/2)``.
    """

    def __init__(self, channels: int, filters: tuple[int, ...] = (3, 3, 3),
                 init_scale: float = 10.0) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.channels = int(channels)
        self.filters = tuple(int(f) for f in filters)
        dims = (1, *self.filters, 1)
        scale = float(init_scale) ** (1.0 / (len(self.filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for j in range(len(dims) - 1):
            init = math.log(math.expm1(1.0 / scale / dims[j + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[j + 1], dims[j]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[j + 1], 1) - 0.5))
            if j < len(dims) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[j + 1], 1)))

    def cdf_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the CDF at ``x`` (``[N, k] -> [N, k]``), increasing in ``x``."""
        if x.dim() != 2 or x.shape[1] != self.channels:
            raise ValueError(f"x must have shape [N, {self.channels}], got {tuple(x.shape)}")
        h = x.t().unsqueeze(1)  # [k, 1, N]
        for j, (m, b) in enumerate(zip(self.matrices, self.biases, strict=True)):
            h = torch.matmul(F.softplus(m), h) + b
            if j < len(self.factors):
                h = h + torch.tanh(self.factors[j]) * torch.tanh(h)
        return h.squeeze(1).t()

    def likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """Bin mass ``c(x + 1/2) - c(x - 1/2)`` at ``x`` (``[N, k]``), computed on the side of the
        median where the two sigmoids do not cancel (CompressAI's sign trick)."""
        lower = self.cdf_logits(x - 0.5)
        upper = self.cdf_logits(x + 0.5)
        # -1 above the median, +1 below and at it (torch.sign would give 0 there: p = 0)
        sign = torch.where(lower + upper > 0, -1.0, 1.0).to(lower.dtype).detach()
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))


class EntropyBottleneck(nn.Module):
    """Gain vectors + factorized priors for ``len(lambdas)`` rate points of a ``k``-entry latent.

    Args:
        channels: ``k``, the latent dimension.
        lambdas: the rate weights ``lambda_r`` (loss ``CE + lambda_r * R``, ``R`` in bits per
            image), one per rate point; recorded, used by the training recipe.
        filters, init_scale: of each :class:`FactorizedPrior`.

    Input (:meth:`forward`):
        y: ``float [B, k]`` latents.
        index: ``int64 [B]`` rate point of each image.

    Output:
        ``(y_hat, bits)``: ``float [B, k]`` what the decoder gets (straight-through rounded in
        training, rounded at test) and ``float [B]`` the rate estimate in bits per image (of the
        noisy latent in training, of the rounded one at test).
    """

    def __init__(self, channels: int, lambdas: list[float] | tuple[float, ...],
                 filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0) -> None:
        super().__init__()
        lam = [float(v) for v in lambdas]
        if not lam or any(not (math.isfinite(v) and v >= 0) for v in lam):
            raise ValueError(f"lambdas must be a non-empty list of finite numbers >= 0, got {lambdas!r}")
        self.channels = int(channels)
        self.lambdas = lam
        self.filters = tuple(int(f) for f in filters)
        self.init_scale = float(init_scale)
        self.log_gains = nn.Parameter(torch.zeros(len(lam), channels))
        self.priors = nn.ModuleList(FactorizedPrior(channels, self.filters, init_scale)
                                    for _ in lam)

    @property
    def num_rates(self) -> int:
        """Number of rate points."""
        return len(self.lambdas)

    @property
    def config(self) -> dict[str, Any]:
        """What :meth:`from_config` needs to rebuild the module."""
        return {"channels": self.channels, "lambdas": list(self.lambdas),
                "filters": list(self.filters), "init_scale": self.init_scale}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> EntropyBottleneck:
        return cls(int(config["channels"]), list(config["lambdas"]),
                   tuple(config.get("filters", (3, 3, 3))), float(config.get("init_scale", 10.0)))

    def gains(self) -> torch.Tensor:
        """``float [R, k]`` positive gains ``g_r = exp(log_gains_r)``."""
        return torch.exp(self.log_gains)

    def _check(self, y: torch.Tensor, index: torch.Tensor) -> None:
        if y.dim() != 2 or y.shape[1] != self.channels:
            raise ValueError(f"y must have shape [B, {self.channels}], got {tuple(y.shape)}")
        if index.shape != (y.shape[0],):
            raise ValueError(f"index must have shape [{y.shape[0]}], got {tuple(index.shape)}")
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.num_rates):
            raise ValueError(f"index must lie in [0, {self.num_rates})")

    def forward(self, y: torch.Tensor, index: torch.Tensor,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        self._check(y, index)
        y = y.float()
        g = self.gains()[index]  # [B, k]
        z = y * g
        rounded = torch.round(z)
        if self.training:
            u = torch.rand(z.shape, generator=generator, dtype=z.dtype).to(z.device) - 0.5
            noisy = z + u
            z_hat = z + (rounded - z).detach()
        else:
            noisy = rounded
            z_hat = rounded
        bits = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
        for r in range(self.num_rates):
            sel = index == r
            if bool(sel.any()):
                p = self.priors[r].likelihood(noisy[sel]).clamp_min(LIKELIHOOD_BOUND)
                bits = bits.index_put((sel.nonzero().squeeze(1),), -torch.log2(p).sum(1))
        return z_hat / g, bits

    @torch.no_grad()
    def symbol_bits(self, q: torch.Tensor, rate: int) -> torch.Tensor:
        """Information content ``-sum_i log2 P_r(q_i)`` of integer symbols ``[m, k]`` in bits
        (``float64 [m]``), without the likelihood bound."""
        prior = copy.deepcopy(self.priors[rate]).double().cpu()
        p = prior.likelihood(torch.as_tensor(q).double().cpu())
        return -torch.log2(p).sum(1)

    @torch.no_grad()
    def discretised(self, rate: int, tail_mass: float = TAIL_MASS
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The prior of rate point ``rate`` on integers, for the codec.

        Returns:
            ``(lo int64 [k], size int64 [k], table float64 [k, W])``: channel ``i`` codes the
            symbols ``lo_i .. lo_i + size_i - 1`` with the bin masses ``table[i, :size_i]``; the
            last column is the escape symbol's mass (both tails together, floored at
            ``tail_mass``). The support is the smallest integer range whose tails each hold
            below ``tail_mass`` (at most :data:`~commsldr.coding.codec.MAX_ALPHABET` values,
            centred on the median, within ``±2^13``).
        """
        prior = copy.deepcopy(self.priors[rate]).double().cpu()
        k = self.channels
        edges = torch.arange(-_SEARCH, _SEARCH + 1, dtype=torch.float64) + 0.5  # j + 1/2
        logits = prior.cdf_logits(edges[:, None].expand(-1, k).contiguous())  # [E, k]
        lower_tail = torch.sigmoid(logits)          # P(q <= j)
        upper_tail = torch.sigmoid(-logits)         # P(q > j)
        js = torch.arange(-_SEARCH, _SEARCH + 1, dtype=torch.int64)
        lo = np.empty(k, np.int64)
        hi = np.empty(k, np.int64)
        for i in range(k):
            below = torch.nonzero(lower_tail[:, i] >= tail_mass).flatten()
            above = torch.nonzero(upper_tail[:, i] < tail_mass).flatten()
            lo[i] = int(js[below[0]]) if below.numel() else _SEARCH
            hi[i] = int(js[above[0]]) if above.numel() else _SEARCH
            lo[i] = min(lo[i], hi[i])
            if hi[i] - lo[i] + 1 > MAX_ALPHABET:
                med = int(js[torch.nonzero(lower_tail[:, i] >= 0.5).flatten()[0]])
                lo[i] = med - MAX_ALPHABET // 2
                hi[i] = lo[i] + MAX_ALPHABET - 1
        size = hi - lo + 1
        width = int(size.max()) + 1
        table = np.zeros((k, width), dtype=np.float64)
        for i in range(k):
            sym = torch.arange(int(lo[i]), int(hi[i]) + 1, dtype=torch.float64)
            x = torch.zeros(sym.numel(), k, dtype=torch.float64)
            x[:, i] = sym
            p = prior.likelihood(x)[:, i].numpy()
            below_mass = float(torch.sigmoid(prior.cdf_logits(
                torch.full((1, k), float(lo[i]) - 0.5, dtype=torch.float64))[0, i]))
            above_mass = float(torch.sigmoid(-prior.cdf_logits(
                torch.full((1, k), float(hi[i]) + 0.5, dtype=torch.float64))[0, i]))
            table[i, : size[i]] = p
            table[i, -1] = max(below_mass + above_mass, tail_mass)
        return lo, size, table

    def source_coder(self, rate: int) -> SourceCoder:
        """The deployable coder of rate point ``rate``: steps ``1 / g_r``, no offset, the
        discretised prior as a categorical codec; ``scale`` is ``lambda_r`` and ``scale_index``
        is ``rate``."""
        if not 0 <= rate < self.num_rates:
            raise ValueError(f"rate must lie in [0, {self.num_rates}), got {rate}")
        lo, size, table = self.discretised(rate)
        step = 1.0 / self.gains()[rate].detach().double().cpu()
        codec = LatentCodec("categorical", self.channels, lo=lo, size=size, table=table)
        return SourceCoder(Quantizer(step), codec, float(self.lambdas[rate]), EB_RULE, rate)
