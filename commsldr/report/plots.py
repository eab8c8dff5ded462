"""Figures of a scenario run, drawn from its result files (``commsldr plot RUN_DIR``).

- ``accuracy_vs_snr`` — accuracy vs SNR, one line per policy with its confidence band, one panel
  per channel (x: the swept ``*snr_db`` value, else the measured mean SNR of the frames);
- ``accuracy_vs_capacity`` — accuracy vs the measured mean capacity (bits/frame) of the PHY;
- ``accuracy_vs_rate`` — accuracy vs mean bits per image achieved, one panel per channel, the
  markers filled by the channel's swept value (colour bar), over the table's operating points
  (accuracy if every packet arrived);
- ``timeline`` — per channel: the capacity trace with each policy's packet sizes, the chosen
  encoder variant and scale, and which packets were delivered / how many images were correct;
- ``accuracy_vs_sensor_compute`` — accuracy vs the sensor's MACs per image, per scheme and
  policy at the middle sweep point, over every scheme's operating points (all delivered);
- ``regret`` — cumulative regret vs the Oracle and vs the best fixed point in hindsight over
  time (:mod:`commsldr.report.regret_figure`).

Conventions shared by every figure: **colour = policy** — the same colour for a policy in every
figure of a run, from a colour-blind-safe palette (:func:`policy_colors`: Okabe–Ito, then Paul
Tol's "muted"), assigned in the order the scenario lists its policies; **line style and marker =
swept value** of the keys that apply to that policy (a ``policies.<label>.*`` key only to that
policy, a ``csi.*`` key not to policies that always see perfect CSI); legends sit outside the
axes (one per figure: policies, then swept values); "lost" is a black ×, a colour no policy gets.

When a run has several schemes (``schemes`` section), colour is the **scheme** (same palette, in
the run's scheme order) and the policy joins the swept values in the line style (``policy=...``).
"""

from __future__ import annotations

import errno
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from commsldr._atomic import atomic_write  # noqa: E402
from commsldr.adapt.intervals import interval_label  # noqa: E402
from commsldr.registry import POLICIES  # noqa: E402
from commsldr.report.regret_figure import regret as _regret  # noqa: E402
from commsldr.report.results import load_results  # noqa: E402
from commsldr.report.style import (  # noqa: E402
    LINESTYLES,
    LOST_COLOR,
    MARKERS,
    PALETTE,
    log_axis,
    policy_colors,
)

__all__ = ["plot_run", "FIGURE_FUNCTIONS", "FORMATS", "policy_colors", "PALETTE", "LOST_COLOR"]

#: figure file formats (``outputs.formats``, ``commsldr plot --formats``)
FORMATS = ("png", "pdf", "svg")



def _multi_scheme(results: dict[str, Any]) -> bool:
    return len({r.get("scheme", "split-ae") for r in results["rows"]}) > 1


def _entity(r: dict[str, Any], multi: bool) -> str:
    """What a row's colour stands for: its scheme in a multi-scheme run, else its policy."""
    return str(r.get("scheme", "split-ae")) if multi else r["policy"]


def _entities(results: dict[str, Any]) -> list[str]:
    """Every colour key of a run, in the run's order (schemes or policies)."""
    if _multi_scheme(results):
        names = list(results.get("schemes") or {}) + [str(r.get("scheme", "split-ae"))
                                                       for r in results["rows"]]
    else:
        names = list(results.get("policies", [])) + [r["policy"] for r in results["rows"]]
    return list(dict.fromkeys(names))


def _run_colors(results: dict[str, Any]) -> dict[str, str]:
    return policy_colors(_entities(results))


# ---------------------------------------------------------------------------------------------
# which swept keys apply to which row
# ---------------------------------------------------------------------------------------------
def _perfect_csi(policy_type: str | None) -> bool:
    if not policy_type:
        return False
    try:
        return bool(getattr(POLICIES.get(policy_type), "requires_perfect_csi", False))
    except Exception:  # a plug-in not importable here: assume it sees the scenario's CSI
        return False


