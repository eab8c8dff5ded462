"""The ``regret`` figure of a run: cumulative regret over time against the Oracle and against the
best fixed point in hindsight (:mod:`commsldr.adapt.regret`).

One column per channel, one row per reference; one line per policy (colours as in every figure of
the run, :func:`commsldr.plots.policy_colors`) with its interval over seeds as a band, at the
sweep point of the timeline. A dotted grey line of slope ``R(F)/F`` through the origin is drawn
for every policy's final value on the hindsight row: a curve that bends below it grows
sublinearly (the policy learns). Drawn only when the run stored regret curves
(``outputs.figures`` lists ``regret``).
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["regret"]

_REFERENCES = {"oracle": "vs the Oracle (perfect CSI)",
               "hindsight": "vs the best fixed point in hindsight"}


def regret(results: dict[str, Any], colors: dict[str, str]) -> Any:
    """The figure (or None without regret data); ``colors``: policy label → colour."""
    data = results.get("regret") or {}
    entries = [e for e in data.get("curves", []) if e["point"] == data.get("point")]
    if not entries:
        return None
    chans = [c for c in results["channels"] if any(e["channel"] == c for e in entries)]
    kinds = [k for k in _REFERENCES if any(e["reference"] == k for e in entries)]
    fig = plt.figure(figsize=(5.2 * len(chans) + 2.2, 3.4 * len(kinds)), layout="constrained")
    axes = fig.subplots(len(kinds), len(chans), squeeze=False, sharex=True)
    used: list[str] = []
    for i, kind in enumerate(kinds):
        for j, ch in enumerate(chans):
            ax = axes[i][j]
            for e in entries:
                if e["channel"] != ch or e["reference"] != kind:
                    continue
                c = colors.get(e["policy"], "0.4")
                ax.plot(e["frames"], e["regret"], color=c, lw=1.3)
                ax.fill_between(e["frames"], e["regret_low"], e["regret_high"], color=c,
                                alpha=0.18, lw=0)
                if kind == "hindsight" and e["frames"][-1] > 0:
                    ax.plot([0, e["frames"][-1]], [0, e["regret"][-1]], color="0.6", lw=0.7,
                            ls=":")
                if e["policy"] not in used:
                    used.append(e["policy"])
            ax.axhline(0.0, color="0.3", lw=0.6)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(ch)
            if j == 0:
                ax.set_ylabel(f"cumulative regret (images)\n{_REFERENCES[kind]}", fontsize=8)
            if i == len(kinds) - 1:
                ax.set_xlabel("frame")
    handles = [plt.Line2D([], [], color=colors.get(p, "0.4"), lw=1.5) for p in used]
    fig.legend(handles, used, loc="outside right upper", fontsize=8, frameon=False)
    values = results.get("sweep_values") or []
    point = data.get("point")
    label = ""
    if point is not None and point < len(values):
        label = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in values[point].items())
    seeds = len(results.get("seeds", []))
    fig.suptitle(f"{results['scenario']}: cumulative regret ({label or 'base scenario'}; mean "
                 f"and {int(100 * results.get('confidence', 0.95))} % t-interval over {seeds} "
                 "seeds)", fontsize=10)
    return fig
