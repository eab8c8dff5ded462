"""HARQ timing in the simulator: RTT, parallel processes, the saturated queue, the HARQ feedback
hook, re-picks, and latency statistics that count losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.adapt import Fixed, PointMenu
from commsldr.adapt.csi import create_csi_model
from commsldr.link import NRPHY, ShannonPHY, simulate
from commsldr.link.harq import combined_snr_db
from commsldr.link.harq_loop import HARQFeedback, HARQTiming
from commsldr_channels import LinkState, create_channel


class _Recorder:
    """A non-static policy that records the CSI it sees and every HARQ feedback."""

    def __init__(self, point, retx_point=None):
        self.point, self.retx_point = point, retx_point
        self.seen, self.fb = [], []

    def reset(self):
        self.seen, self.fb = [], []

    def choose(self, csi):
        self.seen.append(csi)
        if self.retx_point is not None and getattr(csi, "attempt", 1) > 1:
            return self.retx_point
        return self.point

    def harq_feedback(self, fb: HARQFeedback) -> None:
        self.fb.append(fb)


def _fixed(table, point):
    """The policy ``fixed`` at ``point``, bound to the table's menu (a static policy)."""
    return Fixed(point.k, point.scale).bind(PointMenu.from_table(table))


def _states(snr_db: float, n: int, erased: bool = False) -> LinkState:
    return LinkState(snr_db=torch.full((n,), snr_db), erased=torch.full((n,), erased))


def _phy(tab) -> ShannonPHY:
    """Capacity = point 2's mean packet at 3 dB: 30 dB always fits, erased frames never do."""
    return ShannonPHY(bandwidth_hz=float(tab.mean_packet_bits(1)[2]) / np.log2(1 + 10**0.3), frame_s=1.0)


def test_default_timing_reproduces_the_default_loop(link_setup):
    tab = link_setup.table
    states = create_channel("rayleigh-block", mean_snr_db=1.0).states(
        400, generator=torch.Generator().manual_seed(1))
    kw = dict(csi_model=create_csi_model("perfect"), max_attempts=3, deadline_frames=3, seed=3)
    old = simulate(tab, states, _phy(tab), _Recorder(tab.points[2]), **kw)
    new = simulate(tab, states, _phy(tab), _Recorder(tab.points[2]), harq_timing={}, **kw)
    for name in ("delivered", "attempt", "point_index", "generated", "packet_bits"):
        assert np.array_equal(getattr(old, name), getattr(new, name)), name
    assert old.images_delivered == new.images_delivered
    # the last frame's loss may still wait for its NACK in the new loop (pending, not lost)
    assert old.images_lost + old.images_pending == new.images_lost + new.images_pending


@pytest.mark.parametrize("rtt, procs", [(1, 1), (4, 1), (4, 2), (4, 4), (3, 5)])
def test_stop_and_wait_sends_in_min_n_r_of_r_frames(link_setup, rtt, procs):
    """Every packet is delivered at once (30 dB): N processes with round trip R send in exactly
    min(N, R) of every R frames; images are all accounted for."""
    tab = link_setup.table
    n = 240
    r = simulate(tab, _states(30.0, n), _phy(tab), _fixed(tab, tab.points[2]),
                 deadline_frames=n, harq_timing={"rtt_frames": rtt, "processes": procs})
    sent = r.attempt > 0
    assert sent.sum() == n // rtt * min(procs, rtt)
    assert r.delivered[sent].all() and r.packet_loss_rate == 0.0
    assert r.images_delivered + r.images_lost + r.images_pending == n
    assert set(np.unique(r.extra["harq_process"][sent])) == set(range(min(procs, rtt)))


def test_saturated_queue_makes_max_attempts_moot(link_setup):
    """One packet per frame over a dead link: retransmissions take frames from new packets, the
    head of the queue is always about to expire, so after the first deadline every transmission
    is a first one, whatever max_attempts; with one packet every 4 frames all 4 attempts run."""
    tab = link_setup.table
    n, deadline = 200, 4
    dead = _states(30.0, n, erased=True)
    for attempts in (2, 4):
        r = simulate(tab, dead, _phy(tab), _fixed(tab, tab.points[2]), max_attempts=attempts,
                     deadline_frames=deadline, harq_timing={})
        assert np.all(r.attempt[2 * deadline:] == 1)
        assert r.packet_loss_rate == 1.0 and math.isinf(r.latency_percentile_frames(0.5))
        assert r.images_lost + r.images_pending == n
    spaced = simulate(tab, dead, _phy(tab), _fixed(tab, tab.points[2]), max_attempts=4,
                      deadline_frames=deadline, packet_interval_frames=4, harq_timing={})
    assert np.array_equal(spaced.attempt[:8], [1, 2, 3, 4, 1, 2, 3, 4])