def _under(key: str, section: str, label: str) -> bool:
    """``key`` is ``<section>.*.<param>`` or ``<section>.<label>.<param>`` (labels may contain
    dots, parameter names do not)."""
    return any(key.startswith(p) and "." not in key[len(p):]
               for p in (f"{section}.*.", f"{section}.{label}."))


def _applies(key: str, row: dict[str, Any], channel: str) -> bool:
    """Whether the swept ``key`` can change ``row``'s result on ``channel``."""
    parts = key.split(".")
    if parts[0] == "policies":
        return _under(key, "policies", row["policy"])
    if parts[0] == "channels":
        return _under(key, "channels", channel)
    if parts[0] == "csi":
        return not _perfect_csi(row.get("policy_type"))
    return True


def _short(key: str) -> str:
    return key.split(".")[-1]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


class _Styles:
    """Line style / marker per combination of swept values (shared by all panels of a figure).

    With several schemes a policy's own combination ``(("policy", p),)`` gets the same style in
    every figure of the run (:func:`_policy_style_index`), whatever order the lines are drawn in.
    """

    def __init__(self, results: dict[str, Any] | None = None) -> None:
        self.index: dict[tuple[tuple[str, str], ...], int] = {(): 0}
        if results is not None and _multi_scheme(results):
            for p, i in _policy_style_index(results).items():
                self.index[(("policy", p),)] = i

    def of(self, combo: tuple[tuple[str, str], ...]) -> tuple[Any, str]:
        i = self.index.setdefault(combo, len(self.index))
        return LINESTYLES[i % len(LINESTYLES)], MARKERS[i % len(MARKERS)]

    def handles(self) -> list[tuple[Line2D, str]]:
        out = []
        for combo, i in self.index.items():
            if not combo:
                continue
            ls, mk = LINESTYLES[i % len(LINESTYLES)], MARKERS[i % len(MARKERS)]
            out.append((Line2D([], [], color="0.35", ls=ls, marker=mk, ms=4),
                        ", ".join(f"{k}={v}" for k, v in combo)))
        return out


def _policy_style_index(results: dict[str, Any]) -> dict[str, int]:
    """Style index of each policy label (1, 2, ... in order of first appearance in the rows):
    one marker per policy across every figure of a run."""
    names = list(dict.fromkeys(str(r["policy"]) for r in results.get("rows", [])))
    return {p: i + 1 for i, p in enumerate(names)}


def _range_note(values: Sequence[float]) -> str:
    """``" (all within 0.5 %)"`` when the values span under 2 % of their size, else ``""``: an
    axis over a negligible range says so."""
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if len(v) < 2 or max(abs(x) for x in v) == 0:
        return ""
    spread = (max(v) - min(v)) / max(abs(x) for x in v)
    return f" (all within {100 * spread:.2g} %)" if spread < 0.02 else ""


def _ceiling(ax, results: dict[str, Any]) -> Line2D | None:
    """The error-free ceiling: the best operating point's accuracy with every packet delivered
    (a dotted grey line; None without operating points)."""
    ops = results.get("operating_points") or []
    if not ops:
        return None
    best = max(float(p["accuracy"]) for p in ops)
    return ax.axhline(best, color="0.45", ls=(0, (1, 2)), lw=0.9, zorder=0)


def _series(rows: list[dict[str, Any]], results: dict[str, Any], channel: str, x_of: Any,
            exclude: set[str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], list]:
    """Group a channel's rows into lines: one per policy and combination of the swept values
    that apply to it (rows that differ only in keys that do not apply are one line; the first
    row at each x is kept)."""
    lines: dict[tuple[str, tuple[tuple[str, str], ...]], dict[float, dict[str, Any]]] = \
        defaultdict(dict)
    keys = [k for k in results.get("sweep_keys", []) if k not in exclude]
    multi = _multi_scheme(results)
    for r in rows:
        x = x_of(r)
        if x is None or isinstance(x, bool):
            continue
        try:  # a swept value that is not a number (text) has no place on a numeric axis
            x = float(x)
        except (TypeError, ValueError):
            continue
        if math.isnan(x):
            continue
        combo = tuple((_short(k), _fmt(r.get(k))) for k in keys if _applies(k, r, channel))
        if multi:
            combo = (("policy", str(r["policy"])), *combo)
        lines[(_entity(r, multi), combo)].setdefault(float(x), r)
    return {k: sorted(v.items()) for k, v in lines.items()}


