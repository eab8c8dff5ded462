"""Figures of a cell run: accuracy vs sensors per scheduler, CDF of per-sensor accuracy, the map.

One colour per scheduler (:func:`commsldr.report.plots.policy_colors` order: the order the schedulers
appear in the rows), one line style per policy; legends sit outside the axes, right of the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from commsldr._atomic import atomic_write
from commsldr.report.plots import LINESTYLES, MARKERS, plt, policy_colors

__all__ = ["plot_cell", "accuracy_vs_sensors", "accuracy_cdf", "cell_map", "middle_n"]


def _groups(rows: Sequence[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _order(rows: Sequence[dict[str, Any]], key: str) -> list[Any]:
    return list(dict.fromkeys(r[key] for r in rows))


def accuracy_vs_sensors(cells: Sequence[dict[str, Any]]):  # noqa: ANN201 - a Figure
    """Mean and 5th-percentile sensor accuracy vs number of sensors, per scheduler and policy
    (mean over seeds; the band spans the seeds' min..max)."""
    scheds, pols = _order(cells, "scheduler"), _order(cells, "policy")
    colors = policy_colors(scheds)
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), sharey=True, layout="constrained")
    for ax, col, title in zip(axes, ("accuracy_mean", "accuracy_p5"),
                              ("mean sensor accuracy", "5th-percentile sensor accuracy"), strict=True):
        for (s, p), rows in _groups(cells, "scheduler", "policy").items():
            by_n = _groups(rows, "num_sensors")
            n = np.array(sorted(k[0] for k in by_n))
            vals = [np.array([r[col] for r in by_n[(k,)]]) for k in n]
            mean = np.array([v.mean() for v in vals])
            ax.plot(n, mean, color=colors[s], linestyle=LINESTYLES[pols.index(p) % len(LINESTYLES)],
                    marker=MARKERS[pols.index(p) % len(MARKERS)], markersize=4,
                    label=f"{s} / {p}" if len(pols) > 1 else s)
            if any(v.size > 1 for v in vals):
                ax.fill_between(n, [v.min() for v in vals], [v.max() for v in vals],
                                color=colors[s], alpha=0.15, linewidth=0)
        ax.set_xscale("log", base=2)
        ticks = sorted({r["num_sensors"] for r in cells})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("sensors in the cell")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("task accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)
    return fig


def middle_n(sensors: Sequence[dict[str, Any]]) -> int:
    """The middle entry of the numbers of sensors run (the CDF and the map show that cell)."""
    ns = sorted({r["num_sensors"] for r in sensors})
    return ns[len(ns) // 2]


def accuracy_cdf(sensors: Sequence[dict[str, Any]], n: int | None = None):  # noqa: ANN201
    """CDF of per-sensor accuracy at ``n`` sensors (default :func:`middle_n`; all seeds
    pooled), one panel per policy, one line per scheduler."""
    n_max = middle_n(sensors) if n is None else n
    rows = [r for r in sensors if r["num_sensors"] == n_max]
    scheds, pols = _order(rows, "scheduler"), _order(rows, "policy")
    colors = policy_colors(scheds)
    fig, axes = plt.subplots(1, len(pols), figsize=(3.6 * len(pols) + 1.6, 3.4), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, p in zip(axes[0], pols, strict=True):
        for s in scheds:
            acc = np.sort([r["accuracy"] for r in rows if r["scheduler"] == s and r["policy"] == p])
            if acc.size:
                ax.step(acc, np.arange(1, acc.size + 1) / acc.size, where="post", color=colors[s],
                        label=s)
        ax.set_xlabel("sensor accuracy")
        ax.set_title(f"{p}, N = {n_max}", fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("fraction of sensors")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)
    return fig


def cell_map(sensors: Sequence[dict[str, Any]], isd_m: float | None = None,
             n: int | None = None):  # noqa: ANN201 - a Figure
    """The cell of ``n`` sensors (default :func:`middle_n`; first policy, first seed), one panel
    per scheduler: sensors at their positions coloured by accuracy, the base station (triangle)
    at the origin, the cell's hexagon."""
    n_max = middle_n(sensors) if n is None else n
    rows = [r for r in sensors if r["num_sensors"] == n_max]
    p0, seed0 = rows[0]["policy"], rows[0]["seed"]
    rows = [r for r in rows if r["policy"] == p0 and r["seed"] == seed0]
    scheds = _order(rows, "scheduler")
    fig, axes = plt.subplots(1, len(scheds), figsize=(3.3 * len(scheds) + 1.2, 3.4), squeeze=False,
                             layout="constrained")
    reach = max(max(math.hypot(r["x_m"], r["y_m"]) for r in rows),
                (isd_m or 0.0) / math.sqrt(3)) * 1.08
    sc = None
    for ax, s in zip(axes[0], scheds, strict=True):
        pts = [r for r in rows if r["scheduler"] == s]
        sc = ax.scatter([r["x_m"] for r in pts], [r["y_m"] for r in pts],
                        c=[r["accuracy"] for r in pts], cmap="viridis", vmin=0.0, vmax=1.0, s=22,
                        edgecolors="k", linewidths=0.3)
        ax.plot([0], [0], marker="^", color="k", markersize=8)
        if isd_m:
            a = np.linspace(0, 2 * np.pi, 7) + np.pi / 6
            ax.plot(isd_m / math.sqrt(3) * np.cos(a), isd_m / math.sqrt(3) * np.sin(a), "k-", lw=0.6)
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_aspect("equal")
        ax.set_title(f"{s}", fontsize=9)
        ax.set_xlabel("x (m)")
    axes[0][0].set_ylabel("y (m)")
    fig.colorbar(sc, ax=axes[0].tolist(), label=f"sensor accuracy ({p0}, N = {n_max})", shrink=0.9)
    return fig


def plot_cell(run_dir: str | Path, cells: Sequence[dict[str, Any]],
              sensors: Sequence[dict[str, Any]], *, formats: Sequence[str] = ("png",),
              isd_m: float | None = None) -> list[Path]:
    """Draw the three figures into ``run_dir`` in each format; returns the paths."""
    run_dir = Path(run_dir)
    out = []
    for name, fig in (("cell_accuracy_vs_sensors", accuracy_vs_sensors(cells)),
                      ("cell_accuracy_cdf", accuracy_cdf(sensors)),
                      ("cell_map", cell_map(sensors, isd_m))):
        for fmt in formats:
            path = run_dir / f"{name}.{fmt}"
            # renamed into place: never written through a link in the run directory
            atomic_write(path, lambda fh, fig=fig, fmt=fmt: fig.savefig(fh, format=fmt, dpi=150))
            out.append(path)
        plt.close(fig)
    return out
