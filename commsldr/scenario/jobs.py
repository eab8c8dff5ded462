"""A scenario's simulations as a list of independent jobs with stable keys, and the rows they write.

A **job** is one simulation: a channel, a policy and a seed under the settings of one sweep point
(``kind="sim"``), or one analog-transmission run of a channel and a seed (``kind="analog"``). Its
**key** is a hash of exactly the settings its result depends on:

* ``sim``: the channel (label, type, parameters as built), the whole ``link`` section, the CSI
  model (``perfect`` for a policy that always gets perfect CSI, e.g. the Oracle), the policy's type
  and parameters, ``frames``, the seed, the table and the metric settings;
* ``analog``: the channel, the ``analog`` section, the seed and the model.

Two sweep points that agree on those settings share one job, so a swept key re-simulates only the
policies and channels it changes (the tutorial's margin sweep of one policy: 252 simulations, not
540). A job's random streams come from the scenario seed and the parts of its key, through
:func:`commsldr.data.derive_seed` (a :class:`numpy.random.SeedSequence` of the seed and a CRC-32 of
the stream name, never Python's ``hash()``): the channel states from ``channel/<label>`` (common
random numbers: every policy and every sweep point of a seed sees the same fading draws), the
simulator's streams from the seed itself. Nothing depends on which process runs a job or when, so
results are identical for any backend, worker count and completion order.

Each finished job appends one JSON line ``{"key", "kind", "row"}`` to ``jobs.jsonl`` in the run
directory (flushed and fsynced); :class:`RowStore` reads them back for ``--resume`` (a line cut
short by a kill is ignored) and the runner builds every result file from the rows.

:func:`run_job` runs a job against a :class:`JobContext` (the operating-point table, the sweep
points and, for analog jobs, the model and test set), which a backend ships to its workers once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from commsldr.scenario.load import LoadedScenario, channel_params, phy_class, phy_params
from commsldr.scenario.schema import Scenario

__all__ = [
    "Job",
    "JobPlan",
    "JobContext",
    "AnalogContext",
    "plan_jobs",
    "run_job",
    "warm_up",
    "simulate_policy",
    "RowStore",
    "ROWS_FILE",
    "stable_hash",
]

#: The file of finished-job rows in a run directory.
ROWS_FILE = "jobs.jsonl"
#: Bump when a job's row changes meaning (old rows are then recomputed on resume).
_FORMAT = 3  # 3: metrics carry accuracy_se/block_frames (block bootstrap)


def stable_hash(obj: Any) -> str:
    """SHA-256 (first 20 hex digits) of the canonical JSON of ``obj`` (sorted keys)."""
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Job:
    """One independent simulation. Small: it pickles to a few hundred bytes.

    ``point`` is the first sweep point whose settings the job runs (any point with the same key
    gives the same result); ``timeline``: also record the first frames (for ``timeline.json``).
    """

    key: str
    kind: str  # "sim" | "analog"
    point: int
    channel: str
    seed: int
    policy: str | None = None
    timeline: bool = False


@dataclass(frozen=True)
class JobPlan:
    """The unique jobs of a scenario in a fixed order, and which job each result cell uses.

    ``sim[(point, channel, policy, seed)]`` and ``analog[(point, channel, seed)]`` are job keys.
    """

    jobs: tuple[Job, ...]
    sim: dict[tuple[int, str, str, int], str]
    analog: dict[tuple[int, str, int], str]
    timeline_point: int

    @property
    def cells(self) -> int:
        """Simulations a run without de-duplication would do (sim and analog cells)."""
        return len(self.sim) + len(self.analog)


@dataclass
class AnalogContext:
    """What analog jobs need: the encoder variants ``{k: model}``, training latent statistics of
    the full latent, the test set."""

    variants: dict[int, Any]  # {k: SplitAutoencoder (eval mode)}
    stats: Any  # LatentStats
    test: Any  # ImageTensors

    def k_of(self, sc: Scenario) -> int:
        """The variant an analog job of ``sc`` sends (``analog.k``, default the full latent)."""
        return int(sc.analog.k or max(self.variants))


@dataclass
class JobContext:
    """Read-only inputs shared by every job of a run (shipped once to each worker).

    Attributes:
        table: the :class:`~commsldr.link.OperatingPointTable`.
        points: the scenario of every sweep point (``LoadedScenario.points[i].scenario``).
        analog: the analog inputs (``None`` when the scenario has no analog curve).
        sensor_macs: ``float [P]`` sensor multiply-accumulates per image of each table point
            (``SplitAEScheme.prepare(...).sensor_macs``); adds the sensor-cost columns to a row.
        plugins: the scenario's ``plugins`` (absolute ``.py`` paths or module names): a worker
            that did not inherit them (``spawn``, Ray) imports them with :meth:`import_plugins`.
    """

    table: Any
    points: list[Scenario]
    analog: AnalogContext | None = None
    sensor_macs: np.ndarray | None = None  # per table point: the split AE's sensor MACs per image
    plugins: list[str] = field(default_factory=list)  # the scenario's plug-in modules
    # worker-local caches (not shipped: cleared by __getstate__)
    _states: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)
    _phys: dict = field(default_factory=dict, repr=False, compare=False)

    def import_plugins(self) -> None:
        """Import the scenario's plug-ins in this process (a no-op for those already imported)."""
        if self.plugins:
            from commsldr.registry import import_plugins

            import_plugins(self.plugins)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_states"] = OrderedDict()
        state["_phys"] = {}
        return state