# ---------------------------------------------------------------------------------------------
# figure scaffolding
# ---------------------------------------------------------------------------------------------
def _panels(results: dict[str, Any], height: float = 3.6,
            sharey: bool = True) -> tuple[Figure, list[tuple[str, Axes]]]:
    chans = results["channels"]
    fig = plt.figure(figsize=(4.6 * len(chans) + 2.4, height), layout="constrained")
    axes = fig.subplots(1, len(chans), squeeze=False, sharey=sharey)
    return fig, list(zip(chans, axes[0], strict=True))


def _legend(fig: Figure, colors: dict[str, str], used: Sequence[str], styles: _Styles | None = None,
            extra: Sequence[tuple[Any, str]] = ()) -> None:
    """One legend outside the axes, on the right: the policies, then the swept values."""
    handles: list[Any] = [Line2D([], [], color=colors[p], lw=2.2) for p in used]
    labels: list[str] = list(used)
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    style_handles = styles.handles() if styles is not None else []
    if style_handles:
        handles.append(Line2D([], [], color="none"))
        labels.append("")
        for h, lab in style_handles:
            handles.append(h)
            labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)


def _used(results: dict[str, Any], lines_per_panel: list[dict]) -> list[str]:
    seen = {p for lines in lines_per_panel for (p, _) in lines}
    return [p for p in _entities(results) if p in seen]


def _draw_lines(ax: Axes, lines: dict[Any, list], colors: dict[str, str], styles: _Styles, band: bool = True) -> None:
    for (policy, combo), pts in lines.items():
        xs = [x for x, _ in pts]
        ys = [r["accuracy"] for _, r in pts]
        ls, mk = styles.of(combo)
        color = colors[policy]
        ax.plot(xs, ys, ls=ls, marker=mk, ms=3.5, color=color, lw=1.3)
        if band:
            ax.fill_between(xs, [r["accuracy_low"] for _, r in pts],
                            [r["accuracy_high"] for _, r in pts], color=color, alpha=0.12, lw=0)


def _title(fig: Figure, text: str) -> None:
    """The figure title, left-aligned so that it stays clear of the legend on the right."""
    fig.suptitle(text, x=0.01, ha="left")


def _ci_label(results: dict[str, Any]) -> str:
    """Which interval the bands are: per row ``ci_method`` and ``seeds`` (runs before those
    columns existed: the scenario's ``ci``)."""
    conf = results.get("confidence", 0.95)
    seen = dict.fromkeys((r.get("ci_method", results.get("ci", "wilson")), r.get("seeds"))
                         for r in results.get("rows", []))
    if not seen:
        return interval_label(results.get("ci", "wilson"), None, conf)
    texts = [interval_label(m, n, conf)[len(f"{100 * conf:.0f}% CI ("):-1] for m, n in seen]
    return f"{100 * conf:.0f}% CI ({'; '.join(texts)})"


def _snr_key(results: dict[str, Any], channel: str) -> str | None:
    for key in results.get("sweep_keys", []):
        parts = key.split(".")
        if parts[-1].endswith("snr_db") and (parts[0] != "channels" or
                                             _under(key, "channels", channel)):
            return key
    return None


def _channel_key(results: dict[str, Any], channel: str) -> str | None:
    """The first swept key of this channel (the SNR if there is one)."""
    snr = _snr_key(results, channel)
    if snr is not None:
        return snr
    for key in results.get("sweep_keys", []):
        if _under(key, "channels", channel):
            return key
    return None


