"""Running jobs: the context every job of a run reads, and the built-in job kinds.

A **job** (:class:`~commsldr.scenario.plan.Job`) is one independent unit of work with a stable
key (a hash of exactly the settings its row depends on, :mod:`commsldr.scenario.sections`). The
built-in kinds:

* ``sim`` — one simulation (:func:`commsldr.link.simulate`) of a digital scheme's
  operating-point table (the split autoencoder's or a ``schemes`` entry's): a channel, a policy
  and a seed under the settings of one sweep point;
* ``analog`` — the split autoencoder's analog curve (:func:`commsldr.link.analog.analog_accuracy`)
  on a channel and a seed;
* ``scheme-analog`` — an analog scheme (e.g. deep JSCC): the images of a frame schedule sent
  through the channel's ``forward`` with the same per-frame states the digital schemes see.

A job's random streams come from the scenario seed and the parts of its key, through
:func:`commsldr.data.derive_seed` (a :class:`numpy.random.SeedSequence` of the seed and a CRC-32 of
the stream name, never Python's ``hash()``): the channel states from ``channel/<label>`` (common
random numbers: every scheme, policy and sweep point of a seed sees the same fading draws), the
simulator's streams from the seed itself. Nothing depends on which process runs a job or when, so
results are identical for any backend, worker count and completion order.

:func:`run_job` runs a job against a :class:`JobContext` (the assets of the run: the schemes'
tables, the analog inputs, the sweep points), which a backend ships to its workers once.
A plug-in adds a kind with :func:`commsldr.scenario.plan.register_job_kind`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from commsldr.adapt import PointMenu, create_csi_model, create_policy
from commsldr.adapt.hindsight import best_fixed_in_hindsight
from commsldr.adapt.intervals import ratio_standard_error
from commsldr.adapt.metrics import metrics_from_simulation
from commsldr.adapt.regret import correct_curve
from commsldr.data import derive_seed
from commsldr.link.analog import analog_accuracy
from commsldr.link.harq import harq_attempts
from commsldr.link.simulator import SimulationResult, frame_schedule, simulate
from commsldr.registry import import_plugins
from commsldr.scenario.load import channel_params, phy_class, phy_params, scheme_policies
from commsldr.scenario.plan import SPLIT_AE, Job, job_kind, register_job_kind
from commsldr.scenario.rows import JobRow
from commsldr.scenario.schema import Scenario
from commsldr_channels import create_channel

if TYPE_CHECKING:
    from commsldr.adapt.policies import Policy
    from commsldr.coding import LatentStats
    from commsldr.data import ImageTensors
    from commsldr.link import PHY, OperatingPointTable
    from commsldr.models import SplitAutoencoder
    from commsldr_channels import LinkState

__all__ = [
    "JobContext",
    "DigitalAsset",
    "AnalogContext",
    "AnalogSchemeAsset",
    "run_job",
    "warm_up",
    "simulate_policy",
    "simulate_cell",
    "job_scenario",
    "run_sim",
    "run_analog",
    "run_scheme_analog",
    "channel_states",
    "channel_spec",
    "stable_hash",
    "phy_channel_uses",
    "split_cost",
    "SPLIT_AE",
]


def stable_hash(obj: object) -> str:
    """SHA-256 (first 20 hex digits) of the canonical JSON of ``obj`` (sorted keys)."""
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def channel_spec(sc: Scenario, label: str) -> dict[str, object]:
    """What a channel's states depend on: its label, type, parameters as built, ``frames``."""
    return {"label": label, "type": sc.channels[label].type,
            "params": channel_params(sc, label), "frames": sc.frames}


# ---------------------------------------------------------------------------------------------
# the context
# ---------------------------------------------------------------------------------------------
@dataclass
class DigitalAsset:
    """A digital scheme's operating-point table and the sensor cost of each point.

    Attributes:
        table: the :class:`~commsldr.link.OperatingPointTable` (``P`` points).
        sensor_macs: ``float64 [P]`` multiply-accumulates the sensor spends per image.
        scheme_type: the scheme's registered type (the ``scheme_type`` column).
    """

    table: OperatingPointTable
    sensor_macs: np.ndarray
    scheme_type: str = SPLIT_AE


@dataclass
class AnalogContext:
    """What the split autoencoder's analog jobs need: the encoder variants ``{k: model}``,
    training latent statistics of the full latent, the test set."""

    variants: dict[int, SplitAutoencoder]
    stats: LatentStats
    test: ImageTensors

    def k_of(self, sc: Scenario) -> int:
        """The variant an analog job of ``sc`` sends (``analog.k``, default the full latent)."""
        return int(sc.analog.k or max(self.variants))


