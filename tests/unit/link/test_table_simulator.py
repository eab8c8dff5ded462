"""Operating-point tables (exact vs a full re-run, persistence) and the link simulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.adapt import Fixed, PointMenu
from commsldr.link import (
    OperatingPointTable,
    ShannonPHY,
    make_coders,
    simulate,
    transmit_end_to_end,
)
from commsldr_channels import LinkState, create_channel


def fixed(table, point):
    """The policy ``fixed`` at ``point``, bound to the table's menu (a static policy)."""
    return Fixed(point.k, point.scale).bind(PointMenu.from_table(table))


def test_table_lookup_equals_a_full_rerun(link_setup):
    """Random points and packet groups: the table's packet sizes and correct counts equal those
    of the real chain (encode -> quantize -> entropy-code -> packet -> parse -> decode -> classify)."""
    s = link_setup
    tab = s.table
    rng = np.random.default_rng(123)
    models = {s.model.latent_dim: s.model, s.variant.latent_dim: s.variant}
    coders = make_coders(s.stats, s.scales, sorted(models))
    for m in (1, 3):
        groups, pbits = tab.packets(m)
        p_idx = rng.integers(0, len(tab), size=12)
        g_idx = rng.integers(0, groups.shape[0], size=12)
        res = transmit_end_to_end(models, coders, s.test, [tab.points[p] for p in p_idx], groups[g_idx])
        assert res.delivered.all()
        assert np.array_equal(res.packet_bits, pbits[p_idx, g_idx])
        expect = np.array([tab.correct[p, groups[g]].sum() for p, g in zip(p_idx, g_idx, strict=True)])
        assert np.array_equal(res.num_correct, expect)
    assert tab.bits.shape == (6, len(s.test))


def test_table_save_load_and_corruption(link_setup, tmp_path):
    tab = link_setup.table
    npz, js = tab.save(tmp_path / "tab")
    back = OperatingPointTable.load(js, model_id=tab.model_id)
    assert back.points == tab.points and back.prior_class == tab.prior_class
    assert np.array_equal(back.bits, tab.bits) and np.array_equal(back.correct, tab.correct)
    for m in (1, 3):
        assert np.array_equal(back.packets(m)[1], tab.packets(m)[1])
    with pytest.raises(ValueError, match="model_id"):
        OperatingPointTable.load(npz, model_id="0" * 16)
    blob = bytearray(npz.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    npz.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="SHA-256"):
        OperatingPointTable.load(npz)
    with pytest.raises(ValueError, match="images_per_packet"):
        tab.packets(5)
    with pytest.raises(KeyError, match="not in the table"):
        tab.index_of(type(tab.points[0])(99, 0, 1.0))


def test_simulator_accuracy_equals_direct_network_evaluation(link_setup, direct_predictions):
    """Deterministic channel (Shannon PHY over AWGN): the simulator's correct count over delivered
    packets equals running quantize -> dequantize -> decoder on exactly those images."""
    s = link_setup
    tab = s.table
    p = tab.index_of(tab.points[4])  # variant k=16, scale index 1
    point = tab.points[p]
    _, pbits = tab.packets(1)
    # a capacity that cuts through the packet-size distribution: some fit, some do not
    cap = float(np.median(pbits[p]))
    snr_db = 10.0  # the bandwidth sets the capacity: cap bits per frame at 10 dB
    phy = ShannonPHY(bandwidth_hz=cap / np.log2(1 + 10 ** (snr_db / 10)), frame_s=1.0)
    states = create_channel("awgn", snr_db=snr_db).states(300, generator=torch.Generator())
    res = simulate(tab, states, phy, fixed(tab, point), seed=4)
    deliv = res.delivered
    assert 0 < deliv.mean() < 1
    imgs = tab.packets(1)[0][res.group[deliv], 0]
    pred = direct_predictions(s.model, s.stats, point.scale, s.test.images[torch.as_tensor(imgs)])
    assert res.images_correct_delivered == int(np.count_nonzero(pred == s.test.labels.numpy()[imgs]))
    assert res.images_lost == int((~deliv).sum()) and res.images_correct_fallback == 0
    assert res.accuracy == pytest.approx(res.images_correct_delivered / 300)