# ---------------------------------------------------------------------------------------------
# the figures
# ---------------------------------------------------------------------------------------------
def accuracy_vs_snr(results: dict[str, Any]) -> Figure | None:
    """Accuracy vs SNR (dB) per policy and channel, with confidence bands."""
    if not any(not math.isnan(r.get("mean_snr_db", math.nan)) for r in results["rows"]):
        return None
    colors, styles = _run_colors(results), _Styles(results)
    fig, panels = _panels(results)
    all_lines = []
    for ch, ax in panels:
        key = _snr_key(results, ch)
        rows = [r for r in results["rows"] if r["channel"] == ch]
        lines = _series(rows, results, ch, (lambda r, k=key: r.get(k)) if key else
                        (lambda r: r.get("mean_snr_db")), {key} if key else set())
        _draw_lines(ax, lines, colors, styles)
        _ceiling(ax, results)
        all_lines.append(lines)
        ax.set_title(ch)
        ax.set_xlabel("configured mean SNR (dB)" if key else "SNR (dB), measured mean")
        ax.grid(alpha=0.3)
    panels[0][1].set_ylabel("accuracy")
    _legend(fig, colors, _used(results, all_lines), styles, extra=_ceiling_handle(results))
    _title(fig, f"{results['scenario']}: accuracy vs SNR\nband: {_ci_label(results)}")
    return fig


def accuracy_vs_capacity(results: dict[str, Any]) -> Figure | None:
    """Accuracy vs measured mean capacity (bits per frame)."""
    colors, styles = _run_colors(results), _Styles(results)
    fig, panels = _panels(results)
    all_lines = []
    for ch, ax in panels:
        rows = [r for r in results["rows"] if r["channel"] == ch]
        channel_keys = {k for k in results.get("sweep_keys", []) if k.split(".")[0] == "channels"}
        lines = _series(rows, results, ch, lambda r: r.get("mean_capacity_bits"), channel_keys)
        _draw_lines(ax, lines, colors, styles)
        _ceiling(ax, results)
        all_lines.append(lines)
        xs = [x for pts in lines.values() for x, _ in pts]
        log_axis(ax, xs)
        ax.set_title(ch)
        ax.set_xlabel("mean capacity (bits/frame)" + _range_note(xs))
        ax.grid(alpha=0.3, which="major")
    panels[0][1].set_ylabel("accuracy")
    _legend(fig, colors, _used(results, all_lines), styles, extra=_ceiling_handle(results))
    _title(fig, f"{results['scenario']}: accuracy vs capacity\nband: {_ci_label(results)}")
    return fig


def accuracy_vs_rate(results: dict[str, Any]) -> Figure | None:
    """Accuracy vs mean bits per image achieved, markers filled by the channel's swept value."""
    colors, styles = _run_colors(results), _Styles()
    fig, panels = _panels(results, height=3.9)
    ops = results.get("operating_points", [])
    by_k: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in ops:
        by_k[p["k"]].append(p)
    table_handles = []
    all_lines = []
    drawn: set[str] = set()  # entities with at least one point (an analog scheme has no rate)
    for ch, ax in panels:
        for i, (k, pts) in enumerate(sorted(by_k.items())):
            pts = sorted(pts, key=lambda p: p["bits_per_image"])
            ax.plot([p["bits_per_image"] for p in pts], [p["accuracy"] for p in pts],
                    color="0.55", lw=0.8, ls=":", marker=MARKERS[i % len(MARKERS)], ms=3,
                    mfc="none", zorder=1)
            if ch == panels[0][0]:
                table_handles.append((Line2D([], [], color="0.55", lw=0.8, ls=":",
                                             marker=MARKERS[i % len(MARKERS)], ms=3, mfc="none"),
                                      f"table k={k} (all delivered)"))
        other_bits: list[float] = []
        if _multi_scheme(results):  # the other schemes' operating points, in their colours
            for label, d in (results.get("schemes") or {}).items():
                pts = sorted(d.get("operating_points") or [], key=lambda p: p["bits_per_image"])
                if label != "split-ae" and pts and label in colors:
                    ax.plot([p["bits_per_image"] for p in pts], [p["accuracy"] for p in pts],
                            ls=":", lw=0.8, marker="x", ms=3, alpha=0.6, color=colors[label],
                            zorder=1)
                    other_bits += [p["bits_per_image"] for p in pts]
        key = _channel_key(results, ch)
        rows = [r for r in results["rows"] if r["channel"] == ch]
        # one line per policy through its sweep, in the order of the channel's swept value
        lines = _series(rows, results, ch, (lambda r, k=key: r.get(k)) if key else
                        (lambda r: r.get("point")), {key} if key else set())
        all_lines.append(lines)
        values = sorted({x for pts in lines.values() for x, _ in pts})
        norm = None
        if key is not None and len(values) > 1:
            positive = values[0] > 0 and values[-1] / values[0] > 20
            norm = (matplotlib.colors.LogNorm if positive else matplotlib.colors.Normalize)(
                vmin=values[0], vmax=values[-1])
        cmap = matplotlib.colormaps["cividis"]
        for (policy, combo), pts in lines.items():
            ls, mk = styles.of(combo)
            xs = [r.get("mean_bits_per_image") for _, r in pts]
            ok = [(x, r, v) for (v, r), x in zip(pts, xs, strict=True)
                  if x is not None and not (isinstance(x, float) and math.isnan(x))]
            if not ok:
                continue
            drawn.add(policy)
            ax.plot([x for x, _, _ in ok], [r["accuracy"] for _, r, _ in ok], ls=ls, lw=1.0,
                    color=colors[policy], zorder=2)
            face = [cmap(norm(v)) for _, _, v in ok] if norm is not None else colors[policy]
            ax.scatter([x for x, _, _ in ok], [r["accuracy"] for _, r, _ in ok], marker=mk,
                       s=28, c=face, edgecolors=colors[policy], linewidths=1.3, zorder=3)
        if norm is not None:
            sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
            cb = fig.colorbar(sm, ax=ax, pad=0.01, fraction=0.05)
            cb.set_label("marker fill: " + _short(key) + (" (dB)" if key.endswith("snr_db") else ""),
                         fontsize=8)
            cb.ax.tick_params(labelsize=7)
        xs_all = [p["bits_per_image"] for p in ops] + other_bits + [
            r.get("mean_bits_per_image") or 0.0 for r in rows]
        log_axis(ax, xs_all)
        ax.set_title(ch)
        ax.set_xlabel("mean bits per image (header + CRC included)")
        ax.grid(alpha=0.3)
    panels[0][1].set_ylabel("accuracy")
    _legend(fig, colors, [e for e in _used(results, all_lines) if e in drawn], styles,
            extra=table_handles)
    _title(fig, f"{results['scenario']}: accuracy vs rate")
    return fig


