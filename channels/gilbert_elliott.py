"""Gilbert–Elliott two-state Markov channel (good/bad SNR and erasure probability)."""

from __future__ import annotations

from typing import Any

import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import Channel, ChannelParameterError, LinkState
from commsldr_channels.registry import register_channel


def markov_two_state(
    p_gb: float, p_bg: float, num_frames: int, generator: torch.Generator
) -> torch.Tensor:
    """Bad-state indicator of a stationary two-state Markov chain, bool ``[F]``.

    Sojourn times are geometric: good lasts :math:`\\mathrm{Geom}(p_{gb})` frames, bad
    :math:`\\mathrm{Geom}(p_{bg})`; the first state is drawn from the stationary law
    :math:`\\pi_B = p_{gb}/(p_{gb}+p_{bg})`. Drawn run by run (vectorised), not frame by frame.
    The first run is also geometric, which is exact for a stationary chain (memorylessness).
    """
    device = generator.device
    total = p_gb + p_bg
    pi_bad = 0.5 if total == 0 else p_gb / total  # a chain that never moves starts on a fair coin
    start_bad = bool(torch.rand((), generator=generator, device=device) < pi_bad)
    out = torch.empty(num_frames, dtype=torch.bool, device=device)
    pos, bad = 0, start_bad
    # each pair of runs is expected to last 1/p_gb + 1/p_bg frames; draw in batches
    while pos < num_frames:
        leave = p_bg if bad else p_gb
        other = p_gb if bad else p_bg
        remaining = num_frames - pos
        mean_pair = (1.0 / leave if leave > 0 else remaining) + (
            1.0 / other if other > 0 else remaining
        )
        pairs = int(min(remaining, remaining / mean_pair * 1.2 + 16))
        runs = torch.empty(2 * pairs, dtype=torch.float64, device=device)
        for offset, p in ((0, leave), (1, other)):
            if p >= 1:
                runs[offset::2] = 1.0
            elif p > 0:
                runs[offset::2].geometric_(p, generator=generator)
            else:
                runs[offset::2] = float(remaining)
        lengths = runs.clamp_max(remaining).long()
        states = torch.zeros(2 * pairs, dtype=torch.bool, device=device)
        states[0::2], states[1::2] = bad, not bad
        chunk = torch.repeat_interleave(states, lengths)[:remaining]
        out[pos : pos + chunk.shape[0]] = chunk
        pos += chunk.shape[0]
        bad = bool(chunk[-1]) if chunk.shape[0] else bad
        if pos < num_frames:
            # the last run drawn ended exactly at the chunk end (all runs used): the next run
            # starts in the other state
            bad = not bad
    return out


@register_channel("gilbert-elliott")
class GilbertElliott(Channel):
    """Gilbert–Elliott two-state Markov channel: good/bad states with their own SNR and erasure probability.

    The state :math:`S_t \\in \\{G, B\\}` is a Markov chain with
    :math:`P(B|G) = p_{gb}`, :math:`P(G|B) = p_{bg}`; stationary :math:`\\pi_B = p_{gb}/(p_{gb}+p_{bg})`,
    mean bad-burst length :math:`1/p_{bg}` and mean good-run length :math:`1/p_{gb}` frames.
    In state :math:`s` the frame has SNR ``snr_<s>_db`` and is erased with probability
    ``erasure_prob_<s>`` (independently per frame). Gilbert, Bell Syst. Tech. J. 39, 1960;
    Elliott, Bell Syst. Tech. J. 42, 1963.

    Args:
        p_gb: good → bad transition probability per frame, in [0, 1].
        p_bg: bad → good transition probability per frame, in [0, 1]
            (give either this or ``mean_burst_frames``).
        mean_burst_frames: mean bad-burst length :math:`1/p_{bg}` (>= 1), alternative to ``p_bg``.
        snr_good_db: SNR in the good state (dB).
        snr_bad_db: SNR in the bad state (dB).
        erasure_prob_good: erasure probability in the good state, in [0, 1].
        erasure_prob_bad: erasure probability in the bad state, in [0, 1].
    """

    def __init__(
        self,
        p_gb: float = 0.01,
        p_bg: float | None = None,
        mean_burst_frames: float | None = None,
        snr_good_db: float = 15.0,
        snr_bad_db: float = 0.0,
        erasure_prob_good: float = 0.0,
        erasure_prob_bad: float = 1.0,
    ) -> None:
        self.p_gb = check.probability("p_gb", p_gb)
        if p_bg is not None and mean_burst_frames is not None:
            raise ChannelParameterError(
                "mean_burst_frames: give either p_bg or mean_burst_frames, not both"
            )
        if mean_burst_frames is not None:
            burst = check.finite("mean_burst_frames", mean_burst_frames)
            if burst < 1:
                raise ChannelParameterError(
                    f"mean_burst_frames: must be >= 1, got {mean_burst_frames!r}"
                )
            self.p_bg = 1.0 / burst
        else:
            self.p_bg = check.probability("p_bg", 0.1 if p_bg is None else p_bg)
        self.snr_good_db = check.finite("snr_good_db", snr_good_db)
        self.snr_bad_db = check.finite("snr_bad_db", snr_bad_db)
        self.erasure_prob_good = check.probability("erasure_prob_good", erasure_prob_good)
        self.erasure_prob_bad = check.probability("erasure_prob_bad", erasure_prob_bad)

    @classmethod
    def example_params(cls) -> dict[str, Any]:
        """Frequent transitions, so that short realisations visit both states."""
        return {"p_gb": 0.2, "p_bg": 0.3, "erasure_prob_good": 0.01, "erasure_prob_bad": 0.5}

    @property
    def stationary_bad_prob(self) -> float:
        """:math:`\\pi_B = p_{gb}/(p_{gb}+p_{bg})` (0.5 if the chain never moves)."""
        total = self.p_gb + self.p_bg
        return 0.5 if total == 0 else self.p_gb / total

    def bad_states(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """bool ``[F]``: ``True`` in the bad state."""
        return markov_two_state(
            self.p_gb, self.p_bg, check.num_frames(num_frames), check.generator(generator)
        )

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        bad = self.bad_states(num_frames, generator)
        snr = torch.where(bad, self.snr_bad_db, self.snr_good_db).to(torch.float32)
        p_erase = torch.where(bad, self.erasure_prob_bad, self.erasure_prob_good)
        u = torch.rand(
            bad.shape[0], generator=generator, device=generator.device, dtype=torch.float64
        )
        return LinkState(snr_db=snr, erased=u < p_erase)
