"""Figures of a scenario run, drawn from its result files (``commsldr plot RUN_DIR``).

- ``accuracy_vs_snr`` — accuracy vs SNR, one line per policy with its confidence band, one panel
  per channel (x: the swept ``*snr_db`` value, else the measured mean SNR of the frames);
- ``accuracy_vs_capacity`` — accuracy vs the measured mean capacity (bits/frame) of the PHY;
- ``accuracy_vs_rate`` — accuracy vs mean bits per image achieved, with the table's operating
  points (accuracy if every packet arrived) for reference;
- ``timeline`` — per channel: the capacity trace with each policy's packet sizes, the chosen
  encoder variant and scale, and which packets were delivered / how many images were correct;
- ``accuracy_vs_sensor_compute`` — accuracy vs the sensor's MACs per image, per scheme and
  policy at the middle sweep point, over every scheme's operating points (all delivered).

When a run has several schemes (``schemes`` section), a line is labelled ``scheme: policy``,
its colour is the scheme's (:func:`scheme_color`) and its line style the policy's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from commsldr.results import load_results  # noqa: E402

__all__ = ["plot_run", "FIGURE_FUNCTIONS", "scheme_color"]


def _snr_key(results: dict[str, Any], channel: str) -> str | None:
    for key in results.get("sweep_keys", []):
        parts = key.split(".")
        if parts[-1].endswith("snr_db") and (parts[0] != "channels" or parts[1] in ("*", channel)):
            return key
    return None


#: fixed colours of the built-in schemes (others: the next free colour of the cycle)
SCHEME_COLORS = {"split-ae": "C0", "jpeg": "C1", "webp": "C2", "edge-label": "C3",
                 "analog-jscc": "C4", "split-ae-analog": "C5"}
_POLICY_STYLES = ("-", "--", ":", "-.")


def scheme_color(name: str) -> str:
    """The colour of scheme ``name`` (fixed for the built-in schemes, stable for others)."""
    if name in SCHEME_COLORS:
        return SCHEME_COLORS[name]
    return f"C{6 + sum(map(ord, name)) % 4}"


def _multi_scheme(results: dict[str, Any]) -> bool:
    return len({r.get("scheme", "split-ae") for r in results["rows"]}) > 1


def _row_label(r: dict[str, Any], multi: bool) -> str:
    return f"{r.get('scheme', 'split-ae')}: {r['policy']}" if multi else r["policy"]


def _series(rows: list[dict[str, Any]], results: dict[str, Any], x_of, exclude: set[str]):
    """Group rows into lines: one per (scheme,) policy and combination of the other sweep values."""
    lines: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    others = [k for k in results.get("sweep_keys", []) if k not in exclude]
    multi = _multi_scheme(results)
    for r in rows:
        x = x_of(r)
        if x is None or (isinstance(x, float) and math.isnan(x)):
            continue
        extra = ", ".join(f"{k.split('.')[-1]}={r.get(k)}" for k in others)
        label = _row_label(r, multi) + (f" ({extra})" if extra else "")
        lines[label].append((float(x), r))
    return {k: sorted(v, key=lambda t: t[0]) for k, v in lines.items()}


def _panels(results: dict[str, Any], height: float = 3.6):
    chans = results["channels"]
    fig, axes = plt.subplots(1, len(chans), figsize=(4.8 * len(chans), height), squeeze=False,
                             sharey=True)
    return fig, list(zip(chans, axes[0], strict=True))


def _draw_lines(ax, lines, band: bool = True) -> None:
    schemes = {r.get("scheme", "split-ae") for pts in lines.values() for _, r in pts}
    policies: list[str] = []
    for pts in lines.values():
        if pts and pts[0][1]["policy"] not in policies:
            policies.append(pts[0][1]["policy"])
    for label, pts in lines.items():
        xs = [x for x, _ in pts]
        ys = [r["accuracy"] for _, r in pts]
        if len(schemes) > 1:
            r0 = pts[0][1]
            kw = {"color": scheme_color(str(r0.get("scheme_type") or r0.get("scheme")))}
            style = _POLICY_STYLES[policies.index(r0["policy"]) % len(_POLICY_STYLES)]
        else:
            kw = {}
            style = "--" if label.startswith("oracle") else "-"
        (line,) = ax.plot(xs, ys, style, marker="o", ms=3.5, label=label, **kw)
        if band:
            ax.fill_between(xs, [r["accuracy_low"] for _, r in pts],
                            [r["accuracy_high"] for _, r in pts], color=line.get_color(),
                            alpha=0.18, lw=0)


def _ci_label(results: dict[str, Any]) -> str:
    return f"{100 * results.get('confidence', 0.95):.0f}% CI ({results.get('ci', 'wilson')})"


def accuracy_vs_snr(results: dict[str, Any]):
    """Accuracy vs SNR (dB) per policy and channel, with confidence bands."""
    if not any(not math.isnan(r.get("mean_snr_db", math.nan)) for r in results["rows"]):
        return None
    fig, panels = _panels(results)
    for ch, ax in panels:
        key = _snr_key(results, ch)
        rows = [r for r in results["rows"] if r["channel"] == ch]
        lines = _series(rows, results, (lambda r, k=key: r.get(k)) if key else
                        (lambda r: r.get("mean_snr_db")), {key} if key else set())
        _draw_lines(ax, lines)
        ax.set_title(ch)
        ax.set_xlabel("SNR (dB)" + ("" if key else ", measured mean"))
        ax.grid(alpha=0.3)
    panels[0][1].set_ylabel(f"accuracy (band: {_ci_label(results)})")
    panels[-1][1].legend(fontsize=7)
    fig.suptitle(f"{results['scenario']}: accuracy vs SNR")
    fig.tight_layout()
    return fig


def accuracy_vs_capacity(results: dict[str, Any]):
    """Accuracy vs measured mean capacity (bits per frame)."""
    fig, panels = _panels(results)
    for ch, ax in panels:
        rows = [r for r in results["rows"] if r["channel"] == ch]
        snr_like = {k for k in results.get("sweep_keys", []) if k.split(".")[0] == "channels"}
        lines = _series(rows, results, lambda r: r.get("mean_capacity_bits"), snr_like)
        _draw_lines(ax, lines)
        if any(x > 0 for pts in lines.values() for x, _ in pts):
            ax.set_xscale("log")
        ax.set_title(ch)
        ax.set_xlabel("mean capacity (bits/frame)")
        ax.grid(alpha=0.3, which="both")
    panels[0][1].set_ylabel(f"accuracy (band: {_ci_label(results)})")
    panels[-1][1].legend(fontsize=7)
    fig.suptitle(f"{results['scenario']}: accuracy vs capacity")
    fig.tight_layout()
    return fig


def accuracy_vs_rate(results: dict[str, Any]):
    """Accuracy vs mean bits per image achieved, over the table's rate–accuracy points."""
    fig, panels = _panels(results)
    ops = results.get("operating_points", [])
    by_k: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in ops:
        by_k[p["k"]].append(p)
    for ch, ax in panels:
        for k, pts in sorted(by_k.items()):
            pts = sorted(pts, key=lambda p: p["bits_per_image"])
            ax.plot([p["bits_per_image"] for p in pts], [p["accuracy"] for p in pts], ":",
                    marker="x", ms=4, color="gray", alpha=0.4 + 0.6 * k / max(by_k),
                    label=f"table k={k} (all delivered)")
        rows = [r for r in results["rows"] if r["channel"] == ch]
        if _multi_scheme(results):  # one line per scheme and policy through the sweep points
            for label, d in (results.get("schemes") or {}).items():
                pts = sorted(d.get("operating_points") or [], key=lambda p: p["bits_per_image"])
                if label != "split-ae" and pts:
                    ax.plot([p["bits_per_image"] for p in pts], [p["accuracy"] for p in pts],
                            ":", marker="x", ms=4, alpha=0.5,
                            color=scheme_color(str(d.get("type", label))),
                            label=f"{label} points (all delivered)")
            lines = _series(rows, results, lambda r: r.get("mean_bits_per_image"),
                            set(results.get("sweep_keys", [])))
            _draw_lines(ax, lines, band=False)
            ax.set_xscale("log")
        else:
            lines = _series(rows, results, lambda r: r.get("mean_bits_per_image"), set())
            for label, p in lines.items():
                ax.plot([x for x, _ in p], [r["accuracy"] for _, r in p], "o", ms=4, label=label)
        ax.set_title(ch)
        ax.set_xlabel("mean bits per image (header + CRC included)")
        ax.grid(alpha=0.3)
    panels[0][1].set_ylabel("accuracy")
    panels[-1][1].legend(fontsize=6)
    fig.suptitle(f"{results['scenario']}: accuracy vs rate")
    fig.tight_layout()
    return fig