def test_schedule_is_seeded_and_covers_every_group(link_setup):
    tab = link_setup.table
    states = create_channel("awgn", snr_db=30.0).states(2 * len(tab.labels), generator=torch.Generator())
    phy = ShannonPHY()
    a = simulate(tab, states, phy, fixed(tab, tab.points[0]), seed=1)
    b = simulate(tab, states, phy, fixed(tab, tab.points[0]), seed=1)
    c = simulate(tab, states, phy, fixed(tab, tab.points[0]), seed=2)
    assert np.array_equal(a.group, b.group) and not np.array_equal(a.group, c.group)
    n = len(tab.labels)
    assert sorted(a.group[:n]) == list(range(n)) and sorted(a.group[n:]) == list(range(n))
    # every packet delivered: the accuracy is the table's accuracy exactly (each image twice)
    assert a.delivered.all() and a.accuracy == pytest.approx(tab.accuracy()[0])


class _Adaptive:
    """A non-static wrapper: forces the simulator's frame loop with a CSI model."""

    def __init__(self, point):
        self.point, self.seen = point, []

    def reset(self):
        self.seen = []

    def choose(self, csi):
        self.seen.append(csi)
        return self.point


def test_frame_loop_equals_fast_path_and_fallback_prior(link_setup):
    from commsldr.adapt.csi import create_csi_model

    tab = link_setup.table
    states = create_channel("rayleigh-block", mean_snr_db=3.0).states(400, generator=torch.Generator().manual_seed(0))
    # one mean-sized packet fits at the mean SNR: fading makes some frames lose it
    phy = ShannonPHY(bandwidth_hz=float(tab.mean_packet_bits(3)[2]) / np.log2(1 + 10**0.3), frame_s=1.0)
    fast = simulate(tab, states, phy, fixed(tab, tab.points[2]), images_per_packet=3, fallback="prior", seed=9)
    pol = _Adaptive(tab.points[2])
    loop = simulate(tab, states, phy, pol, images_per_packet=3, fallback="prior", seed=9,
                    csi_model=create_csi_model("perfect"))
    assert np.array_equal(fast.delivered, loop.delivered)
    assert fast.summary() == loop.summary()
    assert 0 < fast.outage < 1 and fast.images_correct_fallback > 0
    # the sender was told the exact packet sizes of its images at every point
    g0 = loop.group[0]
    assert np.array_equal(pol.seen[0].packet_bits, tab.packets(3)[1][:, g0])
    lost = tab.packets(3)[0][fast.group[~fast.delivered]].ravel()
    assert fast.images_correct_fallback == int(np.count_nonzero(tab.labels[lost] == tab.prior_class))


def test_outer_loop_nr_phy_frame_loop_equals_fast_path(link_setup):
    """NR with OLLA has memory: the frame loop (one deliver() per frame) must carry the loop
    state like the fast path's single call, and a reused PHY restarts at every simulate()."""
    from commsldr.adapt.csi import create_csi_model
    from commsldr.link import NRPHY

    tab = link_setup.table
    states = create_channel("rayleigh-block", mean_snr_db=5.0).states(
        150, generator=torch.Generator().manual_seed(4))
    phy = NRPHY(num_allocated_re=120, link_adaptation="olla", fit_packet=False)
    fast = simulate(tab, states, phy, fixed(tab, tab.points[2]), seed=5)
    loop = simulate(tab, states, phy, _Adaptive(tab.points[2]), seed=5,
                    csi_model=create_csi_model("perfect"))
    again = simulate(tab, states, phy, fixed(tab, tab.points[2]), seed=5)
    assert np.array_equal(fast.mcs_index, loop.mcs_index)
    assert np.array_equal(fast.delivered, loop.delivered)
    assert np.array_equal(fast.mcs_index, again.mcs_index) and fast.summary() == again.summary()
    assert len(np.unique(fast.mcs_index)) > 1  # the loop actually moved


