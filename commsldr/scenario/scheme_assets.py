"""The ``schemes`` section's assets: every baseline scheme prepared once in the main process.

For every entry of ``schemes`` (and for the split autoencoder itself) :func:`prepare_schemes`
calls the scheme's :meth:`~commsldr.schemes.Scheme.prepare` with the run's
:class:`~commsldr.schemes.SchemeContext` (data and models loaded once): a digital scheme yields an
operating-point table (its networks trained and its table built once, cached under
``model.cache_dir``), an analog scheme an evaluator. The run plan
(:mod:`commsldr.scenario.sections`) then simulates all of them as jobs on the same channel states,
CSI model, PHY and seeds: a digital scheme runs every policy (the scheme's own ``policies`` or the
top-level ones), an analog scheme sends the images of a frame schedule through the channel.

Every row gets ``scheme`` (the entry's label), ``scheme_type``, ``sensor_macs`` (mean MACs per
image the sensor spent over the frames sent), ``channel_uses_per_image`` and
``mean_bits_per_image`` (:class:`~commsldr.scenario.rows.Row`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from commsldr.cache import resolve_cache_dir
from commsldr.scenario.assets import load_data, obtain_model
from commsldr.scenario.jobs import (
    AnalogSchemeAsset,
    DigitalAsset,
    phy_channel_uses,
    stable_hash,
)
from commsldr.scenario.load import phy_class, phy_params, train_config
from commsldr.scenario.plan import SPLIT_AE, SchemeRef
from commsldr.scenario.schema import Scenario
from commsldr.schemes import (
    AnalogProduct,
    DigitalProduct,
    SchemeContext,
    SplitAEScheme,
    create_scheme,
)

if TYPE_CHECKING:
    from commsldr.data import ImageTensors
    from commsldr.link import OperatingPointTable
    from commsldr.models import SplitAutoencoder
    from commsldr.scenario.load import LoadedScenario

__all__ = ["PreparedScheme", "scheme_context", "prepare_schemes", "describe_digital",
           "cost_table", "table_digest", "job_assets"]

Log = Callable[[str], object]


@dataclass
class PreparedScheme:
    """A scheme ready to simulate.

    Attributes:
        label: the entry's label (``split-ae`` for the split autoencoder).
        type: its registered type.
        product: what :meth:`~commsldr.schemes.Scheme.prepare` returned.
        ref: its identity in the run plan.
        description: its entry of ``results.json["schemes"]``.
    """

    label: str
    type: str
    product: DigitalProduct | AnalogProduct
    ref: SchemeRef
    description: dict[str, object] = field(default_factory=dict)


def scheme_context(loaded: LoadedScenario, *, table_fn: Callable[[], OperatingPointTable],
                   log: Log, progress: bool) -> SchemeContext:
    """The :class:`~commsldr.schemes.SchemeContext` of a scenario (data and models loaded once)."""
    sc = loaded.scenario
    data_memo: list[tuple[ImageTensors, ImageTensors]] = []
    variants_memo: list[dict[int, SplitAutoencoder]] = []
    table_memo: list[OperatingPointTable] = []

    def data() -> tuple[ImageTensors, ImageTensors]:
        if not data_memo:
            data_memo.append(load_data(sc, progress))
        return data_memo[0]

    def variants() -> dict[int, SplitAutoencoder]:
        if not variants_memo:
            variants_memo.append(obtain_model(sc, log, progress)[0])
        return variants_memo[0]

    def table() -> OperatingPointTable:
        if not table_memo:
            table_memo.append(table_fn())
        return table_memo[0]

    tc = None
    if sc.model.recipe is not None:
        tc = train_config(sc).replace(progress=progress)
    phy = phy_class(sc.link.phy)(**phy_params(sc))
    cu = phy_channel_uses(phy)
    return SchemeContext(
        data=data, model=lambda: variants()[max(variants())], train_config=tc,
        cache_dir=resolve_cache_dir(sc.model.cache_dir), crc_bits=sc.coding.crc_bits,
        images_per_packet=sorted({p.scenario.link.images_per_packet for p in loaded.points}),
        channel_uses_per_frame=None if np.isnan(cu) else cu,
        channel_uses_per_image=None if np.isnan(cu) else cu / sc.link.images_per_packet,
        seed=sc.seeds[0],
        dataset=sc.data.dataset, log=log, progress=progress, split_table=table,
        split_variants=variants)


def describe_digital(product: DigitalProduct, sc: Scenario,
                     ctx: SchemeContext) -> dict[str, object]:
    """``operating_points`` (label, k, scale, accuracy, sensor MACs, bits per image) and
    ``channel_uses_per_image`` of a digital product, for ``results.json``."""
    table = product.table
    m = sc.link.images_per_packet
    cu = ctx.channel_uses_per_frame
    return {
        "channel_uses_per_image": None if cu is None else cu / m,  # of the base scenario
        "operating_points": [
            {"label": lbl, "k": p.k, "scale": p.scale, "accuracy": float(a),
             "sensor_macs": float(c), "bits_per_image": float(b) / m}
            for lbl, p, a, c, b in zip(product.point_labels, table.points, table.accuracy(),
                                       product.sensor_macs, table.mean_packet_bits(m),
                                       strict=True)],
    }


def prepare_schemes(loaded: LoadedScenario, ctx: SchemeContext, table_id: str,
                    log: Log) -> dict[str, PreparedScheme]:
    """The split autoencoder and every ``schemes`` entry, prepared (``split-ae`` first, then
    the entries in order). ``table_id`` (the split table's id) is part of every entry's id."""
    sc = loaded.scenario
    split = SplitAEScheme().prepare(ctx)
    out = {SPLIT_AE: PreparedScheme(
        SPLIT_AE, SPLIT_AE, split, SchemeRef(table_id),
        {"type": SPLIT_AE, "kind": "digital", **split.info, **describe_digital(split, sc, ctx)})}
    for label, cfg in sc.schemes.items():
        scheme = create_scheme(cfg.type, **cfg.params)
        log(f"scheme {label} ({cfg.type})")
        product = scheme.prepare(ctx)
        desc: dict[str, object] = {"type": cfg.type, "kind": scheme.kind,
                                   "params": scheme.params(), **product.info}
        ident = {"split": table_id, "type": cfg.type, "params": scheme.params(),
                 "info": product.info}
        if isinstance(product, AnalogProduct):
            desc.update(channel_uses_per_image=product.channel_uses_per_image,
                        sensor_macs=product.sensor_macs, clean_accuracy=product.clean_accuracy)
            ref = SchemeRef(stable_hash(ident), analog=True,
                            sensor_macs=float(product.sensor_macs),
                            channel_uses_per_image=float(product.channel_uses_per_image))
        else:
            desc.update(describe_digital(product, sc, ctx))
            ref = SchemeRef(stable_hash({**ident, "model_id": product.table.model_id,
                                         "table": table_digest(product.table, ctx),
                                         "macs": product.sensor_macs.tolist()}))
        out[label] = PreparedScheme(label, cfg.type, product, ref, desc)
    return out


def table_digest(table: OperatingPointTable, ctx: SchemeContext) -> str:
    """SHA-256 (first 20 hex digits) of what a simulation reads from ``table``: the points, the
    per-image bits and server decisions, and every packet size's packets (a fresh table and the
    same table loaded from the cache agree; their metadata need not)."""
    h = hashlib.sha256()
    h.update(json.dumps([[p.k, p.scale_index, p.scale] for p in table.points]).encode())
    h.update(np.ascontiguousarray(table.bits).tobytes())
    h.update(np.ascontiguousarray(table.correct).tobytes())
    for m in sorted({int(m) for m in ctx.images_per_packet}):
        groups, pbits = table.packets(m)
        h.update(np.ascontiguousarray(groups).tobytes())
        h.update(np.ascontiguousarray(pbits).tobytes())
    return h.hexdigest()[:20]


def job_assets(prepared: dict[str, PreparedScheme], ctx: SchemeContext,
               ) -> tuple[dict[str, DigitalAsset], dict[str, AnalogSchemeAsset]]:
    """What the jobs of the prepared schemes read: ``(digital, analog)`` assets by label."""
    digital: dict[str, DigitalAsset] = {}
    analog: dict[str, AnalogSchemeAsset] = {}
    for label, p in prepared.items():
        if isinstance(p.product, AnalogProduct):
            _, test = ctx.data()
            analog[label] = AnalogSchemeAsset(
                p.product.evaluate, test.images, test.labels.numpy(), p.type,
                float(p.product.sensor_macs), float(p.product.channel_uses_per_image))
        else:
            digital[label] = DigitalAsset(p.product.table, p.product.sensor_macs, p.type)
    return digital, analog


def cost_table(results: dict[str, object]) -> str:
    """The sensor-cost table of a run (Markdown, ``commsldr list``-style): one line per scheme
    and operating point with its MACs per image, bits per image (one image per packet, header and
    CRC included) and accuracy when every packet arrives."""
    lines = ["| scheme | type | point | sensor MACs / image | bits / image | channel uses / image "
             "| accuracy (all delivered) |", "|---|---|---|---|---|---|---|"]
    schemes: dict[str, dict[str, object]] = results.get("schemes", {})  # type: ignore[assignment]
    for label, d in schemes.items():
        if d.get("kind") == "analog":
            lines.append(f"| {label} | {d['type']} | n={d['channel_uses_per_image']} | "
                         f"{d['sensor_macs']:,.0f} | analog | {d['channel_uses_per_image']} | "
                         f"{d['clean_accuracy']:.3f} (no noise) |")
            continue
        points: list[dict[str, object]] = d.get("operating_points", [])  # type: ignore[assignment]
        for p in points:
            bits = p.get("bits_per_image")
            lines.append(f"| {label} | {d['type']} | {p['label']} | {p['sensor_macs']:,.0f} | "
                         f"{'' if bits is None else f'{bits:.0f}'} | "
                         f"{d.get('channel_uses_per_image', '')} | {p['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"