def _channel_spec(sc: Scenario, label: str) -> dict[str, Any]:
    return {"label": label, "type": sc.channels[label].type,
            "params": channel_params(sc, label), "frames": sc.frames}


def _sim_key(sc: Scenario, label: str, policy: str, seed: int, table_id: str) -> str:
    from commsldr.adapt import get_policy_class

    pc = sc.policies[policy]
    perfect = bool(getattr(get_policy_class(pc.type), "requires_perfect_csi", False))
    return stable_hash({
        "format": _FORMAT, "kind": "sim", "table": table_id,
        "channel": _channel_spec(sc, label),
        "link": dataclasses.asdict(sc.link),
        "csi": "perfect" if perfect else dataclasses.asdict(sc.csi),
        "policy": {"type": pc.type, "params": pc.params},
        "seed": int(seed), "confidence": sc.outputs.confidence,
        "timeline_frames": sc.outputs.timeline_frames,
    })


def _analog_key(sc: Scenario, label: str, seed: int, table_id: str) -> str:
    return stable_hash({
        "format": _FORMAT, "kind": "analog", "model": table_id,
        "channel": _channel_spec(sc, label), "analog": dataclasses.asdict(sc.analog),
        "seed": int(seed),
    })


def plan_jobs(loaded: LoadedScenario, table_id: str) -> JobPlan:
    """The unique jobs of ``loaded`` (sweep point × channel × seed × policy, plus analog).

    Args:
        loaded: the scenario with its sweep points.
        table_id: identifies the operating-point table and model (part of every key), e.g. the
            table's cache key.

    Returns:
        :class:`JobPlan`; jobs are in sweep order (point, channel, policy, seed), first occurrence.
    """
    sc = loaded.scenario
    timeline_point = len(loaded.points) // 2
    first_seed = sc.seeds[0]
    jobs: dict[str, Job] = {}
    sim: dict[tuple[int, str, str, int], str] = {}
    analog: dict[tuple[int, str, int], str] = {}
    for pi, point in enumerate(loaded.points):
        psc = point.scenario
        for ch in psc.channels:
            for pl in psc.policies:
                for s in sc.seeds:
                    key = _sim_key(psc, ch, pl, s, table_id)
                    sim[(pi, ch, pl, s)] = key
                    wants = pi == timeline_point and s == first_seed
                    job = jobs.get(key)
                    if job is None:
                        jobs[key] = Job(key, "sim", pi, ch, int(s), pl, wants)
                    elif wants and not job.timeline:
                        jobs[key] = dataclasses.replace(job, timeline=True)
        if sc.analog.enabled:
            for ch in psc.channels:
                for s in sc.seeds:
                    key = _analog_key(psc, ch, s, table_id)
                    analog[(pi, ch, s)] = key
                    jobs.setdefault(key, Job(key, "analog", pi, ch, int(s)))
    return JobPlan(tuple(jobs.values()), sim, analog, timeline_point)


