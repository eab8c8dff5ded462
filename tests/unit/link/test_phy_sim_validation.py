"""Bad arguments of the PHYs and of ``simulate`` raise one ValueError naming the parameter;
whole numbers given as NumPy/torch scalars or integral floats (``2.0`` from YAML) still work."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.adapt import PointMenu, create_csi_model, create_policy
from commsldr.link import NRPHY, ShannonPHY, simulate
from commsldr.link.synthetic_table import synthetic_table
from commsldr.registry import PHYS
from commsldr.scalars import as_integer, as_real, is_flag
from commsldr_channels import LinkState

NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- helpers
@pytest.mark.parametrize("value, expected", [
    (3, 3), (np.int64(3), 3), (np.uint8(3), 3), (torch.tensor(3), 3), (2.0, 2), (np.float32(2), 2),
    (1.5, None), (NAN, None), (INF, None), (True, None), (np.bool_(True), None), ("3", None),
    (None, None), ([3], None),
])
def test_as_integer_takes_whole_numbers_only(value, expected):
    assert as_integer(value) == expected


def test_as_real_and_is_flag():
    assert as_real(np.float32(0.5)) == 0.5 and as_real(torch.tensor(2.0)) == 2.0
    assert as_real(10**400) == INF and math.isnan(as_real(NAN))
    assert as_real(True) is None and as_real("1") is None
    assert is_flag(True) and is_flag(np.bool_(False)) and is_flag(torch.tensor(True))
    assert not is_flag("false") and not is_flag(0) and not is_flag(None)


# ----------------------------------------------------------------------------- PHY parameters
@pytest.mark.parametrize("name, value", [
    ("bandwidth_hz", NAN), ("bandwidth_hz", INF), ("bandwidth_hz", 0.0), ("bandwidth_hz", "1e6"),
    ("bandwidth_hz", 1e300), ("frame_s", NAN), ("frame_s", -1e-3), ("frame_s", 1e6),
    ("snr_gap_db", NAN), ("snr_gap_db", -1.0), ("snr_gap_db", 1e9), ("snr_gap_db", True),
    ("use_trace_capacity", "no"), ("use_trace_capacity", 1), ("use_trace_capacity", None),
])
def test_shannon_refuses_bad_parameters(name, value):
    with pytest.raises(ValueError, match=f"^{name}: "):
        ShannonPHY(**{name: value})


@pytest.mark.parametrize("name, value", [
    ("num_allocated_re", NAN), ("num_allocated_re", 3456.5), ("num_allocated_re", 0),
    ("num_allocated_re", "3456"), ("bler_target", NAN), ("bler_target", 1.0),
    ("bler_target", "0.1"), ("mcs_index", 10.5), ("mcs_index", NAN), ("mcs_table_index", 1.5),
    ("mcs_category", 0.5), ("mcs_category", True), ("mcs_category", 2), ("fit_packet", "no"),
    ("fit_packet", 0), ("olla_delta_up_db", NAN), ("olla_delta_up_db", INF),
    ("olla_delta_up_db", 0.0), ("olla_delta_up_db", 1e3), ("link_adaptation", ["illa"]),
])
def test_nr_refuses_bad_parameters(name, value):
    with pytest.raises(ValueError, match=f"^{name}: "):
        NRPHY(**{name: value})


def test_olla_with_a_nan_step_is_refused_through_the_registry():
    """The probe's case: the outer loop's offset became NaN and nothing was sent after frame 0."""
    with pytest.raises(ValueError, match="^olla_delta_up_db: .*got nan"):
        PHYS.create("nr", link_adaptation="olla", olla_delta_up_db=NAN)


def test_phys_take_numpy_torch_and_integral_float_parameters():
    shannon = ShannonPHY(bandwidth_hz=np.float32(1e5), frame_s=torch.tensor(1e-3),
                         snr_gap_db=np.int64(0), use_trace_capacity=np.bool_(False))
    assert shannon.use_trace_capacity is False and shannon.channel_uses_per_frame == 100
    nr = NRPHY(num_allocated_re=3456.0, mcs_index=np.int64(10), mcs_table_index=torch.tensor(1),
               fit_packet=np.bool_(False), bler_target=np.float32(0.1), mcs_category=1.0)
    assert (nr.num_allocated_re, nr.mcs_table_index, nr.mcs_category) == (3456, 1, 1)
    assert nr.fit_packet is False and type(nr.num_allocated_re) is int


# ----------------------------------------------------------------------------- link-model queries
@pytest.mark.parametrize("phy", [ShannonPHY(), NRPHY()], ids=["shannon", "nr"])
def test_link_models_refuse_nan_snr(phy):
    with pytest.raises(ValueError, match="^snr_db: NaN"):
        phy.capacity_bits(NAN)
    with pytest.raises(ValueError, match="^snr_db: NaN"):
        phy.capacity_bits(np.array([0.0, NAN]))
    with pytest.raises(ValueError, match="^snr_db: NaN"):
        phy.success_probability(np.array([100.0]), NAN)
    with pytest.raises(ValueError, match="^snr_db: "):
        phy.capacity_bits("high")


@pytest.mark.parametrize("phy", [ShannonPHY(), NRPHY()], ids=["shannon", "nr"])
@pytest.mark.parametrize("bits", [[NAN], [INF], [-1.0], ["a"]])
def test_link_models_refuse_bad_packet_sizes(phy, bits):
    with pytest.raises(ValueError, match="^packet_bits: "):
        phy.success_probability(np.array(bits), 10.0)


@pytest.mark.parametrize("phy", [ShannonPHY(), NRPHY()], ids=["shannon", "nr"])
def test_link_models_keep_the_infinite_limits(phy):
    """-inf dB (no signal) carries nothing, +inf at least as much as any finite SNR."""
    assert phy.capacity_bits(-INF) == 0.0
    assert phy.capacity_bits(INF) >= phy.capacity_bits(40.0) > 0
    assert phy.success_probability(np.array([100.0]), -INF).tolist() == [0.0]
    assert phy.success_probability(np.array([100.5]), 30.0).tolist()[0] > 0  # expected sizes


# ----------------------------------------------------------------------------- simulate
@pytest.fixture(scope="module")
def sim_setup():
    table = synthetic_table(num_images=40)
    phy = ShannonPHY(bandwidth_hz=1e5)
    states = LinkState(snr_db=torch.full((12,), 10.0))
    return table, phy, states


def _simulate(sim_setup, **kw):
    table, phy, states = sim_setup
    policy = create_policy("capacity-greedy").bind(PointMenu.from_table(table), phy)
    return simulate(table, states, phy, policy, csi_model=create_csi_model("perfect"), **kw)


@pytest.mark.parametrize("name, value", [
    ("max_attempts", 1.5), ("max_attempts", 0), ("max_attempts", NAN), ("max_attempts", "2"),
    ("deadline_frames", 2.7), ("deadline_frames", INF), ("packet_interval_frames", INF),
    ("packet_interval_frames", 0.5), ("seed", 1.5), ("seed", NAN), ("seed", -1), ("seed", True),
    ("images_per_packet", 1.5), ("images_per_packet", 0),
])
def test_simulate_refuses_non_integer_counts(sim_setup, name, value):
    kw = {"max_attempts": 2, "deadline_frames": 3}
    kw[name] = value
    with pytest.raises(ValueError, match=f"^{name}: must be an integer"):
        _simulate(sim_setup, **kw)


def test_simulate_takes_integral_floats_and_numpy_integers(sim_setup):
    a = _simulate(sim_setup, max_attempts=2.0, deadline_frames=np.int64(3), seed=np.uint32(5),
                  packet_interval_frames=torch.tensor(1), images_per_packet=1.0)
    b = _simulate(sim_setup, max_attempts=2, deadline_frames=3, seed=5)
    np.testing.assert_array_equal(a.delivered, b.delivered)
    np.testing.assert_array_equal(a.point_index, b.point_index)


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), 0.0, -1.0, True])
def test_an_operating_point_scale_is_a_finite_positive_number(scale):
    from commsldr.link.table import OperatingPoint

    with pytest.raises(ValueError, match=r"^scale: must be a finite number > 0"):
        OperatingPoint(k=8, scale_index=0, scale=scale)


@pytest.mark.parametrize("gap_db", [0.0, 3.0])
def test_shannon_capacity_of_one_snr_equals_the_array_path(gap_db):
    """The scalar fast path (a policy's query, once per frame) gives the array path's bits."""
    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3, snr_gap_db=gap_db)
    grid = np.concatenate([np.linspace(-250.0, 250.0, 20001),
                           [-INF, INF, 2999.9, 3000.0, 3003.0, 1e6, 1e300, -1e300, 0.0]])
    scalar = np.array([phy.capacity_bits(float(v)) for v in grid])
    assert np.array_equal(phy.capacity_bits(grid), scalar)
    assert all(type(phy.capacity_bits(float(v))) is float for v in grid[:3])
    with pytest.raises(ValueError, match="^snr_db: NaN"):
        phy.capacity_bits(NAN)


@pytest.mark.parametrize("kw", [{}, {"link_adaptation": "fixed", "mcs_index": 9},
                                {"link_adaptation": "olla"}, {"mcs_table_index": 2}])
def test_nr_capacity_of_one_snr_equals_the_array_path(kw):
    from commsldr.registry import PHYS

    phy = PHYS.create("nr", **kw)
    grid = np.concatenate([np.linspace(-30.0, 40.0, 7001), [-INF, INF, 1e300, -1e300]])
    scalar = np.array([phy.capacity_bits(float(v)) for v in grid])
    assert np.array_equal(phy.capacity_bits(grid), scalar)
    with pytest.raises(ValueError, match="^snr_db: NaN"):
        phy.capacity_bits(NAN)
