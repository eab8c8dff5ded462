"""scripts/study_report.py: the verdict rule, the paired intervals over seeds, and the figures."""

from __future__ import annotations

import math

import pytest
import torch


@pytest.fixture(scope="module")
def report(load_script):
    return load_script("study_report")


def _model(acc: float, low: float, dist: float, pr: float) -> dict:
    out = {"float_acc": acc, "participation_ratio": pr, "latent_std": [1.0, 0.5, 0.25],
           "distortions": {k: dist for k in ("rotation", "flip", "color_jitter", "noise")},
           "distorted_acc": dist, "quant_loss": low - acc}
    for b in (10.0, 14.0, 20.0, 28.0, 40.0, 64.0):
        out[f"acc@{b:g}b"] = low + (acc - low) * min(1.0, b / 64)
        out[f"acc@{b:g}b_payload_bits"] = b * 0.98
    return out


def test_rule(report):
    assert report.verdict(0.001, 0.02, +1) == "holds"
    assert report.verdict(-0.02, -0.001, +1) == "refuted"
    assert report.verdict(-0.01, 0.02, +1) == "inconclusive"
    assert report.verdict(-0.02, -0.001, -1) == "holds"  # the paper claims A < B


def test_t_interval_closed_form(report):
    m, lo, hi = report.t_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t_{0.975, 2} * s / sqrt(n), s = 1
    assert m == 2.0 and lo == pytest.approx(2.0 - half) and hi == pytest.approx(2.0 + half)


def test_compare_pairs_seeds_and_states_verdicts(report):
    res = {"LDR-FT": {s: _model(0.90 + 0.01 * s, 0.80, 0.7, 20.0) for s in (0, 1, 2)},
           "CE-T": {s: _model(0.88 + 0.01 * s, 0.70, 0.6, 30.0) for s in (0, 1, 2)},
           "CE control": {0: _model(0.905, 0.81, 0.7, 20.0)}}
    rows = {r["claim"]: r for r in report.compare(res, 10_000)}
    float_row = rows["LDR-FT beats CE-T (float)"]
    assert float_row["diffs"] == pytest.approx([0.02] * 3)  # paired by seed
    assert float_row["verdict"] == "holds" and float_row["interval"] == "t over seeds"
    ctrl = rows["LDR-FT beats its equal-epoch CE control (float)"]
    assert ctrl["interval"] == "test set only (one seed)" and ctrl["seeds"] == [0]
    d, lo, hi = report.binomial_diff_interval(0.90, 0.905, 10_000)
    assert (ctrl["mean"], ctrl["lo"], ctrl["hi"]) == pytest.approx((d, lo, hi))
    assert ctrl["verdict"] == "inconclusive"
    assert rows["DuPHiL beats CE-T (float)"]["verdict"] == "not run yet"


def test_test_set_interval_of_a_seed_mean_closed_form(report):
    pairs = [(0.90, 0.88), (0.91, 0.89), (0.92, 0.90)]
    d, lo, hi = report.test_set_diff_interval(pairs, 10_000)
    var = sum(a * (1 - a) + b * (1 - b) for a, b in pairs) / 10_000 / 9
    assert d == pytest.approx(0.02) and hi - d == pytest.approx(1.96 * math.sqrt(var))
    # one seed: the two-binomial interval of that seed's difference
    assert report.test_set_diff_interval([(0.90, 0.905)], 10_000) == pytest.approx(
        report.binomial_diff_interval(0.90, 0.905, 10_000))
    # three seeds narrow it by sqrt(3) against one seed of the same accuracies
    one = report.test_set_diff_interval([(0.9, 0.88)], 10_000)
    three = report.test_set_diff_interval([(0.9, 0.88)] * 3, 10_000)
    assert (one[2] - one[0]) / (three[2] - three[0]) == pytest.approx(math.sqrt(3))
    res = {"LDR-FT": {s: _model(0.90 + 0.01 * s, 0.80, 0.7, 20.0) for s in (0, 1, 2)},
           "CE-T": {s: _model(0.88 + 0.01 * s, 0.70, 0.6, 30.0) for s in (0, 1, 2)}}
    rows = {r["claim"]: r for r in report.compare(res, 10_000)}
    row = rows["LDR-FT beats CE-T (float)"]
    assert (row["test_lo"], row["test_hi"]) == pytest.approx(report.test_set_diff_interval(
        [(0.90 + 0.01 * s, 0.88 + 0.01 * s) for s in (0, 1, 2)], 10_000)[1:])
    quant = [r for r in rows.values() if r["metric"] == "quant_loss"][0]
    assert quant["test_lo"] is None  # a difference of differences: no binomial interval


