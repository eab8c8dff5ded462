"""Every registered scheduler gives valid owners; each one's own rule holds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.cell import CellConfig, create_scheduler, list_schedulers
from commsldr.cell.linkabs import CellLinkAbstraction
from commsldr.cell.schedulers import SchedulerContext, place_prbs, spread_counts
from commsldr.registry import SCHEDULERS

N, P, F = 6, 12, 2


@pytest.fixture(scope="module")
def ctx() -> SchedulerContext:
    cfg = CellConfig(num_sensors=N, num_prb=P, slots_per_frame=F)
    return SchedulerContext(
        num_sensors=N, num_prb=P, slots_per_frame=F, re_per_prb=144,
        link=CellLinkAbstraction(cfg, P * F),
        power_ratio_db=np.zeros((N, P + 1)),
        menu_accuracy=np.array([0.3, 0.6, 0.8, 0.9]),
        menu_bits=np.array([200.0, 600.0, 1500.0, 4000.0]))


def _sinr(rng: np.random.Generator) -> np.ndarray:
    return 10 ** (rng.normal(8, 6, size=(N, P)) / 10)


def test_builtins_are_registered() -> None:
    assert {"round-robin", "proportional-fair", "max-sinr", "task-aware"} <= set(list_schedulers())
    assert SCHEDULERS.get("task-aware").name == "task-aware"


@pytest.mark.parametrize("name", sorted(SCHEDULERS.names()))
def test_every_scheduler_gives_valid_owners(name: str, ctx: SchedulerContext) -> None:
    rng = np.random.default_rng(1)
    sched = create_scheduler(name)
    sched.reset(ctx)
    for slot in range(4 * F):
        sinr = _sinr(rng)
        owner = sched.allocate(slot % F, sinr)
        assert owner.shape == (P,) and owner.dtype == np.int64
        assert np.all((owner >= -1) & (owner < N))
        sched.update(owner, np.where(owner >= 0, sinr[np.maximum(owner, 0), np.arange(P)], 0.0))
        if slot % F == F - 1:
            sched.end_frame(np.zeros(N, dtype=np.int64), np.zeros(N, dtype=bool))


def test_round_robin_is_equal_over_a_cycle(ctx: SchedulerContext) -> None:
    sched = create_scheduler("round-robin", prbs_per_sensor=5)
    sched.reset(ctx)
    got = np.zeros(N, dtype=int)
    for _ in range(N):  # 2 turns per slot, N slots: every sensor 2 turns
        o = sched.allocate(0, np.ones((N, P)))
        got += np.bincount(o[o >= 0], minlength=N)
    assert np.all(got == 10)


def test_max_sinr_takes_the_best(ctx: SchedulerContext) -> None:
    sinr = _sinr(np.random.default_rng(2))
    sched = create_scheduler("max-sinr")
    sched.reset(ctx)
    np.testing.assert_array_equal(sched.allocate(0, sinr), np.argmax(sinr, axis=0))


def test_proportional_fair_follows_the_pf_metric(ctx: SchedulerContext) -> None:
    """First slot: all averages equal, so each PRB goes to its best rate; afterwards a sensor that
    got much gets less (argmax of rate / average)."""
    rng = np.random.default_rng(3)
    sched = create_scheduler("proportional-fair", beta=0.5)
    sched.reset(ctx)
    sinr = _sinr(rng)
    owner = sched.allocate(0, sinr)
    np.testing.assert_array_equal(owner, np.argmax(sinr, axis=0))
    achieved = sinr[owner, np.arange(P)]
    sched.update(owner, achieved)
    sinr2 = _sinr(rng)
    owner2 = sched.allocate(1, sinr2)
    rate = 144 * np.log2(1 + sinr2)
    last = np.bincount(owner, weights=144 * np.log2(1 + achieved), minlength=N)
    avg = 0.5 * 1.0 + 0.5 * last  # Sionna's discounting from its initial average of 1
    np.testing.assert_array_equal(owner2, np.argmax(rate / avg[:, None], axis=0))


def test_task_aware_respects_budget_and_fairness(ctx: SchedulerContext) -> None:
    rng = np.random.default_rng(4)
    sinr = _sinr(rng)
    for fairness in (0.0, 2.0):
        sched = create_scheduler("task-aware", fairness=fairness)
        sched.reset(ctx)
        owners = [sched.allocate(k, sinr) for k in range(F)]
        units = sum(np.bincount(o[o >= 0], minlength=N) for o in owners)
        assert units.sum() <= P * F
        assert sched._planned_value.max() <= ctx.menu_accuracy.max()


@pytest.mark.parametrize("seed", range(5))
def test_spread_and_place(seed: int) -> None:
    rng = np.random.default_rng(seed)
    units = rng.multinomial(rng.integers(0, P * F + 1), np.ones(N) / N)
    count = spread_counts(units, F)
    np.testing.assert_array_equal(count.sum(0), units)
    assert count.sum(1).max() - count.sum(1).min() <= 1 and count.sum(1).max() <= P
    for k in range(F):
        owner = place_prbs(count[k], _sinr(rng))
        np.testing.assert_array_equal(np.bincount(owner[owner >= 0], minlength=N), count[k])


def test_place_prbs_gives_a_lone_sensor_its_best_prbs() -> None:
    sinr = np.array([[1.0, 9.0, 3.0, 7.0], [5.0, 5.0, 5.0, 5.0]])
    owner = place_prbs(np.array([2, 0]), sinr)
    np.testing.assert_array_equal(owner, [-1, 0, -1, 0])


def test_unknown_scheduler_lists_valid() -> None:
    with pytest.raises(ValueError, match="unknown scheduler 'nope'; valid: .*round-robin"):
        SCHEDULERS.get("nope")
    torch.manual_seed(0)  # nothing global was needed
