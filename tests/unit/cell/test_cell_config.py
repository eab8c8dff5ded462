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


@pytest.mark.parametrize(("bw", "scs", "prbs"), [(1e12, 30e3, 2777777), (150e6, 60e3, 208),
                                                 (60e6, 15e3, 333), (101e6, 30e3, 280)])
def test_a_carrier_wider_than_nr_allows_is_refused(bw: float, scs: float, prbs: int) -> None:
    """At most 275 PRBs and 100 MHz (FR1): bandwidth_hz 1e12 meant 2.8 million PRBs a slot."""
    with pytest.raises(CellConfigError) as err:
        CellConfig(bandwidth_hz=bw, subcarrier_spacing_hz=scs)
    assert err.value.key == "bandwidth_hz"
    assert f"is {prbs} PRBs" in str(err.value) and "at most 275 PRBs and 100 MHz" in str(err.value)


@pytest.mark.parametrize(("bw", "scs", "prbs"), [(100e6, 30e3, 273), (50e6, 15e3, 270),
                                                 (100e6, 60e3, 135), (49.5e6, 15e3, 275)])
def test_the_widest_nr_carriers_are_accepted(bw: float, scs: float, prbs: int) -> None:
    assert CellConfig(bandwidth_hz=bw, subcarrier_spacing_hz=scs).prbs == prbs


def test_a_huge_cell_bandwidth_is_one_line_naming_the_key(capsys) -> None:
    from commsldr.cli.main import main

    assert main(["run", "cell_uplink", "--check", "--set", "cell.settings.bandwidth_hz=1e12"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("commsldr run: cell.settings.bandwidth_hz: 1e+12 Hz at 30 kHz is "
                             "2777777 PRBs; an NR carrier has at most 275 PRBs")
