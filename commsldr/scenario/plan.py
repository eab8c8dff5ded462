"""The run plan: a scenario resolved once into its sections, their jobs and their outputs.

A run is planned in three typed parts:

* **assets** (:class:`RunAssets`) — what the main process builds or loads before any job runs and
  ships to every worker once: the split autoencoder's operating-point table, every scheme's
  product (a table or an analog evaluator), plug-ins' shared inputs;
* **jobs** (:class:`Job`) — independent units of work with stable keys, run by any backend
  (:mod:`commsldr.scenario.backends`); a job's *kind* names the function that runs it
  (:func:`register_job_kind`), so a worker only needs the kind's module;
* **outputs** — each :class:`Section` turns the rows of its jobs into result rows
  (:class:`~commsldr.scenario.rows.Row`), per-seed rows and timeline lines, in a fixed order.

Sections come from *section builders* (:func:`register_section`): functions
``(loaded, assets) -> [Section, ...]`` called in registration order. The built-in ones
(:mod:`commsldr.scenario.sections`) plan the split autoencoder's simulations, its analog curve and
every entry of ``schemes``; a new feature (a ``cell:`` section, a learning policy's training
jobs) registers its own job kind and section builder and the runner's core does not change.

Two sections may plan the same job (same key): it runs once (:func:`plan_run` de-duplicates), and
each section reads its row.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from commsldr.scenario.rows import JobRow, SectionResult

if TYPE_CHECKING:
    from commsldr.scenario.load import LoadedScenario
    from commsldr.scenario.schema import Scenario

__all__ = ["Job", "Section", "RunAssets", "SchemeRef", "RunPlan", "RunContext", "JobFn", "SectionBuilder",
           "register_job_kind", "job_kind", "job_kinds", "register_section", "section_builders",
           "plan_run", "SPLIT_AE"]

#: the scheme name of the split autoencoder (the scenario's own ``model`` + ``coding``)
SPLIT_AE = "split-ae"


@dataclass(frozen=True)
class Job:
    """One independent unit of work. Small: it pickles to a few hundred bytes.

    Attributes:
        key: a hash of exactly the settings the job's row depends on (equal keys: equal rows).
        kind: the registered job kind that runs it (:func:`register_job_kind`).
        point: the first sweep point whose settings the job runs (any point with the same key
            gives the same result).
        channel: the channel's label.
        seed: the seed of the job's random streams.
        policy: the policy's label (``None`` for kinds without a policy).
        scheme: the scheme's label (whose asset in the job context the job uses).
        timeline: also record the first frames (for ``timeline.json``).
    """

    key: str
    kind: str
    point: int
    channel: str
    seed: int
    policy: str | None = None
    scheme: str = SPLIT_AE
    timeline: bool = False


class Section(ABC):
    """A part of a run's results: the jobs it needs and how their rows become results.

    Subclasses set :attr:`jobs` (in their result order; keys may repeat across sections) and
    :attr:`cells` (the results a run without de-duplication would compute), and implement
    :meth:`assemble`.
    """

    #: the section's jobs (planned, with their keys)
    jobs: list[Job]
    #: result cells before de-duplication (:attr:`RunPlan.cells` sums them)
    cells: int

    @abstractmethod
    def assemble(self, rows: Mapping[str, JobRow]) -> SectionResult:
        """The section's rows, per-seed rows and timeline from the rows of its jobs
        (``rows[job.key]``; every job of the section has one)."""

    def write_outputs(self, run_dir: Path, rows: Mapping[str, JobRow], *, figures: bool,
                      formats: Sequence[str]) -> list[Path]:
        """Files of the section's own beyond ``results.*`` (e.g. the ``cell`` section's tables
        and figures), written after the results; ``figures``: draw figures too. Default: none."""
        return []


@dataclass(frozen=True)
class SchemeRef:
    """A prepared ``schemes`` entry as the plan sees it.

    Attributes:
        id: identifies the entry's table or model and its settings (part of its job keys).
        analog: an analog scheme (an evaluator, no operating-point table).
        sensor_macs: an analog scheme's multiply-accumulates per image on the sensor.
        channel_uses_per_image: an analog scheme's complex channel symbols per image.
    """

    id: str
    analog: bool = False
    sensor_macs: float = float("nan")
    channel_uses_per_image: float = float("nan")


@dataclass
class RunAssets:
    """What sections plan from: the identity of every prepared asset.

    Attributes:
        table_id: identifies the split autoencoder's table and model (part of every split job
            key), e.g. the table's cache key.
        schemes: ``{label: SchemeRef}`` of every prepared ``schemes`` entry; an entry without
            one is not planned.
        extra: what plug-in section builders need from the main process, by name.
    """

    table_id: str
    schemes: dict[str, SchemeRef] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPlan:
    """The unique jobs of a run in a fixed order and the sections that read their rows."""

    jobs: tuple[Job, ...]
    sections: tuple[Section, ...]
    timeline_point: int

    @property
    def cells(self) -> int:
        """Jobs a run without de-duplication would do (every section's cells)."""
        return sum(s.cells for s in self.sections)


class RunContext(Protocol):
    """What a job kind runs against: the run's shared assets, shipped once to each worker
    (:class:`commsldr.scenario.jobs.JobContext`; declared here structurally so that the plan
    does not import the jobs that register in it)."""

    points: list[Scenario]

    def import_plugins(self) -> None:
        """Import the scenario's plug-ins in this process."""


#: ``(context, job) -> row``: runs a job in a worker (plain JSON-able values).
JobFn = Callable[[RunContext, Job], JobRow]
#: ``(loaded, assets) -> sections``: plans the sections of a scenario (none if not concerned).
SectionBuilder = Callable[["LoadedScenario", RunAssets], Sequence[Section]]

_KINDS: dict[str, JobFn] = {}
_BUILDERS: list[SectionBuilder] = []


def register_job_kind(name: str, fn: JobFn) -> JobFn:
    """Register ``fn`` as the function that runs jobs of kind ``name`` (re-registering the same
    function is a no-op; another function under a taken name is an error)."""
    if _KINDS.get(name, fn) is not fn:
        raise ValueError(f"job kind {name!r} is already registered")
    _KINDS[name] = fn
    return fn


def job_kind(name: str) -> JobFn:
    """The function that runs jobs of kind ``name``."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"unknown job kind {name!r}; registered: {', '.join(sorted(_KINDS))} "
                         f"(a plug-in's kind needs its module imported)") from None


def job_kinds() -> list[str]:
    """The registered job kinds."""
    return sorted(_KINDS)


def register_section(builder: SectionBuilder) -> SectionBuilder:
    """Add a section builder (called by :func:`plan_run` after those registered before it)."""
    if builder not in _BUILDERS:
        _BUILDERS.append(builder)
    return builder


def section_builders() -> list[SectionBuilder]:
    """The registered section builders, in call order."""
    return list(_BUILDERS)


def plan_run(loaded: LoadedScenario, assets: RunAssets) -> RunPlan:
    """Every registered builder's sections of ``loaded`` and their unique jobs.

    Input:
        loaded (:class:`~commsldr.scenario.load.LoadedScenario`): the scenario and its sweep
            points.
        assets (:class:`RunAssets`): the identities of the prepared assets (builders may add
            their workers' inputs to ``assets.extra``).

    Output:
        :class:`RunPlan`: the jobs, unique by key, in section order (first occurrence; a job
        planned with and without ``timeline`` keeps ``timeline``), and the sections.
    """
    sections = [s for build in _BUILDERS for s in build(loaded, assets)]
    jobs: dict[str, Job] = {}
    for section in sections:
        for job in section.jobs:
            have = jobs.get(job.key)
            if have is None:
                jobs[job.key] = job
            elif job.timeline and not have.timeline:
                jobs[job.key] = Job(have.key, have.kind, have.point, have.channel, have.seed,
                                    have.policy, have.scheme, True)
    return RunPlan(tuple(jobs.values()), tuple(sections), len(loaded.points) // 2)
