"""Add your own channel model: define it, register it, draw states, send symbols.

Run: ``python examples/custom_channel.py``. The same model, shipped as an installable plug-in
through the ``commsldr.channels`` entry point, lives in ``examples/channel_plugin/``.
"""

from __future__ import annotations

import math

import torch

import commsldr_channels
from commsldr_channels import Channel, ChannelParameterError, LinkState, register_channel


@register_channel("lognormal-example")
class LognormalBlock(Channel):
    """Log-normal block fading: SNR in dB is Gaussian around its mean, constant per block.

    snr_db_t = mean_snr_db + sigma_db * z_b with z_b ~ N(0, 1) i.i.d. per block of
    ``coherence_frames`` frames, and a uniform random phase (Rappaport, *Wireless
    Communications*, §4.9.2).
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
        gain = torch.polar(torch.pow(10.0, fade_db / 20.0), phase)  # |h|^2 = 10^(fade_db/10)
        return LinkState(snr_db=self.mean_snr_db + fade_db, gain=gain)


def main() -> None:
    print("registered:", ", ".join(commsldr_channels.list_channels()))
    ch = commsldr_channels.create_channel(
        "lognormal-example", mean_snr_db=12.0, sigma_db=6.0, coherence_frames=10
    )
    g = torch.Generator().manual_seed(0)
    state = ch.states(100_000, generator=g)
    print(
        f"mean snr_db = {state.snr_db.mean():.2f} dB (expected 12), std = {state.snr_db.std():.2f} dB (expected 6)"
    )
    # symbol level: y = h x + n with the frame's noise variance
    x = torch.ones(4, 8, dtype=torch.complex64)
    y = ch.forward(x, state[:4], generator=g)
    print("received symbols of frame 0:", y[0, :3])
    # bad parameters fail early, naming the parameter
    try:
        commsldr_channels.create_channel("lognormal-example", sigma_db=-1.0)
    except ValueError as err:
        print("bad parameter ->", err)


if __name__ == "__main__":
    main()
