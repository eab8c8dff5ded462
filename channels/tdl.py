"""3GPP TR 38.901 tapped-delay-line multipath (Sionna) reduced to one effective SNR per frame."""

from __future__ import annotations

import math

import torch

from commsldr_channels import _validate as check
from commsldr_channels._sionna import make_block, sionna_device, sionna_phy
from commsldr_channels.base import Channel, ChannelParameterError, LinkState, power_to_db
from commsldr_channels.registry import register_channel

TDL_MODELS = ("A", "B", "C", "D", "E", "A10", "A30", "B100", "C60", "C300", "D10", "D30")
FIXED_DELAY_SPREAD_MODELS = ("A10", "A30", "B100", "C60", "C300", "D10", "D30")
REDUCTIONS = ("capacity", "eesm")


def effective_snr(
    snr_per_subcarrier: torch.Tensor, reduction: str, eesm_beta: float = 1.0
) -> torch.Tensor:
    """Reduce per-subcarrier SNRs ``[..., K]`` (linear) to one effective SNR ``[...]`` (linear).

    * ``"capacity"``: :math:`\\rho_{\\mathrm{eff}} = 2^{\\frac1K\\sum_k \\log_2(1+\\rho_k)} - 1`,
      the SNR of the AWGN channel with the same Shannon capacity (capacity-equivalent mean).
    * ``"eesm"``: :math:`\\rho_{\\mathrm{eff}} = -\\beta \\ln\\big(\\frac1K \\sum_k e^{-\\rho_k/\\beta}\\big)`,
      exponential effective SNR mapping (Brueninghaus et al., "Link performance models for system
      level simulations of broadband radio access systems", IEEE PIMRC 2005), :math:`\\beta`
      calibrated per modulation and coding scheme.
    """
    rho = snr_per_subcarrier.double()
    if reduction == "capacity":
        return torch.exp2(torch.log2(1.0 + rho).mean(dim=-1)) - 1.0
    if reduction == "eesm":
        k = rho.shape[-1]
        # log-mean-exp, stable for large rho / beta
        return -eesm_beta * (torch.logsumexp(-rho / eesm_beta, dim=-1) - math.log(k))
    raise ChannelParameterError(f"reduction: must be one of {list(REDUCTIONS)}, got {reduction!r}")


