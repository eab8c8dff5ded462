"""Every figure of a run, for a 4-policy × 6-point × 2-channel study and for a 3-value policy sweep:
no legend overlaps an axes (renderer bounding boxes), no two policies share a colour, a policy has
the same colour in every figure, "lost" has a colour no policy has, and labels carry only the
swept keys that apply to a policy."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from commsldr.report.plots import FIGURE_FUNCTIONS, LOST_COLOR, PALETTE, plot_run, policy_colors
from commsldr.report.results import load_results, save_results

matplotlib.use("Agg")

POLICIES = {"fixed": "fixed", "scale-only": "scale-only", "adaptive": "scale-and-truncation",
            "oracle": "oracle"}


def _results(sweep: dict[str, list], policies: dict[str, str], channels: list[str]) -> dict:
    rng = np.random.default_rng(0)
    keys = list(sweep)
    points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*sweep.values())]
    rows = []
    for pi, values in enumerate(points):
        for ch in channels:
            snr = values.get("channels.*.mean_snr_db", 10.0)
            for j, (pl, tp) in enumerate(policies.items()):
                acc = float(np.clip(0.3 + 0.03 * snr + 0.02 * j + 0.01 * rng.standard_normal(),
                                    0.05, 0.95))
                rows.append({
                    "point": pi, "channel": ch, "policy": pl, "policy_type": tp, **values,
                    "mean_capacity_bits": 100.0 * 10 ** (snr / 10.0) + 1.0,
                    "mean_snr_db": float(snr), "accuracy": acc, "accuracy_low": acc - 0.03,
                    "accuracy_high": acc + 0.03, "mean_bits_per_image": 40.0 + 8 * snr + 5 * j,
                })
    n = 120
    timeline = {ch: {pl: {
        "snr_db": [10.0] * n, "capacity_bits": list(rng.uniform(20, 4000, n)),
        "packet_bits": [int(x) for x in rng.uniform(30, 600, n)],
        "k": [int(x) for x in rng.choice([8, 16, 32], n)], "scale": [1.0] * n,
        "delivered": [bool(x) for x in rng.random(n) < 0.8],
        "num_correct": [int(x) for x in rng.random(n) < 0.6], "images_per_packet": 1,
    } for pl in policies} for ch in channels}
    ops = [{"k": k, "scale": s, "accuracy": 0.2 + 0.01 * k * s / 4, "bits_per_image": 10 * k * s}
           for k in (8, 16, 32) for s in (0.25, 0.5, 1.0, 2.0, 4.0)]
    oracle = next(pl for pl, tp in policies.items() if tp == "oracle")
    frames = list(range(10, 101, 10))
    curves = [{"point": len(points) // 2, "channel": ch, "policy": pl, "reference": kind,
               "frames": frames, "regret": [0.1 * (j + 1) * f ** 0.7 for f in frames],
               "regret_low": [0.05 * (j + 1) * f ** 0.7 for f in frames],
               "regret_high": [0.15 * (j + 1) * f ** 0.7 for f in frames], "seeds": 3}
              for ch in channels for kind in ("oracle", "hindsight")
              for j, pl in enumerate(policies) if pl != oracle]
    return {
        "scenario": "figure-test", "sweep_keys": keys, "sweep_values": points,
        "channels": channels, "policies": list(policies), "seeds": [0], "frames": 100,
        "ci": "wilson", "confidence": 0.95, "operating_points": ops,
        "timeline_point": points[len(points) // 2], "rows": rows, "per_seed": [],
        "timeline": timeline,
        "regret": {"point": len(points) // 2, "curves": curves,
                   "references": {"oracle": oracle, "hindsight": "(none)"}},
    }


def _multi_scheme() -> dict:
    """Three schemes (split AE, JPEG, analog JSCC) × 2 policies × 4 SNRs, with sensor compute."""
    res = _results({"channels.*.mean_snr_db": [0.0, 5.0, 10.0, 15.0]},
                   {"adaptive": "scale-and-truncation", "oracle": "oracle"}, ["rayleigh"])
    rows = []
    for scheme, macs, shift in (("split-ae", 2e6, 0.0), ("jpeg", 5e5, -0.1),
                                ("analog-jscc", 3e6, -0.05)):
        for r in res["rows"]:
            if scheme == "analog-jscc" and r["policy"] != "adaptive":
                continue
            rows.append({**r, "scheme": scheme, "scheme_type": scheme, "sensor_macs": macs,
                         "policy": "analog" if scheme == "analog-jscc" else r["policy"],
                         "mean_bits_per_image": (math.nan if scheme == "analog-jscc"
                                                 else r["mean_bits_per_image"]),
                         "accuracy": r["accuracy"] + shift,
                         "accuracy_low": r["accuracy_low"] + shift,
                         "accuracy_high": r["accuracy_high"] + shift})
    res["rows"] = rows
    res["schemes"] = {
        "split-ae": {"type": "split-ae", "operating_points": [
            {**p, "sensor_macs": 2e6} for p in res["operating_points"]]},
        "jpeg": {"type": "jpeg", "operating_points": [
            {"label": f"q{q}", "accuracy": 0.1 + q / 200, "bits_per_image": 40.0 * q,
             "sensor_macs": 5e5} for q in (10, 30, 50, 90)]},
        "analog-jscc": {"type": "analog-jscc", "operating_points": []},
    }
    res["timeline"] = {ch: {f"{s}: {p}": d for s in ("split-ae", "jpeg")
                            for p, d in lines.items()} for ch, lines in res["timeline"].items()}
    return res


CASES = {
    "4 policies x 6 SNRs x 2 channels": _results(
        {"channels.*.mean_snr_db": [-5.0, 0.0, 5.0, 10.0, 15.0, 20.0]}, POLICIES,
        ["rayleigh", "doppler"]),
    "3-value policy sweep": _results(
        {"channels.*.mean_snr_db": [0.0, 10.0, 20.0], "policies.greedy.margin": [0.0, 0.1, 0.3],
         "csi.std_db": [0.5, 2.0]},
        {"fixed": "fixed", "greedy": "capacity-greedy", "outage-aware": "outage-aware",
         "oracle": "oracle"}, ["rayleigh"]),
    "3 schemes": _multi_scheme(),
}


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _policy_handles(fig, policies: list[str]):
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    handles = legend.legend_handles
    return {t: h for t, h in zip(texts, handles, strict=True) if t in policies}, texts


@pytest.fixture(scope="module", params=list(CASES))
def run(request, tmp_path_factory) -> tuple[str, dict]:
    d = tmp_path_factory.mktemp("run")
    save_results(d, CASES[request.param])
    return request.param, load_results(d)


@pytest.mark.parametrize("figure", list(FIGURE_FUNCTIONS))
def test_legend_outside_every_axes_and_distinct_colours(run, figure: str) -> None:
    case, results = run
    fig = FIGURE_FUNCTIONS[figure](results)
    if figure == "accuracy_vs_sensor_compute" and case != "3 schemes":
        assert fig is None  # no sensor-compute columns in these runs
        return
    assert fig is not None
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = list(fig.legends) + [a.get_legend() for a in fig.axes if a.get_legend()]
        assert len(fig.legends) == 1, "one legend per figure"
        for leg in legends:
            lb = leg.get_window_extent(renderer)
            for ax in fig.axes:  # data axes and colour bars
                assert not _overlap(lb, ax.get_window_extent(renderer)), (case, figure)
            if fig._suptitle is not None:  # nor the figure title
                assert not _overlap(lb, fig._suptitle.get_window_extent(renderer)), (case, figure)
            fb = fig.bbox
            assert lb.x0 >= fb.x0 - 1 and lb.x1 <= fb.x1 + 1 and lb.y0 >= fb.y0 - 1, \
                "legend cut off"
        policies = list(results["schemes"]) if case == "3 schemes" else results["policies"]
        by_policy, texts = _policy_handles(fig, policies)
        # an analog scheme has no packet timeline and no rate: it is not in those legends
        shown = {"split-ae", "jpeg"} if case == "3 schemes" and figure in (
            "timeline", "accuracy_vs_rate") else set(policies)
        if case == "3 schemes" and figure == "regret":  # the test run's curves: split AE only
            shown = {"split-ae"}
        assert set(by_policy) == shown
        colors = {p: matplotlib.colors.to_hex(h.get_color()) for p, h in by_policy.items()}
        assert len(set(colors.values())) == len(shown), colors
        assert colors == {p: c for p, c in policy_colors(policies).items() if p in shown}
        assert LOST_COLOR not in colors.values()
        # every coloured data line is a policy's colour
        for ax in fig.axes:
            for line in ax.get_lines():
                c = matplotlib.colors.to_hex(line.get_color())
                r, g, b = matplotlib.colors.to_rgb(c)
                if not (r == g == b):  # greys: capacity, table, lost
                    assert c in colors.values(), (figure, c)
        if case == "3-value policy sweep":
            # margin applies to `greedy` only, csi.std_db not to the oracle (perfect CSI): the
            # legend has the 4 policies, then the swept combinations as styles, never per policy
            assert not any("(" in t and "margin" in t for t in texts if t in policies)
            assert not any(t.startswith(("fixed", "oracle")) and "=" in t for t in texts)
            if figure in ("accuracy_vs_snr", "accuracy_vs_capacity"):
                styles = [t for t in texts if "=" in t]
                assert "std_db=0.5, margin=0" not in styles  # keys keep their sweep order
                assert "margin=0, std_db=0.5" in styles and "std_db=2" in styles
    finally:
        matplotlib.pyplot.close(fig)


def test_oracle_lines_ignore_csi_and_other_policies_keys(tmp_path: Path) -> None:
    from commsldr.report.plots import _series

    save_results(tmp_path, CASES["3-value policy sweep"])
    results = load_results(tmp_path)

    rows = [r for r in results["rows"] if r["channel"] == "rayleigh"]
    lines = _series(rows, results, "rayleigh", lambda r: r["channels.*.mean_snr_db"],
                    {"channels.*.mean_snr_db"})
    per_policy = {p: sorted(c for q, c in lines if q == p) for p in results["policies"]}
    assert per_policy["oracle"] == [()]
    assert per_policy["fixed"] == [(("std_db", "0.5"),), (("std_db", "2"),)]
    assert len(per_policy["greedy"]) == 6


def test_palette_is_distinct_and_deterministic() -> None:
    assert len(set(PALETTE)) == len(PALETTE) == 16
    names = [f"p{i}" for i in range(24)]
    c = policy_colors(names)
    assert len(set(c.values())) == 24 and LOST_COLOR not in c.values()
    assert policy_colors(names[:3]) == {n: c[n] for n in names[:3]}


def test_log_axis_ticks_are_few_and_plain(run) -> None:
    _, results = run
    fig = FIGURE_FUNCTIONS["accuracy_vs_capacity"](results)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            labels = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
            lo, hi = ax.get_xlim()
            labels = [t for t in labels if lo <= t.get_position()[0] <= hi]
            assert 2 <= len(labels) <= 12
            boxes = [t.get_window_extent(renderer) for t in labels]
            for a, b in itertools.combinations(boxes, 2):
                assert not _overlap(a, b), "tick labels overlap"
            assert all("$" not in t.get_text() for t in labels)
    finally:
        matplotlib.pyplot.close(fig)


def test_plot_run_writes_every_figure(run, tmp_path: Path) -> None:
    case, results = run
    save_results(tmp_path, results)
    written = plot_run(tmp_path, formats=["png"])
    expected = set(FIGURE_FUNCTIONS) - ({"accuracy_vs_sensor_compute"} if case != "3 schemes"
                                        else set())
    assert sorted(p.stem for p in written) == sorted(expected)
    assert all(p.stat().st_size > 10_000 for p in written)
    assert not math.isnan(results["rows"][0]["accuracy"])


def _markers_of(fig, color) -> set[str]:
    """Marker shapes drawn in ``color`` (lines and scatter/errorbar points) in ``fig``."""
    out = set()
    for ax in fig.axes:
        for line in ax.get_lines():
            if matplotlib.colors.same_color(line.get_color(), color) and \
                    line.get_marker() not in (None, "None", "", " "):
                out.add(str(line.get_marker()))
    return out


def test_one_marker_per_policy_across_figures():
    res = _multi_scheme()
    figs = {name: FIGURE_FUNCTIONS[name](res) for name in
            ("accuracy_vs_snr", "accuracy_vs_capacity", "accuracy_vs_sensor_compute")}
    colors = policy_colors([e for e in dict.fromkeys(r["scheme"] for r in res["rows"])])
    for scheme, color in colors.items():
        shapes = {n: _markers_of(f, color) - {"x", "_", "|"} for n, f in figs.items()
                  if f is not None}  # x: operating points; _ |: error-bar caps
        per_policy = {r["policy"] for r in res["rows"] if r["scheme"] == scheme}
        marks = set().union(*shapes.values())
        assert len(marks) == len(per_policy), (scheme, shapes)
    for f in figs.values():
        matplotlib.pyplot.close(f)


def test_ceiling_and_negligible_range_are_said():
    from commsldr.report.plots import _range_note

    res = _results({"channels.*.mean_snr_db": [0.0, 10.0]}, POLICIES, ["ray"])
    fig = FIGURE_FUNCTIONS["accuracy_vs_snr"](res)
    best = max(p["accuracy"] for p in res["operating_points"])
    flat = [ln for ax in fig.axes for ln in ax.get_lines()
            if len(set(ln.get_ydata())) == 1 and ln.get_ydata()[0] == pytest.approx(best)]
    assert flat, "no error-free ceiling line"
    assert "configured mean SNR" in fig.axes[0].get_xlabel()
    matplotlib.pyplot.close(fig)
    assert _range_note([1.000e6, 1.005e6]) == " (all within 0.5 %)"
    assert _range_note([1.0, 2.0]) == ""