def timeline(results: dict[str, Any]):
    """Capacity trace, chosen operating points and delivery outcomes over time."""
    tl = results.get("timeline") or {}
    if not tl:
        return None
    chans = [c for c in results["channels"] if c in tl]
    fig, axes = plt.subplots(3, len(chans), figsize=(6.5 * len(chans), 7.5), squeeze=False,
                             sharex="col", gridspec_kw={"height_ratios": [2, 1.2, 1]})
    for j, ch in enumerate(chans):
        pols = tl[ch]
        first = next(iter(pols.values()))
        t = list(range(len(first["capacity_bits"])))
        a0, a1, a2 = axes[0][j], axes[1][j], axes[2][j]
        a0.step(t, first["capacity_bits"], where="mid", color="black", lw=1.2, label="capacity")
        for i, (pl, d) in enumerate(pols.items()):
            color = f"C{i}"
            a0.step(t, [b if b >= 0 else math.nan for b in d["packet_bits"]], where="mid",
                    color=color, lw=0.9, alpha=0.8, label=f"{pl} packet")
            a1.step(t, [k + 0.15 * i for k in d["k"]], where="mid", color=color, lw=0.9, label=pl)
            m = d["images_per_packet"]
            ok = [x for x, dl in zip(t, d["delivered"], strict=True) if dl]
            lost = [x for x, dl in zip(t, d["delivered"], strict=True) if not dl]
            frac = [d["num_correct"][x] / m for x in ok]
            a2.scatter(ok, [i + 0.35 * f for f in frac], s=5, color=color)
            a2.scatter(lost, [i] * len(lost), s=12, marker="x", color="red")
        a0.set_yscale("log")
        a0.set_ylabel("bits / frame")
        a0.set_title(f"{ch} ({_point_label(results)})")
        a0.legend(fontsize=6, ncol=2)
        a1.set_ylabel("encoder k")
        a2.set_yticks(range(len(pols)), list(pols), fontsize=7)
        a2.set_ylabel("delivered (dot: correct\nfraction ↑) / lost (×)", fontsize=7)
        a2.set_xlabel("frame")
        for a in (a0, a1, a2):
            a.grid(alpha=0.3)
    fig.suptitle(f"{results['scenario']}: timeline (seed {results['seeds'][0]})")
    fig.tight_layout()
    return fig


