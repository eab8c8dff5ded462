"""Log-normal block fading, shipped as a plug-in through the ``commsldr.channels`` entry point.

The class is *not* decorated with ``register_channel``: the registry imports it lazily from the
entry point and registers it under the entry-point name (``lognormal-block``).
"""

from __future__ import annotations

import math

import torch

from commsldr_channels import Channel, ChannelParameterError, LinkState

__all__ = ["LognormalBlock"]


class LognormalBlock(Channel):
    """Log-normal block fading (plug-in): Gaussian SNR in dB around its mean, constant per block.

    snr_db_t = mean_snr_db + sigma_db * z_b, z_b ~ N(0, 1) i.i.d. per block of
    ``coherence_frames`` frames, uniform random phase (Rappaport, *Wireless Communications*, §4.9.2).
    """

    def __init__(
        self, mean_snr_db: float = 10.0, sigma_db: float = 4.0, coherence_frames: int = 1
    ) -> None:
        if not sigma_db >= 0:
            raise ChannelParameterError(f"sigma_db: must be >= 0, got {sigma_db!r}")
        if int(coherence_frames) != coherence_frames or coherence_frames < 1:
            raise ChannelParameterError(
                f"coherence_frames: must be an integer >= 1, got {coherence_frames!r}"
            )
        self.mean_snr_db = float(mean_snr_db)
        self.sigma_db = float(sigma_db)
        self.coherence_frames = int(coherence_frames)

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        blocks = -(-num_frames // self.coherence_frames)
        z = torch.randn(blocks, generator=generator, device=generator.device)
        phase = torch.rand(blocks, generator=generator, device=generator.device) * (2 * math.pi)
        fade_db = (self.sigma_db * z).repeat_interleave(self.coherence_frames)[:num_frames]
        phase = phase.repeat_interleave(self.coherence_frames)[:num_frames]
        gain = torch.polar(torch.pow(10.0, fade_db / 20.0), phase)
        return LinkState(snr_db=self.mean_snr_db + fade_db, gain=gain)