@register_channel("tdl")
class TDL(Channel):
    """3GPP TDL multipath (Sionna `tr38901.TDL`): OFDM frequency response reduced to one effective SNR per frame.

    Per frame :math:`t` (time :math:`t T_f`) Sionna's TDL model (3GPP TR 38.901 §7.7.2,
    sum-of-sinusoids Doppler) gives path gains :math:`a_m(t)` and delays :math:`\\tau_m`; the
    frequency response on subcarrier :math:`k` (frequency :math:`f_k`,
    ``sionna.phy.channel.cir_to_ofdm_channel``) is

    .. math::
        H_k(t) = \\sum_m a_m(t)\\, e^{-j 2\\pi f_k \\tau_m},\\qquad E|H_k|^2 = 1,
        \\qquad \\rho_k(t) = \\bar\\rho\\,|H_k(t)|^2

    and the frame's ``snr_db`` is the effective SNR :math:`\\rho_{\\mathrm{eff}}(t)` from
    :func:`effective_snr` (capacity-equivalent by default, or EESM). The state defines
    ``snr_db`` only (no single flat gain), so :meth:`~commsldr_channels.base.Channel.forward` treats the
    frame as an AWGN channel at the effective SNR (the usual link-to-system abstraction).

    Frames are generated in blocks of ``block_frames``: inside a block the channel evolves
    continuously with the Doppler of ``speed_mps``; each block is a new independent Sionna
    realisation (fresh sinusoid phases). Choose ``block_frames * frame_s`` much longer than the
    coherence time :math:`\\approx 0.423 c/(v f_c)` so block boundaries are rare.

    Args:
        model: TDL profile: ``A``–``E`` (scaled by ``delay_spread_s``) or a fixed-delay-spread
            profile ``A10``, ``A30``, ``B100``, ``C60``, ``C300``, ``D10``, ``D30``.
        delay_spread_s: RMS delay spread (s) for ``A``–``E`` (ignored for fixed profiles).
        carrier_hz: carrier frequency (Hz).
        speed_mps: terminal speed (m/s) setting the Doppler spread.
        frame_s: frame duration :math:`T_f` (s).
        mean_snr_db: average SNR :math:`\\bar\\rho` (dB) per subcarrier.
        num_subcarriers: subcarriers :math:`K` spanning the allocation.
        subcarrier_spacing_hz: subcarrier spacing (Hz).
        reduction: ``"capacity"`` or ``"eesm"``.
        eesm_beta: EESM :math:`\\beta` (> 0), only for ``reduction="eesm"``.
        block_frames: frames per Sionna realisation (>= 1).
        num_sinusoids: sinusoids per tap in Sionna's Doppler model (>= 1).
    """

    def __init__(
        self,
        model: str = "A",
        delay_spread_s: float = 100e-9,
        carrier_hz: float = 3.5e9,
        speed_mps: float = 3.0,
        frame_s: float = 0.01,
        mean_snr_db: float = 10.0,
        num_subcarriers: int = 72,
        subcarrier_spacing_hz: float = 30e3,
        reduction: str = "capacity",
        eesm_beta: float = 1.0,
        block_frames: int = 1000,
        num_sinusoids: int = 20,
    ) -> None:
        self.model = check.choice("model", model, TDL_MODELS)
        self.delay_spread_s = check.positive("delay_spread_s", delay_spread_s)
        self.carrier_hz = check.positive("carrier_hz", carrier_hz)
        self.speed_mps = check.non_negative("speed_mps", speed_mps)
        self.frame_s = check.positive("frame_s", frame_s)
        self.mean_snr_db = check.finite("mean_snr_db", mean_snr_db)
        self.num_subcarriers = check.integer("num_subcarriers", num_subcarriers, minimum=1)
        self.subcarrier_spacing_hz = check.positive("subcarrier_spacing_hz", subcarrier_spacing_hz)
        self.reduction = check.choice("reduction", reduction, REDUCTIONS)
        self.eesm_beta = check.positive("eesm_beta", eesm_beta)
        self.block_frames = check.integer("block_frames", block_frames, minimum=1)
        self.num_sinusoids = check.integer("num_sinusoids", num_sinusoids, minimum=1)

    def frequency_response(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """complex64 ``[F, K]`` subcarrier responses :math:`H_k(t)` (unit mean power)."""
        phy = sionna_phy()
        fixed = self.model in FIXED_DELAY_SPREAD_MODELS
        tdl = make_block(
            "channel.tr38901",
            "TDL",
            generator,
            model=self.model,
            delay_spread=None if fixed else self.delay_spread_s,
            carrier_frequency=self.carrier_hz,
            num_sinusoids=self.num_sinusoids,
            min_speed=self.speed_mps,
            max_speed=self.speed_mps,
        )
        freqs = phy.channel.subcarrier_frequencies(
            self.num_subcarriers, self.subcarrier_spacing_hz, device=sionna_device(generator.device)
        )
        out = []
        for start in range(0, num_frames, self.block_frames):
            steps = min(self.block_frames, num_frames - start)
            a, tau = tdl(batch_size=1, num_time_steps=steps, sampling_frequency=1.0 / self.frame_s)
            h = phy.channel.cir_to_ofdm_channel(freqs, a, tau, normalize=False)  # [1,1,1,1,1,T,K]
            out.append(h.reshape(steps, self.num_subcarriers))
        return torch.cat(out).to(torch.complex64)

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        h = self.frequency_response(n, check.generator(generator))
        rho_k = 10.0 ** (self.mean_snr_db / 10.0) * h.abs().square()
        rho_eff = effective_snr(rho_k, self.reduction, self.eesm_beta)
        return LinkState(snr_db=power_to_db(rho_eff.float()))