def test_retransmission_within_deadline(make_constructed_table):
    """A constructed channel: the first packet meets two fades and gets through on its third
    attempt; with ARQ (3 attempts within a 3-frame deadline) it is delivered, without it lost."""
    from commsldr.adapt.csi import create_csi_model

    tab = make_constructed_table()
    point = tab.points[2]  # 400 + 64 bits per packet
    phy = ShannonPHY(bandwidth_hz=1000.0, frame_s=1.0)  # 1000 * log2(1 + SNR) bits per frame
    snr_db = np.full(60, 30.0)
    snr_db[[0, 1]] = -20.0  # 1000 * log2(1.01) = 14 bits: nothing fits
    states = LinkState(snr_db=torch.as_tensor(snr_db, dtype=torch.float32))
    kw = dict(csi_model=create_csi_model("perfect"), seed=3)
    once = simulate(tab, states, phy, _Adaptive(point), **kw)
    arq = simulate(tab, states, phy, _Adaptive(point), max_attempts=3, deadline_frames=3, **kw)
    assert arq.attempt.max() == 3 and arq.delivered_image_rate > once.delivered_image_rate
    assert once.images_lost >= 1 and arq.images_lost < once.images_lost
    # accounting: every generated image is delivered, lost or pending
    for r in (once, arq):
        assert r.images_delivered + r.images_lost + r.images_pending == 60
    # an all-erased channel delivers nothing
    dead = LinkState(snr_db=torch.full((50,), 30.0), erased=torch.ones(50, dtype=torch.bool))
    r = simulate(tab, dead, phy, fixed(tab, tab.points[0]))
    assert r.images_delivered == 0 and r.accuracy == 0.0


def test_simulator_bad_arguments(link_setup):
    tab = link_setup.table
    st = create_channel("awgn").states(5, generator=torch.Generator())
    with pytest.raises(ValueError, match="fallback"):
        simulate(tab, st, ShannonPHY(), fixed(tab, tab.points[0]), fallback="guess")
    with pytest.raises(ValueError, match="csi_model"):
        simulate(tab, st, ShannonPHY(), _Adaptive(tab.points[0]))
    with pytest.raises(ValueError, match="max_attempts"):
        simulate(tab, st, ShannonPHY(), fixed(tab, tab.points[0]), max_attempts=0)


class _HideTransmitterCSI:
    """A CSI model without ``transmitter_snr_db``: the simulator then calls the PHY without
    ``csi_state`` (the PHY adapts to the true SNR — what every simulation did before)."""

    def __init__(self, inner):
        self.inner = inner

    def reset(self, state, generator):
        self.inner.reset(state, generator)

    def observe(self, t, packet_bits=None):
        return self.inner.observe(t, packet_bits)

    def feedback(self, delivered, packet_bits):
        self.inner.feedback(delivered, packet_bits)


