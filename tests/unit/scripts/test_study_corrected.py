"""scripts/study_corrected.py: the combined interval (closed form), the paper-axis interpolation,
and the per-distortion / per-entry-std metrics."""

from __future__ import annotations

import math

import pytest


@pytest.fixture(scope="module")
def mod(load_script):
    return load_script("study_corrected")


def test_paper_axis_interpolation(mod):
    row = {"acc@10b": 0.5, "acc@10b_paper_entropy_bits": 2.0,
           "acc@20b": 0.8, "acc@20b_paper_entropy_bits": 12.0,
           "acc@28b": 0.9, "acc@28b_paper_entropy_bits": 16.0}
    assert mod.paper_axis_accuracy(row, [10.0, 20.0, 28.0], 13.93) == pytest.approx(
        0.8 + 0.1 * (13.93 - 12.0) / 4.0)
    assert mod.paper_axis_accuracy(row, [10.0, 20.0, 28.0], 1.0) is None  # not bracketed
    assert mod.paper_axis_accuracy(row, [10.0, 20.0, 28.0], 40.0) is None


def test_combined_interval_closed_form(mod):
    a = {"0": {"m": 0.90}, "1": {"m": 0.91}, "2": {"m": 0.92}}
    b = {"0": {"m": 0.89}, "1": {"m": 0.89}, "2": {"m": 0.89}}
    row = mod.judge({"A": a, "B": b}, 10000, [("c", "A", "B", "m", +1)])[0]
    diffs = [0.01, 0.02, 0.03]
    t_half = 4.302652729911275 * 0.01 / math.sqrt(3)
    var = sum(p * (1 - p) + q * (1 - q) for p, q in [(0.90, 0.89), (0.91, 0.89), (0.92, 0.89)])
    test_half = 1.96 * math.sqrt(var / 10000 / 9)
    half = math.sqrt(t_half ** 2 + test_half ** 2)
    assert row["mean"] == pytest.approx(sum(diffs) / 3)
    assert row["t_half"] == pytest.approx(t_half, rel=1e-6)
    assert row["test_half"] == pytest.approx(test_half, rel=1e-9)
    assert (row["lo"], row["hi"]) == pytest.approx((0.02 - half, 0.02 + half), rel=1e-6)
    assert row["verdict"] == ("holds" if 0.02 - half > 0 else "inconclusive")
    # the combined interval is never narrower than either part
    assert row["hi"] - row["mean"] >= max(t_half, test_half)


def test_tviews_over_seeds_closed_form(mod):
    """Three seeds of the CE-on-T-views control: mean of the per-seed differences ± (t over
    seeds ⊕ sqrt(sum h_s^2) / n), by the study's rule; one seed gives no aggregate."""
    def one(seed, d, h):
        return {"seed": seed, "accuracy": {m: {"rotation": 0.8} for m in (
                    "CE on T views", "LDR-FT", "CE control (light)")},
                "LDR-FT minus CE on T views": {"rotation": {"mean_points": d, "verdict": "refuted",
                                                            "half_width_points": h}}}
    t = {"0": one(0, -12.0, 0.8), "1": one(1, -11.0, 0.6), "2": one(2, -13.0, 0.9)}
    out = mod.tviews_over_seeds(t)["rotation"]
    seed_half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    test_half = math.sqrt(0.8**2 + 0.6**2 + 0.9**2) / 3
    assert out["mean_points"] == pytest.approx(-12.0)
    assert out["half_width_points"] == pytest.approx(math.hypot(seed_half, test_half), abs=0.01)
    assert out["verdict"] == "refuted"
    assert mod.tviews_over_seeds({"0": t["0"]}) == {}
    assert "Over 3 seeds" in mod.tviews_markdown(t)


def test_derived_metrics(mod):
    row = {"float_acc": 0.9, "latent_std": [0.1, 0.3],
           "distortions": {"rotation": 0.6, "flip": 0.7, "color_jitter": 0.8, "noise": 0.2}}
    d = mod.derived(row, [])
    assert d["mean_latent_std"] == pytest.approx(0.2)
    assert d["distorted_acc_paper"] == pytest.approx(0.7)  # noise left out
    assert d["distortion_noise"] == 0.2 and d["acc@paper_low"] is None