def test_markdown_and_figures(report, tmp_path):
    res = {"CE-T": {s: _model(0.90, 0.8, 0.7, 30.0) for s in (0, 1)},
           "LDR-FT": {0: _model(0.91, 0.85, 0.72, 20.0)}}
    summary = {"results": res, "test_images": 10_000}
    summary["claims"] = report.compare(res, 10_000)
    md = report.markdown(summary)
    assert "| CE-T | 2 |" in md and "†" in md
    report.figures(summary, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"rate_accuracy.png", "latent_std.png",
                                                   "distortions.png"}


def test_transform_coding_rows_table_figure_and_target(report, tmp_path):
    res = {"CE-T": {s: _model(0.90, 0.6, 0.7, 30.0) for s in (0, 1)}}
    for r in res["CE-T"].values():
        for b in report.CHECK_RULE_BUDGETS_BITS:
            for suffix, acc in ((f"_{report.CHECK_RULE}", 0.70), (f"_{report.TRANSFORM}", 0.89)):
                r[f"acc@{b:g}b{suffix}"] = acc
                r[f"acc@{b:g}b{suffix}_payload_bits"] = b - 0.3
    summary = {"results": res, "test_images": 10_000, "claims": [],
               "target": report.target_check(res)}
    assert summary["target"]["rule"] == "klt + waterfill" and summary["target"]["met"]
    md = report.markdown(summary)
    assert "Transform coding" in md and "| CE-T | 2 | 89.00 ± 0.00 |" in md
    report.figures(summary, tmp_path)
    assert (tmp_path / "coding_schemes.png").is_file()


def test_figure_bands_stay_within_0_and_100(report):
    m, lo, hi = report.accuracy_band([0.10, 0.90], 10_000)  # t interval with 1 df: far outside
    assert m == pytest.approx(50.0) and (lo, hi) == (0.0, 100.0)
    m, lo, hi = report.accuracy_band([0.5], 10_000)  # one seed: the binomial interval, inside
    assert 0.0 < lo < m < hi < 100.0


def test_truncations_get_their_own_panel(report, tmp_path):
    import matplotlib.image

    res = {"CE-T": {0: _model(0.90, 0.8, 0.7, 30.0)}}
    summary = {"results": res, "test_images": 10_000}
    report.figures(summary, tmp_path / "one")
    res["trunc CE"] = {0: _model(0.89, 0.8, 0.7, 30.0)}
    report.figures(summary, tmp_path / "two")
    one = matplotlib.image.imread(tmp_path / "one" / "rate_accuracy.png")
    two = matplotlib.image.imread(tmp_path / "two" / "rate_accuracy.png")
    assert one.shape[0] == two.shape[0] and two.shape[1] > 1.5 * one.shape[1]
    assert not (tmp_path / "two" / "screen.png").exists()  # one d_y: nothing to screen
    res["CE-T d128"] = {0: report.add_rate_mean(_model(0.90, 0.6, 0.7, 30.0))}
    res["CE-T"] = {0: report.add_rate_mean(res["CE-T"][0])}
    report.figures(summary, tmp_path / "three")
    assert (tmp_path / "three" / "screen.png").is_file()


