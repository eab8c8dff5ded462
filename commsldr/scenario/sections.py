"""The built-in sections of a run plan: every scheme's jobs, their keys, and their result rows.

* :class:`DigitalSection` — a digital scheme (the split autoencoder, or a ``schemes`` entry with
  an operating-point table: JPEG, WebP, the edge label, a plug-in's): one ``sim`` job per sweep
  point, channel, policy and seed. Its key is a hash of exactly the settings the result depends
  on: the channel (label, type, parameters as built), the whole ``link`` section, the CSI model
  (``perfect`` for a policy that always gets perfect CSI, e.g. the Oracle), the policy's type and
  parameters, ``frames``, the seed, the scheme's table and the metric settings. Two sweep points
  that agree on those share one job, so a swept key re-simulates only the policies and channels
  it changes (the tutorial's margin sweep of one policy: 252 simulations, not 540).
* :class:`AnalogSection` — the split autoencoder's analog curve (``analog.enabled``): one
  ``analog`` job per sweep point, channel and seed (key: the channel, the ``analog`` section, the
  seed and the model).
* :class:`AnalogSchemeSection` — an analog ``schemes`` entry (deep JSCC): one ``scheme-analog``
  job per sweep point, channel and seed (key: the scheme's model and settings, the channel, the
  ``link`` section, the seed); the Wilson interval pools the images of all seeds.

Rows are assembled in sweep order (point, channel, policy; seeds aggregated with
:func:`commsldr.adapt.metrics.aggregate`, whose bootstrap generator is drawn in this fixed order
whatever order the jobs ran in: seed 0 for the split autoencoder,
``derive_seed(0, "ci/<label>")`` for a ``schemes`` entry).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from commsldr.adapt import get_policy_class
from commsldr.adapt.metrics import PolicyMetrics, aggregate, interval_from_counts
from commsldr.data import derive_seed
from commsldr.scenario.jobs import channel_spec, stable_hash
from commsldr.scenario.load import scheme_policies
from commsldr.scenario.plan import (
    SPLIT_AE,
    Job,
    RunAssets,
    RunPlan,
    SchemeRef,
    Section,
    plan_run,
    register_section,
)
from commsldr.scenario.rows import JobRow, Row, SectionResult
from commsldr.scenario.schema import PolicyConfig, Scenario

if TYPE_CHECKING:
    from commsldr.scenario.load import LoadedScenario

__all__ = ["DigitalSection", "AnalogSection", "AnalogSchemeSection", "builtin_sections",
           "plan_jobs", "SPLIT_AE_ANALOG"]

#: Bump when a job's row changes meaning (old rows are then recomputed on resume).
_FORMAT = 3  # 3: metrics carry accuracy_se/block_frames (block bootstrap over frames)
#: the scheme name of the split autoencoder's analog curve
SPLIT_AE_ANALOG = "split-ae-analog"


def _sim_key(sc: Scenario, label: str, policy: PolicyConfig, seed: int, table_id: str,
             scheme: str) -> str:
    perfect = bool(getattr(get_policy_class(policy.type), "requires_perfect_csi", False))
    spec: dict[str, object] = {
        "format": _FORMAT, "kind": "sim", "table": table_id,
        "channel": channel_spec(sc, label),
        "link": dataclasses.asdict(sc.link),
        "csi": "perfect" if perfect else dataclasses.asdict(sc.csi),
        "policy": {"type": policy.type, "params": policy.params},
        "seed": int(seed), "confidence": sc.outputs.confidence,
        "timeline_frames": sc.outputs.timeline_frames,
    }
    if scheme != SPLIT_AE:
        spec["scheme"] = scheme
    return stable_hash(spec)


def _mean_cost(costs: Sequence[Mapping[str, object]]) -> dict[str, object]:
    first = dict(costs[0])
    macs = [float(c["sensor_macs"]) for c in costs]  # type: ignore[arg-type]
    first["sensor_macs"] = (float(np.nanmean(macs)) if any(np.isfinite(macs))
                            else float("nan"))
    return first


class DigitalSection(Section):
    """A digital scheme's ``sim`` jobs and rows.

    Args:
        loaded: the scenario with its sweep points.
        scheme: the scheme's label (``split-ae`` or a ``schemes`` key).
        table_id: identifies the scheme's table (part of every key).
        timeline_prefix: prefix of the scheme's lines in ``timeline.json`` (``""``: the policy
            label alone).
    """

    def __init__(self, loaded: LoadedScenario, scheme: str, table_id: str, *,
                 timeline_prefix: str = "") -> None:
        self.loaded, self.scheme, self.timeline_prefix = loaded, scheme, timeline_prefix
        sc = loaded.scenario
        self.timeline_point = len(loaded.points) // 2
        self.cell_keys: dict[tuple[int, str, str, int], str] = {}
        jobs: dict[str, Job] = {}
        for pi in range(len(loaded.points)):
            psc = self.point_scenario(pi)
            for ch in sc.channels:
                for pl, pc in psc.policies.items():
                    for s in sc.seeds:
                        key = _sim_key(psc, ch, pc, s, table_id, scheme)
                        self.cell_keys[(pi, ch, pl, s)] = key
                        wants = pi == self.timeline_point and s == sc.seeds[0]
                        job = jobs.get(key)
                        if job is None:
                            jobs[key] = Job(key, "sim", pi, ch, int(s), pl, scheme, wants)
                        elif wants and not job.timeline:
                            jobs[key] = dataclasses.replace(job, timeline=True)
        self.jobs = list(jobs.values())
        self.cells = len(self.cell_keys)

    def point_scenario(self, pi: int) -> Scenario:
        """Sweep point ``pi``'s scenario with the scheme's policies."""
        psc = self.loaded.points[pi].scenario
        if self.scheme == SPLIT_AE:
            return psc
        return dataclasses.replace(psc, policies=scheme_policies(psc, self.scheme))

    def assemble(self, rows: Mapping[str, JobRow]) -> SectionResult:
        sc = self.loaded.scenario
        ci_rng = np.random.default_rng(0 if self.scheme == SPLIT_AE
                                       else derive_seed(0, f"ci/{self.scheme}"))
        out = SectionResult()
        for pi, point in enumerate(self.loaded.points):
            psc = self.point_scenario(pi)
            for ch in sc.channels:
                for pl, pc in psc.policies.items():
                    metrics: list[PolicyMetrics] = []
                    caps: list[float] = []
                    snrs: list[float] = []
                    costs: list[Mapping[str, object]] = []
                    for s in sc.seeds:
                        r = rows[self.cell_keys[(pi, ch, pl, s)]]
                        mt = PolicyMetrics(**r["metrics"])  # type: ignore[arg-type]
                        cost: Mapping[str, object] = r["cost"]  # type: ignore[assignment]
                        cap, snr = float(r["mean_capacity_bits"]), float(r["mean_snr_db"])  # type: ignore[arg-type]
                        metrics.append(mt)
                        caps.append(cap)
                        snrs.append(snr)
                        costs.append(cost)
                        out.per_seed.append(Row.digital(
                            point=pi, scheme=self.scheme, channel=ch, policy=pl, seed=s,
                            sweep=point.values, mean_capacity_bits=cap, mean_snr_db=snr,
                            metrics=mt, cost=cost))
                        if pi == self.timeline_point and s == sc.seeds[0]:
                            out.timeline.setdefault(ch, {})[self.timeline_prefix + pl] = \
                                r["timeline"]
                        if "correct_curve" in r:
                            out.curves[(pi, ch, self.timeline_prefix + pl, s)] = r["correct_curve"]
                    agg = aggregate(metrics, ci=sc.outputs.ci, confidence=sc.outputs.confidence,
                                    generator=ci_rng)
                    out.rows.append(Row.digital(
                        point=pi, scheme=self.scheme, channel=ch, policy=pl,
                        policy_type=pc.type, sweep=point.values,
                        mean_capacity_bits=float(np.mean(caps)),
                        mean_snr_db=float(np.mean(snrs)), metrics=agg, cost=_mean_cost(costs)))
        return out


class _AnalogCells(Section):
    """Shared by the analog sections: one job per sweep point, channel label and seed (the
    labels of the scenario, as in :class:`DigitalSection`; every sweep point has the same), keyed
    by ``spec(point_scenario, label)`` and the seed."""

    loaded: LoadedScenario
    cell_keys: dict[tuple[int, str, int], str]

    def _plan(self, kind: str, spec: Callable[[Scenario, str], dict[str, object]],
              **job_fields: str) -> None:
        sc = self.loaded.scenario
        self.cell_keys = {}
        jobs: dict[str, Job] = {}
        for pi, point in enumerate(self.loaded.points):
            for ch in sc.channels:
                for s in sc.seeds:
                    key = stable_hash({**spec(point.scenario, ch), "seed": int(s)})
                    self.cell_keys[(pi, ch, s)] = key
                    jobs.setdefault(key, Job(key, kind, pi, ch, int(s), **job_fields))
        self.jobs = list(jobs.values())
        self.cells = len(self.cell_keys)

    def _cells(self, rows: Mapping[str, JobRow]) -> Iterator[tuple[int, str, list[JobRow]]]:
        """``(point index, channel label, the seeds' rows)`` in sweep order."""
        sc = self.loaded.scenario
        for pi in range(len(self.loaded.points)):
            for ch in sc.channels:
                yield pi, ch, [rows[self.cell_keys[(pi, ch, s)]] for s in sc.seeds]


class AnalogSection(_AnalogCells):
    """The split autoencoder's analog curve: ``analog`` jobs and one row per point and channel."""

    def __init__(self, loaded: LoadedScenario, model_id: str) -> None:
        self.loaded = loaded
        self._plan("analog", lambda psc, ch: {
            "format": _FORMAT, "kind": "analog", "model": model_id,
            "channel": channel_spec(psc, ch), "analog": dataclasses.asdict(psc.analog)})

    def assemble(self, rows: Mapping[str, JobRow]) -> SectionResult:
        sc = self.loaded.scenario
        out = SectionResult()
        for pi, ch, cells in self._cells(rows):
            point = self.loaded.points[pi]
            correct = sum(int(c["correct"]) for c in cells)  # type: ignore[call-overload]
            total = sum(int(c["total"]) for c in cells)  # type: ignore[call-overload]
            k = int(cells[0]["k"])  # type: ignore[call-overload]
            low, high, method = interval_from_counts(
                [int(c["correct"]) for c in cells],  # type: ignore[call-overload]
                [int(c["total"]) for c in cells],  # type: ignore[call-overload]
                ci=sc.outputs.ci, confidence=sc.outputs.confidence)
            out.rows.append(Row.analog(
                point=pi, scheme=SPLIT_AE_ANALOG, channel=ch, policy=f"analog (k={k})",
                sweep=point.values, correct=correct, total=total, accuracy_low=low,
                accuracy_high=high, scheme_type=SPLIT_AE_ANALOG,
                channel_uses_per_image=k * point.scenario.analog.symbols_per_entry,
                ci_method=method, seeds=len(cells)))
        return out


class AnalogSchemeSection(_AnalogCells):
    """An analog ``schemes`` entry: ``scheme-analog`` jobs and one row per point and channel.

    Args:
        loaded: the scenario with its sweep points.
        scheme: the entry's label.
        scheme_id: identifies the scheme's model and settings.
        sensor_macs: multiply-accumulates the sensor spends per image.
        channel_uses_per_image: complex channel symbols per image.
    """

    def __init__(self, loaded: LoadedScenario, scheme: str, scheme_id: str, *,
                 sensor_macs: float, channel_uses_per_image: float) -> None:
        self.loaded, self.scheme = loaded, scheme
        self.sensor_macs, self.channel_uses_per_image = sensor_macs, channel_uses_per_image
        self._plan("scheme-analog", lambda psc, ch: {
            "format": _FORMAT, "kind": "scheme-analog", "scheme": scheme, "id": scheme_id,
            "channel": channel_spec(psc, ch), "link": dataclasses.asdict(psc.link)},
            scheme=scheme)

    def assemble(self, rows: Mapping[str, JobRow]) -> SectionResult:
        sc = self.loaded.scenario
        out = SectionResult()
        type_ = sc.schemes[self.scheme].type
        for pi, ch, cells in self._cells(rows):
            point = self.loaded.points[pi]
            correct = sum(int(c["correct"]) for c in cells)  # type: ignore[call-overload]
            total = sum(int(c["total"]) for c in cells)  # type: ignore[call-overload]
            low, high, method = interval_from_counts(
                [int(c["correct"]) for c in cells],  # type: ignore[call-overload]
                [int(c["total"]) for c in cells],  # type: ignore[call-overload]
                ci=sc.outputs.ci, confidence=sc.outputs.confidence,
                accuracy_se=[float(c["accuracy_se"]) for c in cells],  # type: ignore[arg-type]
                block_frames=[float(c["block_frames"]) for c in cells])  # type: ignore[arg-type]
            out.rows.append(Row.analog(
                point=pi, scheme=self.scheme, channel=ch, policy="analog",
                ci_method=method, seeds=len(cells),
                sweep=point.values, correct=correct, total=total, accuracy_low=low,
                accuracy_high=high, scheme_type=type_,
                mean_capacity_bits=float(np.mean([c["mean_capacity_bits"] for c in cells])),
                mean_snr_db=float(np.mean([c["mean_snr_db"] for c in cells])),
                sensor_macs=float(self.sensor_macs),
                channel_uses_per_image=float(self.channel_uses_per_image)))
        return out


def builtin_sections(loaded: LoadedScenario, assets: RunAssets) -> list[Section]:
    """The split autoencoder's simulations, its analog curve (``analog.enabled``) and every
    ``schemes`` entry prepared in ``assets`` (digital or analog), in the order of the results."""
    sc = loaded.scenario
    sections: list[Section] = [DigitalSection(loaded, SPLIT_AE, assets.table_id,
                                              timeline_prefix=f"{SPLIT_AE}: " if sc.schemes
                                              else "")]
    if sc.analog.enabled:
        sections.append(AnalogSection(loaded, assets.table_id))
    for label in sc.schemes:
        ref = assets.schemes.get(label)
        if ref is None:
            continue
        if ref.analog:
            sections.append(AnalogSchemeSection(
                loaded, label, ref.id, sensor_macs=ref.sensor_macs,
                channel_uses_per_image=ref.channel_uses_per_image))
        else:
            sections.append(DigitalSection(loaded, label, ref.id, timeline_prefix=f"{label}: "))
    return sections


register_section(builtin_sections)


def plan_jobs(loaded: LoadedScenario, table_id: str,
              schemes: Mapping[str, SchemeRef] | None = None,
              extra: dict[str, object] | None = None) -> RunPlan:
    """The run plan of ``loaded`` (every registered section's unique jobs) for the split
    autoencoder's table ``table_id`` and the prepared ``schemes`` entries.

    ``extra`` becomes :attr:`RunAssets.extra`: plug-in section builders may add the inputs their
    jobs read there (the runner ships it to the workers as ``JobContext.extra``).

    Returns:
        :class:`~commsldr.scenario.plan.RunPlan`; jobs in section order (the split
        autoencoder's sweep order first: point, channel, policy, seed), first occurrence.
    """
    return plan_run(loaded, RunAssets(table_id, dict(schemes or {}),
                                      extra if extra is not None else {}))
