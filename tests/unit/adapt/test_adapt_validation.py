"""Bad CSI values, menus, policy bindings and CSI-model calls raise a clear error naming the
field or argument, instead of NaN results, IndexErrors or AttributeErrors later."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from commsldr.adapt import CSI, PointMenu, create_csi_model, create_policy
from commsldr.link import OperatingPoint, ShannonPHY
from commsldr_channels import LinkState

NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- CSI
@pytest.mark.parametrize("field, value", [
    ("frame", -1), ("frame", 1.5), ("frame", NAN), ("frame", "0"), ("frame", True),
    ("snr_db", NAN), ("snr_db", INF), ("snr_db", "10"), ("capacity_bits", NAN),
    ("capacity_bits", -1.0), ("capacity_bits", INF), ("snr_std_db", -3), ("snr_std_db", NAN),
    ("snr_std_db", INF), ("snr_std_db", 1e3), ("ack", "yes"), ("ack", 1), ("erased", "no"),
    ("erased", None), ("attempt", 0), ("attempt", 2.5), ("harq_process", -1),
])
def test_csi_refuses_bad_fields(field, value):
    kw = {"frame": 0, field: value}
    with pytest.raises(ValueError, match=f"^CSI.{field}: must"):
        CSI(**kw)


def test_csi_takes_numpy_values_and_checks_replacements():
    c = CSI(frame=np.int64(3), snr_db=np.float32(2.0), capacity_bits=0.0, ack=np.bool_(True),
            snr_std_db=np.float64(1.0), erased=np.bool_(False), attempt=2.0)
    assert c.has_estimate
    with pytest.raises(ValueError, match="^CSI.attempt"):
        replace(c, attempt=0)


# ----------------------------------------------------------------------------- CSI models
def _reset(name, n=20, **params):
    m = create_csi_model(name, **params)
    m.reset(LinkState(snr_db=torch.linspace(0.0, 10.0, n)), np.random.default_rng(0))
    return m


@pytest.mark.parametrize("name, params", [("perfect", {}), ("delayed", {"delay_frames": 2}),
                                          ("noisy", {"std_db": 1.0})])
@pytest.mark.parametrize("t", [20, 10**6, -1, 1.5, NAN, "3"])
def test_observe_refuses_frames_outside_the_trace(name, params, t):
    with pytest.raises(ValueError, match=r"^t: must be a frame index, an integer in \[0, 20\)"):
        _reset(name, **params).observe(t)


@pytest.mark.parametrize("name", ["perfect", "delayed", "noisy", "ack-nack"])
def test_observe_before_reset_is_refused(name):
    with pytest.raises(RuntimeError, match="call reset"):
        create_csi_model(name).observe(0)


def test_observe_takes_numpy_frames_and_ack_nack_any_frame():
    assert _reset("perfect").observe(np.int64(19)).frame == 19
    assert _reset("perfect").observe(4.0).snr_db == pytest.approx(10.0 * 4 / 19, rel=1e-6)
    assert _reset("ack-nack").observe(10**6).capacity_bits is None  # it never reads the trace
    with pytest.raises(ValueError, match="^t: "):
        _reset("ack-nack").observe(-1)


# ----------------------------------------------------------------------------- policies
@pytest.mark.parametrize("std", [INF, NAN, -1.0, "1"])
def test_outage_aware_refuses_a_non_finite_std(std):
    with pytest.raises(ValueError, match="snr_std_db must be a finite number"):
        create_policy("outage-aware", snr_std_db=std)


def test_bind_refuses_what_is_not_a_menu_or_a_link(menu):
    with pytest.raises(TypeError, match="^menu: .*PointMenu.*got list"):
        create_policy("capacity-greedy").bind([1, 2])
    with pytest.raises(TypeError, match="^link: .*got str .*create the PHY first"):
        create_policy("outage-aware").bind(menu, "shannon")
    with pytest.raises(TypeError, match="^link: "):
        create_policy("capacity-greedy").bind(menu, object())
    assert create_policy("outage-aware").bind(menu, ShannonPHY()).choose_index(
        CSI(frame=0, snr_db=10.0)) in range(len(menu))


# ----------------------------------------------------------------------------- PointMenu
def test_menu_refuses_points_that_are_not_operating_points(menu):
    with pytest.raises(TypeError, match=r"^PointMenu: points\[0\] must be an operating point"):
        PointMenu(points=(1, 2), accuracy=[0.5, 0.5], packet_bits=[10, 20])
    with pytest.raises(ValueError, match=r"^scale: must be a finite number > 0"):
        OperatingPoint(k=8, scale_index=0, scale=NAN)  # refused where it is made


@pytest.mark.parametrize("field", ["accuracy", "packet_bits"])
@pytest.mark.parametrize("bad", [["0.5", "0.5"], [True, False], [0.5, True], [None, 1],
                                 [b"1", b"2"]])
def test_menu_refuses_values_that_are_not_numbers(menu, field, bad):
    values = {"accuracy": [0.5, 0.6], "packet_bits": [100, 200]}
    values[field] = bad  # a string is refused, not parsed; a bool among numbers too
    with pytest.raises(TypeError, match=f"^PointMenu: {field} must hold real numbers"):
        PointMenu(points=menu.points[:2], **values)


@pytest.mark.parametrize("fb", ["0.1", NAN, -0.1, 1.5, None])
def test_menu_refuses_a_bad_fallback_accuracy(menu, fb):
    with pytest.raises(ValueError, match="^PointMenu: fallback_accuracy must be a number"):
        PointMenu(points=menu.points, accuracy=menu.accuracy, packet_bits=menu.packet_bits,
                  fallback_accuracy=fb)


@pytest.mark.parametrize("index", [-1, 12, 10**6, 1.5, "0", None])
def test_variant_of_refuses_indices_off_the_menu(menu, index):
    with pytest.raises(ValueError, match=r"^index: must be a menu index, an integer in \[0, 12\)"):
        menu.variant_of(index)


def test_variant_of_takes_numpy_indices(menu):
    assert menu.variant_of(np.int64(11)) == menu.variant_of(11) == 32
    assert menu.variant_of(0.0) == 8
