"""simulate_cell: the policy / CSI mapping takes ``type`` (the scenario spelling) or ``name``;
counts and the seed are whole numbers, checked before the radio runs; the ISD is physical."""

from __future__ import annotations

import numpy as np
import pytest

from commsldr.cell.config import MAX_ISD_M, CellConfig, CellConfigError
from commsldr.cell.simulator import simulate_cell

NAN, INF = float("nan"), float("inf")


def _cfg() -> CellConfig:
    return CellConfig(num_sensors=2, num_rings=0, fading="flat", num_rx_antennas=1,
                      slots_per_frame=1, scheduler="round-robin", num_frames=8, num_prb=6,
                      bandwidth_hz=5e6)


@pytest.mark.parametrize("policy", [{"type": "capacity-greedy"}, {"name": "capacity-greedy"},
                                    "capacity-greedy"])
def test_policy_mapping_takes_type_or_name(table, policy):
    res = simulate_cell(_cfg(), table, policy, seed=0,
                        csi={"type": "noisy", "std_db": 1.0})
    assert res.cell_row["policy"] == "capacity-greedy"
    ref = simulate_cell(_cfg(), table, "capacity-greedy", seed=0,
                        csi={"name": "noisy", "std_db": 1.0})
    assert res.cell_row["accuracy_mean"] == ref.cell_row["accuracy_mean"]


@pytest.mark.parametrize("policy, words", [
    ({}, "needs the name under 'type'.*names: .*capacity-greedy"),
    ({"margin": 0.1}, "needs the name under 'type'"),
    ({"type": 3}, "needs the name under 'type'"),
    ({"type": "fixed", "name": "fixed"}, "not both"),
    (["capacity-greedy"], "expected a name or a mapping"),
])
def test_a_bad_policy_spec_is_one_clear_error(table, policy, words):
    with pytest.raises(ValueError, match=f"^policy: .*{words}"):
        simulate_cell(_cfg(), table, policy, seed=0)


def test_a_bad_csi_spec_names_csi(table):
    with pytest.raises(ValueError, match="^csi: .*names: .*perfect"):
        simulate_cell(_cfg(), table, "capacity-greedy", csi={"std_db": 1.0})


@pytest.mark.parametrize("name, value", [
    ("seed", 1.5), ("seed", NAN), ("seed", -1), ("max_attempts", 1.5), ("deadline_frames", 2.7),
    ("packet_interval_frames", INF), ("images_per_packet", 1.5),
])
def test_counts_and_seed_are_whole_numbers(table, name, value):
    kw = {"seed": 0, name: value}
    with pytest.raises(ValueError, match=f"^{name}: must be an integer"):
        simulate_cell(_cfg(), table, "capacity-greedy", **kw)


def test_an_integral_float_seed_is_the_integer_seed(table):
    a = simulate_cell(_cfg(), table, "capacity-greedy", seed=3.0)
    b = simulate_cell(_cfg(), table, "capacity-greedy", seed=np.int64(3))
    assert a.cell_row["seed"] == b.cell_row["seed"] == 3
    assert a.cell_row["accuracy_mean"] == b.cell_row["accuracy_mean"]


@pytest.mark.parametrize("isd", [1e300, MAX_ISD_M * 1.01, INF, NAN, 10.0])
def test_isd_is_bounded(isd):
    with pytest.raises(CellConfigError, match="^isd_m: must be"):
        CellConfig(isd_m=isd)
    assert CellConfig(isd_m=MAX_ISD_M).isd_m == MAX_ISD_M