def timeline(results: dict[str, Any]) -> Figure | None:
    """Capacity trace, chosen operating points and delivery outcomes over time."""
    tl = results.get("timeline") or {}
    if not tl:
        return None
    colors = _run_colors(results)
    multi = _multi_scheme(results)
    chans = [c for c in results["channels"] if c in tl]
    fig = plt.figure(figsize=(6.2 * len(chans) + 2.2, 7.5), layout="constrained")
    axes = fig.subplots(3, len(chans), squeeze=False, sharex="col",
                        gridspec_kw={"height_ratios": [2, 1.2, 1]})
    used: list[str] = []
    for j, ch in enumerate(chans):
        pols = tl[ch]
        first = next(iter(pols.values()))
        t = list(range(len(first["capacity_bits"])))
        a0, a1, a2 = axes[0][j], axes[1][j], axes[2][j]
        a0.step(t, first["capacity_bits"], where="mid", color="0.2", lw=1.4, ls="-")
        for i, (pl, d) in enumerate(pols.items()):
            # a multi-scheme run labels its timelines "scheme: policy"
            ent = pl.split(": ", 1)[0] if multi and ": " in pl else pl
            color = colors.get(ent) or policy_colors(list(pols))[pl]
            ls = LINESTYLES[list(pols).index(pl) % len(LINESTYLES)] if multi else "-"
            if ent not in used:
                used.append(ent)
            a0.step(t, [b if b >= 0 else math.nan for b in d["packet_bits"]], where="mid",
                    color=color, lw=0.9, alpha=0.85, ls=ls)
            a1.step(t, [k + 0.15 * i for k in d["k"]], where="mid", color=color, lw=0.9, ls=ls)
            m = d["images_per_packet"]
            ok = [x for x, dl in zip(t, d["delivered"], strict=True) if dl]
            lost = [x for x, dl in zip(t, d["delivered"], strict=True) if not dl]
            frac = [d["num_correct"][x] / m for x in ok]
            a2.scatter(ok, [i + 0.35 * f for f in frac], s=5, color=color)
            a2.scatter(lost, [i] * len(lost), s=14, marker="x", color=LOST_COLOR, lw=0.8)
        vals = [b for b in first["capacity_bits"] if b > 0] + [
            b for d in pols.values() for b in d["packet_bits"] if b > 0]
        log_axis(a0, vals, axis="y")
        a0.set_ylabel("bits / frame")
        a0.set_title(f"{ch} ({_point_label(results)})")
        a1.set_ylabel("encoder k")
        a2.set_yticks(range(len(pols)), list(pols), fontsize=7)
        a2.set_ylabel("delivered (dot: correct\nfraction ↑) / lost (×)", fontsize=7)
        a2.set_xlabel("frame")
        for a in (a0, a1, a2):
            a.grid(alpha=0.3)
    extra = [(Line2D([], [], color="0.2", lw=1.4), "capacity"),
             (Line2D([], [], color=LOST_COLOR, marker="x", ls="none", ms=5), "lost packet")]
    _legend(fig, {**policy_colors(used), **colors}, used, None, extra=extra)
    _title(fig, f"{results['scenario']}: timeline (seed {results['seeds'][0]}; "
                 f"coloured steps: packet bits)")
    return fig