def _nr_states(n=150, seed=4):
    return create_channel("rayleigh-block", mean_snr_db=5.0).states(
        n, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("link_adaptation", ["illa", "olla"])
def test_perfect_csi_gives_the_phy_exactly_the_true_snr(link_setup, link_adaptation):
    """Perfect CSI reaches the PHY and changes nothing: the frame loop (vectorised pre-draw for
    ILLA, one deliver() per frame for OLLA) and the static fast path give exactly the results of
    a PHY that adapts to the true state."""
    from commsldr.adapt.csi import create_csi_model
    from commsldr.link import NRPHY

    tab, states = link_setup.table, _nr_states()
    phy = NRPHY(num_allocated_re=120, link_adaptation=link_adaptation)
    p = tab.points[2]
    pairs = [
        (simulate(tab, states, phy, _Adaptive(p), csi_model=create_csi_model("perfect"), seed=5),
         simulate(tab, states, phy, _Adaptive(p),
                  csi_model=_HideTransmitterCSI(create_csi_model("perfect")), seed=5)),
        (simulate(tab, states, phy, fixed(tab, p), csi_model=create_csi_model("perfect"), seed=5),
         simulate(tab, states, phy, fixed(tab, p), seed=5)),
    ]
    for with_csi, true_snr in pairs:
        assert np.array_equal(with_csi.mcs_index, true_snr.mcs_index)
        assert np.array_equal(with_csi.delivered, true_snr.delivered)
        assert np.array_equal(with_csi.capacity_bits, true_snr.capacity_bits)
        assert with_csi.summary() == true_snr.summary()
    assert len(np.unique(pairs[0][0].mcs_index)) > 1


@pytest.mark.parametrize("static", [True, False])
def test_noisy_csi_drives_the_nr_mcs_choice(link_setup, static):
    """With noisy CSI the NR inner loop picks, in every frame, the MCS of the SNR estimate the
    policy was given (not of the true SNR): exactly ILLA at ``transmitter_snr_db()``."""
    from commsldr.adapt.csi import create_csi_model
    from commsldr.link import NRPHY

    tab, states = link_setup.table, _nr_states()
    n = len(states)
    phy = NRPHY(num_allocated_re=120, link_adaptation="illa", fit_packet=False)
    p = tab.points[2]

    policy = fixed(tab, p) if static else _Adaptive(p)

    def run(csi):
        return simulate(tab, states, phy, policy, csi_model=csi, seed=5)

    csi = create_csi_model("noisy", std_db=3.0)
    noisy = run(csi)
    est = csi.transmitter_snr_db()  # the estimates of this simulation (reset by simulate)
    if not static:  # ... which are exactly what the policy saw
        assert [c.snr_db for c in policy.seen] == est.tolist()
    at_est = phy.deliver(np.zeros(n, dtype=np.int64), LinkState(snr_db=torch.tensor(est).float()),
                         torch.Generator().manual_seed(0)).mcs_index
    at_true = run(create_csi_model("perfect")).mcs_index
    assert np.array_equal(noisy.mcs_index, at_est)
    assert np.mean(noisy.mcs_index != at_true) > 0.3
    # ACK/NACK only: no SNR report, so ILLA uses the long-term average SNR in every frame
    acknack = run(create_csi_model("ack-nack"))
    snr = states.snr_db.double().numpy()
    mean_db = 10 * np.log10(np.mean(10 ** (snr / 10)))
    expected = phy.deliver(np.zeros(1, dtype=np.int64),
                           LinkState(snr_db=torch.tensor([mean_db]).float()),
                           torch.Generator().manual_seed(0)).mcs_index[0]
    assert np.all(acknack.mcs_index == expected)


def test_packet_interval_leaves_idle_frames_for_retransmissions(link_setup):
    """One packet every 3 frames: the frames in between send only retransmissions (or nothing),
    every generated image is accounted for, and the latency counts from generation."""
    tab = link_setup.table
    states = create_channel("rayleigh-block", mean_snr_db=1.0, coherence_frames=1).states(
        300, generator=torch.Generator().manual_seed(2))
    phy = ShannonPHY(bandwidth_hz=float(tab.mean_packet_bits(1)[2]) / np.log2(1 + 10**0.3), frame_s=1.0)
    r = simulate(tab, states, phy, fixed(tab, tab.points[2]), max_attempts=3, deadline_frames=3,
                 packet_interval_frames=3, seed=4)
    first = r.attempt == 1
    assert np.all(np.flatnonzero(first) % 3 == 0)  # first transmissions only in generation frames
    assert np.all(r.attempt[np.arange(300) % 3 == 1] != 1)
    assert r.images_delivered + r.images_lost + r.images_pending == 100
    assert (r.attempt > 1).any() and 1.0 < r.mean_latency_frames <= 3.0
    with pytest.raises(ValueError, match="packet_interval_frames"):
        simulate(tab, states, phy, fixed(tab, tab.points[2]), packet_interval_frames=0)
