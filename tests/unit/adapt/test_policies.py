"""Policies: registry, the fit rule, hysteresis, outage-aware planning, Oracle bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import ndtr

from commsldr.adapt import (
    CSI,
    CapacityGreedy,
    Fixed,
    Oracle,
    OutageAware,
    ScaleAndTruncation,
    ScaleOnly,
    create_csi_model,
    create_policy,
    list_policies,
)
from commsldr.link.phy import ShannonPHY
from commsldr.scenario import load_scenario
from commsldr.scenario.fuzz import RUN_BASE


def test_registry_lists_the_six_policies():
    assert set(list_policies()) >= {
        "fixed", "scale-only", "scale-and-truncation", "capacity-greedy", "outage-aware", "oracle",
    }


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown policy 'greedy'.*capacity-greedy"):
        create_policy("greedy")
    with pytest.raises(ValueError, match="unknown parameter 'margn'.*margin"):
        create_policy("capacity-greedy", margn=0.1)
    with pytest.raises(ValueError, match="missing required parameter 'k'"):
        create_policy("fixed", scale=1.0)
    with pytest.raises(ValueError, match="margin"):
        create_policy("capacity-greedy", margin=1.5)


def test_fixed_picks_its_point_and_rejects_points_not_on_the_menu(menu):
    p = Fixed(16, 2.0).bind(menu)
    i = p.choose_index(CSI(frame=0))
    assert (menu.points[i].k, menu.points[i].scale) == (16, 2.0)
    assert p.choose(CSI(frame=3, snr_db=-40.0)) == menu.points[i]
    with pytest.raises(ValueError, match=r"scale 3.0 is not on the menu for k=16.*\[0.5, 1.0, 2.0, 4.0\]"):
        Fixed(16, 3.0).bind(menu)
    with pytest.raises(ValueError, match=r"k=12 is not on the menu.*\[8, 16, 32\]"):
        Fixed(12, 1.0).bind(menu)


def brute_force_fit(menu, candidates, bits, budget):
    fits = [i for i in candidates if bits[i] <= budget]
    if not fits:
        return min(candidates, key=lambda i: bits[i])
    return max(fits, key=lambda i: (menu.accuracy[i], -bits[i]))


@pytest.mark.parametrize("margin", [0.0, 0.1, 0.3])
def test_capacity_greedy_is_the_brute_force_argmax(margin, make_menu):
    rng = np.random.default_rng(1)
    for seed in range(5):
        menu = make_menu(seed)
        p = CapacityGreedy(margin).bind(menu)
        for t in range(200):
            cap = rng.uniform(0, 1.3 * menu.packet_bits.max())
            bits = menu.packet_bits * rng.uniform(0.8, 1.2, size=len(menu))
            i = p.choose_index(CSI(frame=t, capacity_bits=cap, packet_bits=bits))
            assert i == brute_force_fit(menu, range(len(menu)), bits, (1 - margin) * cap)


def test_greedy_with_perfect_csi_and_zero_margin_never_violates_capacity(make_menu):
    """Over Rayleigh draws and the real Shannon PHY, whenever some point fits, the chosen fits."""
    from commsldr_channels import create_channel

    menu = make_menu(2)
    phy = ShannonPHY(bandwidth_hz=2e5, frame_s=1e-3)
    state = create_channel("rayleigh-block", mean_snr_db=3.0).states(
        3000, generator=torch.Generator().manual_seed(5))
    csi_model = create_csi_model("perfect")
    csi_model.reset(state, np.random.default_rng(0))
    policy = CapacityGreedy(0.0).bind(menu, phy)
    cap = phy.frame_capacity_bits(state)
    rng = np.random.default_rng(3)
    violations = nothing_fits = 0
    for t in range(len(state)):
        bits = np.round(menu.packet_bits * rng.uniform(0.9, 1.1, size=len(menu)))
        i = policy.choose_index(csi_model.observe(t, packet_bits=bits))
        if bits.min() > cap[t]:
            nothing_fits += 1
        elif bits[i] > cap[t]:
            violations += 1
    assert violations == 0
    assert 0 < nothing_fits < len(state)  # the test covers both regimes


def test_scale_only_keeps_one_encoder(menu):
    rng = np.random.default_rng(0)
    for k in (None, 8):
        p = ScaleOnly(k=k).bind(menu)
        ks = {menu.points[p.choose_index(CSI(frame=t, capacity_bits=c))].k
              for t, c in enumerate(rng.uniform(0, 2000, 300))}
        assert ks == {32 if k is None else 8}


def test_scale_and_truncation_hysteresis(make_menu):
    menu = make_menu(4)
    rng = np.random.default_rng(7)
    x = np.zeros(3000)  # log-capacity: an AR(1) process around the menu's median packet size
    for t in range(1, len(x)):
        x[t] = 0.95 * x[t - 1] + rng.normal(0, 0.25)
    caps = np.exp(x) * np.median(menu.packet_bits)
    greedy = CapacityGreedy().bind(menu)
    sat0 = ScaleAndTruncation(switch_gain=0.0).bind(menu)
    sat = ScaleAndTruncation(switch_gain=0.05).bind(menu)
    g = [greedy.choose_index(CSI(frame=t, capacity_bits=c)) for t, c in enumerate(caps)]
    s0 = [sat0.choose_index(CSI(frame=t, capacity_bits=c)) for t, c in enumerate(caps)]
    s = [sat.choose_index(CSI(frame=t, capacity_bits=c)) for t, c in enumerate(caps)]
    assert g == s0

    def k_switches(seq):
        ks = [menu.points[i].k for i in seq]
        return sum(a != b for a, b in zip(ks, ks[1:], strict=False))

    assert k_switches(s) < k_switches(g)
    # it never violates the budget while its own variant or another fits
    for t, i in enumerate(s):
        if menu.packet_bits.min() <= caps[t]:
            assert menu.packet_bits[i] <= caps[t]
        # and loses at most switch_gain against greedy when both fit
        if menu.packet_bits[g[t]] <= caps[t]:
            assert menu.accuracy[i] >= menu.accuracy[g[t]] - 0.05 - 1e-12


def test_outage_aware_zero_std_equals_greedy_zero_margin(menu):
    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)
    oa = OutageAware(snr_std_db=0.0).bind(menu, phy)
    gr = CapacityGreedy(0.0).bind(menu, phy)
    for t, snr in enumerate(np.linspace(-10, 25, 200)):
        csi = CSI(frame=t, snr_db=float(snr))
        assert oa.choose_index(csi) == gr.choose_index(csi)


def test_outage_aware_delivery_probability_matches_the_gaussian_closed_form(menu):
    """Shannon PHY: P(L fits | snr_hat) = Φ((snr_hat − snr_req(L)) / σ), quadrature error ≤ 1/(2J)."""
    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)
    j = 40
    oa = OutageAware(snr_std_db=2.0, quadrature_points=j).bind(menu, phy)
    bits = menu.packet_bits
    req_db = 10 * np.log10(2 ** (bits / (1e5 * 1e-3)) - 1)
    for snr_hat in (-5.0, 3.0, 10.0, 18.0):
        p = oa.delivery_probability(CSI(frame=0, snr_db=snr_hat), bits)
        exact = ndtr((snr_hat - req_db) / 2.0)
        assert np.max(np.abs(p - exact)) <= 1 / (2 * j) + 1e-9
    # capacity-only CSI: exact closed form
    p = oa.delivery_probability(CSI(frame=0, capacity_bits=1000.0), bits)
    assert np.allclose(p, ndtr(10 * np.log10(1000.0 / bits) / 2.0))


def test_outage_aware_backs_off_under_csi_noise(make_menu):
    """With a noisy estimate it picks cheaper points than the zero-std planner, on average."""
    menu = make_menu(3)
    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)
    careful = OutageAware(snr_std_db=3.0).bind(menu, phy)
    naive = OutageAware(snr_std_db=0.0).bind(menu, phy)
    snrs = np.linspace(0, 20, 100)
    b_careful = [menu.packet_bits[careful.choose_index(CSI(frame=0, snr_db=s))] for s in snrs]
    b_naive = [menu.packet_bits[naive.choose_index(CSI(frame=0, snr_db=s))] for s in snrs]
    assert np.mean(b_careful) < np.mean(b_naive)


def test_oracle_bounds_every_policy_frame_by_frame_on_the_same_draws(make_menu):
    """Expected accuracy a_p·1[delivered] of the Oracle ≥ that of every other policy, every frame."""
    from commsldr_channels import create_channel

    menu = make_menu(5)
    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)
    state = create_channel("rayleigh-block", mean_snr_db=8.0, coherence_frames=3).states(
        1500, generator=torch.Generator().manual_seed(11))
    cap = phy.frame_capacity_bits(state)
    others = {
        "fixed": (Fixed(16, 1.0), create_csi_model("perfect")),
        "greedy-noisy": (CapacityGreedy(0.1), create_csi_model("noisy", std_db=2.0)),
        "greedy-delayed": (CapacityGreedy(0.0), create_csi_model("delayed", delay_frames=2)),
        "scale-only": (ScaleOnly(), create_csi_model("perfect")),
        "sat": (ScaleAndTruncation(0.05), create_csi_model("noisy", std_db=1.0)),
        "outage": (OutageAware(), create_csi_model("noisy", std_db=2.0)),
        "acknack": (CapacityGreedy(), create_csi_model("ack-nack")),
    }
    rng = np.random.default_rng(0)
    bits_t = np.round(menu.packet_bits[None, :] * rng.uniform(0.9, 1.1, (len(state), len(menu))))

    def run(policy, csi_model):
        policy.bind(menu, phy)
        csi_model.reset(state, np.random.default_rng(1))
        value = np.zeros(len(state))
        for t in range(len(state)):
            i = policy.choose_index(csi_model.observe(t, packet_bits=bits_t[t]))
            ok = bits_t[t, i] <= cap[t]
            csi_model.feedback(ok, bits_t[t, i])
            value[t] = menu.accuracy[i] * ok
        return value

    oracle = run(Oracle(), create_csi_model("perfect"))
    for name, (policy, csi_model) in others.items():
        v = run(policy, csi_model)
        assert np.all(oracle >= v - 1e-12), name
        assert oracle.mean() >= v.mean()
    assert oracle.mean() > 0


def test_policies_that_need_an_estimate_send_the_cheapest_point_without_one(menu):
    phy = ShannonPHY()
    for p in (CapacityGreedy(), ScaleAndTruncation(), OutageAware()):
        p.bind(menu, phy)
        assert p.choose_index(CSI(frame=0)) == int(np.argmin(menu.packet_bits))
    with pytest.raises(ValueError, match="needs a link model"):
        OutageAware().bind(menu)


def test_erased_frames_get_the_cheapest_point(menu):
    for p in (CapacityGreedy(), OutageAware()):
        p.bind(menu, ShannonPHY())
        assert p.choose_index(CSI(frame=0, snr_db=30.0, erased=True)) == int(
            np.argmin(menu.packet_bits))


def test_unbound_policy_raises():
    with pytest.raises(RuntimeError, match="bind"):
        CapacityGreedy().choose(CSI(frame=0, capacity_bits=1e4))


def test_packet_bits_shape_is_checked(menu):
    p = CapacityGreedy().bind(menu)
    with pytest.raises(ValueError, match="packet_bits"):
        p.choose_index(CSI(frame=0, capacity_bits=1e4, packet_bits=np.ones(3)))


def test_menu_validation(make_menu):
    from commsldr.adapt import PointMenu

    m = make_menu()
    with pytest.raises(ValueError, match="one entry per point"):
        PointMenu(points=m.points, accuracy=m.accuracy[:-1], packet_bits=m.packet_bits)
    with pytest.raises(ValueError, match=r"accuracy must lie in \[0, 1\]"):
        PointMenu(points=m.points, accuracy=m.accuracy + 1, packet_bits=m.packet_bits)
    with pytest.raises(ValueError, match="positive"):
        PointMenu(points=m.points, accuracy=m.accuracy, packet_bits=-m.packet_bits)
    assert math.isclose(float(m.accuracy.max()), float(np.max(m.accuracy)))


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_outage_aware_planning_at_a_huge_error_std_reaches_no_overflow(make_menu):
    """The Hypothesis run fuzz case: ``policies.outage.snr_std_db: 1e15`` is accepted (any
    number up to 1e15) and puts quadrature nodes at +-7e15 dB into the Shannon PHY."""
    raw = {**RUN_BASE, "policies": {"outage": {"type": "outage-aware", "snr_std_db": 1e15}}}
    assert load_scenario(raw).points  # accepted by validation
    menu = make_menu()
    oa = OutageAware(snr_std_db=1e15).bind(menu, ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3))
    p = oa.delivery_probability(CSI(frame=0, snr_db=10.0), menu.packet_bits)
    assert np.allclose(p, 0.5)  # half the nodes above, half below every finite requirement
    assert 0 <= oa.choose_index(CSI(frame=0, snr_db=10.0)) < len(menu)
