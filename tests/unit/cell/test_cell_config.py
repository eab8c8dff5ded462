"""Cell parameters: bad values give one clear error naming the key."""

from __future__ import annotations

import pytest

from commsldr.cell import CellConfig, CellConfigError, max_prbs
from commsldr.errors import UserError


@pytest.mark.parametrize(("values", "key", "words"), [
    ({"num_sensors": 0}, "num_sensors", "1..4096, got 0"),
    ({"bandwidth_hz": -20e6}, "bandwidth_hz", "> 0"),
    ({"num_prb": 60}, "num_prb", "has 51"),
    ({"scheduler": "propotional-fair"}, "scheduler", "did you mean 'proportional-fair'"),
    ({"scheduler": "task-aware", "scheduler_params": {"fairness": -1}}, "scheduler_params", "fairness"),
    ({"subcarrier_spacing_hz": 20e3}, "subcarrier_spacing_hz", "15000, 30000 or 60000"),
    ({"receiver": "zf"}, "receiver", "['mrc', 'lmmse']"),
    ({"num_rx_antennas": 0}, "num_rx_antennas", "1..64, got 0"),
    ({"bler_target": 1.0}, "bler_target", "(0, 1)"),
    ({"min_speed_mps": 5.0, "max_speed_mps": 1.0}, "max_speed_mps", "min_speed_mps"),
])
def test_bad_parameter_is_one_user_error(values: dict, key: str, words: str) -> None:
    with pytest.raises(CellConfigError) as err:
        CellConfig(**values)
    assert isinstance(err.value, UserError)
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}: ")
    assert words in str(err.value)
    assert len(str(err.value).splitlines()) <= 2


def test_unknown_key_from_dict_names_it() -> None:
    with pytest.raises(CellConfigError, match=r"^cell\.num_sensor: unknown cell key.*did you mean 'num_sensors'"):
        CellConfig.from_dict({"num_sensor": 4}, prefix="cell.")
    with pytest.raises(CellConfigError, match=r"^cell\.num_prb: 300 PRBs do not fit"):
        CellConfig.from_dict({"num_prb": 300}, prefix="cell.")


@pytest.mark.parametrize(("bw", "scs", "n"), [(20e6, 30e3, 51), (20e6, 15e3, 106), (100e6, 30e3, 273),
                                              (10e6, 60e3, 11), (1.44e6, 30e3, 4)])
def test_max_prbs_follows_ts38101_table(bw: float, scs: float, n: int) -> None:
    assert max_prbs(bw, scs) == n


def test_derived_quantities() -> None:
    c = CellConfig(subcarrier_spacing_hz=30e3, slots_per_frame=10, num_frames=7, num_data_symbols=12)
    assert c.prbs == 51
    assert c.slot_s == pytest.approx(0.5e-3)
    assert c.frame_s == pytest.approx(5e-3)
    assert c.num_slots == 70
    assert c.re_per_prb == 144
    assert CellConfig.from_dict(c.to_dict()) == c
