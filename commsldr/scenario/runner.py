"""Running a scenario: model → operating-point table → simulations → result files and figures.

Steps (each cached or reproducible):

1. **Model** — a checkpoint, a shipped pretrained model, or a training recipe run once and cached
   under ``<cache_dir>/models/<recipe>-<hash of the TrainConfig>/`` (truncated variants: plain
   :meth:`SplitAutoencoder.truncate`, or fine-tuned with the ``truncate`` recipe, also cached).
2. **Table** — :func:`commsldr.link.build_table` on the test set for every variant × scale and
   every packet size ``m`` the sweep uses; cached under ``<cache_dir>/tables/<hash>`` keyed by
   the model id and the coding settings.
3. **Simulations** — for every sweep point, channel, seed and policy:
   :func:`commsldr.link.simulate`. Channel states are drawn from
   ``derive_seed(seed, "channel/<label>")``, so every policy *and every sweep point* of one seed
   sees the same underlying fading draws (common random numbers), and the simulator's own
   streams (image schedule, CSI error, PHY) come from the same seed for every policy.
   Policies other than the Oracle see the scenario's CSI model; the Oracle always sees perfect CSI.
   The PHY's own link adaptation (e.g. the NR MCS choice) sees the same CSI as the policy, also
   for static policies (which ignore it). ``link.max_attempts`` and ``link.deadline_frames``
   set retransmission.
4. **Files** — ``config.yaml`` (resolved), ``results.json``, ``results.csv``, ``per_seed.csv``,
   ``timeline.json`` and the figures (:mod:`commsldr.plots`).
5. **Paper figures** (optional ``paper_figures`` section) — Figs. 2-5 of the paper for the listed
   models (:func:`commsldr.paper_figures.paper_figures`) into ``figures/``, their summary into
   ``paper_figures/summary.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from tqdm import tqdm

from commsldr.scenario.load import (
    LoadedScenario,
    channel_params,
    phy_class,
    phy_params,
    resolve_model_ref,
    resolve_pretrained,
    train_config,
)
from commsldr.scenario.schema import Scenario

__all__ = ["RunOutput", "run_scenario", "prepare_table", "obtain_model", "make_run_dir",
           "training_environment"]

logger = logging.getLogger("commsldr.run")


@dataclass(frozen=True)
class RunOutput:
    """What a run produced: its directory and the results written there."""

    run_dir: Path
    results: dict[str, Any]


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def make_run_dir(sc: Scenario, out: str | Path | None = None) -> Path:
    """``out`` if given, else ``<outputs.dir>/<name>/<YYYYmmdd-HHMMSS>`` (made unique)."""
    if out is not None:
        path = Path(out)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(sc.outputs.dir) / sc.name / stamp
        i = 1
        while path.exists():
            path = Path(sc.outputs.dir) / sc.name / f"{stamp}-{i}"
            i += 1
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# model and table
# ---------------------------------------------------------------------------------------------
def training_environment(device: str | None = None) -> dict[str, Any]:
    """What changes trained weights besides the recipe's configuration.

    Training is *not* bit-identical across thread counts (the summation order of PyTorch's CPU
    kernels follows the thread partition), devices or PyTorch versions, and of course not across
    edits of the training code; so the model cache key covers all of them: the intra-op thread
    count, the device type, the torch version and a digest of the code of
    ``commsldr.{data,models,losses,train}`` (its syntax tree without docstrings, so that editing a
    comment or a docstring does not retrain).
    """
    import ast

    import commsldr

    root = Path(commsldr.__file__).parent
    h = hashlib.sha256()
    for sub in ("data", "models", "losses", "train"):
        for f in sorted((root / sub).glob("*.py")):
            tree = ast.parse(f.read_bytes())
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                        and isinstance(body[0].value, ast.Constant)
                        and isinstance(body[0].value.value, str)):
                    node.body = body[1:] or [ast.Pass()]
            h.update(f.name.encode() + b"\0" + ast.dump(tree).encode())
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return {"threads": torch.get_num_threads(), "device": torch.device(device).type,
            "torch": torch.__version__, "source": h.hexdigest()[:16]}


def _train_cached(recipe: str, cfg: Any, cache_dir: Path, log: Any, progress: bool = True) -> Path:
    from commsldr.train import run_recipe

    key_fields = {k: v for k, v in cfg.to_dict().items()
                  if k not in ("out", "progress", "resume", "device")}
    key_fields["environment"] = training_environment(cfg.to_dict().get("device"))
    out = cache_dir / "models" / f"{recipe}-{_hash(key_fields)}"
    ckpt = out / "model.pt"
    if ckpt.is_file():
        log(f"model: cached {ckpt}")
        return ckpt
    log(f"model: training recipe {recipe!r} → {out} (cached for later runs; "
        f"{key_fields['environment']['threads']} thread(s))")
    result = run_recipe(recipe, cfg.replace(out=str(out), progress=progress))
    (out / "environment.json").write_text(json.dumps(key_fields["environment"], indent=1))
    return Path(result.checkpoint_path)


def obtain_model(sc: Scenario, log: Any = print, progress: bool = True,
                 ) -> tuple[dict[int, torch.nn.Module], str]:
    """The encoder variants ``{k: model}`` of the scenario and a description of their source."""
    from commsldr.train import load_model

    m = sc.model
    cache = Path(m.cache_dir)
    if m.checkpoint is not None:
        ckpt, source = Path(m.checkpoint), f"checkpoint {m.checkpoint}"
    elif m.pretrained is not None:
        ckpt, source = resolve_pretrained(m.pretrained), f"pretrained {m.pretrained}"
    else:
        ckpt = _train_cached(m.recipe or "ce", train_config(sc), cache, log, progress)
        source = f"recipe {m.recipe} ({ckpt})"
    model = load_model(ckpt).eval()
    variants: dict[int, torch.nn.Module] = {int(model.latent_dim): model}
    for k in m.truncations:
        if k >= model.latent_dim:
            raise ValueError(f"model.truncations: k={k} must be < latent_dim ({model.latent_dim})")
        if m.finetune_truncations:
            cfg = train_config(sc).replace(recipe="truncate", keep=int(k),
                                           from_checkpoint=str(ckpt))
            variants[int(k)] = load_model(
                _train_cached("truncate", cfg, cache, log, progress)).eval()
        else:
            variants[int(k)] = model.truncate(int(k)).eval()
    return variants, source


def _load_data(sc: Scenario) -> tuple[Any, Any]:
    from commsldr.train import load_data

    return load_data(train_config(sc))


def prepare_table(loaded: LoadedScenario, *, log: Any = print, progress: bool = True) -> Any:
    """Build (or load from the cache) the operating-point table of a scenario."""
    from commsldr.coding import compute_latent_stats
    from commsldr.link.table import OperatingPointTable, build_table, encode_latents
    from commsldr.train import model_id

    sc = loaded.scenario
    variants, source = obtain_model(sc, log, progress)
    full = variants[max(variants)]
    ms = sorted({p.scenario.link.images_per_packet for p in loaded.points})
    key = _hash({
        "model": model_id(full), "variants": {k: model_id(v) for k, v in variants.items()},
        "scales": sc.coding.scales, "rule": sc.coding.rule, "codec": sc.coding.codec,
        "crc_bits": sc.coding.crc_bits, "m": ms, "data": sc.data.__dict__, "format": 1,
    })
    path = Path(sc.model.cache_dir) / "tables" / key
    if path.with_suffix(".npz").is_file():
        log(f"table: cached {path}.npz")
        table = OperatingPointTable.load(path, model_id=model_id(full))
        table.meta["source"] = source
        return table
    train, test = _load_data(sc)
    log(f"table: {len(variants)} variant(s) × {len(sc.coding.scales)} scales on "
        f"{len(test)} test images")
    stats = compute_latent_stats(full, train)
    train_latents = None
    if sc.coding.codec == "categorical":
        train_latents = {k: encode_latents(v, train.images) for k, v in variants.items()}
    table = build_table(
        variants, stats, sc.coding.scales, test, rule=sc.coding.rule, codec=sc.coding.codec,
        train_latents=train_latents, images_per_packet=ms, crc_bits=sc.coding.crc_bits,
        train_labels=train.labels, dataset_name=sc.data.dataset, progress=progress,
    )
    table.save(path)
    table.meta["source"] = source
    return table


# ---------------------------------------------------------------------------------------------
# simulations
# ---------------------------------------------------------------------------------------------
def _channel_states(sc: Scenario, label: str, seed: int) -> Any:
    from channels import create_channel
    from commsldr.data import derive_seed

    channel = create_channel(sc.channels[label].type, **channel_params(sc, label))
    g = torch.Generator().manual_seed(derive_seed(seed, f"channel/{label}"))
    return channel.states(sc.frames, generator=g)


def _simulate_one(sc: Scenario, table: Any, states: Any, phy: Any, label: str,
                  seed: int) -> tuple[Any, Any]:
    from commsldr.adapt import PointMenu, create_csi_model, create_policy
    from commsldr.link.simulator import simulate

    pc = sc.policies[label]
    policy = create_policy(pc.type, **pc.params)
    menu = PointMenu.from_table(table, images_per_packet=sc.link.images_per_packet,
                                fallback=sc.link.fallback)
    policy.bind(menu, phy)
    # A static policy ignores the CSI, but the transmitter's link adaptation (the PHY) uses it.
    if getattr(policy, "requires_perfect_csi", False):
        csi = create_csi_model("perfect")
    else:
        csi = create_csi_model(sc.csi.type, **sc.csi.params)
    result = simulate(table, states, phy, policy, images_per_packet=sc.link.images_per_packet,
                      csi_model=csi, fallback=sc.link.fallback,
                      max_attempts=sc.link.max_attempts,
                      deadline_frames=sc.link.deadline_frames, seed=seed)
    return result, policy


def run_scenario(
    loaded: LoadedScenario,
    *,
    out: str | Path | None = None,
    progress: bool = True,
    plot: bool = True,
    log: Any = None,
) -> RunOutput:
    """Run a loaded (validated) scenario and write its run directory.

    Args:
        loaded: from :func:`commsldr.scenario.load_scenario`.
        out: the run directory (default ``<outputs.dir>/<name>/<timestamp>``).
        progress: tqdm progress bars.
        plot: draw the figures (``commsldr plot RUN_DIR`` can draw them later).
        log: a ``print``-like function for status lines (default: the ``commsldr.run``
            logger at INFO; a given function is called and the lines are logged at DEBUG).

    Every ``commsldr`` log record of the run (these status lines, the per-epoch training lines)
    also goes to ``run.log`` in the run directory.

    Returns:
        :class:`RunOutput` with the run directory and the results dict (as in ``results.json``).
    """
    from commsldr.logs import run_log

    sc = loaded.scenario
    run_dir = make_run_dir(sc, out)
    if log is None:
        emit = logger.info
    else:
        def emit(msg: str) -> None:
            log(msg)
            logger.debug(msg)
    with run_log(run_dir / "run.log"):
        try:
            return _run(loaded, run_dir, progress=progress, plot=plot, log=emit)
        except BaseException:
            logger.debug("run failed", exc_info=True)  # the traceback goes to run.log only
            raise


def _run(loaded: LoadedScenario, run_dir: Path, *, progress: bool, plot: bool,
         log: Any) -> RunOutput:
    from commsldr.adapt.metrics import aggregate, metrics_from_simulation
    from commsldr.results import save_results

    sc = loaded.scenario
    (run_dir / "config.yaml").write_text(yaml.safe_dump(sc.to_dict(), sort_keys=False))
    log(f"run: {run_dir}")
    t0 = time.perf_counter()
    table = prepare_table(loaded, log=log, progress=progress)
    t_table = time.perf_counter() - t0
    from commsldr.scenario import scheme_runs
    from commsldr.schemes import SplitAEScheme

    scheme_ctx = scheme_runs.scheme_context(loaded, table_fn=lambda: table, log=log,
                                            progress=progress)
    split_product = SplitAEScheme().prepare(scheme_ctx)

    labels = list(sc.channels)
    n_jobs = len(loaded.points) * len(labels) * len(sc.seeds) * len(sc.policies)
    # what the simulations import (Sionna for some PHYs) is loaded before the bar starts, so its
    # rate and ETA measure simulations only
    import commsldr.adapt  # noqa: F401
    import commsldr.link.simulator  # noqa: F401

    for point in loaded.points:
        phy_class(point.scenario.link.phy)
    bar = tqdm(total=n_jobs, desc="simulations", disable=not progress, unit="sim")
    rows: list[dict[str, Any]] = []
    per_seed: list[dict[str, Any]] = []
    timeline: dict[str, Any] = {}
    timeline_point = len(loaded.points) // 2
    ci_rng = np.random.default_rng(0)
    for pi, point in enumerate(loaded.points):
        psc = point.scenario
        phy = phy_class(psc.link.phy)(**phy_params(psc))
        cost = scheme_runs.split_cost(split_product.sensor_macs, scheme_runs.phy_channel_uses(phy),
                                      psc.link.images_per_packet)
        for ch in labels:
            states = {s: _channel_states(psc, ch, s) for s in sc.seeds}
            cap = {s: np.asarray(phy.frame_capacity_bits(states[s]), dtype=np.float64)
                   for s in sc.seeds}
            snr = {s: _mean_snr_db(states[s]) for s in sc.seeds}
            for pl in psc.policies:
                metrics, costs = [], []
                for s in sc.seeds:
                    result, policy = _simulate_one(psc, table, states[s], phy, pl, s)
                    mt = metrics_from_simulation(result, sc.outputs.confidence)
                    metrics.append(mt)
                    costs.append(cost(result))
                    per_seed.append({
                        "point": pi, "scheme": "split-ae", "channel": ch, "policy": pl, "seed": s,
                        **point.values, "mean_capacity_bits": float(cap[s].mean()),
                        "mean_snr_db": snr[s], **mt.to_dict(), **costs[-1],
                    })
                    if pi == timeline_point and s == sc.seeds[0]:
                        timeline.setdefault(ch, {})[pl] = _timeline(
                            result, table, sc.outputs.timeline_frames)
                    bar.update(1)
                agg = aggregate(metrics, ci=sc.outputs.ci, confidence=sc.outputs.confidence,
                                generator=ci_rng)
                rows.append({
                    "point": pi, "scheme": "split-ae", "channel": ch, "policy": pl,
                    "policy_type": psc.policies[pl].type, **point.values,
                    "mean_capacity_bits": float(np.mean([cap[s].mean() for s in sc.seeds])),
                    "mean_snr_db": float(np.mean([snr[s] for s in sc.seeds])),
                    **agg.to_dict(), **scheme_runs._mean_cost(costs),
                })
    bar.close()
    if sc.analog.enabled:
        rows += _analog_rows(loaded, log, progress)
    schemes = {"split-ae": {"type": "split-ae", "kind": "digital", **split_product.info,
                            **scheme_runs.describe_digital(split_product, sc, scheme_ctx)}}
    if sc.schemes:
        extra = scheme_runs.scheme_rows(loaded, scheme_ctx, log=log, progress=progress)
        rows += extra["rows"]
        per_seed += extra["per_seed"]
        timeline = {ch: {f"split-ae: {pl}": d for pl, d in lines.items()}
                    for ch, lines in timeline.items()}
        for ch, lines in extra["timeline"].items():
            timeline.setdefault(ch, {}).update(lines)
        schemes.update(extra["schemes"])
    m = sc.link.images_per_packet
    results = {
        "scenario": sc.name,
        "sweep_keys": list(sc.sweep),
        "sweep_values": [p.values for p in loaded.points],
        "channels": labels,
        "policies": list(sc.policies),
        "seeds": list(sc.seeds),
        "frames": sc.frames,
        "ci": sc.outputs.ci,
        "confidence": sc.outputs.confidence,
        "model": {"source": table.meta.get("source"), "model_id": table.model_id},
        "operating_points": [
            {"k": p.k, "scale": p.scale, "accuracy": float(a), "bits_per_image": float(b) / m}
            for p, a, b in zip(table.points, table.accuracy(), table.mean_packet_bits(m),
                               strict=True)
        ],
        "timeline_point": loaded.points[timeline_point].values,
        "rows": rows,
        "per_seed": per_seed,
        "timeline": timeline,
        "schemes": schemes,
        "seconds": {"table": t_table, "total": time.perf_counter() - t0},
    }
    save_results(run_dir, results)
    (run_dir / "sensor_cost.md").write_text(scheme_runs.cost_table(results))
    if plot:
        from commsldr.plots import plot_run

        written = plot_run(run_dir, figures=sc.outputs.figures, formats=sc.outputs.formats)
        log(f"figures: {', '.join(p.name for p in written)}")
    if sc.paper_figures.models:
        t_paper = time.perf_counter()
        _paper_figures(sc, run_dir, log, progress)
        log(f"paper figures in {time.perf_counter() - t_paper:.1f} s")
    log(f"done in {time.perf_counter() - t0:.1f} s: {run_dir}")
    return RunOutput(run_dir=run_dir, results=results)


def _paper_figures(sc: Scenario, run_dir: Path, log: Any, progress: bool) -> dict[str, Any]:
    """The ``paper_figures`` section: Figs. 2-5 of the listed models on the scenario's test set."""
    from commsldr.data import load_dataset
    from commsldr.paper_figures import paper_figures

    pf = sc.paper_figures
    models = {lbl: resolve_model_ref(ref, f"paper_figures.models.{lbl}")
              for lbl, ref in pf.models.items()}
    tc = train_config(sc)
    test = load_dataset(tc.dataset, "test", root=tc.data_root, download=tc.download,
                        num_per_class=tc.test_num_per_class, seed=tc.seed, progress=progress)
    train_cache: list[Any] = []

    def train(_train_config: Any) -> Any:  # only for checkpoints without latent statistics
        if not train_cache:
            train_cache.append(_load_data(sc)[0])
        return train_cache[0]

    log(f"paper figures: {len(models)} model(s) on {len(test)} test images")
    return paper_figures(models, test, run_dir / "paper_figures", train=train,
                         figures_dir=run_dir / "figures", entropy_targets=pf.entropy_targets,
                         rule=sc.coding.rule, distortions=pf.distortions, seed=sc.seeds[0],
                         truncation_labels=pf.truncation_models or None,
                         progress=progress, log=log)