def accuracy_vs_sensor_compute(results: dict[str, Any]) -> Figure | None:
    """Accuracy vs the sensor's MACs per image: every scheme and policy at the middle sweep
    point, over the schemes' operating points (accuracy if every packet arrives)."""
    rows = [r for r in results["rows"] if r.get("sensor_macs") is not None
            and not (isinstance(r.get("sensor_macs"), float) and math.isnan(r["sensor_macs"]))]
    if not rows:
        return None
    colors, multi = _run_colors(results), _multi_scheme(results)
    point = len(results.get("sweep_values") or [None]) // 2
    fig, panels = _panels(results, height=4.0)
    style_of = _policy_style_index(results)
    used: list[str] = []
    for ch, ax in panels:
        for label, d in (results.get("schemes") or {}).items():
            ops = [p for p in d.get("operating_points") or []
                   if p.get("sensor_macs") is not None]
            if ops:
                ax.plot([p["sensor_macs"] for p in ops], [p["accuracy"] for p in ops], "x",
                        color=colors.get(label, "0.55"), alpha=0.35, ms=4)
        for r in rows:
            if r["channel"] != ch or r.get("point", 0) != point:
                continue
            ent = _entity(r, multi)
            if ent not in used:
                used.append(ent)
            ax.errorbar([r["sensor_macs"]], [r["accuracy"]],
                        yerr=[[max(0.0, r["accuracy"] - r["accuracy_low"])],
                              [max(0.0, r["accuracy_high"] - r["accuracy"])]],
                        fmt=MARKERS[style_of[str(r["policy"])] % len(MARKERS)] if multi
                        else MARKERS[0],
                        color=colors[ent], ms=6, capsize=2)
        log_axis(ax, [r["sensor_macs"] for r in rows])
        ax.set_title(f"{ch} ({_point_label(results)})")
        ax.set_xlabel("sensor compute (MACs / image; codecs: estimate)"
                      + _range_note([r["sensor_macs"] for r in rows]))
        ax.grid(alpha=0.3, which="major")
    panels[0][1].set_ylabel("accuracy (× : operating points, all delivered)")
    markers = [(Line2D([], [], color="0.35", marker=MARKERS[i % len(MARKERS)], ls="none"),
                f"policy={p}") for p, i in style_of.items()] if multi else []
    _legend(fig, colors, [e for e in _entities(results) if e in used], None, extra=markers)
    _title(fig, f"{results['scenario']}: accuracy vs sensor compute")
    return fig


def _ceiling_handle(results: dict[str, Any]) -> list[tuple[Any, str]]:
    if not results.get("operating_points"):
        return []
    return [(Line2D([], [], color="0.45", ls=(0, (1, 2)), lw=0.9),
             "error-free ceiling (best point, all delivered)")]


def _point_label(results: dict[str, Any]) -> str:
    values = results.get("timeline_point") or {}
    return ", ".join(f"{_short(k)}={_fmt(v)}" for k, v in values.items()) or "base scenario"


