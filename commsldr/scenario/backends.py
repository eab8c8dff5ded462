"""Backends: who runs a scenario's jobs. One small interface, three implementations.

``idle`` (optional) is work for the calling process while workers run the jobs (the runner
imports what it needs afterwards, e.g. the plotting library); a backend without workers ignores
it.

A backend gets the shared :class:`~commsldr.scenario.jobs.JobContext` (built once by the runner:
the operating-point table, the sweep points, the analog inputs), the jobs still to run, and a
callback; it calls ``on_done(job, row)`` in the calling process as each job finishes, in any
order. The runner writes the row and, at the end, builds the results from all rows in a fixed
order, so the backend and its worker count never change the results.

* :class:`SerialBackend` — in this process, one job after another (``--jobs 1``).
* :class:`PoolBackend` — a local process pool (``--jobs N``). The context reaches each worker
  once, through the pool initializer: inherited by ``fork`` on Linux (no copy until written),
  pickled once per worker where only ``spawn`` exists. Each job pickles as a few hundred bytes.
* :class:`RayBackend` — Ray tasks on an existing cluster (``address="auto"`` or ``"HOST:PORT"``)
  or on a local Ray instance (``address=None``). The context goes into Ray's object store once
  (:func:`ray.put`); each worker process fetches it on its first task and keeps it. A task
  carries a few jobs (about four tasks per cluster CPU, at most :attr:`RayBackend.max_chunk`
  jobs), whose rows are written when the task returns. A local instance dies with the calling
  process: a :class:`~commsldr.workers.TreeReaper` watchdog kills its raylet, GCS, agents and
  workers when the caller ends without shutting Ray down (``kill -9``: Ray's own fate sharing
  left ``ray::DashboardAgent`` and ``ray::RuntimeEnvAgent`` running).
  Needs the optional extra ``pip install "commsldr[ray]"``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

import torch

from commsldr.scenario.jobs import JobContext, run_job, warm_up
from commsldr.scenario.plan import Job
from commsldr.scenario.rows import JobRow
from commsldr.workers import TreeReaper, pool_context, worker_initializer

if TYPE_CHECKING:
    from ray import ObjectRef

__all__ = ["Backend", "SerialBackend", "PoolBackend", "RayBackend", "make_backend", "BACKENDS",
           "default_jobs"]

#: Backend names accepted by :func:`make_backend` (and ``commsldr run --backend``).
BACKENDS = ("local", "ray")

OnDone = Callable[[Job, JobRow], None]


class Backend(Protocol):
    """Runs jobs; calls ``on_done(job, row)`` in the caller's process as each one finishes."""

    name: str

    def run(self, ctx: JobContext, jobs: Sequence[Job], on_done: OnDone,
            idle: Callable[[], None] | None = None) -> None: ...