def test_latency_statistics_count_losses(link_setup):
    tab = link_setup.table
    n = 120
    snr = np.where(np.arange(n) % 4 == 0, -30.0, 30.0)  # every 4th frame fails
    states = LinkState(snr_db=torch.as_tensor(snr, dtype=torch.float32))
    r = simulate(tab, states, _phy(tab), _fixed(tab, tab.points[2]), max_attempts=2,
                 deadline_frames=2, packet_interval_frames=2, harq_timing={})
    # packets generated in frames 0, 4, 8, ... fail once and arrive one frame later (latency 2)
    lat = (np.flatnonzero(r.delivered) - r.generated[r.delivered] + 1)
    assert sorted(set(lat.tolist())) == [1, 2] and r.packet_loss_rate == 0.0
    assert r.latency_percentile_frames(1.0) == 2.0 and r.latency_percentile_frames(0.5) == 1.0
    one = simulate(tab, states, _phy(tab), _fixed(tab, tab.points[2]), max_attempts=1,
                   packet_interval_frames=2, harq_timing={})
    assert one.packet_loss_rate == pytest.approx(0.5)  # half the packets start in a bad frame
    assert one.mean_latency_frames == 1.0  # the delivered ones only ...
    assert math.isinf(one.latency_percentile_frames(0.6))  # ... the percentile sees the losses
    assert one.summary()["packet_loss_rate"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="^q"):
        one.latency_percentile_frames(0.0)


@pytest.mark.parametrize("timing", [None, {"rtt_frames": 3, "processes": 3}])
def test_policies_and_csi_models_get_harq_feedback(link_setup, timing):
    tab = link_setup.table
    n = 90
    snr = np.where(np.arange(n) % 5 < 2, -30.0, 30.0)
    states = LinkState(snr_db=torch.as_tensor(snr, dtype=torch.float32))
    pol = _Recorder(tab.points[2])
    kw = {} if timing is None else {"harq_timing": timing}
    r = simulate(tab, states, _phy(tab), pol, csi_model=create_csi_model("ack-nack"),
                 max_attempts=3, deadline_frames=6, **kw)
    rtt = 1 if timing is None else 3
    sent = np.flatnonzero(r.attempt > 0)
    got = {fb.frame: fb for fb in pol.fb}
    assert set(got) == {int(t) for t in sent if t + rtt < n} | ({int(sent[-1])} if timing is None else set())
    for t, fb in got.items():
        assert fb.delivered == bool(r.delivered[t]) and fb.attempt == r.attempt[t]
        assert fb.feedback_frame == t + rtt and fb.final == (fb.delivered or fb.attempt == 3
                                                            or fb.feedback_frame - r.generated[t] >= 6)
    assert any(fb.attempt > 1 for fb in pol.fb) and any(fb.final and not fb.delivered for fb in pol.fb)


def test_repick_changes_the_point_of_a_retransmission(link_setup):
    tab = link_setup.table
    n = 60
    snr = np.where(np.arange(n) % 3 == 0, -30.0, 30.0)
    states = LinkState(snr_db=torch.as_tensor(snr, dtype=torch.float32))
    pol = _Recorder(tab.points[2], retx_point=tab.points[0])
    r = simulate(tab, states, _phy(tab), pol, csi_model=create_csi_model("perfect"),
                 max_attempts=2, deadline_frames=2, packet_interval_frames=2,
                 harq_timing={"repick": True})
    retx = r.attempt == 2
    assert retx.any() and np.all(r.point_index[retx] == 0) and np.all(r.point_index[r.attempt == 1] == 2)
    groups, bits = tab.packets(1)
    assert np.array_equal(r.packet_bits[retx], bits[0, r.group[retx]])
    assert {c.attempt for c in pol.seen} == {1, 2}
    with pytest.raises(ValueError, match="^harq_timing.repick"):
        simulate(tab, states, _phy(tab), _fixed(tab, tab.points[0]), harq_timing={"repick": True})


@pytest.mark.parametrize("bad, match", [({"processes": 0}, "processes"),
                                        ({"rtt_frames": 1.5}, "rtt_frames"),
                                        ({"rtt": 2}, "unknown"), ({"repick": "yes"}, "repick")])
