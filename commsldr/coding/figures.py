"""Figures: accuracy versus rate (paper Figs. 2/4) and per-entry latent spread (paper Fig. 5).

Both use matplotlib's object-oriented API (no global ``pyplot`` state) and save PNG and PDF.
matplotlib is imported on first use, so importing :mod:`commsldr.coding` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .evaluate import RateAccuracyResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_latent_std", "plot_rate_accuracy"]

_TITLES = {
    "paper_entropy_bits": "paper total entropy\n(Gaussian, high resolution)",
    "exact_entropy_bits": "exact entropy\n(binned Gaussian)",
    "empirical_entropy_bits": "empirical entropy\n(test-set symbols)",
    "payload_bits": "coded payload\n(one image per message)",
    "packet_bits": "coded packet\n(payload + header + CRC)",
}


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
) -> list[Path]:
    """Accuracy (%) against each rate measure, one panel per measure, one line per result.

    Args:
        results: one or several curves (``label`` is the legend entry).
        path_stem: output path without suffix; ``.png`` and ``.pdf`` are written.
        measures: rate columns to plot (keys of :data:`~commsldr.coding.evaluate.RATE_MEASURES`).

    Returns:
        The written paths.
    """
    res = [results] if isinstance(results, RateAccuracyResult) else list(results)
    for m in measures:
        if m not in _TITLES:
            raise ValueError(f"unknown measure {m!r}; valid: {list(_TITLES)}")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0 * len(measures), 3.4))
    axes = fig.subplots(1, len(measures), sharey=True, squeeze=False)[0]
    for ax, m in zip(axes, measures, strict=True):
        for r in res:
            order = np.argsort(r.column(m))
            ax.plot(r.column(m)[order], 100 * r.column("accuracy")[order], marker="o", ms=3,
                    label=r.label or f"{r.rule}/{r.codec} k={r.k}")
        ax.set_title(_TITLES[m], fontsize=9)
        ax.set_xlabel("bits / image")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy [%]")
    axes[0].legend(fontsize=7)
    return _save(fig, path_stem)


def plot_latent_std(
    stds: Mapping[str, Sequence[float] | np.ndarray],
    path_stem: str | os.PathLike[str],
    *,
    sort: bool = False,
) -> list[Path]:
    """Standard deviation of each latent entry (paper Fig. 5), one line per model.

    Args:
        stds: legend label -> per-entry std (e.g. ``RateAccuracyResult.latent_std``).
        path_stem: output path without suffix.
        sort: plot entries in decreasing order of std instead of by index.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.subplots()
    for name, s in stds.items():
        v = np.asarray(s, dtype=np.float64)
        ax.plot(np.arange(v.size), np.sort(v)[::-1] if sort else v, marker=".", ms=3, lw=0.8,
                label=name)
    ax.set_xlabel("latent entry" + (" (sorted)" if sort else " index i"))
    ax.set_ylabel("std of $\\hat{y}_i$")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path_stem)
