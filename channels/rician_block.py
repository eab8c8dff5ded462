"""Rician block fading: a line-of-sight component plus CN diffuse scattering, per coherence block."""

from __future__ import annotations

import math

import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import Channel, LinkState, complex_normal, power_to_db
from commsldr_channels.rayleigh_block import repeat_blocks
from commsldr_channels.registry import register_channel


def rician_gains(k_factor: float, num: int, generator: torch.Generator) -> torch.Tensor:
    """``num`` i.i.d. Rician coefficients with :math:`E|h|^2 = 1`, complex64 ``[num]``.

    :math:`h = \\sqrt{K/(K+1)}\\,e^{j\\phi} + \\sqrt{1/(K+1)}\\,w`, :math:`\\phi \\sim U[0, 2\\pi)`,
    :math:`w \\sim \\mathcal{CN}(0, 1)` (:func:`commsldr_channels.base.complex_normal`).
    """
    w = complex_normal(num, generator)
    phi = torch.rand(num, generator=generator, device=generator.device) * (2 * math.pi)
    los = torch.polar(torch.full_like(phi, math.sqrt(k_factor / (k_factor + 1))), phi)
    return los + w * math.sqrt(1.0 / (k_factor + 1))


@register_channel("rician-block")
class RicianBlock(Channel):
    """Rician block fading with K-factor `k_factor`, constant for `coherence_frames` frames.

    .. math::
        h_b = \\sqrt{\\tfrac{K}{K+1}}\\,e^{j\\phi_b} + \\sqrt{\\tfrac{1}{K+1}}\\,w_b,\\quad
        w_b \\sim \\mathcal{CN}(0,1),\\ \\phi_b \\sim U[0, 2\\pi),\\quad
        \\rho_t = \\bar\\rho\\,|h_{\\lfloor t/L \\rfloor}|^2

    :math:`E|h|^2 = 1` and :math:`K` = LOS power / scattered power; :math:`K = 0` is Rayleigh,
    :math:`K \\to \\infty` is AWGN. The K-factor can be recovered from the moments of
    :math:`|h|^2` (Greenstein, Michelson & Erceg, "Moment-method estimation of the Ricean
    K-factor", IEEE Commun. Lett. 3(6), 1999); see also Goldsmith, *Wireless Communications*, §3.2.

    Args:
        mean_snr_db: average SNR :math:`\\bar\\rho` in dB.
        k_factor: Rician K-factor (linear, >= 0).
        coherence_frames: block length :math:`L` in frames, >= 1.
    """

    def __init__(
        self, mean_snr_db: float = 10.0, k_factor: float = 3.0, coherence_frames: int = 1
    ) -> None:
        self.mean_snr_db = check.finite("mean_snr_db", mean_snr_db)
        self.k_factor = check.non_negative("k_factor", k_factor)
        self.coherence_frames = check.integer("coherence_frames", coherence_frames, minimum=1)

    def gains(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """complex64 ``[F]`` small-scale gains with :math:`E|h|^2 = 1`."""
        num_blocks = -(-num_frames // self.coherence_frames)
        h = rician_gains(self.k_factor, num_blocks, generator)
        return repeat_blocks(h, self.coherence_frames, num_frames)

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        h = self.gains(n, check.generator(generator))
        return LinkState(snr_db=self.mean_snr_db + power_to_db(h.abs().square()), gain=h)
