"""What a plug-in policy or PHY returns is checked where the simulator calls it: a bad menu index
or a PHY answer of the wrong type is one error naming the plug-in, what it returned and what
is allowed (never a silently wrong point, an IndexError or an AttributeError)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.adapt import PointMenu, Policy
from commsldr.adapt.csi import create_csi_model
from commsldr.link import ShannonPHY, simulate
from commsldr.link.frame_record import check_phy_result
from commsldr.link.synthetic_table import synthetic_table
from commsldr_channels import LinkState

TABLE = synthetic_table(num_images=40)
P = len(TABLE.points)


class _IndexPolicy(Policy):
    name = "index-test"

    def __init__(self, value) -> None:
        super().__init__()
        self.value = value

    def choose_index(self, csi):
        return self.value


def _states(n: int = 12) -> LinkState:
    return LinkState(snr_db=torch.full((n,), 10.0))


def _run(policy, phy=None, **kw):
    return simulate(TABLE, _states(), phy or ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3),
                    policy, csi_model=create_csi_model("perfect"), **kw)


@pytest.mark.parametrize("kw", [{}, {"max_attempts": 2}, {"harq_timing": {}}])
@pytest.mark.parametrize("value,error,match", [
    (-1, ValueError, r"returned -1; it must be a menu index in \[0, 14\]"),
    (P, ValueError, rf"returned {P}; it must be a menu index in \[0, 14\]"),
    (True, TypeError, r"returned True \(bool\); it must return an int menu index"),
    (1.0, TypeError, r"returned 1.0 \(float\)"),
    (None, TypeError, r"returned None \(NoneType\)"),
])
def test_a_bad_menu_index_is_one_error_naming_the_policy(value, error, match, kw) -> None:
    policy = _IndexPolicy(value).bind(PointMenu.from_table(TABLE))
    with pytest.raises(error, match=r"^policy 'index-test': choose_index\(\) " + match):
        _run(policy, **kw)


def test_numpy_integer_indices_are_fine() -> None:
    for value in (np.int64(2), np.int32(2), 2):
        r = _run(_IndexPolicy(value).bind(PointMenu.from_table(TABLE)))
        assert set(r.point_index.tolist()) == {2}


def test_a_static_policy_is_checked_on_the_fast_path() -> None:
    class StaticBad(_IndexPolicy):
        static = True

    with pytest.raises(ValueError, match=r"^policy 'StaticBad': choose_index\(\) returned 99"):
        simulate(TABLE, _states(), ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3),
                 StaticBad(99).bind(PointMenu.from_table(TABLE)))


def test_a_duck_typed_policy_returning_a_foreign_point_is_named() -> None:
    class Foreign:
        name = "foreign"

        def reset(self) -> None:
            pass

        def choose(self, csi):
            return "not a point"

    with pytest.raises(ValueError, match=r"^policy 'foreign': choose\(\) returned 'not a point', "
                                         r"which is not one of the table's 15 operating points"):
        _run(Foreign())


class _NonePHY(ShannonPHY):
    name = "none-phy"

    def deliver(self, *args, **kwargs):
        return None


class _ShortPHY(ShannonPHY):
    def deliver(self, bits, *args, **kwargs):
        res = super().deliver(bits, *args, **kwargs)
        return type(res)(**{k: v[:-1] for k, v in vars(res).items()}) if len(bits) > 1 else \
            type(res)(**{k: np.concatenate([v, v]) for k, v in vars(res).items()})


@pytest.mark.parametrize("kw", [{}, {"max_attempts": 2}, {"harq_timing": {}}])
def test_a_phy_returning_none_is_one_error_naming_it(kw) -> None:
    phy = _NonePHY(bandwidth_hz=1e5, frame_s=1e-3)
    with pytest.raises(TypeError, match=r"^PHY 'none-phy': deliver\(\) returned None \(NoneType\); "
                                        r"it must return a commsldr.link.PHYResult"):
        _run(_IndexPolicy(0).bind(PointMenu.from_table(TABLE)), phy, **kw)


def test_a_phy_with_the_wrong_number_of_decisions_is_named() -> None:
    phy = _ShortPHY(bandwidth_hz=1e5, frame_s=1e-3)
    with pytest.raises(ValueError, match=r"^PHY '_ShortPHY': deliver\(\) returned delivered of "
                                         r"shape \(\d+,\) for \d+ frames"):
        _run(_IndexPolicy(0).bind(PointMenu.from_table(TABLE)), phy)


def test_check_phy_result_accepts_a_phy_result_like_object() -> None:
    class Like:
        delivered = np.ones(3, dtype=bool)
        capacity_bits = np.ones(3)
        mcs_index = np.full(3, -1)

    res = Like()
    assert check_phy_result(object(), res, 3) is res
    with pytest.raises(TypeError, match=r"^PHY 'object': deliver\(\) returned \{\} \(dict\)"):
        check_phy_result(object(), {}, 3)