def _analog_rows(loaded: LoadedScenario, log: Any, progress: bool) -> list[dict[str, Any]]:
    """Accuracy of analog transmission per sweep point, channel and seed (network per image)."""
    from channels import create_channel
    from commsldr.adapt.metrics import wilson_interval
    from commsldr.coding import compute_latent_stats
    from commsldr.data import derive_seed
    from commsldr.link.analog import analog_accuracy

    sc = loaded.scenario
    variants, _ = obtain_model(sc, log, progress)
    full = variants[max(variants)]
    k = sc.analog.k or int(full.latent_dim)
    train, test = _load_data(sc)
    stats = compute_latent_stats(full, train)
    rows = []
    jobs = [(pi, p, ch) for pi, p in enumerate(loaded.points) for ch in p.scenario.channels]
    for pi, point, ch in tqdm(jobs, desc="analog", disable=not progress):
        psc = point.scenario
        correct = total = 0
        for s in sc.seeds:
            channel = create_channel(psc.channels[ch].type, **channel_params(psc, ch))
            acc = analog_accuracy(variants[k], stats, test, channel,
                                  symbols_per_entry=psc.analog.symbols_per_entry,
                                  repeats=psc.analog.repeats,
                                  seed=derive_seed(s, f"analog/{ch}"))
            n = len(test) * psc.analog.repeats
            correct += round(acc * n)
            total += n
        low, high = wilson_interval(correct, total, sc.outputs.confidence)
        rows.append({
            "point": pi, "scheme": "split-ae-analog", "channel": ch, "policy": f"analog (k={k})",
            "policy_type": "analog", "scheme_type": "split-ae-analog",
            **point.values, "mean_capacity_bits": float("nan"), "mean_snr_db": float("nan"),
            "accuracy": correct / total, "accuracy_low": low, "accuracy_high": high,
            "delivered_rate": 1.0, "outage_probability": 0.0,
            "capacity_violations": float("nan"), "switches_per_1000": 0.0,
            "mean_bits_per_image": float("nan"), "images": total, "correct": correct,
            "frames": total, "channel_uses_per_image": k * psc.analog.symbols_per_entry,
        })
    return rows


def _mean_snr_db(states: Any) -> float:
    snr = getattr(states, "snr_db", None)
    if snr is None:
        return float("nan")
    return float(snr.double().mean())


def _timeline(result: Any, table: Any, n: int) -> dict[str, list[Any]]:
    n = min(n, result.num_frames)
    idx = result.point_index[:n]
    ks = [int(table.points[i].k) if i >= 0 else -1 for i in idx]
    scales = [float(table.points[i].scale) if i >= 0 else float("nan") for i in idx]
    return {
        "snr_db": [float(x) for x in result.snr_db[:n]],
        "capacity_bits": [float(x) for x in result.capacity_bits[:n]],
        "packet_bits": [int(x) for x in result.packet_bits[:n]],
        "k": ks,
        "scale": scales,
        "delivered": [bool(x) for x in result.delivered[:n]],
        "num_correct": [int(x) for x in result.num_correct[:n]],
        "images_per_packet": int(result.images_per_packet),
    }