def default_jobs() -> int:
    """The cores this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class SerialBackend:
    """Every job in this process, in the given order."""

    name = "serial"

    def run(self, ctx: JobContext, jobs: Sequence[Job], on_done: OnDone,
            idle: Callable[[], None] | None = None) -> None:
        for job in jobs:
            on_done(job, run_job(ctx, job))


# ---------------------------------------------------------------------------------------------
# local process pool
# ---------------------------------------------------------------------------------------------
_WORKER_CTX: JobContext | None = None


def _init_worker(ctx: JobContext) -> None:

    global _WORKER_CTX
    _WORKER_CTX = ctx
    torch.set_num_threads(1)  # one core per worker; the pool is the parallelism
    ctx.import_plugins()  # inherited with fork; imported here with spawn


def _pool_job(job: Job) -> JobRow:
    if _WORKER_CTX is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("pool worker without a job context")
    return run_job(_WORKER_CTX, job)


class PoolBackend:
    """A local pool of ``workers`` processes (``fork`` where the platform has it)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)

    def run(self, ctx: JobContext, jobs: Sequence[Job], on_done: OnDone,
            idle: Callable[[], None] | None = None) -> None:
        if not jobs:
            return
        mp = pool_context()
        if mp.get_start_method() == "fork":
            warm_up(ctx)  # the workers inherit the imports
        # every worker dies with this process, even on kill -9 (commsldr.workers)
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=mp,
                                   initializer=worker_initializer,
                                   initargs=(os.getpid(), _init_worker, ctx))
        try:
            pending = {pool.submit(_pool_job, job): job for job in jobs}
            if idle is not None:  # every worker is started (no fork after this point)
                idle()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    on_done(pending.pop(fut), fut.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------------------------
# Ray
# ---------------------------------------------------------------------------------------------
_RAY_CTX: tuple[str, JobContext] | None = None


def _ray_jobs(ctx_box: list[ObjectRef], jobs: list[Job]) -> list[JobRow]:
    """A Ray task of a few jobs: fetch the context once per worker process
    (``ctx_box = [ObjectRef]``, boxed so that Ray does not resolve it for every task)."""
    import ray  # an optional dependency, present in a Ray worker

    global _RAY_CTX
    ref = ctx_box[0]
    if _RAY_CTX is None or _RAY_CTX[0] != ref.hex():
        torch.set_num_threads(1)
        ctx = ray.get(ref)
        ctx.import_plugins()
        _RAY_CTX = (ref.hex(), ctx)
    return [run_job(_RAY_CTX[1], job) for job in jobs]


class RayBackend:
    """Ray tasks (one CPU each) on the cluster at ``address``, or on a local Ray instance.

    Args:
        address: ``"auto"`` (the cluster this machine belongs to), ``"HOST:PORT"`` (the head's
            GCS address) or ``None`` (start a local Ray instance for this run).
        num_cpus: CPUs of a local instance (``None``: Ray's default, all cores); ignored when
            connecting to a cluster.
    """

    name = "ray"
    #: most jobs per Ray task (tasks carry a few jobs each: about four tasks per cluster CPU, so
    #: Ray's per-task cost is paid less often while the load still balances)
    max_chunk = 8

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus

    def run(self, ctx: JobContext, jobs: Sequence[Job], on_done: OnDone,
            idle: Callable[[], None] | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise RuntimeError("--backend ray needs Ray: pip install 'commsldr[ray]' "
                               "(or pip install ray)") from None
        if not jobs:
            return
        # a local instance's processes die with this one, kill -9 included (commsldr.workers);
        # the watchdog starts before ray.init so that it records Ray's processes as they start
        local = self.address is None and not ray.is_initialized()
        with TreeReaper() if local else contextlib.nullcontext():
            started = False
            try:
                if not ray.is_initialized():
                    kwargs: dict[str, object] = {"log_to_driver": False}
                    if self.address is None:
                        kwargs.update(include_dashboard=False, num_cpus=self.num_cpus)
                    ray.init(address=self.address, **kwargs)
                    started = True
                self._run(ray, ctx, jobs, on_done, idle)
            finally:
                if started:
                    ray.shutdown()

    def _run(self, ray: Any, ctx: JobContext, jobs: Sequence[Job], on_done: OnDone,
             idle: Callable[[], None] | None) -> None:
        ctx_ref = ray.put(ctx)
        task = ray.remote(num_cpus=1, max_retries=2)(_ray_jobs)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = min(self.max_chunk, max(1, len(jobs) // (4 * cpus)))
        chunks = [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]
        pending = {task.remote([ctx_ref], chunk): chunk for chunk in chunks}
        if idle is not None:
            idle()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                for job, row in zip(pending.pop(ref), ray.get(ref), strict=True):
                    on_done(job, row)


def make_backend(name: str = "local", *, jobs: int | None = None,
                 address: str | None = None) -> Backend:
    """The backend called ``name``: ``"local"`` (serial for ``jobs == 1``, else a process pool of
    ``jobs`` workers, default :func:`default_jobs`) or ``"ray"`` (``address``: see
    :class:`RayBackend`; ``jobs`` sizes a local Ray instance)."""
    if name == "local":
        n = default_jobs() if jobs is None else int(jobs)
        if n < 1:
            raise ValueError(f"jobs must be >= 1, got {n}")
        return SerialBackend() if n == 1 else PoolBackend(n)
    if name == "ray":
        return RayBackend(address, num_cpus=jobs)
    raise ValueError(f"unknown backend {name!r}; allowed: {', '.join(BACKENDS)}")
