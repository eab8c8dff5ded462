"""The paper's Figs. 2-5 (scenario ``paper_figures``): the legend sits outside every panel
(renderer bounding boxes), and a model keeps its colour in every figure."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from commsldr.coding import RateAccuracyResult
from commsldr.report.coding_figures import plot_latent_std, plot_rate_accuracy
from commsldr.report.paper_figures import (
    DISTORTION_KINDS,
    SEVERITIES,
    _plot_distortions,
    model_colors,
)

matplotlib.use("Agg")

LABELS = ["CE-T d64", "DuPHiL d64", "LDR-FT d64", "CE control d64"]


@pytest.fixture
def captured(monkeypatch) -> list[Figure]:
    figs: list[Figure] = []
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: figs.append(self))
    return figs


def _curve(label: str, i: int) -> RateAccuracyResult:
    rng = np.random.default_rng(i)
    bits = np.array([10.0, 20.0, 40.0, 80.0])
    rows = [{"scale": float(s), "accuracy": float(0.5 + 0.1 * j + 0.01 * i),
             "paper_entropy_bits": float(b), "payload_bits": float(b + 12),
             "packet_bits": float(b + 100)}
            for j, (s, b) in enumerate(zip([0.1, 0.2, 0.4, 0.8], bits, strict=True))]
    return RateAccuracyResult(rule="precision", codec="gaussian", center=True, crc_bits=16, k=64,
                              unquantized_accuracy=0.9, num_test=100, rows=rows,
                              latent_std=list(rng.uniform(0.05, 1.0, size=64)), label=label)


def _check_legend_outside(fig: Figure) -> dict[str, str]:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    lb = fig.legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        ab = ax.get_window_extent(renderer)
        assert not (lb.x0 < ab.x1 and ab.x0 < lb.x1 and lb.y0 < ab.y1 and ab.y0 < lb.y1)
    fb = fig.bbox
    assert lb.x0 >= fb.x0 - 1 and lb.x1 <= fb.x1 + 1 and lb.y0 >= fb.y0 - 1, "legend cut off"
    leg = fig.legends[0]
    return {t.get_text(): matplotlib.colors.to_hex(h.get_color())
            for t, h in zip(leg.get_texts(), leg.legend_handles, strict=True)}


def test_legend_outside_and_one_colour_per_model(tmp_path, captured) -> None:
    colors = model_colors(LABELS)
    curves = {lbl: _curve(lbl, i) for i, lbl in enumerate(LABELS)}
    # Fig. 2 with all models, a Fig. 4-like subset in another order, Fig. 5, Fig. 3
    plot_rate_accuracy(list(curves.values()), tmp_path / "fig2",
                       measures=("paper_entropy_bits", "payload_bits"), colors=colors)
    plot_rate_accuracy([curves["LDR-FT d64"], curves["CE-T d64"]], tmp_path / "fig4",
                       measures=("paper_entropy_bits",), colors=colors)
    plot_latent_std({lbl: c.latent_std for lbl, c in curves.items()}, tmp_path / "fig5",
                    sort=True, colors=colors)
    dist = {lbl: {"clean": 0.9, **{k: {str(s): 0.8 - 0.1 * s for s in SEVERITIES}
                                   for k in DISTORTION_KINDS}}
            for lbl in reversed(LABELS)}
    _plot_distortions(dist, tmp_path / "fig3", ("png",), colors)
    assert captured
    seen: dict[str, set[str]] = {}
    for fig in captured:
        for lbl, c in _check_legend_outside(fig).items():
            seen.setdefault(lbl, set()).add(c)
    assert set(seen) == set(LABELS)
    assert all(len(c) == 1 for c in seen.values()), seen  # the same colour in every figure
    assert len({next(iter(c)) for c in seen.values()}) == len(LABELS)  # distinct colours


def test_latent_std_sorted_panels(tmp_path, captured) -> None:
    std = np.array([0.2, 0.8, 0.4])
    plot_latent_std({"m": std}, tmp_path / "f", sort=True)
    (fig,) = {id(f): f for f in captured}.values()
    raw, rel = (ax.get_lines()[0].get_ydata() for ax in fig.axes[:2])
    np.testing.assert_allclose(raw, [0.8, 0.4, 0.2])
    np.testing.assert_allclose(rel, [1.0, 0.5, 0.25])
