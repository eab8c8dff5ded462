r"""Analog (uncoded) transmission of latents, for the digital-vs-analog comparison.

Sensor: the latent :math:`y \in \mathbb{R}^k` is centred and scaled with the training statistics
(known to both ends, so no side information is sent),

.. math:: u = (y - \mu) / c, \qquad c = \sqrt{\tfrac{1}{k}\textstyle\sum_i \sigma_i^2},

so that :math:`\mathbb{E}\,\lVert u \rVert^2 / k = 1`; pairs of entries form complex symbols
:math:`x_j = (u_{2j} + i\,u_{2j+1})/\sqrt{2}` (unit average symbol energy),
and the ``k/2`` symbols are repeated ``r`` times, so ``symbols_per_entry = r / 2`` (0.5 = two real
entries per complex symbol, 1.0 = every pair sent twice, ...).

Channel: ``channel.forward`` of the image's frame, :math:`y = h_t x + n`,
:math:`n \sim \mathcal{CN}(0, N_0)`, one frame (one channel state) per image.

Server: the ``r`` copies are averaged (:math:`\bar y = h_t x + \bar n`, noise variance
:math:`N_0/r`; maximum-ratio combining under a common gain), then scaled by the perfect-CSI
linear MMSE estimator of a unit-energy symbol,

.. math:: \hat x = \frac{h_t^*\,\bar y}{|h_t|^2 + N_0/r},
          \qquad E|\hat x - x|^2 = \frac{1}{1 + r\rho_t},

with :math:`\rho_t = |h_t|^2/N_0` the frame SNR (Kay, *Fundamentals of Statistical Signal
Processing: Estimation Theory*, 1993, Sec. 12.3); entries are unpacked and
:math:`\hat y = c\,\hat u + \mu`, then the decoder + classifier. The normalised entries have
error variance :math:`1/(1 + r\rho_t)`, finite in every frame — zero forcing
(:math:`\hat x = \bar y/h_t`, error :math:`1/(r\rho_t)`) has an infinite mean over Rayleigh
fading, :math:`E[1/|h|^2] = \infty`. Averaged over Rayleigh fading with mean SNR
:math:`\bar\rho` the MMSE is :math:`\frac{1}{r\bar\rho} e^{1/(r\bar\rho)}
E_1\!\left(\frac{1}{r\bar\rho}\right)` (Gündüz et al., "Beyond transmitting bits: context,
semantics and task-oriented communications", IEEE JSAC 2023, discuss this uncoded/"deep JSCC"
baseline). This path runs the network for every realization.

:func:`finetune_decoder_with_noise` trains the decoder on exactly what it gets from this receiver
(:meth:`AnalogScheme.lmmse_decoder_input`), at SNRs drawn uniformly in a range (the encoder is
frozen): per frame SNR :math:`\rho` the LMMSE estimate shrinks the latent towards the training
mean and scales the noise alike,

.. math:: \hat y = \mu + a\,(y - \mu) + a\,c\,n,\qquad a = \frac{r\rho}{1 + r\rho},
          \qquad n \sim \mathcal N\!\left(0, \tfrac{1}{r\rho}\right)\ \text{per entry}

(before: :math:`\hat y = y + c\,n`, the zero-forcing receiver's input: at 0 dB with
:math:`r = 1` the decoder input's gain differs by 2x and its noise power by 4x).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from commsldr.data import BatchLoader
from commsldr.data.tensors import INFERENCE_BATCH_SIZE
from commsldr.link.table import classify_latents, encode_latents
from commsldr_channels import Channel, LinkState

__all__ = ["AnalogScheme", "analog_accuracy", "finetune_decoder_with_noise", "mmse_combine"]


@dataclass(frozen=True)
class AnalogScheme:
    """Power normalisation and symbol mapping of analog transmission (see the module docstring).

    Attributes:
        mean: ``float32 [k]`` training mean :math:`\\mu`.
        scale: :math:`c`, the RMS training standard deviation.
        repetitions: ``r`` (``symbols_per_entry = r / 2``).
    """

    mean: torch.Tensor
    scale: float
    repetitions: int = 1

    @classmethod
    def from_stats(cls, stats: Any, k: int, symbols_per_entry: float = 0.5) -> AnalogScheme:
        """Build from :class:`~commsldr.coding.LatentStats` for variant ``k``.

        Args:
            symbols_per_entry: complex symbols per latent entry; a positive multiple of 0.5.
        """
        r = 2.0 * float(symbols_per_entry)
        if r < 1 or r != round(r):
            raise ValueError(f"symbols_per_entry: must be a positive multiple of 0.5, got {symbols_per_entry}")
        if not 1 <= k <= stats.dim:
            raise ValueError(f"k: must be in [1, {stats.dim}], got {k}")
        std = stats.std[:k].double()
        c = float(torch.sqrt(torch.mean(std**2)))
        if not c > 0:
            raise ValueError("stats: the latent has zero variance; nothing to normalise")
        return cls(stats.mean[:k].float(), c, int(round(r)))

    @property
    def symbols_per_entry(self) -> float:
        """Complex channel uses per latent entry."""
        return self.repetitions / 2.0

    def num_symbols(self, k: int) -> int:
        """Complex symbols per image: ``ceil(k / 2) * r``."""
        return math.ceil(k / 2) * self.repetitions

    def modulate(self, y: torch.Tensor) -> torch.Tensor:
        """``float [N, k]`` latents -> ``complex64 [N, ceil(k/2) * r]`` unit-energy symbols."""
        u = (y.float() - self.mean) / self.scale
        if u.shape[1] % 2:
            u = torch.cat([u, torch.zeros(u.shape[0], 1)], dim=1)
        x = torch.complex(u[:, 0::2], u[:, 1::2]) / math.sqrt(2.0)
        return x.repeat(1, self.repetitions).to(torch.complex64)

    def lmmse_decoder_input(
        self, y: torch.Tensor, snr_db: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """The latent estimate the LMMSE receiver hands the decoder (module docstring), drawn
        without running the channel.

        Input: ``y`` float ``[N, k]`` latents; ``snr_db`` float ``[N]`` or ``[N, 1]`` frame SNR
        :math:`\\rho = |h|^2/N_0` (dB); ``generator`` for the noise.
        Output: float32 ``[N, k]``, distributed as :meth:`demodulate` of
        :func:`mmse_combine` of ``channel.forward(modulate(y))`` at that SNR.
        """
        rho = torch.pow(10.0, snr_db.reshape(-1, 1).double() / 10.0)
        rr = self.repetitions * rho
        a = (rr / (1.0 + rr)).float()
        noise = torch.randn(y.shape, generator=generator) / torch.sqrt(rr).float()
        return (self.mean + a * (y.float() - self.mean) + a * self.scale * noise).float()

    def demodulate(self, x_hat: torch.Tensor, k: int) -> torch.Tensor:
        """Equalised symbols ``complex [N, ceil(k/2) * r]`` -> ``float32 [N, k]`` latent estimate."""
        n = x_hat.shape[0]
        x = x_hat.reshape(n, self.repetitions, -1).mean(dim=1) * math.sqrt(2.0)
        u = torch.stack([x.real, x.imag], dim=2).reshape(n, -1)[:, :k]
        return (u * self.scale + self.mean).float()


def mmse_combine(rx: torch.Tensor, state: LinkState, repetitions: int) -> torch.Tensor:
    """LMMSE estimate of unit-energy symbols from ``r`` received copies (module docstring).

    Args:
        rx: complex ``[N, m * r]`` received symbols (``r`` copies of ``m`` symbols, copy-major).
        state: the ``N`` frames' link state (``snr_db``; ``gain`` if the channel fades).
        repetitions: ``r``.

    Returns:
        complex ``[N, m * r]``: the estimate repeated ``r`` times (what
        :meth:`AnalogScheme.demodulate` averages).
    """
    n = rx.shape[0]
    r = int(repetitions)
    mean = rx.reshape(n, r, -1).mean(dim=1)
    h = (torch.ones(n, dtype=torch.complex64) if state.gain is None else state.gain).to(rx.device)
    no = state.noise_var.to(rx.device)
    x_hat = torch.conj(h)[:, None] * mean / (h.abs().square() + no / r)[:, None]
    return x_hat.repeat(1, r)


@torch.no_grad()
def analog_accuracy(
    model: torch.nn.Module,
    stats: Any,
    data: Any,
    channel: Channel,
    *,
    symbols_per_entry: float = 0.5,
    repeats: int = 1,
    seed: int = 0,
    batch_size: int = INFERENCE_BATCH_SIZE,
) -> float:
    """Accuracy of analog transmission of every test image over ``channel``.

    Each image is sent ``repeats`` times, each time in its own frame with its own channel state
    and noise (``N * repeats`` frames, drawn from one generator seeded by ``seed``).

    Args:
        model: the (variant) split autoencoder; ``k = model.latent_dim``.
        stats: training :class:`~commsldr.coding.LatentStats` (at least ``k`` entries).
        data: :class:`~commsldr.data.ImageTensors` test set.
        channel: a symbol-level :class:`commsldr_channels.Channel`.
        symbols_per_entry: complex symbols per latent entry (multiple of 0.5).
        repeats: channel realisations per image.
        seed: the seed of the channel and noise draws.

    Returns:
        accuracy in [0, 1] over the ``N * repeats`` transmissions.
    """
    if int(repeats) < 1:
        raise ValueError(f"repeats: must be >= 1, got {repeats}")
    k = int(model.latent_dim)
    scheme = AnalogScheme.from_stats(stats, k, symbols_per_entry)
    y = encode_latents(model, data.images, batch_size)
    labels = data.labels.cpu().numpy()
    g = torch.Generator().manual_seed(int(seed))
    correct = 0
    for _ in range(int(repeats)):
        state = channel.states(y.shape[0], generator=g)
        rx = channel.forward(scheme.modulate(y), state, generator=g)
        y_hat = scheme.demodulate(mmse_combine(rx, state, scheme.repetitions), k)
        correct += int(np.count_nonzero(classify_latents(model, y_hat, batch_size) == labels))
    return correct / (y.shape[0] * int(repeats))


def finetune_decoder_with_noise(
    model: torch.nn.Module,
    stats: Any,
    train: Any,
    *,
    snr_db_range: tuple[float, float] = (0.0, 20.0),
    symbols_per_entry: float = 0.5,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> torch.nn.Module:
    r"""A copy of ``model`` whose decoder is fine-tuned on AWGN-corrupted latents.

    Per batch: latents from the frozen encoder, one SNR per image drawn uniformly in
    ``snr_db_range`` (dB), the LMMSE receiver's decoder input at that SNR
    (:meth:`AnalogScheme.lmmse_decoder_input`: shrinkage towards the training mean and the
    noise it leaves), cross-entropy on the decoder's logits, Adam.

    Returns:
        the fine-tuned copy (eval mode); ``model`` is not modified.
    """
    lo, hi = float(snr_db_range[0]), float(snr_db_range[1])
    if not lo <= hi:
        raise ValueError(f"snr_db_range: need low <= high, got {snr_db_range}")
    if int(epochs) < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    net = copy.deepcopy(model)
    k = int(net.latent_dim)
    scheme = AnalogScheme.from_stats(stats, k, symbols_per_entry)
    g = torch.Generator().manual_seed(int(seed))
    for p in net.parameters():
        p.requires_grad_(False)
    for p in net.decoder.parameters():
        p.requires_grad_(True)
    opt = torch.optim.Adam([p for p in net.decoder.parameters()], lr=lr)
    net.eval()
    net.decoder.train()
    for _ in range(int(epochs)):
        for x, label in BatchLoader(train, batch_size, shuffle=True, generator=g):
            with torch.no_grad():
                y = net.encode(x)
                snr_db = lo + (hi - lo) * torch.rand(y.shape[0], 1, generator=g)
                y_noisy = scheme.lmmse_decoder_input(y, snr_db, g)
            loss = torch.nn.functional.cross_entropy(net.decode(y_noisy), label)
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(True)
    return net
