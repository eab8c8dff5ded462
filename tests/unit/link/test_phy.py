"""PHY modes: Shannon (closed form), 5G NR abstraction (Sionna SYS tables), bit-true LDPC + QAM."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.link import NRPHY, BitTruePHY, ShannonPHY
from commsldr_channels import LinkState, create_channel


def _state(snr_db) -> LinkState:
    return LinkState(snr_db=torch.as_tensor(np.asarray(snr_db, dtype=np.float32)))


# ----------------------------------------------------------------------------- Shannon
def test_shannon_awgn_delivers_exactly_the_packets_that_fit():
    phy = ShannonPHY(bandwidth_hz=2e5, frame_s=2e-3, snr_gap_db=3.0)
    snr_db = 7.0
    ch = create_channel("awgn", snr_db=snr_db)
    state = ch.states(7, generator=torch.Generator().manual_seed(0))
    # closed form with the float32 SNR the channel reports
    snr = 10 ** ((float(np.float32(snr_db)) - 3.0) / 10)
    cap = 2e5 * 2e-3 * math.log2(1 + snr)
    bits = np.array([0, 1, math.floor(cap) - 1, math.floor(cap), math.ceil(cap), math.ceil(cap) + 1, 10**6])
    res = phy.deliver(bits, state)
    assert res.capacity_bits == pytest.approx(np.full(7, cap), rel=1e-9)
    assert res.delivered.tolist() == [True, True, True, True, False, False, False]
    assert (res.channel_uses == 400).all() and (res.mcs_index == -1).all()
    assert phy.success_probability(bits, snr_db).tolist() == res.delivered.astype(float).tolist()


def test_shannon_trace_capacity_and_erasures():
    phy = ShannonPHY()
    state = LinkState(capacity_bits=torch.tensor([100.0, 100.0, 50.0]),
                      erased=torch.tensor([False, True, False]))
    res = phy.deliver(np.array([100, 1, 51]), state)
    assert res.delivered.tolist() == [True, False, False]
    assert res.capacity_bits.tolist() == [100.0, 0.0, 50.0]


@pytest.mark.parametrize("kwargs, name", [({"bandwidth_hz": 0}, "bandwidth_hz"),
                                          ({"frame_s": -1}, "frame_s"),
                                          ({"snr_gap_db": -1}, "snr_gap_db")])
def test_shannon_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ShannonPHY(**kwargs)


@pytest.mark.parametrize("kwargs, name", [
    ({"mcs_index": 5.5}, "mcs_index"), ({"mcs_index": -1}, "mcs_index"),
    ({"mcs_index": 28, "mcs_table_index": 2}, "mcs_index"),
    ({"cb_info_bits": 11}, "cb_info_bits"), ({"cb_info_bits": "500"}, "cb_info_bits"),
    ({"symbols_per_frame": 0}, "symbols_per_frame"), ({"num_iter": True}, "num_iter"),
    ({"mcs_category": 2}, "mcs_category"), ({"mcs_table_index": 3}, "mcs_table_index"),
    ({"crc_degree": "CRC99"}, "crc_degree")])
def test_bittrue_bad_parameters_name_the_parameter(kwargs, name):
    """Never truncated (5.5 used to become MCS 5) and never a Sionna error without the key."""
    with pytest.raises(ValueError, match=f"^{name}: "):
        BitTruePHY(create_channel("awgn"), **kwargs)


def test_bad_packet_sizes_are_rejected():
    phy = ShannonPHY()
    with pytest.raises(ValueError, match="bits"):
        phy.deliver(np.array([-1, 2]), _state([0.0, 0.0]))
    with pytest.raises(ValueError, match="bits"):
        phy.deliver(np.array([1, 2, 3]), _state([0.0, 0.0]))
    with pytest.raises(ValueError, match="bits"):
        phy.deliver(np.array([1.5, 2.0]), _state([0.0, 0.0]))


# ----------------------------------------------------------------------------- NR abstraction
@pytest.fixture(scope="module")
def nr() -> NRPHY:
    return NRPHY(num_allocated_re=1500)


def test_nr_bler_falls_with_snr(nr):
    snr = np.arange(-5.0, 25.0, 0.5)
    for mcs in np.flatnonzero(nr.mcs_valid):
        tbler = nr.tbler(np.full(snr.shape, mcs), snr)
        assert np.all(np.diff(tbler) <= 1e-6), f"MCS {mcs}: TBLER not non-increasing in SNR"
        assert tbler[0] > 0.5 and tbler[-1] < 0.01
    # ILLA picks a higher (or equal) MCS and capacity as the SNR grows
    mcs = nr._illa(snr)
    assert np.all(np.diff(mcs) >= 0) and mcs[-1] > mcs[0]
    cap = nr.capacity_bits(snr)
    assert np.all(np.diff(cap) >= 0)
    p = np.array([nr.success_probability(np.array([600]), s)[0] for s in snr])
    assert np.all(np.diff(p) >= -1e-6) and p[-1] > 0.99


def test_nr_delivery_rate_matches_tbler_and_is_seeded():
    phy = NRPHY(num_allocated_re=1500, link_adaptation="fixed", mcs_index=9, fit_packet=False)
    grid = np.arange(-5.0, 10.0, 0.1)
    curve = phy.tbler(np.full(grid.shape, 9), grid)
    snr0 = grid[np.argmin(np.abs(curve - 0.5))]  # a waterfall point: the test can fail
    snr_db = np.full(4000, snr0)
    tbler = float(phy.tbler(np.array([9]), snr_db[:1])[0])
    assert 0.2 < tbler < 0.8
    bits = np.full(snr_db.size, 500)
    r1 = phy.deliver(bits, _state(snr_db), torch.Generator().manual_seed(3))
    r2 = phy.deliver(bits, _state(snr_db), torch.Generator().manual_seed(3))
    assert np.array_equal(r1.delivered, r2.delivered)
    loss = 1 - r1.delivered.mean()
    assert abs(loss - tbler) < 5 * math.sqrt(tbler * (1 - tbler) / snr_db.size)
    # a packet longer than the transport block is never delivered
    too_big = phy.deliver(np.full(10, phy.tbs_bits[9] + 1), _state(np.full(10, 30.0)),
                          torch.Generator().manual_seed(0))
    assert not too_big.delivered.any()


def test_nr_olla_settles_near_target():
    phy = NRPHY(num_allocated_re=1500, link_adaptation="olla", bler_target=0.1, fit_packet=False)
    # the transmitter believes 6 dB more than the truth; OLLA's offset must absorb it
    true = _state(np.full(400, 5.0))
    known = _state(np.full(400, 11.0))
    res = phy.deliver(np.full(400, 200), true, torch.Generator().manual_seed(0), csi_state=known)
    early, late = 1 - res.delivered[:10].mean(), 1 - res.delivered[200:].mean()
    assert early >= 0.4 and late < 0.3
    assert res.mcs_index[200:].mean() < res.mcs_index[:5].mean()


def test_nr_olla_state_carries_across_calls_until_reset():
    """The simulator's frame loop calls deliver() once per frame: the outer loop must go on."""
    phy = NRPHY(num_allocated_re=1500, link_adaptation="olla", bler_target=0.1, fit_packet=False)
    true, known = np.full(300, 5.0), np.full(300, 11.0)
    whole = phy.deliver(np.full(300, 200), _state(true), torch.Generator().manual_seed(0),
                        csi_state=_state(known))
    phy.reset()
    g = torch.Generator().manual_seed(0)
    frames = [phy.deliver(np.array([200]), _state(true[t : t + 1]), g,
                          csi_state=_state(known[t : t + 1])) for t in range(300)]
    assert np.array_equal(whole.mcs_index, np.concatenate([r.mcs_index for r in frames]))
    assert np.array_equal(whole.delivered, np.concatenate([r.delivered for r in frames]))
    # after reset() the loop starts again from offset 0: the same first decision
    phy.reset()
    again = phy.deliver(np.array([200]), _state(true[:1]), torch.Generator().manual_seed(0),
                        csi_state=_state(known[:1]))
    assert again.mcs_index[0] == whole.mcs_index[0]


