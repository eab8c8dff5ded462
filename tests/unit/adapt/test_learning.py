"""OLLA and Thompson sampling on the menu: the loop's closed form, convergence on a stationary
channel, window/discount bookkeeping, the monotone posterior, clear parameter errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.adapt import CSI, PointMenu, create_csi_model, create_policy
from commsldr.adapt.learning import OLLA, ThompsonMenu
from commsldr.link.phy import ShannonPHY
from commsldr.link.simulator import simulate
from commsldr.link.synthetic_table import synthetic_table
from commsldr_channels import LinkState, create_channel

PHY = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)


@pytest.fixture(scope="module")
def table():
    return synthetic_table(num_images=300)


def test_olla_offset_is_the_closed_form_of_its_feedback(menu):
    """Δ_T = δ_up·#NACK − δ_down·#ACK while unclipped; δ_up/δ_down = (1 − ε)/ε."""
    rng = np.random.default_rng(0)
    for target in (0.05, 0.1, 0.3):
        p = OLLA(target=target, step_up_db=0.5, offset_min_db=-100, offset_max_db=100).bind(menu)
        acks = rng.random(200) < 0.8
        for a in acks:
            p.update(bool(a))
        down = 0.5 * target / (1 - target)
        assert p.offset_db == pytest.approx(0.5 * (~acks).sum() - down * acks.sum(), abs=1e-9)


@pytest.mark.parametrize("target", [0.1, 0.3])
def test_olla_loss_rate_settles_at_its_target(table, target):
    """The loop identity: loss rate = ε + Δ_T / (T (δ_up + δ_down)) exactly (no clipping), so on
    i.i.d. Rayleigh fading the loss rate is within |Δ_T| / (T (δ_up + δ_down)) of ε."""
    ch = create_channel("rayleigh-block", mean_snr_db=12.0, coherence_frames=1)
    states = ch.states(4000, generator=torch.Generator().manual_seed(1))
    menu = PointMenu.from_table(table)
    pol = OLLA(target=target, step_up_db=1.0).bind(menu, PHY)
    r = simulate(table, states, PHY, pol, csi_model=create_csi_model("ack-nack"), seed=0)
    delta = pol.offset_db  # after the last update (the final outcome is not yet fed back)
    bound = (abs(delta) + pol.step_up_db) / (4000 * (pol.step_up_db + pol.step_down_db))
    assert abs(r.outage - target) <= bound + 1e-12
    assert abs(r.outage - target) < 0.02


def test_olla_uses_the_snr_estimate_when_there_is_one(menu):
    """With an SNR the point is the best one that fits C(snr − Δ)."""
    p = OLLA(target=0.1).bind(menu, PHY)
    for snr in (-5.0, 0.0, 5.0, 10.0, 20.0):
        i = p.choose_index(CSI(frame=0, snr_db=snr))
        cap = PHY.capacity_bits(snr - p.offset_db)
        fit = np.flatnonzero(menu.packet_bits <= cap)
        if len(fit):
            assert menu.accuracy[i] == menu.accuracy[fit].max()
        else:
            assert i == int(np.argmin(menu.packet_bits))


class _Const:
    def __init__(self, snr_db):
        self.snr_db = snr_db

    def states(self, n, *, generator):
        return LinkState(snr_db=torch.full((n,), float(self.snr_db)))


