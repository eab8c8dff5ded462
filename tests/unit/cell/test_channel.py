"""SINR against closed forms: one Rayleigh interferer, MRC array gain, LMMSE >= MRC; path loss,
power control."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.cell import CellConfig
from commsldr.cell.channel import ChannelStream, noise_power_w, power_delay_profile
from commsldr.cell.power import uplink_power_w
from commsldr.cell.topology import SPEED_OF_LIGHT, Topology, drop, los_probability, pathloss_db

J0_ZERO = 2.404825557695773
SLOT_S = 0.5e-3
FC = 3.5e9
#: the speed at which consecutive slots are uncorrelated (J0(2 pi f_D T) = 0)
SPEED_IID = J0_ZERO / (2 * math.pi * SLOT_S) * SPEED_OF_LIGHT / FC


def _topology(num_sensors: int, interferer_gain_db: float | None) -> Topology:
    c = 0 if interferer_gain_db is None else 1
    return Topology(
        sensor_xy_m=np.tile([[50.0, 0.0]], (num_sensors, 1)),
        sensor_speed_mps=np.full(num_sensors, SPEED_IID),
        sensor_pathloss_db=np.full(num_sensors, 100.0),
        sensor_los=np.zeros(num_sensors, bool),
        interferer_gain_db=np.full((c, 1), interferer_gain_db or 0.0),
        interferer_own_pathloss_db=np.full((c, 1), 95.0),
        cell_xy_m=np.zeros((1 + c, 2)),
        isd_m=200.0,
    )


def _config(**kw) -> CellConfig:
    base = dict(num_sensors=1, fading="flat", num_rx_antennas=1, num_prb=1,
                neighbour_sensors_per_slot=1, carrier_frequency_hz=FC, subcarrier_spacing_hz=30e3,
                min_speed_mps=SPEED_IID, max_speed_mps=SPEED_IID)
    base.update(kw)
    return CellConfig(**base)


def test_single_rayleigh_interferer_sinr_cdf() -> None:
    """SIR+noise of Rayleigh signal and one Rayleigh interferer:
    P(G <= x) = 1 - exp(-x/S) S / (S + x I) (S, I: mean signal and interference-to-noise)."""
    cfg = _config(num_rings=1)
    stream = ChannelStream(cfg, _topology(1, -98.0), torch.Generator().manual_seed(3))
    n = 40_000
    g = stream.next(n)[0, :, 0]
    s_bar = stream.gain[0] / stream.noise_w
    i_bar = float(stream.interferer_rx[0, 0, 0])
    assert 0.1 < i_bar < 100  # the interferer matters
    for q in (0.05, 0.2, 0.5, 0.8, 0.95):
        x = float(np.quantile(g, q))
        cdf = 1.0 - math.exp(-x / s_bar) * s_bar / (s_bar + x * i_bar)
        assert abs(cdf - q) <= 4.5 * math.sqrt(q * (1 - q) / n) + 1e-3, (q, cdf)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_mrc_array_gain_is_m(m: int) -> None:
    """Without interference, E[SNR] = M x the single-antenna mean (var = M x its square)."""
    cfg = _config(num_rings=0, num_rx_antennas=m)
    stream = ChannelStream(cfg, _topology(1, None), torch.Generator().manual_seed(m))
    n = 20_000
    g = stream.next(n)[0, :, 0]
    s_bar = stream.gain[0] / stream.noise_w
    assert abs(g.mean() / s_bar - m) <= 4.5 * math.sqrt(m / n)


@pytest.mark.parametrize("m", [1, 2, 4])
def test_lmmse_is_never_below_mrc(m: int) -> None:
    """Same draws, both receivers: LMMSE maximises the SINR, so it is >= MRC on every PRB-slot
    (equal for one antenna)."""
    out = {}
    for rx in ("mrc", "lmmse"):
        cfg = _config(num_rings=1, num_rx_antennas=m, receiver=rx, num_sensors=3, num_prb=6,
                      neighbour_sensors_per_slot=2, fading="A")
        stream = ChannelStream(cfg, _topology(3, -98.0), torch.Generator().manual_seed(11))
        out[rx] = stream.next(200)
    assert np.all(out["lmmse"] >= out["mrc"] * (1 - 1e-4))
    if m == 1:
        np.testing.assert_allclose(out["lmmse"], out["mrc"], rtol=1e-4)
    else:
        assert np.mean(out["lmmse"]) > np.mean(out["mrc"])


def test_fading_is_unit_power_and_time_correlated() -> None:
    """TDL-A taps sum to unit power; the one-slot correlation is Clarke's J0(2 pi f_D T) and the
    Gauss-Markov process carries it to lag k as J0(.)^k."""
    delays, powers = power_delay_profile("A", 100e-9)
    assert powers.sum() == pytest.approx(1.0)
    assert delays.max() > 0
    speed = 3.0
    cfg = _config(num_rings=0, num_sensors=200, min_speed_mps=speed, max_speed_mps=speed)
    topo = _topology(200, None)
    topo = Topology(**{**topo.__dict__, "sensor_speed_mps": np.full(200, speed)})
    stream = ChannelStream(cfg, topo, torch.Generator().manual_seed(5))
    g = stream.next(50)[:, :, 0] * stream.noise_w / stream.gain[0]  # |h|^2, [N, T]
    assert g.mean() == pytest.approx(1.0, abs=0.05)
    # corr of |h|^2 at lag k is |corr of h|^2 for Rayleigh
    from scipy.special import j0

    rho = j0(2 * math.pi * speed * FC / SPEED_OF_LIGHT * SLOT_S) ** 10
    a, b = g[:, :-10].ravel(), g[:, 10:].ravel()
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(rho**2, abs=0.05)


def test_noise_power_per_prb() -> None:
    cfg = _config()
    # -174 dBm/Hz + 10 log10(360 kHz) + 5 dB = -113.44 dBm
    assert 10 * math.log10(noise_power_w(cfg) * 1e3) == pytest.approx(-113.44, abs=0.01)


def test_open_loop_power_control_closed_form() -> None:
    cfg = _config(p0_dbm=-90.0, alpha=0.8, max_power_dbm=23.0)
    pl_db = torch.tensor([80.0, 100.0, 130.0, 100.0], dtype=torch.float64)
    n = torch.tensor([1, 4, 1, 0])
    p = uplink_power_w(10 ** (pl_db / 10), n, cfg).numpy()
    expect_dbm = np.minimum(-90 + 0.8 * pl_db.numpy() + 10 * np.log10(np.maximum(n.numpy(), 1)), 23.0)
    np.testing.assert_allclose(p[:3], 10 ** ((expect_dbm[:3] - 30) / 10), rtol=1e-9)
    assert p[3] == 0.0


def test_pathloss_tr38901_values() -> None:
    # UMi LoS at 100 m: 32.4 + 21 log10(d3D) + 20 log10(3.5), below the break point (210 m)
    d3 = math.hypot(100, 8.5)
    assert pathloss_db("umi", np.array([100.0]), np.array([True]), 3.5e9, 10.0)[0] == pytest.approx(
        32.4 + 21 * math.log10(d3) + 20 * math.log10(3.5))
    d = np.linspace(20, 1500, 40)
    for sc, hb in (("umi", 10.0), ("uma", 25.0), ("rma", 35.0)):
        los = pathloss_db(sc, d, np.ones(d.size, bool), 3.5e9, hb)
        nlos = pathloss_db(sc, d, np.zeros(d.size, bool), 3.5e9, hb)
        assert np.all(nlos >= los) and np.all(np.diff(los) > 0)
        p = los_probability(sc, d)
        assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p) <= 1e-12)


def test_drop_is_seeded_and_inside_the_cell() -> None:
    cfg = CellConfig(num_sensors=10, scenario="umi", num_rings=1)
    a, b, c = drop(cfg, 1), drop(cfg, 1), drop(cfg, 2)
    np.testing.assert_array_equal(a.sensor_xy_m, b.sensor_xy_m)
    np.testing.assert_array_equal(a.sensor_pathloss_db, b.sensor_pathloss_db)
    assert not np.array_equal(a.sensor_xy_m, c.sensor_xy_m)
    r = np.hypot(*a.sensor_xy_m.T)
    assert np.all(r <= a.isd_m / math.sqrt(3) + 1e-6)  # within the hexagon's circumradius
    assert a.interferer_gain_db.shape == (6, 12)
    assert np.all(a.cell_xy_m[1:].__abs__().sum(1) > 0)


def test_the_cell_leaves_torchs_global_rng_alone() -> None:
    """Drop, fading and power control draw only from their own generators."""
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    cfg = CellConfig(num_sensors=3, num_frames=2, slots_per_frame=2, num_prb=4)
    topo = drop(cfg, 0)
    ChannelStream(cfg, topo, torch.Generator().manual_seed(0)).next(4)
    assert torch.equal(torch.rand(3), want)
