"""The best fixed operating point in hindsight: an offline baseline for static policies.

No causal policy can know it: the runner simulates every operating point as a
:class:`~commsldr.adapt.policies.Fixed` policy on the *same* realised channel trace, seed and
image schedule, and keeps the one with the highest end-to-end accuracy
(:func:`best_fixed_in_hindsight`). It bounds what any single (k, s) choice could have achieved
on that trace; an adaptive policy that beats it gains from adapting, not from a lucky choice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from commsldr.adapt.policies import CSI, Policy

__all__ = ["BestFixedInHindsight", "best_fixed_in_hindsight"]


class BestFixedInHindsight(Policy):
    """The single menu point with the best accuracy on the realised trace (set by the runner).

    ``static``: once the index is fixed every frame uses it, so the simulator's fast path
    applies. Until :meth:`fix` is called :meth:`choose_index` raises.
    """

    name = "best-fixed-hindsight"
    static: ClassVar[bool] = True
    #: the runner searches the menu on the realised trace (:func:`best_fixed_in_hindsight`)
    hindsight: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._index = -1

    def fix(self, index: int) -> BestFixedInHindsight:
        """Use menu point ``index`` from now on; returns ``self``."""
        if not 0 <= int(index) < len(self.menu):
            raise ValueError(f"index: must be in [0, {len(self.menu)}), got {index}")
        self._index = int(index)
        return self

    def choose_index(self, csi: CSI) -> int:
        if self._index < 0:
            raise RuntimeError("best-fixed-hindsight: no point fixed yet (the runner searches it)")
        return self._index


def best_fixed_in_hindsight(
    policy: BestFixedInHindsight, run: Callable[[Policy], Any]
) -> tuple[Any, BestFixedInHindsight]:
    """Run ``run(policy)`` (one simulation on the realised trace) for every menu point and keep
    the most accurate (ties: the first, i.e. the cheapest in menu order).

    Returns:
        ``(result, policy)`` of the best point, ``policy`` fixed to it.
    """
    best: tuple[float, Any, int] | None = None
    for i in range(len(policy.menu)):
        result = run(policy.fix(i))
        if best is None or result.accuracy > best[0]:
            best = (float(result.accuracy), result, i)
    assert best is not None  # a bound policy has a non-empty menu
    return best[1], policy.fix(best[2])