@dataclass
class AnalogSchemeAsset:
    """An analog scheme's evaluator and the test images it sends.

    Attributes:
        evaluate: ``(images uint8 [F, 3, H, W], channel, states, generator) -> int64 [F]``
            (:attr:`commsldr.schemes.AnalogProduct.evaluate`).
        images: ``uint8 [N, 3, H, W]`` test images.
        labels: ``int64 [N]`` their labels.
        scheme_type: the scheme's registered type.
        sensor_macs: multiply-accumulates the sensor spends per image.
        channel_uses_per_image: complex channel symbols per image.
    """

    evaluate: Callable[..., np.ndarray]
    images: torch.Tensor
    labels: np.ndarray
    scheme_type: str
    sensor_macs: float
    channel_uses_per_image: float


@dataclass
class JobContext:
    """Read-only inputs shared by every job of a run (shipped once to each worker).

    Attributes:
        points: the scenario of every sweep point (``LoadedScenario.points[i].scenario``).
        digital: ``{scheme label: DigitalAsset}`` of every digital scheme (``split-ae`` first).
        analog: the split autoencoder's analog inputs (``None`` when no analog job runs).
        analog_schemes: ``{scheme label: AnalogSchemeAsset}`` of every analog scheme.
        extra: plug-in job kinds' shared inputs, by name.
        plugins: the scenario's ``plugins`` (absolute ``.py`` paths or module names): a worker
            that did not inherit them (``spawn``, Ray) imports them with :meth:`import_plugins`.
    """

    points: list[Scenario]
    digital: dict[str, DigitalAsset] = field(default_factory=dict)
    analog: AnalogContext | None = None
    analog_schemes: dict[str, AnalogSchemeAsset] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    # worker-local caches (not shipped: cleared by __getstate__)
    states_cache: OrderedDict[str, LinkState] = field(default_factory=OrderedDict,
                                                         repr=False, compare=False)
    phy_cache: dict[str, PHY] = field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self) -> OperatingPointTable:
        """The split autoencoder's operating-point table."""
        return self.digital[SPLIT_AE].table

    def import_plugins(self) -> None:
        """Import the scenario's plug-ins in this process (a no-op for those already imported)."""
        if self.plugins:
            import_plugins(self.plugins)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["states_cache"] = OrderedDict()
        state["phy_cache"] = {}
        return state


def channel_states(ctx: JobContext, sc: Scenario, label: str, seed: int) -> LinkState:
    """Channel states of (channel ``label``, ``seed``) under ``sc``, drawn from
    ``derive_seed(seed, "channel/<label>")``; a small per-worker LRU cache (consecutive jobs
    usually differ only in the policy)."""
    key = stable_hash([channel_spec(sc, label), int(seed)])
    hit = ctx.states_cache.get(key)
    if hit is not None:
        ctx.states_cache.move_to_end(key)
        return hit
    channel = create_channel(sc.channels[label].type, **channel_params(sc, label))
    g = torch.Generator().manual_seed(derive_seed(seed, f"channel/{label}"))
    states = channel.states(sc.frames, generator=g)
    ctx.states_cache[key] = states
    while len(ctx.states_cache) > 4:
        ctx.states_cache.popitem(last=False)
    return states


def _phy(ctx: JobContext, sc: Scenario) -> PHY:
    """The PHY of ``sc.link`` (cached per worker; :func:`simulate` resets PHYs with memory)."""
    key = stable_hash(dataclasses.asdict(sc.link))
    if key not in ctx.phy_cache:
        ctx.phy_cache[key] = phy_class(sc.link.phy)(**phy_params(sc))
    return ctx.phy_cache[key]


def _mean_snr_db(states: LinkState) -> float:
    snr = getattr(states, "snr_db", None)
    if snr is None:
        return float("nan")
    return float(snr.double().mean())


def _mean_capacity_bits(phy: PHY, states: LinkState) -> float:
    return float(np.asarray(phy.frame_capacity_bits(states), dtype=np.float64).mean())


def _timeline(result: SimulationResult, table: OperatingPointTable, n: int) -> dict[str, object]:
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