def accuracy_vs_sensor_compute(results: dict[str, Any]):
    """Accuracy vs the sensor's MACs per image: every scheme and policy at the middle sweep
    point, over the schemes' operating points (accuracy if every packet arrives)."""
    rows = [r for r in results["rows"] if r.get("sensor_macs") is not None
            and not (isinstance(r.get("sensor_macs"), float) and math.isnan(r["sensor_macs"]))]
    if not rows:
        return None
    point = len(results.get("sweep_values") or [None]) // 2
    fig, panels = _panels(results, height=4.0)
    markers = "osD^vP*X"
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    for ch, ax in panels:
        for label, d in (results.get("schemes") or {}).items():
            color = scheme_color(str(d.get("type", label)))
            ops = d.get("operating_points") or []
            if ops:
                ax.plot([p["sensor_macs"] for p in ops], [p["accuracy"] for p in ops], "x",
                        color=color, alpha=0.35, ms=4)
        for r in rows:
            if r["channel"] != ch or r.get("point", 0) != point:
                continue
            color = scheme_color(str(r.get("scheme_type") or r.get("scheme", "split-ae")))
            ax.errorbar([r["sensor_macs"]], [r["accuracy"]],
                        yerr=[[r["accuracy"] - r["accuracy_low"]],
                              [r["accuracy_high"] - r["accuracy"]]],
                        fmt=markers[policies.index(r["policy"]) % len(markers)], color=color,
                        ms=6, capsize=2, label=f"{r.get('scheme', 'split-ae')}: {r['policy']}")
        ax.set_xscale("log")
        ax.set_title(f"{ch} ({_point_label(results)})")
        ax.set_xlabel("sensor compute (MACs / image; codecs: estimate)")
        ax.grid(alpha=0.3, which="both")
    panels[0][1].set_ylabel("accuracy (× : operating points, all delivered)")
    panels[-1][1].legend(fontsize=6)
    fig.suptitle(f"{results['scenario']}: accuracy vs sensor compute")
    fig.tight_layout()
    return fig


def _point_label(results: dict[str, Any]) -> str:
    values = results.get("timeline_point") or {}
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in values.items()) or "base scenario"


FIGURE_FUNCTIONS = {
    "accuracy_vs_snr": accuracy_vs_snr,
    "accuracy_vs_capacity": accuracy_vs_capacity,
    "accuracy_vs_rate": accuracy_vs_rate,
    "timeline": timeline,
    "accuracy_vs_sensor_compute": accuracy_vs_sensor_compute,
}


def plot_run(
    run_dir: str | Path,
    *,
    figures: list[str] | None = None,
    formats: list[str] | None = None,
    out_dir: str | Path | None = None,
) -> list[Path]:
    """Draw the figures of a run from its result files.

    Args:
        run_dir: a run directory (with ``results.json``).
        figures: names from :data:`FIGURE_FUNCTIONS` (default: all). A figure without data
            (e.g. accuracy vs SNR for a capacity-only trace) is skipped.
        formats: file formats (default ``["png", "pdf"]``).
        out_dir: where to write (default ``<run_dir>/figures``).

    Returns:
        The paths written.
    """
    results = load_results(run_dir)
    figures = list(FIGURE_FUNCTIONS) if figures is None else figures
    for f in figures:
        if f not in FIGURE_FUNCTIONS:
            raise ValueError(f"unknown figure {f!r}; valid: {', '.join(FIGURE_FUNCTIONS)}")
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in figures:
        fig = FIGURE_FUNCTIONS[name](results)
        if fig is None:
            continue
        for fmt in formats or ["png", "pdf"]:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, dpi=150 if fmt == "png" else None)
            written.append(path)
        plt.close(fig)
    return written