def test_paper_axis_of_the_other_allocations(mod):
    row = {"float_acc": 0.9,
           "acc@10b_klt": 0.7, "acc@10b_klt_paper_entropy_bits": 6.0,
           "acc@20b_klt": 0.9, "acc@20b_klt_paper_entropy_bits": 16.0}
    d = mod.derived(row, [])
    assert d["acc@paper_low_klt"] == pytest.approx(0.7 + 0.2 * (13.93 - 6.0) / 10.0)
    assert d["acc@paper_low_waterfill"] is None and d["acc@paper_low"] is None


def test_every_low_rate_claim_gets_a_paper_axis_twin(mod):
    claims = [("A beats B at 14 real bits", "A", "B", "acc@14b", +1),
              ("A beats B at 14 real bits, KLT", "A", "B", "acc@14b_klt", +1),
              ("A loses less (float -> 14 bits)", "A", "B", "quant_loss", +1),
              ("A beats B (float)", "A", "B", "float_acc", +1),
              ("already there", "A", "C", "acc@paper_low", +1),
              ("A beats C at 14 real bits", "A", "C", "acc@14b", +1)]
    twins = mod.paper_axis_twins(claims)
    assert [t[3] for t in twins] == ["acc@paper_low", "acc@paper_low_klt", "quant_loss_paper"]
    assert twins[0][0] == "A beats B at 13.93 bits of the paper's total entropy"
    assert all(t[1:3] == ("A", "B") and t[4] == +1 for t in twins)


def _measured(label: str, seed: int, acc14: float | None) -> dict:
    budgets = []
    for b in (10.0, 14.0, 20.0, 28.0, 40.0, 64.0):
        ok = not (b == 14.0 and acc14 is None)
        acc = (acc14 if b == 14.0 else 0.5 + b / 200) if ok else None
        budgets.append({"budget_bits": b, "feasible": ok, "accuracy": acc,
                        "payload_bits": b - 0.5 if ok else None, "payload_p50": b if ok else None,
                        "payload_p95": 2 * b if ok else None, "payload_max": 4 * b if ok else None,
                        "calibration_bits": b - 0.2 if ok else None, "scale": 1.0 if ok else None,
                        "paper_entropy_bits": b / 2 if ok else None})
    return {"version": 1, "model": f"m-{label}-{seed}", "label": label, "seed": seed,
            "float_acc": 0.9, "latent_std": [1.0, 0.5], "participation_ratio": 1.47,
            "precision": {"rule": "precision", "budgets": budgets}}


def test_remeasured_numbers_replace_only_the_scale_dependent_ones(load_script, tmp_path):
    import json

    rm = load_script("study_remeasure")
    old = {"float_acc": 0.9, "acc@14b": 0.1, "acc@14b_payload_bits": 14.0, "quant_loss": -0.8,
           "rate_mean": 0.3, "distortions": {"rotation": 0.5}, "acc_top8": 0.4,
           "latent_std": [1.0, 0.5]}
    summary = {"results": {"LDR-FT": {"0": dict(old), "1": dict(old)},
                           "LDR-FT long": {"0": dict(old)}}}
    (tmp_path / "a.json").write_text(json.dumps(_measured("LDR-FT", 0, 0.6)))
    (tmp_path / "b.json").write_text(json.dumps({**_measured("LDR-FT", 1, 0.6), "version": 0}))
    res, info = rm.load_remeasured(tmp_path, summary)
    new = res["LDR-FT"]["0"]
    assert new["acc@14b"] == 0.6 and new["acc@14b_payload_p95"] == 28.0
    assert new["acc@14b_paper_entropy_bits"] == 7.0
    assert new["quant_loss"] == pytest.approx(0.6 - 0.9)
    assert new["rate_mean"] == pytest.approx(sum([0.55, 0.6, 0.6, 0.64, 0.7, 0.82]) / 6)
    assert new["distortions"] == {"rotation": 0.5} and new["acc_top8"] == 0.4  # kept
    # a JSON of another version does not count; an unmeasured row keeps no rate number
    assert "acc@14b" not in res["LDR-FT"]["1"] and "rate_mean" not in res["LDR-FT"]["1"]
    assert res["LDR-FT"]["1"]["acc_top8"] == 0.4
    assert info["remeasured"] == ["LDR-FT seed 0"]
    assert info["not_remeasured"] == ["LDR-FT seed 1"]
    assert info["not_shipped"] == ["LDR-FT long seed 0"]
    # an infeasible budget is None (chance in the screening score)
    (tmp_path / "a.json").write_text(json.dumps(_measured("LDR-FT", 0, None)))
    res, _ = rm.load_remeasured(tmp_path, summary)
    assert res["LDR-FT"]["0"]["acc@14b"] is None and res["LDR-FT"]["0"]["quant_loss"] is None


