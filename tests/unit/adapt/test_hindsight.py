"""The best fixed point in hindsight: every menu point is tried, the most accurate kept."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from commsldr.adapt import create_policy
from commsldr.adapt.hindsight import BestFixedInHindsight, best_fixed_in_hindsight


class _Menu:
    def __init__(self, n: int) -> None:
        self.points = [f"p{i}" for i in range(n)]

    def __len__(self) -> int:
        return len(self.points)


def test_picks_the_most_accurate_point_and_is_static():
    pol = create_policy("best-fixed-hindsight")
    assert isinstance(pol, BestFixedInHindsight) and pol.static and pol.hindsight
    pol._menu = _Menu(4)
    with pytest.raises(RuntimeError, match="no point fixed"):
        pol.choose_index(None)
    acc = [0.2, 0.7, 0.7, 0.1]
    tried = []

    def run(p):
        i = p.choose_index(None)
        tried.append(i)
        return SimpleNamespace(accuracy=acc[i], index=i)

    result, best = best_fixed_in_hindsight(pol, run)
    assert tried == [0, 1, 2, 3]
    assert result.index == 1 and best.choose(None) == "p1"  # ties: the first
    with pytest.raises(ValueError, match="index"):
        pol.fix(4)
