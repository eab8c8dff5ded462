"""The tutorial's plug-in policy (examples/custom_policy.py) on a hand-written menu: it steps up
only after `patience` good frames in a row and down at once; bad parameters name themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from commsldr.adapt import CSI, PointMenu, create_policy
from commsldr.link import OperatingPoint
from commsldr.registry import import_plugins

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module", autouse=True)
def plugin() -> None:
    import_plugins([str(REPO / "examples" / "custom_policy.py")])


def _menu() -> PointMenu:
    points = tuple(OperatingPoint(k=8, scale_index=i, scale=s) for i, s in enumerate((1.0, 2.0, 4.0)))
    return PointMenu(points=points, accuracy=np.array([0.3, 0.5, 0.7]),
                     packet_bits=np.array([100.0, 200.0, 400.0]))


def test_steps_up_after_patience_and_down_at_once() -> None:
    p = create_policy("hysteresis-greedy", margin=0.0, patience=3).bind(_menu())
    caps = [150, 1000, 1000, 1000, 1000, 250, 50, 1000]
    choices = [p.choose_index(CSI(frame=t, capacity_bits=c)) for t, c in enumerate(caps)]
    #            fits only 0; best=2 (1st, 2nd, 3rd good frame); stay; down to 1; 0; up needs 3
    assert choices == [0, 0, 0, 2, 2, 1, 0, 0]
    p.reset()
    assert p.choose_index(CSI(frame=0, capacity_bits=1000)) == 2  # first choice: no history


@pytest.mark.parametrize("params,match", [({"margin": 1.0}, "margin"),
                                          ({"patience": 0}, "patience")])
def test_bad_parameters(params: dict, match: str) -> None:
    with pytest.raises(ValueError, match=f"^{match}"):
        create_policy("hysteresis-greedy", **params)