def test_phase_convergence_reads_each_phase_of_finished_stages(report, tmp_path):
    import json

    stage = tmp_path / "s0" / report.MODELS["LDR-FT"]
    for phase, key, losses in (("ldr-ft-1-ldr", "loss_ldr", [-10.0, -14.0, -15.0]),
                               ("ldr-ft-3-ce", "loss_ce", [1.0, 0.9, 0.8])):
        (stage / phase).mkdir(parents=True)
        (stage / phase / "metrics.jsonl").write_text("".join(
            json.dumps({"phase": phase, "epoch": i + 1, "loss_ce": 1.0, key: v, "test_acc": 0.5})
            + "\n" for i, v in enumerate(losses)))
    assert report.phase_convergence(tmp_path, [0]) == []  # not finished: no model.pt
    (stage / "model.pt").write_bytes(b"")
    rows = {r["phase"]: r for r in report.phase_convergence(tmp_path, [0, 1])}
    ldr, ce = rows["ldr-ft-1-ldr"], rows["ldr-ft-3-ce"]
    assert ldr["loss"] == "ldr" and ldr["losses"] == [-10.0, -14.0, -15.0]  # its own objective
    assert ldr["last_epoch_share"] == pytest.approx(1 / 5) and ldr["converged"] is False
    assert ce["last_epoch_share"] == pytest.approx(0.5) and ce["converged"] is False
    (stage / "ldr-ft-3-ce" / "metrics.jsonl").write_text("".join(
        json.dumps({"epoch": i + 1, "loss_ce": v}) + "\n" for i, v in enumerate([1.0, 0.5, 0.49])))
    ce = {r["phase"]: r for r in report.phase_convergence(tmp_path, [0])}["ldr-ft-3-ce"]
    assert ce["converged"] is True and ce["test_acc"] is None


def test_screening_score_counts_infeasible_budgets_as_chance(report):
    m = _model(0.90, 0.50, 0.7, 30.0)
    scored = report.add_rate_mean(m)
    expected = sum(m[f"acc@{b:g}b"] for b in report.BUDGETS_BITS) / len(report.BUDGETS_BITS)
    assert scored["rate_mean"] == pytest.approx(expected)
    m["acc@10b"] = None  # a large d_y cannot reach 10 bits
    scored = report.add_rate_mean(m)
    assert scored["rate_mean"] == pytest.approx(expected + (0.1 - _model(0.9, 0.5, 0.7, 30.0)
                                                           ["acc@10b"]) / 6)


def test_screening_claims_compare_d64_with_each_other_size(report):
    res = {"CE-T": {0: report.add_rate_mean(_model(0.90, 0.80, 0.7, 30.0))},
           "CE-T d32": {0: report.add_rate_mean(_model(0.88, 0.60, 0.7, 20.0))},
           "CE-T d128": {0: report.add_rate_mean(_model(0.91, 0.85, 0.7, 40.0))}}
    rows = {r["claim"]: r for r in report.compare(res, 10_000)}
    assert rows["screening picks d_y = 64 over d_y = 32 (rate-mean)"]["verdict"] == "holds"
    assert rows["screening picks d_y = 64 over d_y = 128 (rate-mean)"]["verdict"] == "refuted"
    assert rows["screening picks d_y = 64 over d_y = 256 (rate-mean)"]["verdict"] == "not run yet"


def test_target_takes_the_best_model_and_rule(report):
    a = _model(0.90, 0.5, 0.7, 30.0)
    b = _model(0.90, 0.5, 0.7, 30.0)
    a["acc@20b_waterfill"], b["acc@20b_waterfill"] = 0.885, 0.80
    res = {"CE-T": {0: a, 1: dict(a, **{"acc@20b_waterfill": 0.875})}, "LDR-FT": {0: b}}
    t = report.target_check(res)
    assert (t["model"], t["rule"], t["seeds"]) == ("CE-T", "waterfill", 2)
    assert t["mean_accuracy"] == pytest.approx(0.88) and t["met"]
    res["CE-T"][1]["acc@20b_waterfill"] = 0.86
    assert not report.target_check(res)["met"]
    assert report.target_check({})["met"] is False


