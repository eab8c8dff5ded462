"""The split autoencoder as a scheme: quantized, entropy-coded latents (:mod:`commsldr.coding`).

Its table is the scenario's own (``model`` + ``coding`` sections, built and cached by the
runner); this module adds the sensor cost of each operating point: the MACs of the variant's
encoder (:func:`commsldr.schemes.cost.count_macs` on ``model.encode``). Quantization and
entropy coding are not counted (a handful of operations per latent entry).
"""

from __future__ import annotations

import numpy as np

from commsldr.schemes.base import DigitalProduct, Scheme, SchemeContext
from commsldr.schemes.cost import count_macs
from commsldr.schemes.registry import register_scheme

__all__ = ["SplitAEScheme", "encoder_macs"]


def encoder_macs(variants: dict[int, object], example: object) -> dict[int, float]:
    """``{k: MACs per image of variant k's encoder}`` counted on ``example`` (float images)."""
    return {int(k): count_macs(m.encode, example) for k, m in variants.items()}


@register_scheme("split-ae")
class SplitAEScheme(Scheme):
    """Split autoencoder: encoder on the sensor, quantized + entropy-coded latent sent."""

    def prepare(self, ctx: SchemeContext) -> DigitalProduct:
        import torch

        if ctx.split_table is None or ctx.split_variants is None:
            raise ValueError("split-ae: the context carries no split-model table (the runner "
                             "builds it from the model and coding sections)")
        table = ctx.split_table()
        stored = table.meta.get("encoder_macs") or {}
        if all(str(int(p.k)) in stored for p in table.points):  # counted when the table was built
            macs = {int(k): float(v) for k, v in stored.items()}
        else:
            variants = ctx.split_variants()
            size = int(variants[max(variants)].config.get("image_size") or 32)
            macs = encoder_macs(variants, torch.zeros(2, 3, size, size))  # MACs do not depend on x
        return DigitalProduct(table, np.array([macs[int(p.k)] for p in table.points]),
                              [f"k={p.k} s={p.scale:g}" for p in table.points],
                              info={"sensor_macs": "FlopCounterMode (encoder of variant k)"})
