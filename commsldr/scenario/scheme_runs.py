"""The ``schemes`` section of a scenario: checks, and the simulations of the baseline schemes.

The split autoencoder (``model`` + ``coding``) is simulated by the runner's main loop; this
module adds, for every entry of ``schemes``:

- **digital schemes** (an operating-point table, :mod:`commsldr.schemes`): every policy (the
  scheme's own ``policies`` or the top-level ones) on the same channel states, CSI model, PHY and
  seeds as the split autoencoder (:func:`commsldr.link.simulate`, as the main loop);
- **analog schemes**: per sweep point, channel and seed, the images of a frame schedule
  (:func:`commsldr.link.simulator.frame_schedule`, one image per frame) sent through the
  channel's ``forward`` with the *same* per-frame states the digital schemes see; the Wilson
  interval pools the images of all seeds.

Every row gets ``scheme`` (the entry's label), ``scheme_type``, ``sensor_macs`` (mean MACs per
image the sensor spent over the frames sent), ``channel_uses_per_image`` and, as before,
``mean_bits_per_image``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from commsldr.scenario.jobs import SPLIT_AE, phy_channel_uses, split_cost  # noqa: F401
from commsldr.scenario.load import scheme_policies
from commsldr.scenario.schema import Scenario

__all__ = ["scheme_context", "scheme_rows", "describe_digital", "cost_table"]


# ---------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------
def scheme_context(loaded: Any, *, table_fn: Callable[[], Any], log: Any, progress: bool) -> Any:
    """The :class:`~commsldr.schemes.SchemeContext` of a scenario (data and models loaded once)."""
    from pathlib import Path

    from commsldr.scenario.assets import _load_data, obtain_model
    from commsldr.scenario.load import phy_class, phy_params, train_config
    from commsldr.schemes import SchemeContext

    sc = loaded.scenario
    memo: dict[str, Any] = {}

    def data() -> Any:
        if "data" not in memo:
            memo["data"] = _load_data(sc, progress)
        return memo["data"]

    def variants() -> Any:
        if "variants" not in memo:
            memo["variants"] = obtain_model(sc, log, progress)[0]
        return memo["variants"]

    def table() -> Any:
        if "table" not in memo:
            memo["table"] = table_fn()
        return memo["table"]

    tc = None
    if sc.model.recipe is not None:
        tc = train_config(sc).replace(progress=progress)
    phy = phy_class(sc.link.phy)(**phy_params(sc))
    cu = phy_channel_uses(phy)
    return SchemeContext(
        data=data, model=lambda: variants()[max(variants())], train_config=tc,
        cache_dir=Path(sc.model.cache_dir), crc_bits=sc.coding.crc_bits,
        images_per_packet=sorted({p.scenario.link.images_per_packet for p in loaded.points}),
        channel_uses_per_frame=None if np.isnan(cu) else cu,
        channel_uses_per_image=None if np.isnan(cu) else cu / sc.link.images_per_packet,
        seed=sc.seeds[0],
        dataset=sc.data.dataset, log=log, progress=progress, split_table=table,
        split_variants=variants)


def scheme_rows(loaded: Any, ctx: Any, *, log: Any, progress: bool) -> dict[str, Any]:
    """Simulate every baseline scheme; returns ``{"rows", "per_seed", "timeline", "schemes"}``
    (rows in the main loop's layout plus the cost columns; ``schemes``: per scheme its type,
    parameters, operating points with their cost, and facts from :attr:`DigitalProduct.info`)."""
    from tqdm import tqdm

    from commsldr.adapt.metrics import aggregate, metrics_from_simulation
    from commsldr.scenario.assets import _channel_states
    from commsldr.scenario.jobs import _mean_snr_db, _timeline
    from commsldr.scenario.jobs import simulate_policy as _simulate_one
    from commsldr.scenario.load import phy_class, phy_params
    from commsldr.schemes import AnalogProduct, create_scheme

    sc = loaded.scenario
    out: dict[str, Any] = {"rows": [], "per_seed": [], "timeline": {}, "schemes": {}}
    timeline_point = len(loaded.points) // 2
    from commsldr.data import derive_seed

    for label, cfg in sc.schemes.items():
        ci_rng = np.random.default_rng(derive_seed(0, f"ci/{label}"))  # order-independent
        scheme = create_scheme(cfg.type, **cfg.params)
        log(f"scheme {label} ({cfg.type})")
        product = scheme.prepare(ctx)
        desc: dict[str, Any] = {"type": cfg.type, "kind": scheme.kind, "params": scheme.params(),
                                **product.info}
        if isinstance(product, AnalogProduct):
            desc.update(channel_uses_per_image=product.channel_uses_per_image,
                        sensor_macs=product.sensor_macs, clean_accuracy=product.clean_accuracy)
            out["schemes"][label] = desc
            out["rows"] += _analog_rows(loaded, label, cfg.type, product, ctx, progress)
            continue
        table = product.table
        desc.update(describe_digital(product, sc, ctx))
        out["schemes"][label] = desc
        jobs = len(loaded.points) * len(sc.channels) * len(sc.seeds) * len(scheme_policies(sc, label))
        bar = tqdm(total=jobs, desc=f"simulations ({label})", disable=not progress, unit="sim")
        for pi, point in enumerate(loaded.points):
            psc = dataclasses.replace(point.scenario, policies=scheme_policies(point.scenario, label))
            phy = phy_class(psc.link.phy)(**phy_params(psc))
            m = psc.link.images_per_packet
            cost = split_cost(product.sensor_macs, phy_channel_uses(phy), m, label, cfg.type)
            for ch in sc.channels:
                states = {s: _channel_states(psc, ch, s) for s in sc.seeds}
                cap = {s: np.asarray(phy.frame_capacity_bits(states[s]), dtype=np.float64)
                       for s in sc.seeds}
                snr = {s: _mean_snr_db(states[s]) for s in sc.seeds}
                for pl in psc.policies:
                    metrics, costs = [], []
                    for s in sc.seeds:
                        result, _ = _simulate_one(psc, table, states[s], phy, pl, s)
                        mt = metrics_from_simulation(result, sc.outputs.confidence)
                        metrics.append(mt)
                        costs.append(cost(result))
                        out["per_seed"].append({
                            "point": pi, "scheme": label, "channel": ch, "policy": pl, "seed": s,
                            **point.values, "mean_capacity_bits": float(cap[s].mean()),
                            "mean_snr_db": snr[s], **mt.to_dict(), **costs[-1]})
                        if pi == timeline_point and s == sc.seeds[0]:
                            out["timeline"].setdefault(ch, {})[f"{label}: {pl}"] = _timeline(
                                result, table, sc.outputs.timeline_frames)
                        bar.update(1)
                    agg = aggregate(metrics, ci=sc.outputs.ci, confidence=sc.outputs.confidence,
                                    generator=ci_rng)
                    out["rows"].append({
                        "point": pi, "scheme": label, "channel": ch, "policy": pl,
                        "policy_type": psc.policies[pl].type, **point.values,
                        "mean_capacity_bits": float(np.mean([cap[s].mean() for s in sc.seeds])),
                        "mean_snr_db": float(np.mean([snr[s] for s in sc.seeds])),
                        **agg.to_dict(), **_mean_cost(costs)})
        bar.close()
    return out


def describe_digital(product: Any, sc: Scenario, ctx: Any) -> dict[str, Any]:
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


def _mean_cost(costs: list[dict[str, Any]]) -> dict[str, Any]:
    first = dict(costs[0])
    first["sensor_macs"] = float(np.nanmean([c["sensor_macs"] for c in costs])) \
        if any(np.isfinite(c["sensor_macs"]) for c in costs) else float("nan")
    return first


def _analog_rows(loaded: Any, label: str, type_: str, product: Any, ctx: Any, progress: bool,
                 ) -> list[dict[str, Any]]:
    """One row per sweep point and channel: the analog scheme on the run's channel states."""
    import torch
    from tqdm import tqdm

    from commsldr_channels import create_channel
    from commsldr.adapt.intervals import ratio_standard_error
    from commsldr.adapt.metrics import interval_from_counts
    from commsldr.data import derive_seed
    from commsldr.link.simulator import frame_schedule
    from commsldr.scenario.assets import _channel_states
    from commsldr.scenario.jobs import _mean_snr_db
    from commsldr.scenario.load import channel_params, phy_class, phy_params

    sc = loaded.scenario
    _, test = ctx.data()
    labels = test.labels.numpy()
    rows = []
    jobs = [(pi, p, ch) for pi, p in enumerate(loaded.points) for ch in sc.channels]
    for pi, point, ch in tqdm(jobs, desc=f"analog ({label})", disable=not progress):
        psc = point.scenario
        phy = phy_class(psc.link.phy)(**phy_params(psc))
        channel = create_channel(psc.channels[ch].type, **channel_params(psc, ch))
        counts: list[tuple[int, int, float, int]] = []  # per seed: correct, total, se, block
        caps, snrs = [], []
        for s in sc.seeds:
            states = _channel_states(psc, ch, s)
            sched = frame_schedule(len(test), len(states),
                                   np.random.default_rng(derive_seed(s, f"analog-schedule/{label}")))
            g = torch.Generator().manual_seed(derive_seed(s, f"analog-noise/{label}/{ch}"))
            pred = product.evaluate(test.images[torch.from_numpy(sched)], channel, states, g)
            hit = (pred == labels[sched]).astype(np.float64)  # one image per frame
            counts.append((int(hit.sum()), len(sched), *ratio_standard_error(hit, np.ones_like(hit))))
            caps.append(float(np.asarray(phy.frame_capacity_bits(states), np.float64).mean()))
            snrs.append(_mean_snr_db(states))
        correct, total = sum(c[0] for c in counts), sum(c[1] for c in counts)
        low, high, method = interval_from_counts(
            [c[0] for c in counts], [c[1] for c in counts], ci=sc.outputs.ci,
            confidence=sc.outputs.confidence, accuracy_se=[c[2] for c in counts],
            block_frames=[c[3] for c in counts])
        rows.append({
            "point": pi, "scheme": label, "channel": ch, "policy": "analog",
            "policy_type": "analog", **point.values,
            "mean_capacity_bits": float(np.mean(caps)), "mean_snr_db": float(np.mean(snrs)),
            "accuracy": correct / total, "accuracy_low": low, "accuracy_high": high,
            "delivered_rate": 1.0, "outage_probability": 0.0,
            "capacity_violations": float("nan"), "switches_per_1000": 0.0,
            "mean_bits_per_image": float("nan"), "images": total, "correct": correct,
            "frames": total, "scheme_type": type_, "sensor_macs": float(product.sensor_macs),
            "channel_uses_per_image": float(product.channel_uses_per_image),
            "ci_method": method, "seeds": len(counts),
        })
    return rows


def cost_table(results: dict[str, Any]) -> str:
    """The sensor-cost table of a run (Markdown, ``commsldr list``-style): one line per scheme
    and operating point with its MACs per image, bits per image (one image per packet, header and
    CRC included) and accuracy when every packet arrives."""
    lines = ["| scheme | type | point | sensor MACs / image | bits / image | channel uses / image "
             "| accuracy (all delivered) |", "|---|---|---|---|---|---|---|"]
    for label, d in results.get("schemes", {}).items():
        if d.get("kind") == "analog":
            lines.append(f"| {label} | {d['type']} | n={d['channel_uses_per_image']} | "
                         f"{d['sensor_macs']:,.0f} | analog | {d['channel_uses_per_image']} | "
                         f"{d['clean_accuracy']:.3f} (no noise) |")
            continue
        for p in d.get("operating_points", []):
            bits = p.get("bits_per_image")
            lines.append(f"| {label} | {d['type']} | {p['label']} | {p['sensor_macs']:,.0f} | "
                         f"{'' if bits is None else f'{bits:.0f}'} | "
                         f"{d.get('channel_uses_per_image', '')} | {p['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"
