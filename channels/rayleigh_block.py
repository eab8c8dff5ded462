"""Rayleigh block fading: one CN(0, 1) gain per coherence block of frames."""

from __future__ import annotations

import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import Channel, LinkState, complex_normal, power_to_db
from commsldr_channels.registry import register_channel


def repeat_blocks(values: torch.Tensor, block: int, num_frames: int) -> torch.Tensor:
    """Repeat each of ``ceil(F/block)`` values ``block`` times and cut to ``num_frames``
    (by index: memory ``O(F)`` whatever the block length)."""
    return values[torch.arange(num_frames) // block]


@register_channel("rayleigh-block")
class RayleighBlock(Channel):
    """Rayleigh block fading: h ~ CN(0, 1), constant for `coherence_frames` frames.

    .. math::
        h_b \\sim \\mathcal{CN}(0, 1)\\ \\text{i.i.d.},\\quad h_t = h_{\\lfloor t/L \\rfloor},\\quad
        \\rho_t = \\bar\\rho\\,|h_t|^2

    so :math:`|h_t|^2` is exponential with mean 1, the outage probability is
    :math:`P(\\log_2(1+\\rho_t) < R) = 1 - e^{-(2^R-1)/\\bar\\rho}` and the ergodic capacity
    :math:`e^{1/\\bar\\rho} E_1(1/\\bar\\rho)/\\ln 2` bit/s/Hz (Goldsmith, *Wireless
    Communications*, 2005, §4.2). The gains are drawn with
    :func:`commsldr_channels.base.complex_normal` on the caller's generator (the draw of
    ``sionna.phy.channel.RayleighBlockFading``, without importing Sionna).

    Args:
        mean_snr_db: average SNR :math:`\\bar\\rho` in dB.
        coherence_frames: block length :math:`L` (frames sharing one gain), >= 1.
    """

    def __init__(self, mean_snr_db: float = 10.0, coherence_frames: int = 1) -> None:
        self.mean_snr_db = check.finite("mean_snr_db", mean_snr_db)
        self.coherence_frames = check.integer("coherence_frames", coherence_frames, minimum=1)

    def gains(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """complex64 ``[F]`` small-scale gains with :math:`E|h|^2 = 1`."""
        num_blocks = -(-num_frames // self.coherence_frames)
        return repeat_blocks(
            complex_normal(num_blocks, generator), self.coherence_frames, num_frames
        )

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        h = self.gains(n, check.generator(generator))
        return LinkState(snr_db=self.mean_snr_db + power_to_db(h.abs().square()), gain=h)
