"""``benchmarks/rate_accuracy.py``: the seeds' mean frontier and its band, and the figure drawn
again from a JSON without measuring."""

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