def test_harq_timing_refuses_bad_values(bad, match):
    with pytest.raises(ValueError, match=f"^harq_timing.*{match}"):
        HARQTiming.parse(bad)


def _st(snr, erased=False):
    return LinkState(snr_db=torch.tensor([float(snr)]), erased=torch.tensor([erased]))


def test_nr_parallel_processes_keep_their_own_soft_buffers():
    phy = NRPHY(num_allocated_re=1500, link_adaptation="fixed", mcs_index=12, fit_packet=False,
                harq={"type": "chase", "max_transmissions": 4})
    s = float(phy.threshold_snr_db[12])
    a, b = s - 3.0, s - 6.0
    g = torch.Generator().manual_seed(0)
    for snr, pid in ((a, 0), (b, 1)):
        phy.deliver(np.array([500]), _st(snr), g, retransmission=np.array([False]),
                    harq_process=np.array([pid]))
    open_ids = set(phy._harq_processes)
    r0 = phy.deliver(np.array([500]), _st(a), g, retransmission=np.array([True]), harq_process=np.array([0]))
    r1 = phy.deliver(np.array([500]), _st(b), g, retransmission=np.array([True]), harq_process=np.array([1]))
    for r, x in ((r0, a), (r1, b)):
        want = phy.tbler(np.array([12]), np.array([combined_snr_db("chase", 4, [x, x])]))[0]
        assert r.error_prob[0] == pytest.approx(float(want))
    assert open_ids <= {0, 1}


@pytest.mark.parametrize("kind", ["chase", "ir"])
def test_nr_erased_retransmission_contributes_nothing(kind):
    phy = NRPHY(num_allocated_re=1500, link_adaptation="fixed", mcs_index=12, fit_packet=False,
                harq={"type": kind, "max_transmissions": 4})
    s = float(phy.threshold_snr_db[12]) - 4.0
    g = torch.Generator().manual_seed(5)
    first = phy.deliver(np.array([500]), _st(s), g, retransmission=np.array([False]))
    assert not first.delivered[0]
    gone = phy.deliver(np.array([500]), _st(s, erased=True), g, retransmission=np.array([True]))
    assert gone.error_prob[0] == 1.0 and not gone.delivered[0]
    third = phy.deliver(np.array([500]), _st(s), g, retransmission=np.array([True]))
    qm, rate, k = 4, float(phy.coderate[12]), int(phy.cb_size[12])
    eff = combined_snr_db(kind, qm, [s, -np.inf, s], rate, k,
                          coded_bits=phy.coded_bits_per_block(12))
    assert third.error_prob[0] == pytest.approx(float(phy.tbler(np.array([12]), np.array([eff]))[0]))
    if kind == "chase":  # Chase: exactly two copies
        assert eff == pytest.approx(combined_snr_db("chase", 4, [s, s]))


def test_nr_retransmission_mcs_repick():
    """IR with re-pick: a retransmission in a much better frame goes out on a higher modulation
    (same transport block) and is reported with its own MCS; Chase cannot combine across
    modulations and restarts."""
    kw = dict(num_allocated_re=1500, fit_packet=False)
    phy = NRPHY(harq={"type": "ir", "max_transmissions": 4, "retransmission_mcs": "repick"}, **kw)
    g = torch.Generator().manual_seed(2)
    m0 = int(phy._illa(np.array([2.0]))[0])
    first = phy.deliver(np.array([200]), _st(-20.0), g, csi_state=_st(2.0), retransmission=np.array([False]))
    assert not first.delivered[0]
    second = phy.deliver(np.array([200]), _st(-5.0), g, csi_state=_st(20.0), retransmission=np.array([True]))
    assert first.mcs_index[0] == m0 and phy.modulation_order[second.mcs_index[0]] > phy.modulation_order[m0]
    chase = NRPHY(harq={"type": "chase", "max_transmissions": 4, "retransmission_mcs": "repick"}, **kw)
    chase.deliver(np.array([200]), _st(-20.0), g, csi_state=_st(2.0), retransmission=np.array([False]))
    again = chase.deliver(np.array([200]), _st(20.0), g, csi_state=_st(20.0), retransmission=np.array([True]))
    m = int(again.mcs_index[0])
    assert again.error_prob[0] == pytest.approx(float(chase.tbler(np.array([m]), np.array([20.0]))[0]))
    with pytest.raises(ValueError, match="^harq.retransmission_mcs"):
        NRPHY(harq={"type": "ir", "retransmission_mcs": "sometimes"})