# ---------------------------------------------------------------------------------------------
# sensor-cost columns of a row
# ---------------------------------------------------------------------------------------------
def phy_channel_uses(phy: PHY) -> float:
    """Complex channel uses of one frame of ``phy`` (NaN if it does not say)."""
    for attr in ("channel_uses_per_frame", "symbols_per_frame", "num_allocated_re"):
        v = getattr(phy, attr, None)
        if v is not None:
            return float(v)
    return float("nan")


def split_cost(macs: np.ndarray, channel_uses_per_frame: float, m: int, scheme: str = SPLIT_AE,
               scheme_type: str = SPLIT_AE) -> Callable[[SimulationResult], dict[str, object]]:
    """``result -> {scheme, scheme_type, sensor_macs, channel_uses_per_image}`` of one trace:
    the mean of ``macs[point]`` over the frames that sent a packet."""

    def cost(result: SimulationResult) -> dict[str, object]:
        idx = np.asarray(result.point_index)
        idx = idx[idx >= 0]
        return {"scheme": scheme, "scheme_type": scheme_type,
                "sensor_macs": float(macs[idx].mean()) if idx.size else float("nan"),
                "channel_uses_per_image": channel_uses_per_frame / m}

    return cost


# ---------------------------------------------------------------------------------------------
# the built-in job kinds
# ---------------------------------------------------------------------------------------------
def simulate_policy(sc: Scenario, table: OperatingPointTable, states: LinkState, phy: PHY,
                    policy_label: str, seed: int) -> tuple[SimulationResult, Policy]:
    """One simulation of policy ``policy_label`` of ``sc`` on ``table`` over ``states``:
    ``(SimulationResult, policy)``. Policies that require it get perfect CSI, the others the
    scenario's CSI model (which the PHY's link adaptation also sees)."""
    pc = sc.policies[policy_label]
    policy = create_policy(pc.type, **pc.params)
    menu = PointMenu.from_table(table, images_per_packet=sc.link.images_per_packet,
                                fallback=sc.link.fallback)
    policy.bind(menu, phy)
    # A static policy ignores the CSI, but the transmitter's link adaptation (the PHY) uses it.
    if getattr(policy, "requires_perfect_csi", False):
        csi = create_csi_model("perfect")
    else:
        csi = create_csi_model(sc.csi.type, **sc.csi.params)

    def run(pol: Policy) -> SimulationResult:
        return simulate(table, states, phy, pol, images_per_packet=sc.link.images_per_packet,
                        csi_model=csi, fallback=sc.link.fallback,
                        max_attempts=harq_attempts(sc.link.max_attempts,
                                                   sc.link.params.get("harq")),
                        deadline_frames=sc.link.deadline_frames, seed=seed,
                        packet_interval_frames=sc.link.packet_interval_frames,
                        harq_timing=sc.link.harq_timing)

    if getattr(policy, "hindsight", False):  # best fixed point on this realised trace
        return best_fixed_in_hindsight(policy, run)
    return run(policy), policy


def job_scenario(ctx: JobContext, job: Job) -> Scenario:
    """The settings a job runs under: its sweep point's scenario, with the scheme's own
    ``policies`` for a ``schemes`` entry."""
    sc = ctx.points[job.point]
    if job.scheme == SPLIT_AE or job.scheme not in sc.schemes:
        return sc
    return dataclasses.replace(sc, policies=scheme_policies(sc, job.scheme))


def simulate_cell(ctx: JobContext, sc: Scenario, label: str, policy_label: str, seed: int,
                  scheme: str = SPLIT_AE) -> tuple[SimulationResult, Policy, LinkState]:
    """One job's simulation: ``(SimulationResult, policy, states)`` of a channel, policy and
    seed on the table of ``scheme``."""
    states = channel_states(ctx, sc, label, seed)
    result, policy = simulate_policy(sc, ctx.digital[scheme].table, states, _phy(ctx, sc),
                                     policy_label, seed)
    return result, policy, states


def run_sim(ctx: JobContext, job: Job) -> JobRow:
    """A ``sim`` job's row: ``mean_capacity_bits``, ``mean_snr_db``, ``metrics``
    (:class:`~commsldr.adapt.metrics.PolicyMetrics` as a dict), ``cost`` (the cost columns) and,
    when the job records it, ``timeline``."""
    sc = job_scenario(ctx, job)
    asset = ctx.digital[job.scheme]
    if job.policy is None:
        raise ValueError(f"sim job {job.key} has no policy")
    result, _, states = simulate_cell(ctx, sc, job.channel, job.policy, job.seed, job.scheme)
    phy = _phy(ctx, sc)
    row: JobRow = {
        "mean_capacity_bits": _mean_capacity_bits(phy, states),
        "mean_snr_db": _mean_snr_db(states),
        "metrics": metrics_from_simulation(result, sc.outputs.confidence).to_dict(),
        "cost": split_cost(asset.sensor_macs, phy_channel_uses(phy), sc.link.images_per_packet,
                           job.scheme, asset.scheme_type)(result),
    }
    if job.timeline:
        row["timeline"] = _timeline(result, asset.table, sc.outputs.timeline_frames)
    if "regret" in sc.outputs.figures:
        row["correct_curve"] = correct_curve(result)
    return row


