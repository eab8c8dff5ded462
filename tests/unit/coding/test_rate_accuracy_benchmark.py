"""benchmarks/rate_accuracy.py: the frontier, its time-sharing interpolation and the combined
interval, in closed form; the seeds' mean frontier and its band, and the figure drawn again from
a JSON without measuring."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "rate_accuracy.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("rate_accuracy_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_frontier_drops_dominated_points(bench):
    pts = [(10.0, 0.8), (8.0, 0.7), (12.0, 0.75), (14.0, 0.9), (9.0, 0.6)]
    assert bench.frontier(pts) == [(8.0, 0.7), (10.0, 0.8), (14.0, 0.9)]


def test_time_sharing_interpolation(bench):
    front = [(8.0, 0.7), (10.0, 0.8), (14.0, 0.9)]
    assert bench.accuracy_at(front, 7.9) is None          # below the cheapest point
    assert bench.accuracy_at(front, 9.0) == pytest.approx(0.75)
    assert bench.accuracy_at(front, 13.0) == pytest.approx(0.875)
    assert bench.accuracy_at(front, 40.0) == 0.9           # beyond the last point: hold it
    assert bench.accuracy_at([], 10.0) is None


def test_combined_interval_closed_form(bench):
    vals = [0.88, 0.90, 0.92]
    t_half = 4.303 * 0.02 / math.sqrt(3)
    binom = 1.96 * math.sqrt(0.9 * 0.1 / 10000)
    assert bench.combined_ci95(vals, 10000) == pytest.approx(math.hypot(t_half, binom))
    assert bench.combined_ci95([0.9], 10000) == pytest.approx(binom)


def test_cap_points_pick_what_fits_every_image(bench):
    eb = [{"rate": 0, "calibration_max": 24.0, "calibration_bits": 14.0,
           "calibration_accuracy": 0.86, "accuracy": 0.87},
          {"rate": 1, "calibration_max": 16.0, "calibration_bits": 11.0,
           "calibration_accuracy": 0.88, "accuracy": 0.85},
          {"rate": 2, "calibration_max": 9.0, "calibration_bits": 8.1,
           "calibration_accuracy": 0.74, "accuracy": 0.7},
          {"rate": 3, "calibration_max": 9.0, "calibration_bits": 8.6,
           "calibration_accuracy": 0.72, "accuracy": 0.75}]
    at = bench.cap_points("entropy-bottleneck", eb)
    # among the points that fit, the most accurate on the calibration images (not on the test
    # images, not the most bits): rate 2 under 9-16 bits, rate 1 from 16 bits on, even where
    # rate 0 (more bits, better test accuracy) fits too
    assert at["8"] is None and at["10"]["rate"] == 2 and at["14"]["rate"] == 2
    assert at["17"]["rate"] == 1 and at["64"]["rate"] == 1
    split = [{"budget_bits": 14.0, "accuracy": 0.5}, {"budget_bits": 20.0, "accuracy": 0.8}]
    at = bench.cap_points("ldr-ft", split)
    assert at["8"] is None and at["14"]["accuracy"] == 0.5 and at["17"] is None  # no sharing
    edge = [{"payload_max": 8.0, "accuracy": 0.9}]
    at = bench.cap_points("edge-label", edge)
    assert at["6"] is None and at["8"]["accuracy"] == 0.9


def test_paired_claim_closed_form(bench):
    a = {"-s0": 0.50, "-s1": 0.56, "-s2": None}
    b = {"-s0": 0.87, "-s1": 0.86, "-s2": 0.87}
    row = bench.paired_claim(a, b, 10000, +1)
    diffs = [0.50 - 0.87, 0.56 - 0.86]
    t_half = 12.706 * abs(diffs[0] - diffs[1]) / math.sqrt(2) / math.sqrt(2)
    test_half = 1.96 * math.sqrt((0.5 * 0.5 + 0.87 * 0.13 + 0.56 * 0.44 + 0.86 * 0.14) / 10000) / 2
    assert row["seeds"] == ["-s0", "-s1"]  # only the seeds both reach
    assert row["mean"] == pytest.approx(sum(diffs) / 2)
    assert row["t_half"] == pytest.approx(t_half) and row["test_half"] == pytest.approx(test_half)
    half = math.hypot(t_half, test_half)
    assert (row["lo"], row["hi"]) == pytest.approx((row["mean"] - half, row["mean"] + half))
    assert row["verdict"] == ("refuted" if row["mean"] + half < 0 else "inconclusive")
    one = bench.paired_claim({"-s0": 0.5}, {"-s0": 0.87}, 10000, +1)
    assert one["t_half"] == 0.0 and one["verdict"] == "refuted"  # the test set alone: ±1.2 pts
    assert bench.paired_claim({"-s0": None}, {"-s0": 0.87}, 10000, +1) is None


def test_label_bits_whole_bytes_per_message(bench):
    """Ten classes: 4 bits a label; alone one byte each, two to a byte in messages."""
    assert list(bench.label_bits(10, 3, 1)) == [8.0, 8.0, 8.0]
    assert list(bench.label_bits(10, 5, 2)) == [4.0, 4.0, 4.0, 4.0, 8.0]  # the last one alone
    assert bench.label_bits(10, 64, 8).mean() == 4.0
    assert list(bench.label_bits(100, 3, 3)) == pytest.approx([8.0, 8.0, 8.0])  # 7 bits: 3 bytes
    assert list(bench.label_bits(2, 8, 8)) == [1.0] * 8


def test_images_per_message_refused_with_cap(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--data-root", "nowhere", "--cap", "--images-per-message", "8"])
    assert "--cap" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--data-root", "nowhere", "--images-per-message", "0"])
    assert "--images-per-message" in capsys.readouterr().err


def test_mean_frontier_is_the_mean_of_the_interpolated_seeds(bench):
    fronts = [[(8.0, 0.5), (16.0, 0.9)], [(10.0, 0.6), (12.0, 0.8)]]
    bits, mean, half = bench.mean_frontier(fronts, 10_000, np.array([6.0, 9.0, 12.0, 20.0]))
    assert bits.tolist() == [12.0, 20.0]  # 6 and 9 bits: not every seed reaches them
    assert mean.tolist() == pytest.approx([(0.7 + 0.8) / 2, (0.9 + 0.8) / 2])
    # two seeds: t(1) = 12.706 times the mean's standard error, with the binomial term
    sd = np.std([0.7, 0.8], ddof=1)
    binom = 1.96 * math.sqrt(0.75 * 0.25 / 10_000)
    assert half[0] == pytest.approx(math.hypot(12.706 * sd / math.sqrt(2), binom))


def test_redraw_draws_the_figure_from_a_json_without_data(bench, tmp_path):
    model = {"points": [{"payload_bits": 8.0, "accuracy": 0.5}, {"payload_bits": 12.0,
                                                                   "accuracy": 0.8}],
             "frontier": [[8.0, 0.5], [12.0, 0.8]]}
    label = {"points": [{"payload_bits": 8.0, "accuracy": 0.9}], "frontier": [[8.0, 0.9]]}
    result = {"test_images": 1000, "schemes": {
        "ldr-ft": {"models": {"a": model, "b": model}},
        "edge-label": {"models": {"a": label, "b": label}}}}
    src = tmp_path / "r.json"
    src.write_text(json.dumps(result))
    out = tmp_path / "f.png"
    assert bench.main(["--redraw", str(src), "--figure", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit):
        bench.main(["--redraw", str(src)])  # where to draw is needed