def test_nr_bad_parameters():
    with pytest.raises(ValueError, match="link_adaptation"):
        NRPHY(link_adaptation="magic")
    with pytest.raises(ValueError, match="bler_target"):
        NRPHY(bler_target=1.5)
    with pytest.raises(ValueError, match="num_allocated_re"):
        NRPHY(num_allocated_re=0)
    with pytest.raises(ValueError, match="mcs_index"):
        NRPHY(link_adaptation="fixed", mcs_index=0)  # PUSCH table 1, MCS 0: no BLER table


# ----------------------------------------------------------------------------- bit-true
def test_bittrue_crc_with_zero_prefix_is_unchanged():
    """deliver() relies on a CRC without initial value being blind to leading zeros."""
    from commsldr.link.sionna_guard import sionna_phy

    crc = sionna_phy().fec.crc.CRCEncoder("CRC16")
    g = torch.Generator().manual_seed(0)
    bits = torch.randint(0, 2, (8, 100), generator=g).float()
    padded = torch.cat([torch.zeros(8, 37), bits], dim=1)
    assert torch.equal(crc(bits)[:, -16:], sionna_phy().fec.crc.CRCEncoder("CRC16")(padded)[:, -16:])


def test_bittrue_bytes_roundtrip_and_corruption_is_caught():
    from commsldr.coding import PacketError, PacketHeader, build_packet, parse_packet

    phy = BitTruePHY(create_channel("awgn"), mcs_index=5, cb_info_bits=200, symbols_per_frame=2000)
    rng = np.random.default_rng(0)
    packets = [build_packet(PacketHeader(7, 16, 1, 1), rng.bytes(n)) for n in (10, 40, 90)]
    g = torch.Generator().manual_seed(0)
    rx = phy.transmit_bytes(packets + [None], _state([30.0, 30.0, 30.0, 30.0]), g)
    assert rx[:3] == packets and rx[3] is None
    rx = phy.transmit_bytes(packets, _state([-10.0, -10.0, -10.0]), g)
    for r in rx:
        with pytest.raises(PacketError):
            parse_packet(r)


