"""The cell simulator: one-sensor consistency with the single-link simulator, rows, seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.adapt import PointMenu, create_csi_model, create_policy
from commsldr.cell import CELL_COLUMNS, SENSOR_COLUMNS, CellConfig, jain_index, simulate_cell
from commsldr.link.nr import NRPHY
from commsldr.link.simulator import simulate
from commsldr_channels import LinkState


def _one_sensor(**kw) -> CellConfig:
    base = dict(num_sensors=1, num_rings=0, fading="flat", num_rx_antennas=1, slots_per_frame=1,
                scheduler="round-robin", num_frames=400, p0_dbm=-112.0, alpha=1.0,
                min_speed_mps=20.0, max_speed_mps=20.0, num_prb=24, bandwidth_hz=10e6)
    base.update(kw)
    return CellConfig(**base)


@pytest.mark.parametrize("point", [0, 2, 5])
def test_one_sensor_full_band_flat_fading_equals_single_link(table, point: int) -> None:
    """One sensor, every PRB in every slot, flat fading: the cell's per-frame outcomes equal
    link.simulate with NRPHY (ILLA, no packet fitting) on the same SINRs and seed."""
    cfg = _one_sensor()
    pt = table.points[point]
    res = simulate_cell(cfg, table, {"name": "fixed", "k": pt.k, "scale": pt.scale}, seed=5)
    assert np.all(res.radio.units == cfg.prbs)  # full band every frame
    sinr = res.radio.sinr_db[0]
    mcs = res.radio.mcs[0]
    assert len(set(mcs.tolist())) > 5  # the fading moves the MCS around
    phy = NRPHY(num_allocated_re=cfg.prbs * cfg.re_per_prb, link_adaptation="illa",
                bler_target=cfg.bler_target, fit_packet=False)
    menu = PointMenu.from_table(table)
    from commsldr.cell.simulator import sensor_seeds

    single = simulate(table, LinkState(snr_db=torch.as_tensor(sinr, dtype=torch.float32)), phy,
                      create_policy("fixed", k=pt.k, scale=pt.scale).bind(menu, phy),
                      csi_model=create_csi_model("perfect"), seed=int(sensor_seeds(5, 1)[0]))
    cell = res.sensor_results[0]
    np.testing.assert_array_equal(cell.mcs_index, single.mcs_index)
    np.testing.assert_array_equal(cell.capacity_bits, single.capacity_bits)
    np.testing.assert_array_equal(cell.delivered, single.delivered)
    np.testing.assert_array_equal(cell.num_correct, single.num_correct)
    np.testing.assert_array_equal(cell.group, single.group)
    assert 0 < cell.delivered.mean() < 1
    assert cell.accuracy == single.accuracy


def test_one_sensor_adaptive_policy_sees_the_single_link_capacity(table) -> None:
    """capacity-greedy picks from the grant's TBS; the single link from NRPHY's capacity at the
    SINR: the same numbers, so the same points."""
    cfg = _one_sensor(num_frames=150)
    res = simulate_cell(cfg, table, "capacity-greedy", seed=2)
    phy = NRPHY(num_allocated_re=cfg.prbs * cfg.re_per_prb, fit_packet=False)
    sinr = torch.as_tensor(res.radio.sinr_db[0], dtype=torch.float32)
    np.testing.assert_array_equal(res.radio.tbs_bits[0], phy.frame_capacity_bits(LinkState(snr_db=sinr)))
    from commsldr.cell.simulator import sensor_seeds

    menu = PointMenu.from_table(table)
    single = simulate(table, LinkState(snr_db=sinr), phy,
                      create_policy("capacity-greedy").bind(menu, phy),
                      csi_model=create_csi_model("perfect"), seed=int(sensor_seeds(2, 1)[0]))
    np.testing.assert_array_equal(res.sensor_results[0].point_index, single.point_index)


@pytest.fixture(scope="module")
def small_run(table):
    cfg = CellConfig(num_sensors=5, num_frames=12, slots_per_frame=4, num_prb=12,
                     bandwidth_hz=10e6, scheduler="task-aware", num_rx_antennas=2, receiver="lmmse")
    return cfg, simulate_cell(cfg, table, "capacity-greedy", seed=3)


def test_rows_have_the_documented_columns(small_run) -> None:
    cfg, res = small_run
    assert len(res.sensor_rows) == 5
    for row in res.sensor_rows:
        assert list(row) == list(SENSOR_COLUMNS)
        assert 0 <= row["accuracy"] <= 1
    assert list(res.cell_row) == list(CELL_COLUMNS)
    acc = np.array([r["accuracy"] for r in res.sensor_rows])
    assert res.cell_row["accuracy_mean"] == pytest.approx(acc.mean())
    assert res.cell_row["accuracy_min"] == acc.min()
    assert 0 < res.cell_row["prb_utilisation"] <= 1
    assert res.radio.units.sum() == res.radio.prb_slots_used
    assert res.radio.units.max() <= cfg.prbs * cfg.slots_per_frame


def test_same_seed_same_rows(small_run, table) -> None:
    cfg, res = small_run
    again = simulate_cell(cfg, table, "capacity-greedy", seed=3)
    strip = lambda r: {k: v for k, v in r.items() if k != "sensor_slots_per_s"}  # noqa: E731
    assert strip(again.cell_row) == strip(res.cell_row)
    assert again.sensor_rows == res.sensor_rows
    other = simulate_cell(cfg, table, "capacity-greedy", seed=4)
    assert other.sensor_rows != res.sensor_rows


@pytest.mark.parametrize("policy", ["scale-only", "scale-and-truncation", "outage-aware", "oracle",
                                    {"name": "fixed", "k": 8, "scale": 3.0}])
def test_existing_policies_run_unchanged_per_sensor(table, policy) -> None:
    cfg = CellConfig(num_sensors=3, num_frames=6, slots_per_frame=2, num_prb=6, bandwidth_hz=5e6,
                     scheduler="proportional-fair", link_adaptation="olla")
    res = simulate_cell(cfg, table, policy, seed=0)
    for r in res.sensor_results:
        # a delivered packet always fit its grant
        assert np.all(r.packet_bits[r.delivered] <= r.capacity_bits[r.delivered])


def test_jain_index() -> None:
    assert jain_index(np.ones(7)) == 1.0
    assert jain_index(np.array([1.0, 0, 0, 0])) == pytest.approx(0.25)
    assert jain_index(np.zeros(3)) == 1.0


def test_arq_resends_a_lost_packet_in_the_next_grant(table) -> None:
    """max_attempts=2: a lost packet is re-sent once in a later frame (attempt 2) with the same
    bytes, and every delivered packet fit the grant of the frame that carried it."""
    cfg = CellConfig(num_sensors=6, num_frames=40, slots_per_frame=1, num_prb=6,
                     bandwidth_hz=5e6, scheduler="round-robin")
    res = simulate_cell(cfg, table, "capacity-greedy", seed=1, max_attempts=2, deadline_frames=3)
    attempts = np.concatenate([r.attempt for r in res.sensor_results])
    assert attempts.max() == 2
    for r in res.sensor_results:
        assert np.all(r.packet_bits[r.delivered] <= r.capacity_bits[r.delivered])


def test_one_sensor_with_a_packet_interval_equals_single_link(table) -> None:
    """link.packet_interval_frames reaches every sensor: one sensor on the full band equals
    link.simulate with the same packet interval."""
    cfg = _one_sensor(num_frames=200)
    pt = table.points[2]
    res = simulate_cell(cfg, table, {"name": "fixed", "k": pt.k, "scale": pt.scale}, seed=5,
                        packet_interval_frames=2)
    from commsldr.cell.simulator import sensor_seeds

    phy = NRPHY(num_allocated_re=cfg.prbs * cfg.re_per_prb, link_adaptation="illa",
                bler_target=cfg.bler_target, fit_packet=False)
    single = simulate(table, LinkState(snr_db=torch.as_tensor(res.radio.sinr_db[0],
                                                              dtype=torch.float32)), phy,
                      create_policy("fixed", k=pt.k, scale=pt.scale).bind(PointMenu.from_table(table),
                                                                          phy),
                      csi_model=create_csi_model("perfect"), seed=int(sensor_seeds(5, 1)[0]),
                      packet_interval_frames=2)
    cell = res.sensor_results[0]
    np.testing.assert_array_equal(cell.delivered, single.delivered)
    assert cell.accuracy == single.accuracy
    assert not cell.delivered[1::2].any()  # odd frames carry nothing


def test_harq_timing_reaches_every_sensor(table) -> None:
    """link.harq_timing: a retransmission follows its process's loss rtt_frames later (with plain
    ARQ, in the next frame)."""
    cfg = CellConfig(num_sensors=4, num_frames=120, slots_per_frame=1, num_prb=6,
                     bandwidth_hz=5e6, scheduler="round-robin")
    timing = {"rtt_frames": 3, "processes": 3, "repick": False}
    res = simulate_cell(cfg, table, "capacity-greedy", seed=1, max_attempts=3, deadline_frames=9,
                        harq_timing=timing)
    plain = simulate_cell(cfg, table, "capacity-greedy", seed=1, max_attempts=3,
                          deadline_frames=9)
    for rows, lag in ((res.sensor_results, 3), (plain.sensor_results, 1)):
        retx = 0
        for r in rows:
            for t in np.flatnonzero(r.attempt >= 2):
                assert r.attempt[t - lag] == r.attempt[t] - 1 and not r.delivered[t - lag]
                retx += 1
        assert retx > 0