# ---------------------------------------------------------------------------------------------
# running one job
# ---------------------------------------------------------------------------------------------
def _states(ctx: JobContext, sc: Scenario, label: str, seed: int) -> Any:
    """Channel states of (channel, seed) under ``sc``; a small per-worker LRU cache (consecutive
    jobs usually differ only in the policy)."""
    import torch

    from commsldr_channels import create_channel
    from commsldr.data import derive_seed

    key = stable_hash([_channel_spec(sc, label), int(seed)])
    hit = ctx._states.get(key)
    if hit is not None:
        ctx._states.move_to_end(key)
        return hit
    channel = create_channel(sc.channels[label].type, **channel_params(sc, label))
    g = torch.Generator().manual_seed(derive_seed(seed, f"channel/{label}"))
    states = channel.states(sc.frames, generator=g)
    ctx._states[key] = states
    while len(ctx._states) > 4:
        ctx._states.popitem(last=False)
    return states


def _phy(ctx: JobContext, sc: Scenario) -> Any:
    """The PHY of ``sc.link`` (cached per worker; :func:`simulate` resets PHYs with memory)."""
    key = stable_hash(dataclasses.asdict(sc.link))
    if key not in ctx._phys:
        ctx._phys[key] = phy_class(sc.link.phy)(**phy_params(sc))
    return ctx._phys[key]


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


def simulate_policy(sc: Scenario, table: Any, states: Any, phy: Any, policy_label: str,
                    seed: int) -> tuple[Any, Any]:
    """One simulation of policy ``policy_label`` of ``sc`` on ``table`` over ``states``:
    ``(SimulationResult, policy)``. Policies that require it get perfect CSI, the others the
    scenario's CSI model (which the PHY's link adaptation also sees)."""
    from commsldr.adapt import PointMenu, create_csi_model, create_policy
    from commsldr.link.harq import harq_attempts
    from commsldr.link.simulator import simulate

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

    def run(pol: Any) -> Any:
        return simulate(table, states, phy, pol, images_per_packet=sc.link.images_per_packet,
                        csi_model=csi, fallback=sc.link.fallback,
                        max_attempts=harq_attempts(sc.link.max_attempts,
                                                   sc.link.params.get("harq")),
                        deadline_frames=sc.link.deadline_frames, seed=seed,
                        packet_interval_frames=sc.link.packet_interval_frames)

    if getattr(policy, "hindsight", False):  # best fixed point on this realised trace
        from commsldr.adapt.hindsight import best_fixed_in_hindsight

        return best_fixed_in_hindsight(policy, run)
    return run(policy), policy


def simulate_cell(ctx: JobContext, sc: Scenario, label: str, policy_label: str, seed: int,
                  ) -> tuple[Any, Any, Any]:
    """One job's simulation: ``(SimulationResult, policy, states)`` of a channel, policy and
    seed on the context's table."""
    states = _states(ctx, sc, label, seed)
    result, policy = simulate_policy(sc, ctx.table, states, _phy(ctx, sc), policy_label, seed)
    return result, policy, states


def _run_sim(ctx: JobContext, job: Job) -> dict[str, Any]:
    from commsldr.adapt.metrics import metrics_from_simulation

    sc = ctx.points[job.point]
    assert job.policy is not None
    result, _, states = simulate_cell(ctx, sc, job.channel, job.policy, job.seed)
    cap = np.asarray(_phy(ctx, sc).frame_capacity_bits(states), dtype=np.float64)
    row: dict[str, Any] = {
        "mean_capacity_bits": float(cap.mean()),
        "mean_snr_db": _mean_snr_db(states),
        "metrics": metrics_from_simulation(result, sc.outputs.confidence).to_dict(),
    }
    if ctx.sensor_macs is not None:

        row["cost"] = split_cost(ctx.sensor_macs, phy_channel_uses(_phy(ctx, sc)),
                                 sc.link.images_per_packet)(result)
    if job.timeline:
        row["timeline"] = _timeline(result, ctx.table, sc.outputs.timeline_frames)
    return row


def _run_analog(ctx: JobContext, job: Job) -> dict[str, Any]:
    from commsldr_channels import create_channel
    from commsldr.data import derive_seed
    from commsldr.link.analog import analog_accuracy

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


