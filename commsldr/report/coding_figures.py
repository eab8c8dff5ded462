"""Figures: accuracy versus rate (paper Figs. 2/4) and per-entry latent spread (paper Fig. 5).

Both use matplotlib's object-oriented API (no global ``pyplot`` state) and save PNG and PDF.
matplotlib is imported on first use, so importing :mod:`commsldr.coding` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from commsldr.coding.evaluate import RateAccuracyResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["legend_outside", "model_colors", "plot_latent_std", "plot_rate_accuracy"]

_TITLES = {
    "paper_entropy_bits": "paper total entropy\n(Gaussian, high resolution)",
    "exact_entropy_bits": "exact entropy\n(binned Gaussian)",
    "empirical_entropy_bits": "empirical entropy\n(test-set symbols)",
    "payload_bits": "coded payload\n(one image per message)",
    "packet_bits": "coded packet\n(payload + header + CRC)",
}


def legend_outside(fig: Figure, ax: Axes) -> None:
    """One figure legend, with ``ax``'s entries, right of the panels (``fig`` uses the
    constrained layout), never over data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)


def model_colors(labels: Iterable[str],
                 colors: Mapping[str, object] | None = None) -> dict[str, object]:
    """One colour per label: ``colors`` where it names the label, else matplotlib's ten-colour
    cycle in label order. Pass the same mapping to every figure so that a model keeps its
    colour across them."""
    return {lbl: (colors or {}).get(lbl, f"C{i % 10}") for i, lbl in enumerate(labels)}


def _save(fig: Figure, path_stem: str | os.PathLike[str]) -> list[Path]:
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in out:
        fig.savefig(p, dpi=150, bbox_inches="tight")
    return out


def plot_rate_accuracy(
    results: RateAccuracyResult | Sequence[RateAccuracyResult],
    path_stem: str | os.PathLike[str],
    *,
    measures: Sequence[str] = ("paper_entropy_bits", "exact_entropy_bits",
                               "empirical_entropy_bits", "packet_bits"),
    colors: Mapping[str, object] | None = None,
) -> list[Path]:
    """Accuracy (%) against each rate measure, one panel per measure, one line per result; the
    legend sits right of the panels.

    Args:
        results: one or several curves (``label`` is the legend entry).
        path_stem: output path without suffix; ``.png`` and ``.pdf`` are written.
        measures: rate columns to plot (keys of :data:`~commsldr.coding.evaluate.RATE_MEASURES`).
        colors: label -> matplotlib colour, to keep a model's colour across figures (default:
            matplotlib's cycle in the order of ``results``).

    Returns:
        The written paths.
    """
    res = [results] if isinstance(results, RateAccuracyResult) else list(results)
    for m in measures:
        if m not in _TITLES:
            raise ValueError(f"unknown measure {m!r}; valid: {list(_TITLES)}")
    from matplotlib.figure import Figure

    labels = [r.label or f"{r.rule}/{r.codec} k={r.k}" for r in res]
    color = model_colors(labels, colors)
    fig = Figure(figsize=(4.0 * len(measures) + 1.6, 3.4), layout="constrained")
    axes = fig.subplots(1, len(measures), sharey=True, squeeze=False)[0]
    for ax, m in zip(axes, measures, strict=True):
        for r, lbl in zip(res, labels, strict=True):
            order = np.argsort(r.column(m))
            ax.plot(r.column(m)[order], 100 * r.column("accuracy")[order], marker="o", ms=3,
                    color=color[lbl], label=lbl)
        ax.set_title(_TITLES[m], fontsize=9)
        ax.set_xlabel("bits / image")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy [%]")
    legend_outside(fig, axes[0])
    return _save(fig, path_stem)


def plot_latent_std(
    stds: Mapping[str, Sequence[float] | np.ndarray],
    path_stem: str | os.PathLike[str],
    *,
    sort: bool = False,
    colors: Mapping[str, object] | None = None,
) -> list[Path]:
    """Standard deviation of each latent entry (paper Fig. 5), one line per model, in two
    panels: the std itself, and the std relative to the same model's largest (the shape of the
    spread, whatever the latent's overall scale). The legend sits right of the panels.

    Args:
        stds: legend label -> per-entry std (e.g. ``RateAccuracyResult.latent_std``).
        path_stem: output path without suffix.
        sort: plot entries in decreasing order of std instead of by index (easier to compare
            spreads; by index shows which entries a truncation keeps).
        colors: label -> matplotlib colour (default: matplotlib's cycle in the order of
            ``stds``).
    """
    from matplotlib.figure import Figure

    color = model_colors(stds, colors)
    fig = Figure(figsize=(10.0, 3.4), layout="constrained")
    ax, ax_rel = fig.subplots(1, 2)
    for name, s in stds.items():
        v = np.asarray(s, dtype=np.float64)
        v = np.sort(v)[::-1] if sort else v
        x = np.arange(1, v.size + 1) if sort else np.arange(v.size)
        style = dict(lw=1.2, color=color[name], label=name)
        if not sort:
            style.update(marker=".", ms=3, lw=0.8)
        ax.plot(x, v, **style)
        ax_rel.plot(x, v / v.max() if v.size and v.max() > 0 else v, **style)
    xlabel = "latent entry (sorted by std)" if sort else "latent entry index i"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("std of $\\hat{y}_i$")
    ax_rel.set_xlabel(xlabel)
    ax_rel.set_ylabel("std / largest std of the same model")
    ax_rel.set_ylim(0.0, 1.05)
    for a in (ax, ax_rel):
        a.grid(alpha=0.3)
    legend_outside(fig, ax)
    return _save(fig, path_stem)