def test_bittrue_is_seeded_and_respects_the_frame_size():
    phy = BitTruePHY(create_channel("rayleigh-block", mean_snr_db=5.0), mcs_index=5,
                     cb_info_bits=200, symbols_per_frame=1000)
    assert phy.max_blocks == 1000 // phy.symbols_per_block
    st = phy.channel.states(12, generator=torch.Generator().manual_seed(1))
    bits = np.r_[np.full(11, 300), phy.frame_info_bits + 1]
    a = phy.deliver(bits, st, torch.Generator().manual_seed(5))
    b = phy.deliver(bits, st, torch.Generator().manual_seed(5))
    assert np.array_equal(a.delivered, b.delivered)
    assert not a.delivered[-1]  # does not fit: not sent
    with pytest.raises(ValueError, match="bits"):
        phy.deliver(np.full(12, 10), st, torch.Generator())  # shorter than the CRC


# Cross-validation 1: bit-true block error rate vs the abstraction's curves, at SNRs that are
# grid points of Sionna's table (the curves are fitted to these points; between them see
# benchmarks/bler_interpolation.py and the guide).
# Tolerance: 4 binomial standard deviations of our estimate + 0.05 for the table's own
# Monte-Carlo error and the fit. Points: QPSK R=0.59 and QPSK R=0.44 (PUSCH table 1, transform
# precoding), k = 500.
CROSS = [(8, 500, 2.142857142857143, 100), (6, 500, 0.35714285714285765, 100)]