def warm_up(ctx: JobContext) -> None:
    """Import what jobs use and build every channel model and PHY of the run once.

    Called before a ``fork`` pool starts, so that the workers inherit the imported modules
    instead of each importing them on its first job (Sionna's import alone costs seconds). Draws
    one frame per channel from a private generator; no global random state changes.
    """
    import torch

    import commsldr.adapt  # noqa: F401
    import commsldr.adapt.metrics  # noqa: F401
    import commsldr.link.simulator  # noqa: F401
    from commsldr_channels import create_channel

    if ctx.analog is not None:
        import commsldr.link.analog  # noqa: F401
    seen: set[str] = set()
    for sc in ctx.points:
        for label, cfg in sc.channels.items():
            key = stable_hash([cfg.type, channel_params(sc, label)])
            if key not in seen:
                seen.add(key)
                create_channel(cfg.type, **channel_params(sc, label)).states(
                    1, generator=torch.Generator().manual_seed(0))
        _phy(ctx, sc)


def run_job(ctx: JobContext, job: Job) -> dict[str, Any]:
    """Run ``job``; its row as plain JSON-able Python values."""
    if job.kind == "sim":
        return _run_sim(ctx, job)
    if job.kind == "analog":
        return _run_analog(ctx, job)
    raise ValueError(f"unknown job kind {job.kind!r}")


# ---------------------------------------------------------------------------------------------
# rows on disk
# ---------------------------------------------------------------------------------------------
def normalize_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as it reads back from ``jobs.jsonl`` (so fresh and resumed runs agree bit for bit:
    JSON keeps every float exactly, NaN included)."""
    return json.loads(json.dumps(row))


class RowStore:
    """Append-only ``jobs.jsonl``: one line per finished job.

    Args:
        path: the file (``<run_dir>/jobs.jsonl``).
        resume: keep the rows already there (else start an empty file).
    """

    def __init__(self, path: str | os.PathLike[str], *, resume: bool) -> None:
        self.path = Path(path)
        self.rows: dict[str, dict[str, Any]] = {}
        self.ignored_lines = 0
        if resume and self.path.is_file():
            self._read()
            with open(self.path, "rb") as f:  # a kill may have cut the last line short
                data = f.read()
            if data and not data.endswith(b"\n"):
                with open(self.path, "ab") as f:
                    f.write(b"\n")
        else:
            self.path.write_text("")

    def _read(self) -> None:
        for line in self.path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                key, row = rec["key"], rec["row"]
            except (ValueError, KeyError, TypeError):
                self.ignored_lines += 1
                continue
            if isinstance(key, str) and isinstance(row, dict):
                self.rows[key] = row

    def append(self, job: Job, row: dict[str, Any]) -> dict[str, Any]:
        """Record ``row`` of ``job`` durably (flush + fsync); returns the normalized row."""
        row = normalize_row(row)
        line = json.dumps({"key": job.key, "kind": job.kind, "row": row}) + "\n"
        with open(self.path, "a") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.rows[job.key] = row
        return row

    def done(self, job: Job) -> bool:
        """Whether ``job`` has a usable row (with the timeline when the job must record it)."""
        row = self.rows.get(job.key)
        return row is not None and (not job.timeline or "timeline" in row)


# ---------------------------------------------------------------------------------------------
# sensor-cost columns of a row
# ---------------------------------------------------------------------------------------------
#: the scheme name of the split autoencoder (the runner's own scheme)
SPLIT_AE = "split-ae"


def phy_channel_uses(phy: Any) -> float:
    """Complex channel uses of one frame of ``phy`` (NaN if it does not say)."""
    for attr in ("channel_uses_per_frame", "symbols_per_frame", "num_allocated_re"):
        v = getattr(phy, attr, None)
        if v is not None:
            return float(v)
    return float("nan")


def split_cost(macs: np.ndarray, channel_uses_per_frame: float, m: int,
               scheme: str = SPLIT_AE, scheme_type: str = SPLIT_AE) -> Callable[[Any], dict[str, Any]]:
    """``result -> {scheme, scheme_type, sensor_macs, channel_uses_per_image}`` of one trace:
    the mean of ``macs[point]`` over the frames that sent a packet."""

    def cost(result: Any) -> dict[str, Any]:
        idx = np.asarray(result.point_index)
        idx = idx[idx >= 0]
        return {"scheme": scheme, "scheme_type": scheme_type,
                "sensor_macs": float(macs[idx].mean()) if idx.size else float("nan"),
                "channel_uses_per_image": channel_uses_per_frame / m}

    return cost
