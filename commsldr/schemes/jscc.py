r"""Analog deep joint source–channel coding (deep JSCC) for classification.

Design (Bourtsoulatze, Kurka, Gündüz, "Deep joint source-channel coding for wireless image
transmission", IEEE TCCN 2019, with the classification objective of the task-oriented variants:
Shao, Mao, Zhang, "Learning task-oriented communication for edge inference: an information
bottleneck approach", IEEE JSAC 2022; Jankowski, Gündüz, Mikolajczyk, "Wireless image retrieval
at the edge", IEEE JSAC 2021):

- **Encoder (sensor)**: the split model's encoder architecture with ``2n`` outputs
  :math:`z \in \mathbb{R}^{2n}`, paired into :math:`n` complex channel symbols and power
  normalised per image, :math:`x = \sqrt{n}\,\tilde z / \lVert \tilde z \rVert`
  (:math:`\tilde z_j = z_{2j} + i z_{2j+1}`), so :math:`\lVert x\rVert^2 / n = 1`;
  ``n = channel_uses`` complex channel uses per image.
- **Channel**: :math:`y = h x + w`, :math:`w \sim \mathcal{CN}(0, N_0)`. In training it is a
  differentiable layer: per image an average SNR :math:`\bar\rho` uniform in dB over
  ``train_snr_db`` (a single value: a fixed training SNR), :math:`N_0 = 1/\bar\rho`, and
  :math:`h \sim \mathcal{CN}(0, 1)` (``train_channel: rayleigh``, block fading over the image)
  or :math:`h = 1` (``awgn``). In evaluation it is the scenario's channel model itself
  (``Channel.forward`` with the run's per-frame states, one image per frame).
- **Receiver**: MMSE equalisation with perfect CSI,
  :math:`\hat x = h^* y / (|h|^2 + N_0)`, then the split model's decoder + classifier on the
  ``2n`` real values. Training over an SNR range makes one model serve every SNR (no SNR input;
  the MMSE gain shrinks :math:`\hat x` with the SNR, which the decoder sees).
- **Training**: end to end with cross-entropy through the channel layer — the CE-T phase of
  :mod:`commsldr.train` (``train_phase`` with a model that exposes ``parts()``), warm-started
  from the scenario's split model wherever the shapes agree, cached under
  ``<cache_dir>/models/jscc-<hash>/``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from commsldr.data import derive_seed, to_float
from commsldr.models import SplitAutoencoder, model_id
from commsldr.schemes._common import cache_key, predict_images
from commsldr.schemes.base import AnalogProduct, Scheme, SchemeContext
from commsldr.schemes.cost import count_macs
from commsldr.schemes.registry import register_scheme
from commsldr.train import TrainConfig, load_model, save_checkpoint
from commsldr.train.loop import train_phase
from commsldr.train.recipes import ce_phase
from commsldr.train.settings import MAX_EPOCHS

__all__ = ["JSCCClassifier", "AnalogJSCCScheme", "power_normalise", "mmse_equalise"]


def power_normalise(z: torch.Tensor) -> torch.Tensor:
    """``float [B, 2n]`` -> ``complex64 [B, n]`` with mean symbol energy exactly 1 per image."""
    if z.ndim != 2 or z.shape[1] % 2:
        raise ValueError(f"z: expected [B, 2n], got {tuple(z.shape)}")
    x = torch.complex(z[:, 0::2].float(), z[:, 1::2].float())
    n = x.shape[1]
    energy = x.abs().square().sum(dim=1, keepdim=True).clamp_min(1e-12)
    return x * torch.sqrt(n / energy)


def mmse_equalise(y: torch.Tensor, gain: torch.Tensor | None, noise_var: torch.Tensor) -> torch.Tensor:
    """``x̂ = h* y / (|h|² + N0)`` per frame: ``y complex [F, n]``, ``gain, noise_var [F]``."""
    h = torch.ones_like(noise_var, dtype=torch.complex64) if gain is None else gain
    h = h.to(y.device)[:, None]
    return h.conj() * y / (h.abs().square() + noise_var.to(y.device)[:, None])


def _to_real(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x.real, x.imag], dim=2).reshape(x.shape[0], -1)


class JSCCClassifier(nn.Module):
    """Deep JSCC classifier around a :class:`~commsldr.models.SplitAutoencoder` with
    ``latent_dim = 2n`` (see the module docstring).

    ``encode(x) -> float [B, 2n]`` (the real view of the power-normalised symbols),
    ``symbols(x) -> complex64 [B, n]``, ``decode(r) -> logits``; while the decoder is in
    training mode ``decode`` first passes ``r`` through the differentiable training channel
    (global torch RNG). ``parts()`` gives the training loop its parameter groups.
    """

    def __init__(self, net: nn.Module, train_channel: str = "rayleigh",
                 train_snr_db: tuple[float, float] = (0.0, 20.0)) -> None:
        super().__init__()
        if int(net.latent_dim) % 2:
            raise ValueError("net: latent_dim must be even (2 reals per complex symbol)")
        self.net = net
        self.train_channel = train_channel
        self.train_snr_db = (float(train_snr_db[0]), float(train_snr_db[-1]))

    @property
    def channel_uses(self) -> int:
        return int(self.net.latent_dim) // 2

    @property
    def num_classes(self) -> int:
        return int(self.net.num_classes)

    @property
    def latent_dim(self) -> int:
        return int(self.net.latent_dim)

    @property
    def config(self) -> dict[str, Any]:
        return {**self.net.config, "jscc": {"train_channel": self.train_channel,
                                            "train_snr_db": list(self.train_snr_db)}}

    def parts(self) -> dict[str, nn.Module]:
        return {"encoder": self.net.encoder, "decoder": self.net.decoder,
                "side": self.net.side_branch}

    def symbols(self, x: torch.Tensor) -> torch.Tensor:
        return power_normalise(self.net.encode(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return _to_real(self.symbols(x))

    def _train_channel(self, r: torch.Tensor) -> torch.Tensor:
        b = r.shape[0]
        x = torch.complex(r[:, 0::2], r[:, 1::2])
        lo, hi = self.train_snr_db
        snr_db = lo + (hi - lo) * torch.rand(b, device=r.device)
        n0 = torch.pow(10.0, -snr_db / 10.0)
        if self.train_channel == "rayleigh":
            h = torch.complex(torch.randn(b, device=r.device), torch.randn(b, device=r.device))
            h = h / math.sqrt(2.0)
        else:
            h = torch.ones(b, dtype=torch.complex64, device=r.device)
        w = torch.complex(torch.randn_like(x.real), torch.randn_like(x.real)) * torch.sqrt(n0 / 2)[:, None]
        return _to_real(mmse_equalise(h[:, None] * x + w, h, n0))

    def decode(self, r: torch.Tensor) -> torch.Tensor:
        if self.net.decoder.training:
            r = self._train_channel(r)
        return self.net.decode(r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _warm_start(target: nn.Module, source: nn.Module) -> int:
    """Copy every tensor of ``source`` whose name and shape ``target`` shares; returns the count."""
    src = source.state_dict()
    state = target.state_dict()
    same = {k: v for k, v in src.items() if k in state and state[k].shape == v.shape}
    state.update(same)
    target.load_state_dict(state)
    return len(same)


@register_scheme("analog-jscc")
class AnalogJSCCScheme(Scheme):
    """Analog deep JSCC: image → power-normalised channel symbols, classifier at the receiver.

    Args:
        channel_uses: complex channel symbols per image (``null``: what one image gets of a
            digital frame, ``bandwidth_hz·frame_s / images_per_packet``).
        train_channel: ``"rayleigh"`` or ``"awgn"`` (the differentiable training channel).
        train_snr_db: ``[low, high]`` dB range of the training SNR (``[x]``: fixed SNR ``x``).
        epochs: training epochs (CE-T phase, warm start from the split model), in [1, 10000].
        lr: learning rate.
    """

    kind = "analog"

    def __init__(self, channel_uses: int | None = None, train_channel: str = "rayleigh",
                 train_snr_db: list[float] | tuple[float, ...] = (0.0, 20.0), epochs: int = 2,
                 lr: float = 0.02) -> None:
        if channel_uses is not None and (isinstance(channel_uses, bool)
                                         or not isinstance(channel_uses, int) or channel_uses < 1):
            raise ValueError(f"channel_uses: must be an integer >= 1 or null, got {channel_uses!r}")
        if train_channel not in ("rayleigh", "awgn"):
            raise ValueError(f"train_channel: must be 'rayleigh' or 'awgn', got {train_channel!r}")
        snr = list(train_snr_db) if isinstance(train_snr_db, (list, tuple)) else [train_snr_db]
        if not 1 <= len(snr) <= 2 or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                         or not math.isfinite(v) for v in snr) or snr[0] > snr[-1]:
            raise ValueError(f"train_snr_db: expected [low, high] (low <= high) or [snr], got "
                             f"{train_snr_db!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs: must be an integer in [1, {MAX_EPOCHS}], got {epochs!r}")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"lr: must be a number > 0, got {lr!r}")
        self.channel_uses = channel_uses
        self.train_channel = train_channel
        self.train_snr_db = (float(snr[0]), float(snr[-1]))
        self.epochs = int(epochs)
        self.lr = float(lr)

    def params(self) -> dict[str, Any]:
        return {"channel_uses": self.channel_uses, "train_channel": self.train_channel,
                "train_snr_db": list(self.train_snr_db), "epochs": self.epochs, "lr": self.lr}

    def _n(self, ctx: SchemeContext) -> int:
        if self.channel_uses is not None:
            return self.channel_uses
        if ctx.channel_uses_per_image is None or not ctx.channel_uses_per_image >= 1:
            raise ValueError("channel_uses: the PHY does not state its channel uses per frame; "
                             "set channel_uses")
        return int(ctx.channel_uses_per_image)

    def model(self, ctx: SchemeContext) -> JSCCClassifier:
        """The trained JSCC classifier (trained once, then loaded from the cache)."""
        n = self._n(ctx)
        base = ctx.model()
        cfg = ctx.train_config if ctx.train_config is not None else TrainConfig()
        cfg = cfg.replace(seed=ctx.seed)
        key = cache_key({"base": model_id(base), "n": n, "params": self.params(),
                         "seed": ctx.seed, "dataset": ctx.dataset,
                         "batch_size": cfg.ce.batch_size, "augment": cfg.data.augment, "format": 1})
        out = ctx.cache_dir / "models" / f"jscc-{key}"
        if (out / "model.pt").is_file():
            ctx.log(f"analog-jscc: cached model {out / 'model.pt'}")
            return JSCCClassifier(load_model(out / "model.pt"), self.train_channel,
                                  self.train_snr_db).eval()
        config = {**base.config, "latent_dim": 2 * n, "truncated_from": None}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(ctx.seed, f"jscc/init/{n}"))
            net = SplitAutoencoder.from_config(config)
        copied = _warm_start(net, base)
        model = JSCCClassifier(net, self.train_channel, self.train_snr_db)
        train, test = ctx.data()
        ctx.log(f"analog-jscc: training n={n} channel uses, {self.train_channel} at "
                f"{self.train_snr_db} dB, {self.epochs} epoch(s), warm start ({copied} tensors "
                f"from the split model) → {out} (cached for later runs)")
        phase = ce_phase(cfg, "jscc", lr=self.lr, epochs=self.epochs)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(ctx.seed, "jscc/channel-noise"))
            train_phase(model, phase, train, test, out / phase.name, progress=ctx.progress)
        save_checkpoint(out / "model.pt", model.net, base_model_id=model_id(base),
                        scheme=self.name, scheme_params=self.params())
        return JSCCClassifier(load_model(out / "model.pt"), self.train_channel,
                              self.train_snr_db).eval()

    def prepare(self, ctx: SchemeContext) -> AnalogProduct:
        model = self.model(ctx)
        _, test = ctx.data()
        clean = float(np.mean(predict_images(model, test.images) == test.labels.numpy()))

        @torch.no_grad()
        def evaluate(images: torch.Tensor, channel: Any, state: Any,
                     generator: torch.Generator, batch_size: int = 500) -> np.ndarray:
            x = torch.cat([model.symbols(to_float(images[i:i + batch_size]))
                           for i in range(0, images.shape[0], batch_size)])
            y = channel.forward(x, state, generator=generator)
            r = _to_real(mmse_equalise(y, state.gain, state.noise_var))
            return torch.cat([model.net.decode(r[i:i + batch_size]).argmax(1)
                              for i in range(0, r.shape[0], batch_size)]).numpy()

        macs = count_macs(model.encode, to_float(test.images[:2]))
        return AnalogProduct(evaluate, model.channel_uses, macs, clean,
                             info={"model_id": model_id(model.net), "clean_accuracy": clean,
                                   "channel_uses": model.channel_uses,
                                   "sensor_macs": "FlopCounterMode (encoder)"})