@pytest.mark.parametrize("mcs, k, snr_db, n", CROSS)
def test_bittrue_bler_agrees_with_the_abstraction(mcs, k, snr_db, n):
    phy = BitTruePHY(create_channel("awgn"), mcs_index=mcs, cb_info_bits=k,
                     symbols_per_frame=10_000)
    model = float(phy.block_error_rate_model(np.array(snr_db)))
    res = phy.deliver(np.full(n, k), _state(np.full(n, snr_db)), torch.Generator().manual_seed(11))
    measured = 1 - res.delivered.mean()
    p = min(max(model, 0.02), 0.98)
    tol = 4 * math.sqrt(p * (1 - p) / n) + 0.05
    assert abs(measured - model) <= tol, (measured, model, tol)


def test_bittrue_bler_agrees_with_sionnas_reference_chain():
    """Cross-validation 2: our PHY (CRC, segmentation, channel package, equaliser) vs Sionna's
    ``CodedAWGNChannelNR`` (the chain the abstraction tables were simulated with), 64-QAM.
    Two-sample tolerance: 4 standard deviations of the difference of two binomial estimates."""
    from commsldr.link.sionna_guard import sionna_phy

    sionna_phy()
    from sionna.phy.nr.utils import CodedAWGNChannelNR

    mcs, k, snr_db, n = 17, 500, 9.0, 100
    phy = BitTruePHY(create_channel("awgn"), mcs_index=mcs, cb_info_bits=k, symbols_per_frame=10_000)
    res = phy.deliver(np.full(n, k), _state(np.full(n, snr_db)), torch.Generator().manual_seed(2))
    ours = 1 - res.delivered.mean()
    ref_chain = CodedAWGNChannelNR(num_bits_per_symbol=phy.num_bits_per_symbol, num_info_bits=k,
                                   target_coderate=phy.coderate)
    torch.manual_seed(0)  # Sionna's reference chain draws from its global generator
    ebno_db = snr_db - 10 * math.log10(phy.num_bits_per_symbol * phy.coderate)
    b, b_hat = ref_chain(n, ebno_db)
    ref = (b != b_hat).any(-1).float().mean().item()
    p = min(max((ours + ref) / 2, 0.02), 0.98)
    assert 0.1 < ref < 0.9  # a waterfall point, so the comparison can fail
    assert abs(ours - ref) <= 4 * math.sqrt(p * (1 - p) * 2 / n), (ours, ref)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_shannon_capacity_is_overflow_free_at_any_snr():
    """``10^(x/10)`` overflows beyond ~3080 dB; the capacity uses the exact asymptote there
    (the fuzzed ``outage-aware`` planner with ``snr_std_db: 1e15`` evaluated 7e15 dB)."""
    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3, snr_gap_db=3.0)
    bt = 1e5 * 1e-3
    grid = np.concatenate([np.linspace(-400, 3003, 5000), np.linspace(3003, 3080, 500),
                           [3.1e3, 1e4, 7e15, -7e15, 1e300, -1e308, 1e308]])
    cap = phy.capacity_bits(grid)
    assert np.all(np.isfinite(cap)) and np.all(np.diff(cap[np.argsort(grid)]) >= 0)
    low = grid <= 3003.0  # the class equation itself, bit for bit
    with np.errstate(over="ignore"):
        plain = bt * np.log2(1.0 + np.power(10.0, (grid - 3.0) / 10.0))
    assert np.array_equal(cap[low], plain[low])
    mid = (grid > 3003.0) & (grid <= 3080.0)  # both finite: the asymptote agrees to rounding
    assert np.allclose(cap[mid], plain[mid], rtol=1e-15, atol=0)
    assert phy.capacity_bits(7e15) == pytest.approx(bt * (7e15 - 3.0) / 10 * math.log2(10),
                                                     rel=1e-15)
    assert phy.capacity_bits(float("inf")) == math.inf and phy.capacity_bits(-math.inf) == 0.0
    assert phy.capacity_bits(1e308) == bt * 1e250 * math.log2(10)  # capped at MAX_DECADES