@pytest.mark.parametrize("snr_db", [3.0, 6.0, 12.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_thompson_finds_the_best_point_of_a_stationary_channel(table, snr_db, seed):
    """Constant SNR: the best point is the most accurate one that fits; stationary Thompson
    sampling (discount 1) plays it in >= 90 % of the last 500 of 2000 frames, on every seed."""
    menu = PointMenu.from_table(table)
    cap = PHY.capacity_bits(snr_db)
    _, pbits = table.packets(1)
    always = np.flatnonzero(pbits.max(axis=1) <= cap)
    best = always[np.argmax(menu.accuracy[always])]
    pol = ThompsonMenu(discount=1.0, context="none", seed=seed).bind(menu)
    states = _Const(snr_db).states(2000, generator=None)
    r = simulate(table, states, PHY, pol, csi_model=create_csi_model("ack-nack"), seed=seed)
    assert np.mean(r.point_index[-500:] == best) >= 0.9


def test_window_keeps_exactly_the_last_outcomes(menu):
    rng = np.random.default_rng(3)
    w = 7
    p = ThompsonMenu(discount=1.0, window=w, context="none", monotone=False).bind(menu)
    hist = []
    for _ in range(30):
        pt, ok = int(rng.integers(len(menu))), bool(rng.random() < 0.5)
        p.update(pt, ok)
        hist.append((pt, ok))
    s = np.zeros(len(menu))
    f = np.zeros(len(menu))
    for pt, ok in hist[-w:]:
        (s if ok else f)[pt] += 1
    assert np.allclose(p._s[0], s) and np.allclose(p._f[0], f)


def test_discount_is_geometric(menu):
    p = ThompsonMenu(discount=0.5, context="none", monotone=False).bind(menu)
    for _ in range(3):
        p.update(2, True)
    assert p._s[0, 2] == pytest.approx(1 + 0.5 + 0.25)


def test_monotone_draws_do_not_rise_with_packet_size(menu):
    p = ThompsonMenu(seed=4).bind(menu)
    rng = np.random.default_rng(0)
    for _ in range(50):
        p.update(int(rng.integers(len(menu))), bool(rng.random() < 0.6))
    order = np.argsort(menu.packet_bits)
    fb = menu.fallback_accuracy
    for _ in range(20):
        v = p.sample_values()
        theta = (v - fb) / (menu.accuracy - fb)
        assert np.all(np.diff(theta[order]) <= 1e-12)


def test_contexts_are_kept_apart(menu):
    p = ThompsonMenu(discount=1.0, context="last", monotone=False).bind(menu)
    p.update(3, True)   # in context 0 (nothing known); next context: ACK at point 3
    p.update(5, False)  # in context 1 + 3
    assert p._s[0, 3] == 1 and p._f[1 + 3, 5] == 1 and p._ctx == 1 + len(menu) + 5
    q = ThompsonMenu(discount=1.0, context="ack", context_history=2).bind(menu)
    q.update(0, True)
    q.update(0, False)
    assert q._ctx == 3 * 2 + 1  # newest first: NACK (2) then ACK (1)


def test_same_seed_same_choices_and_reset_restarts(table):
    menu = PointMenu.from_table(table)
    ch = create_channel("rayleigh-block", mean_snr_db=8.0, coherence_frames=1)
    states = ch.states(300, generator=torch.Generator().manual_seed(0))
    pol = create_policy("thompson", seed=7).bind(menu)
    a = simulate(table, states, PHY, pol, csi_model=create_csi_model("ack-nack"), seed=0)
    b = simulate(table, states, PHY, pol, csi_model=create_csi_model("ack-nack"), seed=0)
    assert np.array_equal(a.point_index, b.point_index)


@pytest.mark.parametrize("name, params, match", [
    ("olla", {"target": 1.0}, "target must be a number in"),
    ("olla", {"reference": "cqi"}, "reference must be one of"),
    ("thompson", {"discount": 0.0}, "discount must be a number in"),
    ("thompson", {"window": 5}, "window: a sliding window needs discount 1"),
    ("thompson", {"context": "snr"}, "context must be one of"),
    ("thompson", {"prior": [1.0]}, "prior must be two numbers"),
])
def test_bad_parameters_are_named(name, params, match):
    with pytest.raises(ValueError, match=match):
        create_policy(name, **params)


def test_learning_policies_get_every_outcome_through_the_harq_hook(table):
    """With a HARQ round trip of 3 frames and 3 processes the outcome of frame t arrives at
    t + 3: the policy is credited every transmission's (point, ACK/NACK), in order."""
    menu = PointMenu.from_table(table)
    ch = create_channel("rayleigh-block", mean_snr_db=8.0, coherence_frames=1)
    states = ch.states(200, generator=torch.Generator().manual_seed(2))
    seen = []

    class Recording(ThompsonMenu):
        def update(self, point, delivered, bits=None):
            seen.append((point, delivered))
            super().update(point, delivered, bits)

    pol = Recording(seed=1).bind(menu)
    r = simulate(table, states, PHY, pol, csi_model=create_csi_model("ack-nack"), seed=0,
                 harq_timing={"rtt_frames": 3, "processes": 3})
    sent = np.flatnonzero(r.attempt > 0)
    truth = [(int(r.point_index[t]), bool(r.delivered[t])) for t in sent]
    assert len(seen) >= len(truth) - 4 and seen == truth[: len(seen)]


@pytest.mark.parametrize("seed", range(5))
def test_isotonic_projection_is_the_weighted_least_squares_one(seed):
    """PAVA against brute force: the projection is non-increasing, keeps the weighted mean, and
    no non-increasing sequence on a grid is closer in weighted squared error."""
    from itertools import combinations_with_replacement

    from commsldr.adapt.learning import _isotonic_decreasing

    rng = np.random.default_rng(seed)
    y, w = rng.random(4), rng.uniform(0.5, 3.0, 4)
    p = _isotonic_decreasing(y, w)
    assert np.all(np.diff(p) <= 1e-12)
    assert np.isclose(np.sum(w * p), np.sum(w * y))
    best = np.sum(w * (y - p) ** 2)
    grid = np.linspace(0, 1, 21)
    for c in combinations_with_replacement(grid[::-1], 4):
        assert np.sum(w * (y - np.array(c)) ** 2) >= best - 1e-12
