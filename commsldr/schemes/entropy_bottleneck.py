"""The learned entropy bottleneck as a scheme: one encoder, a menu of rate points.

The sensor runs the encoder of a model trained with the recipe ``entropy-bottleneck``
(:mod:`commsldr.train.bottleneck`), scales the latent by the gain vector of the chosen rate point
``r`` and rounds it; the integers are range-coded with that point's discretised factorized prior
(:meth:`commsldr.coding.EntropyBottleneck.source_coder`). The server divides by the gain and
runs the decoder. Nothing is fitted on the test images: the gains and priors were learned in
training.

Operating points: ``(k = d_y, scale_index = r, scale = lambda_r)``, one per rate point, in the
order of the model's ``eb_lambdas``; every packet is a real packet (header with ``k`` and
``scale_index``, CRC) and the policies choose among the points as among any other scheme's.
Sensor cost: the encoder's MACs (:func:`commsldr.schemes.cost.count_macs`), the same at every
point (the gain, rounding and coding are a handful of operations per entry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from commsldr.data import to_float
from commsldr.link.table import OperatingPoint
from commsldr.models import model_id
from commsldr.models.pretrained import get_pretrained_path
from commsldr.schemes._common import cache_key, cached_table, table_from_payloads
from commsldr.schemes.base import DigitalProduct, Scheme, SchemeContext
from commsldr.schemes.cost import count_macs
from commsldr.schemes.registry import register_scheme
from commsldr.train import load_model
from commsldr.train.bottleneck import eb_latents, load_entropy_bottleneck

__all__ = ["EntropyBottleneckScheme", "resolve_model"]


def resolve_model(model: str) -> Path:
    """A shipped model name (its SHA-256 checked) or a checkpoint file -> its path."""
    path = Path(model).expanduser()
    if path.is_file():
        return path
    return get_pretrained_path(model)


@register_scheme("entropy-bottleneck")
class EntropyBottleneckScheme(Scheme):
    """Learned factorized-prior entropy bottleneck: one encoder, one operating point per rate.

    Args:
        model: a shipped entropy-bottleneck model (``commsldr list pretrained``) or a checkpoint
            written by ``commsldr train --recipe entropy-bottleneck``.
        rates: indices of the rate points to offer (default all).
    """

    def __init__(self, model: str = "cifar10-eb-d64", rates: list[int] | None = None) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError(f"model: must be a shipped model name or a checkpoint path, got {model!r}")
        if rates is not None:
            if not isinstance(rates, (list, tuple)) or not rates or any(
                    isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in rates):
                raise ValueError(f"rates: must be a non-empty list of rate indices >= 0, got {rates!r}")
            if len(set(rates)) != len(rates):
                raise ValueError(f"rates: duplicate entries in {rates}")
        self.model = model
        self.rates = None if rates is None else [int(r) for r in rates]

    def params(self) -> dict[str, Any]:
        return {"model": self.model, "rates": self.rates}

    def prepare(self, ctx: SchemeContext) -> DigitalProduct:
        path = resolve_model(self.model)
        net, eb = load_model(path), load_entropy_bottleneck(path)
        rates = list(range(eb.num_rates)) if self.rates is None else self.rates
        bad = [r for r in rates if r >= eb.num_rates]
        if bad:
            raise ValueError(f"rates: {bad} out of range; {path} has {eb.num_rates} rate points")
        mid = model_id(net)
        ms = sorted({int(m) for m in ctx.images_per_packet})
        key = cache_key({"scheme": self.name, "params": self.params(), "model": mid,
                         "eb": {k: v.sum().item() for k, v in eb.state_dict().items()},
                         "crc_bits": ctx.crc_bits, "m": ms, "seed": ctx.seed,
                         "dataset": ctx.dataset, "format": 1})
        coders = [eb.source_coder(r) for r in rates]

        def build() -> Any:
            train, test = ctx.data()
            labels = test.labels.numpy().astype(np.int64)
            lat = eb_latents(net, test)
            symbols = [c.symbols(lat) for c in coders]
            bits = np.stack([c.codec.image_bits(s) for c, s in zip(coders, symbols, strict=True)])
            with torch.no_grad():
                correct = np.stack([net.decode(c.latents(s)).argmax(1).numpy() == labels
                                    for c, s in zip(coders, symbols, strict=True)])
            points = [OperatingPoint(int(eb.channels), int(r), float(eb.lambdas[r])) for r in rates]
            return table_from_payloads(
                points, np.maximum(bits, 1), correct, labels,
                lambda p, g: coders[p].codec.encode(symbols[p][g]),
                images_per_packet=ms, crc_bits=ctx.crc_bits, model_id=mid, seed=ctx.seed,
                meta={"scheme": self.name, "model": str(self.model), "rates": rates,
                      "lambdas": [eb.lambdas[r] for r in rates], "crc_bits": ctx.crc_bits,
                      "dataset": ctx.dataset},
                prior_class=int(np.bincount(train.labels.numpy()).argmax()))

        table = cached_table(ctx.cache_dir / "tables" / f"{self.name}-{key}", build, ctx.log)
        _, test = ctx.data()
        with torch.no_grad():
            macs = count_macs(net.encode, to_float(test.images[:2]))
        return DigitalProduct(table, np.full(len(table), macs),
                              [f"lambda={eb.lambdas[r]:g}" for r in rates],
                              info={"model": str(self.model), "model_id": mid,
                                    "sensor_macs": "FlopCounterMode (encoder)"})
