"""The ``regret`` figure of a run: cumulative regret over time against the Oracle and against the
best fixed point in hindsight (:mod:`commsldr.adapt.regret`).

One column per channel, one row per reference; one line per policy (colours as in every figure of
the run, :func:`commsldr.report.plots.policy_colors`; in a run of several schemes the colour is
the scheme and the line style the policy) with its interval over seeds as a band, at the sweep
point of the timeline. The reference itself is the zero line in its colour. A dotted grey line
of slope ``R(F)/F`` through the origin is drawn for every policy's final value on the hindsight
row: a curve that bends below it grows sublinearly (the policy learns). Drawn only when the run
stored regret curves (``outputs.figures`` lists ``regret``).
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

__all__ = ["regret"]

_REFERENCES = {"oracle": "vs the Oracle (perfect CSI)",
               "hindsight": "vs the best fixed point in hindsight"}
_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (8, 2)))


def regret(results: dict[str, Any], colors: dict[str, str], multi: bool = False) -> Any:
    """The figure, or None without regret data.

    Args:
        results: the run's results (``results["regret"]`` from the runner).
        colors: colour key (policy label, or scheme in a multi-scheme run) → colour.
        multi: several schemes: a curve's colour key is its scheme (``"scheme: policy"`` labels;
            a bare label is the split autoencoder's, ``split-ae``).
    """
    data = results.get("regret") or {}
    entries = [e for e in data.get("curves", []) if e["point"] == data.get("point")]
    if not entries:
        return None
    refs = data.get("references", {})
    policies = list(dict.fromkeys(e["policy"] for e in entries))

    def key(label: str) -> str:
        if not multi:
            return label
        return label.split(": ", 1)[0] if ": " in label else "split-ae"

    def style(label: str) -> Any:
        return _STYLES[policies.index(label) % len(_STYLES)] if multi else "-"

    chans = [c for c in results["channels"] if any(e["channel"] == c for e in entries)]
    kinds = [k for k in _REFERENCES if any(e["reference"] == k for e in entries)]
    fig = plt.figure(figsize=(5.2 * len(chans) + 2.4, 3.4 * len(kinds) + 0.4),
                     layout="constrained")
    axes = fig.subplots(len(kinds), len(chans), squeeze=False, sharex=True)
    used: list[str] = []
    for i, kind in enumerate(kinds):
        ref = refs.get(kind)
        for j, ch in enumerate(chans):
            ax = axes[i][j]
            for e in entries:
                if e["channel"] != ch or e["reference"] != kind:
                    continue
                k = key(e["policy"])
                c = colors.get(k, "0.4")
                ax.plot(e["frames"], e["regret"], color=c, lw=1.3, ls=style(e["policy"]))
                ax.fill_between(e["frames"], e["regret_low"], e["regret_high"], color=c,
                                alpha=0.15, lw=0)
                if kind == "hindsight" and e["frames"][-1] > 0:
                    ax.plot([0, e["frames"][-1]], [0, e["regret"][-1]], color="0.6", lw=0.7,
                            ls=":")
                used.append(k)
            if ref is not None and key(ref) in colors:
                ax.axhline(0.0, color=colors[key(ref)], lw=1.0)
                used.append(key(ref))
            else:
                ax.axhline(0.0, color="0.3", lw=0.6)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(ch)
            if j == 0:
                ax.set_ylabel(f"cumulative regret (images)\n{_REFERENCES[kind]}", fontsize=8)
            if i == len(kinds) - 1:
                ax.set_xlabel("frame")
    order = [k for k in colors if k in used]
    handles: list[Any] = [Line2D([], [], color=colors[k], lw=2.2) for k in order]
    labels = list(order)
    if multi:
        handles.append(Line2D([], [], color="none"))
        labels.append("")
        for p in policies:
            handles.append(Line2D([], [], color="0.3", ls=style(p)))
            labels.append(p)
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)
    values = results.get("sweep_values") or []
    point = data.get("point")
    label = ""
    if point is not None and point < len(values):
        label = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in values[point].items())
    seeds = len(results.get("seeds", []))
    fig.suptitle(f"{results['scenario']}: cumulative regret ({label or 'base scenario'})\n"
                 f"mean and {round(100 * results.get('confidence', 0.95))} % t-interval over "
                 f"{seeds} seed(s)", x=0.01, ha="left", fontsize=10)
    return fig