FIGURE_FUNCTIONS = {
    "accuracy_vs_snr": accuracy_vs_snr,
    "accuracy_vs_capacity": accuracy_vs_capacity,
    "accuracy_vs_rate": accuracy_vs_rate,
    "timeline": timeline,
    "accuracy_vs_sensor_compute": accuracy_vs_sensor_compute,
    "regret": lambda results: _regret(results, _run_colors(results), _multi_scheme(results)),
}


def _draw(name: str, results: dict[str, Any], out: Path, formats: Sequence[str]) -> list[Path]:
    """Draw figure ``name`` once and save it in every format; the paths written."""
    fig = FIGURE_FUNCTIONS[name](results)
    if fig is None:
        return []
    written = []
    for i, fmt in enumerate(formats):
        path = out / f"{name}.{fmt}"
        # a temporary file in the directory renamed over the name: never through a link
        atomic_write(path, lambda fh, fmt=fmt: fig.savefig(fh, format=fmt,
                                                           dpi=150 if fmt == "png" else None))
        written.append(path)
        if i == 0 and fig.get_layout_engine() is not None:
            try:  # the layout is solved by the first save; the other formats reuse it
                fig.set_layout_engine("none")
            except RuntimeError:  # pragma: no cover - an engine matplotlib will not drop
                pass
    plt.close(fig)
    return written


def _draw_task(args: tuple[str, dict[str, Any], Path, Sequence[str]]) -> list[Path]:
    return _draw(*args)


def plot_run(
    run_dir: str | Path,
    *,
    figures: list[str] | None = None,
    formats: list[str] | None = None,
    out_dir: str | Path | None = None,
    jobs: int = 1,
) -> list[Path]:
    """Draw the figures of a run from its result files.

    Args:
        run_dir: a run directory (with ``results.json``).
        figures: names from :data:`FIGURE_FUNCTIONS` (default: all). A figure without data
            (e.g. accuracy vs SNR for a capacity-only trace) is skipped.
        formats: file formats (default ``["png", "pdf"]``).
        out_dir: where to write (default ``<run_dir>/figures``).
        jobs: processes drawing figures side by side (figures are independent; 1: in this
            process). The files do not depend on it.

    Returns:
        The paths written, in the order of ``figures`` and ``formats``.

    Raises:
        FileNotFoundError: no ``results.json`` in ``run_dir``.
        ValueError: a result file of the wrong shape (naming the file and entry), an unknown
            figure or format, or an output directory that is a link or cannot be created or
            written (naming it, and ``--out`` when it was given).
    """
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "figures"
    where = f"--out {out}" if out_dir is not None else f"figure directory {out}"
    if out.is_symlink():
        raise ValueError(f"{where}: is a symbolic link; figures are never written through a "
                         f"link (remove it)")
    results = load_results(run_dir)
    figures = list(FIGURE_FUNCTIONS) if figures is None else figures
    for f in figures:
        if f not in FIGURE_FUNCTIONS:
            raise ValueError(f"unknown figure {f!r}; valid: {', '.join(FIGURE_FUNCTIONS)}")
    formats = list(formats or ["png", "pdf"])
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"--formats: {f!r} is not a figure format; valid: "
                             f"{', '.join(FORMATS)}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"{where}: cannot create the output directory "
                         f"({e.strerror or e})") from None
    tasks = [(name, results, out, formats) for name in figures]
    workers = min(int(jobs), len(tasks))
    try:
        drawn = _draw_all(tasks, workers)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # the command line's "no space left" message
        raise ValueError(f"{where}: cannot write the figures there "
                         f"({e.strerror or e})") from None
    return [p for paths in drawn for p in paths]


def _draw_all(tasks: list[tuple[str, dict[str, Any], Path, Sequence[str]]],
              workers: int) -> list[list[Path]]:
    if workers > 1:
        import os
        from concurrent.futures import ProcessPoolExecutor

        from commsldr.workers import pool_context, worker_initializer

        with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(),
                                 initializer=worker_initializer,
                                 initargs=(os.getpid(), None)) as pool:
            return list(pool.map(_draw_task, tasks))
    return [_draw_task(t) for t in tasks]
