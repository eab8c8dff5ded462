"""Additive white Gaussian noise channel with a fixed SNR."""

from __future__ import annotations

import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import Channel, LinkState
from commsldr_channels.registry import register_channel


@register_channel("awgn")
class AWGN(Channel):
    """AWGN channel with a fixed SNR (no fading): y = x + n.

    Every frame has the same SNR :math:`\\rho = 10^{\\mathrm{snr\\_db}/10}`;
    :meth:`~commsldr_channels.base.Channel.forward` adds :math:`n \\sim \\mathcal{CN}(0, 1/\\rho)` drawn from
    the caller's generator as ``sionna.phy.channel.AWGN`` does (unit average symbol energy). With Gray-mapped BPSK the bit error
    rate is :math:`Q(\\sqrt{2\\rho})`, with QPSK (per bit) :math:`Q(\\sqrt{\\rho})`
    (Proakis & Salehi, *Digital Communications*, 5th ed., §4.3).

    Args:
        snr_db: SNR in dB (finite).

    Example:
        >>> import torch
        >>> from commsldr_channels import create_channel
        >>> s = create_channel("awgn", snr_db=3.0).states(4, generator=torch.Generator().manual_seed(0))
        >>> s.snr_db.tolist()
        [3.0, 3.0, 3.0, 3.0]
    """

    deterministic = True

    def __init__(self, snr_db: float = 10.0) -> None:
        self.snr_db = check.finite("snr_db", snr_db)

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        check.generator(generator)
        return LinkState(
            snr_db=torch.full((n,), self.snr_db, dtype=torch.float32, device=generator.device)
        )