def test_markdown_shows_the_second_rule_and_the_target(report):
    m = _model(0.90, 0.5, 0.7, 30.0)
    m.update({f"acc@{b:g}b_waterfill": 0.7 for b in report.CHECK_RULE_BUDGETS_BITS})
    res = {"CE-T": {0: m}, "LDR-FT": {0: _model(0.90, 0.4, 0.7, 30.0)}}
    summary = {"results": res, "test_images": 10_000, "claims": report.compare(res, 10_000),
               "target": report.target_check(res)}
    md = report.markdown(summary)
    assert "`waterfill` allocation" in md and "| CE-T | 1 | 70.00 ± 0.90†" in md
    assert "**not met**" in md
    rows = {r["claim"]: r for r in summary["claims"]}
    assert rows["LDR-FT beats CE-T at 14 real bits, water-filling allocation"]["verdict"] == \
        "not run yet"  # LDR-FT has no water-filling numbers here


def test_structure_measurement_keeps_the_top_entries(report, tiny_trained, tmp_path):
    from commsldr.train import evaluate

    out = report.measure_structure_cached(tiny_trained.checkpoint_path, tiny_trained.train,
                                          tiny_trained.test, tmp_path)
    # d_y = 16: keeping the 16 or 32 highest-variance entries keeps them all
    assert out["acc_top16"] == pytest.approx(evaluate(tiny_trained.model, tiny_trained.test))
    assert out["acc_top32"] == out["acc_top16"]
    assert all(0.0 <= out[f"acc_top{k}"] <= 1.0 for k in report.TOPK)
    assert set(out) == {f"acc_top{k}" for k in report.TOPK} | {
        f"acc_noise{f:g}" for f in report.NOISE_FRACTIONS}
    cached = sorted(f.name.split("-", 1)[1] for f in tmp_path.iterdir())
    # the measurement and the training-set statistics it computed (kept for the other measures)
    assert cached == [f"stats-v{report.STATS_VERSION}.json", "structure-v1-n300.json"]
    assert report.measure_structure_cached(
        tiny_trained.checkpoint_path, None, tiny_trained.test, tmp_path) == out


def test_top_entries_figure_and_table(report, tmp_path):
    m = _model(0.90, 0.5, 0.7, 30.0)
    m.update({f"acc_top{k}": 0.2 + 0.02 * k for k in report.TOPK})
    m.update({f"acc_noise{f:g}": 0.85 for f in report.NOISE_FRACTIONS})
    res = {"CE-T": {0: m, 1: m}}
    summary = {"results": res, "test_images": 10_000, "claims": report.compare(res, 10_000)}
    assert "| CE-T | 2 | 24.00 ± 0.00 |" in report.markdown(summary)
    report.figures(summary, tmp_path)
    assert (tmp_path / "top_entries.png").is_file()


def test_cached_statistics_are_the_computed_ones(report, tiny_trained, tmp_path):
    from commsldr.coding import compute_latent_stats

    first = report.latent_stats_cached(tiny_trained.checkpoint_path, tiny_trained.train, tmp_path)
    again = report.latent_stats_cached(tiny_trained.checkpoint_path, None, tmp_path)  # from disk
    fresh = compute_latent_stats(tiny_trained.model, tiny_trained.train)
    for k, v in fresh.to_dict().items():
        # the disk copy is exact; a fresh encoding agrees to float32 summation order
        assert torch.equal(torch.as_tensor(again.to_dict()[k]).double(),
                           torch.as_tensor(first.to_dict()[k]).double()), k
        assert torch.as_tensor(first.to_dict()[k]).double().allclose(
            torch.as_tensor(v).double(), rtol=1e-5, atol=1e-6), k