def test_where_the_papers_point_sits_on_the_real_axis(mod):
    row = {"float_acc": 0.9,
           "acc@20b": 0.8, "acc@20b_paper_entropy_bits": 12.0, "acc@20b_payload_bits": 19.0,
           "acc@28b": 0.9, "acc@28b_paper_entropy_bits": 16.0, "acc@28b_payload_bits": 27.0,
           "acc@14b": None, "acc@14b_paper_entropy_bits": None, "acc@14b_payload_bits": None}
    d = mod.derived(row, [14.0, 20.0, 28.0])
    assert d["payload_bits@paper_low"] == pytest.approx(19.0 + 8.0 * (13.93 - 12.0) / 4.0)
    assert d["paper_entropy_bits@low"] is None  # 14 bits infeasible


def test_remeasure_one_checkpoint_is_the_librarys_rate_accuracy(tiny_trained, load_script,
                                                                tmp_path):
    import shutil

    from commsldr.coding import attach_latent_stats, compute_latent_stats, encode_dataset, fit_klt
    from commsldr.train.screening import calibration_subset, rate_accuracy_at_budgets

    rm = load_script("study_remeasure")
    path = tmp_path / "tiny.pt"
    shutil.copyfile(tiny_trained.checkpoint_path, path)
    stats = compute_latent_stats(tiny_trained.model, tiny_trained.train)
    attach_latent_stats(path, stats)
    cal = calibration_subset(tiny_trained.train, per_class=20)
    test = tiny_trained.test
    out = rm.measure_checkpoint(path, "LDR-FT", cal, test)
    want = rate_accuracy_at_budgets(tiny_trained.model, None, test, list(rm.BUDGETS_BITS),
                                    stats=stats, calibrate=cal)
    assert out["float_acc"] == pytest.approx(want["float_acc"], abs=1e-12)
    for got, w in zip(out["precision"]["budgets"], want["budgets"], strict=True):
        assert {k: got[k] for k in w} == pytest.approx(w) if w["feasible"] else not got["feasible"]
        assert (got["paper_entropy_bits"] is None) == (not w["feasible"])
    klt, coef = fit_klt(encode_dataset(tiny_trained.model, cal))
    want_klt = rate_accuracy_at_budgets(tiny_trained.model, None, test,
                                        list(rm.CHECK_RULE_BUDGETS_BITS), rule="waterfill",
                                        stats=coef, transform=klt, calibrate=cal)
    assert [b["accuracy"] for b in out["klt"]["budgets"]] == [b["accuracy"]
                                                              for b in want_klt["budgets"]]
    assert "waterfill" in out and "klt" in out  # LDR-FT is a model of the coding comparison
    assert "klt" not in rm.measure_checkpoint(path, "trunc CE", cal, test)
    row = rm.row_from_json({**out, "version": rm.VERSION})
    assert row["acc@14b_klt"] == out["klt"]["budgets"][1]["accuracy"]


def test_fast_epochs_section_states_every_count_and_the_binomial_half_width(mod):
    record = {"rule": "the fewest epochs whose mean validation accuracy reaches 90 %, else the most tried",
              "validation": "10 % of every class", "val_acc": {"10": [0.88], "14": [0.9]},
              "val_acc_mean": {"14": 0.9, "10": 0.88}, "chosen_epochs": 14, "shipped_epochs": 18,
              "val_images": 5000}
    md = mod.fast_epochs_markdown(record)
    row = next(line for line in md.splitlines() if line.startswith("| validation accuracy"))
    half = 100 * 1.96 * math.sqrt(0.9 * 0.1 / 5000)
    assert row.index("88.00 %") < row.index("90.00 %")  # epoch counts in increasing order
    assert f"90.00 % ± {half:.2f}" in row
    assert "**14 epochs**" in md and "ships 18" in md