def run_analog(ctx: JobContext, job: Job) -> JobRow:
    """An ``analog`` job's row: ``correct`` of ``total`` test images (× repeats) through the
    channel, and the variant ``k`` sent."""
    if ctx.analog is None:
        raise ValueError("an analog job needs JobContext.analog")
    sc = ctx.points[job.point]
    channel = create_channel(sc.channels[job.channel].type, **channel_params(sc, job.channel))
    k = ctx.analog.k_of(sc)
    acc = analog_accuracy(ctx.analog.variants[k], ctx.analog.stats, ctx.analog.test, channel,
                          symbols_per_entry=sc.analog.symbols_per_entry,
                          repeats=sc.analog.repeats,
                          seed=derive_seed(job.seed, f"analog/{job.channel}"))
    n = len(ctx.analog.test) * sc.analog.repeats
    return {"correct": round(acc * n), "total": n, "k": k}


def run_scheme_analog(ctx: JobContext, job: Job) -> JobRow:
    """A ``scheme-analog`` job's row: ``correct`` of ``total`` images of a frame schedule (one
    image per frame, ``derive_seed(seed, "analog-schedule/<scheme>")``) sent through the
    channel's ``forward`` on the run's channel states (noise from
    ``derive_seed(seed, "analog-noise/<scheme>/<channel>")``), with the frames'
    ``mean_capacity_bits`` and ``mean_snr_db``."""
    asset = ctx.analog_schemes[job.scheme]
    sc = ctx.points[job.point]
    channel = create_channel(sc.channels[job.channel].type, **channel_params(sc, job.channel))
    states = channel_states(ctx, sc, job.channel, job.seed)
    n = len(asset.labels)
    sched = frame_schedule(n, len(states), np.random.default_rng(
        derive_seed(job.seed, f"analog-schedule/{job.scheme}")))
    g = torch.Generator().manual_seed(derive_seed(job.seed,
                                                  f"analog-noise/{job.scheme}/{job.channel}"))
    pred = asset.evaluate(asset.images[torch.from_numpy(sched)], channel, states, g)
    hit = np.asarray(pred == asset.labels[sched], dtype=np.float64)  # one image per frame
    se, block = ratio_standard_error(hit, np.ones_like(hit))
    return {"correct": int(hit.sum()), "total": len(sched), "accuracy_se": se,
            "block_frames": block,
            "mean_capacity_bits": _mean_capacity_bits(_phy(ctx, sc), states),
            "mean_snr_db": _mean_snr_db(states)}


register_job_kind("sim", run_sim)
register_job_kind("analog", run_analog)
register_job_kind("scheme-analog", run_scheme_analog)


def run_job(ctx: JobContext, job: Job) -> JobRow:
    """Run ``job`` with the function registered for its kind
    (:func:`~commsldr.scenario.plan.job_kind`).

    Input:
        ctx (:class:`JobContext`): the run's shared assets (tables, analog inputs, sweep points).
        job (:class:`~commsldr.scenario.plan.Job`): the job; ``job.kind`` names its function.

    Output:
        ``dict[str, object]``: the job's row, plain JSON values (its layout is the kind's, e.g.
        :func:`run_sim`'s); equal keys give equal rows in any process.
    """
    return job_kind(job.kind)(ctx, job)


def warm_up(ctx: JobContext) -> None:
    """Build every channel model and PHY of the run once.

    Called before a ``fork`` pool starts, so that the workers inherit what the first job would
    otherwise build (and import) in each of them. Draws one frame per channel from a private
    generator; no global random state changes.
    """
    seen: set[str] = set()
    for sc in ctx.points:
        for label, cfg in sc.channels.items():
            key = stable_hash([cfg.type, channel_params(sc, label)])
            if key not in seen:
                seen.add(key)
                create_channel(cfg.type, **channel_params(sc, label)).states(
                    1, generator=torch.Generator().manual_seed(0))
        _phy(ctx, sc)
