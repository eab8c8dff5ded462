"""The look shared by every figure of a run: colours, line styles, markers, log axes.

One colour per policy (or scheme) in every figure of a run: :func:`policy_colors` over
:data:`PALETTE` (Okabe–Ito, then Paul Tol's muted scheme: colour-blind safe); one marker and
line style per swept value combination from :data:`LINESTYLES` and :data:`MARKERS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib import ticker
from matplotlib.axes import Axes

__all__ = ["PALETTE", "LOST_COLOR", "LINESTYLES", "MARKERS", "policy_colors", "compact_tick",
           "log_axis"]

#: Okabe & Ito (2008) without black (ordered for contrast on white), then Tol's "muted" scheme
#: (Paul Tol, "Colour schemes", SRON/EPS/TN/09-002): 16 colour-blind-safe, distinct colours.
PALETTE: tuple[str, ...] = (
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442",
    "#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77", "#cc6677", "#882255",
    "#aa4499",
)
#: the "lost packet" marker colour (no policy gets it)
LOST_COLOR = "#000000"
#: line styles and markers for swept values (index 0: a policy with nothing swept)
LINESTYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)),
                               (0, (1, 3)), (0, (3, 1, 1, 1)))
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


def policy_colors(names: Sequence[str]) -> dict[str, str]:
    """A colour per name, in order: the first 16 from :data:`PALETTE`, further ones sampled
    from a continuous colour map (still all distinct). The same list gives the same colours.

    Example:
        >>> policy_colors(["fixed", "oracle"])
        {'fixed': '#0072b2', 'oracle': '#e69f00'}
    """
    names = list(dict.fromkeys(names))
    out = {n: PALETTE[i] for i, n in enumerate(names[:len(PALETTE)])}
    extra = names[len(PALETTE):]
    if extra:
        cmap = matplotlib.colormaps["turbo"]
        for i, n in enumerate(extra):
            out[n] = matplotlib.colors.to_hex(cmap(0.05 + 0.9 * i / max(len(extra) - 1, 1)))
    return out


def compact_tick(v: float, _pos: Any = None) -> str:
    """Tick label: 20, 500, 2k, 1.5M."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def log_axis(ax: Axes, values: Sequence[float], axis: str = "x") -> None:
    """A log axis with few, plain tick labels (1-2-5 steps within ~3 decades, else decades)."""
    pos = [v for v in values if v > 0 and math.isfinite(v)]
    if not pos:
        return
    decades = math.log10(max(pos) / min(pos)) if len(pos) > 1 else 0.0
    subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
    a = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    a.set_major_locator(ticker.LogLocator(base=10, subs=subs, numticks=12))
    a.set_major_formatter(ticker.FuncFormatter(compact_tick))
    a.set_minor_locator(ticker.LogLocator(base=10, subs="auto", numticks=12))
    a.set_minor_formatter(ticker.NullFormatter())
