"""Screening d_y by rate–accuracy: real coded bits, the rules, and the recipe's table."""

from __future__ import annotations

import json

import pytest
import torch

from commsldr.coding import compute_latent_stats, encode_dataset, make_source_coder
from commsldr.train import TrainConfig, load_model, predict_from_latent, run_recipe
from commsldr.train.screening import (
    calibration_subset,
    pick_best,
    rate_accuracy_at_budgets,
    rate_accuracy_from_latents,
    screen_score,
)


def _rate(accs: dict[float, float | None]) -> dict:
    return {"budgets": [{"budget_bits": b, "feasible": a is not None, "accuracy": a}
                        for b, a in accs.items()]}


def test_rules_score_rows_as_stated():
    rows = [
        {"latent_dim": 32, "test_acc": 0.90, "rate": _rate({16.0: 0.50, 64.0: 0.88})},
        {"latent_dim": 64, "test_acc": 0.92, "rate": _rate({16.0: None, 64.0: 0.91})},
        {"latent_dim": 128, "test_acc": 0.91, "rate": _rate({16.0: 0.70, 64.0: 0.84})},
    ]
    for r in rows:
        r["score"] = screen_score(r, "rate-mean", num_classes=10)
    # infeasible counts as chance (0.1): (0.1 + 0.91) / 2 = 0.505 < (0.5 + 0.88) / 2 = 0.69 < 0.77
    assert [r["score"] for r in rows] == pytest.approx([0.69, 0.505, 0.77])
    assert pick_best(rows)["latent_dim"] == 128
    at64 = [screen_score(r, "rate-at", num_classes=10, at_bits=64) for r in rows]
    assert at64 == [0.88, 0.91, 0.84]
    assert screen_score(rows[1], "rate-at", num_classes=10, at_bits=16.0) == pytest.approx(0.1)
    assert [screen_score(r, "float", num_classes=10) for r in rows] == [0.90, 0.92, 0.91]
    with pytest.raises(ValueError, match="screen_at_bits"):
        screen_score(rows[0], "rate-at", num_classes=10, at_bits=32)
    tie = [{"latent_dim": 64, "score": 0.5}, {"latent_dim": 32, "score": 0.5}]
    assert pick_best(tie)["latent_dim"] == 32  # ties: the smaller d_y


def test_accuracy_at_budgets_uses_real_coded_bits(tiny_trained):
    model, train, test = tiny_trained.model, tiny_trained.train, tiny_trained.test
    res = rate_accuracy_at_budgets(model, train, test, [1.0, 24.0, 48.0, 1e5])
    by_budget = {b["budget_bits"]: b for b in res["budgets"]}
    assert list(by_budget) == [1.0, 24.0, 48.0, 1e5]
    assert not by_budget[1.0]["feasible"]  # a coded message is at least one byte
    stats = compute_latent_stats(model, train)
    y = encode_dataset(model, test)
    for budget in (24.0, 48.0):
        b = by_budget[budget]
        # the scale is solved on training images (the calibration set), never on the scored ones
        assert b["feasible"] and b["calibration_bits"] <= budget
        cal = encode_dataset(model, calibration_subset(train))
        assert make_source_coder(stats, b["scale"]).image_bits(cal).mean() == pytest.approx(
            b["calibration_bits"], abs=1e-9)
        # re-measure: the constriction payload of each image coded alone, and the decoder's accuracy
        coder = make_source_coder(stats, b["scale"])
        assert coder.image_bits(y).mean() == pytest.approx(b["payload_bits"], abs=1e-9)
        assert b["payload_p50"] <= b["payload_p95"] <= b["payload_max"]
        y_hat = coder.quantizer.dequantize(coder.quantizer.quantize(y))
        acc = float((predict_from_latent(model, y_hat) == test.labels).double().mean())
        assert b["accuracy"] == pytest.approx(acc, abs=1e-12)
    assert by_budget[24.0]["payload_bits"] < by_budget[48.0]["payload_bits"]
    # an unlimited budget is float accuracy up to the finest steps' rounding (at most 2 images)
    assert abs(by_budget[1e5]["accuracy"] - res["float_acc"]) <= 2 / len(test)
    assert res["float_acc"] == pytest.approx(tiny_trained.test_acc, abs=1e-12)
    # known statistics (e.g. stored in the checkpoint) give the same numbers without re-encoding
    # the training set
    assert rate_accuracy_at_budgets(model, None, test, [1.0, 24.0, 48.0, 1e5], stats=stats,
                                    calibrate=calibration_subset(train)) == res
    # the scored images do not move the scales
    other = rate_accuracy_at_budgets(model, train, test.subset(torch.arange(len(test) // 2)),
                                     [24.0, 48.0], stats=stats)
    assert [b["scale"] for b in other["budgets"]] == [by_budget[24.0]["scale"],
                                                       by_budget[48.0]["scale"]]


def test_latents_and_per_image_cap(tiny_trained):
    model, train, test = tiny_trained.model, tiny_trained.train, tiny_trained.test
    stats = compute_latent_stats(model, train)
    cal = calibration_subset(train)
    y, y_cal = encode_dataset(model, test), encode_dataset(model, cal)
    budgets = [24.0, 48.0]
    # already-encoded latents give what the images give
    assert rate_accuracy_from_latents(model, y, test.labels, y_cal, stats, budgets) == \
        rate_accuracy_at_budgets(model, None, test, budgets, stats=stats, calibrate=cal)
    mean = rate_accuracy_from_latents(model, y, test.labels, y_cal, stats, budgets)
    cap = rate_accuracy_from_latents(model, y, test.labels, y_cal, stats, budgets,
                                     statistic="max")
    assert cap["statistic"] == "max" and mean["statistic"] == "mean"
    for b_mean, b_cap in zip(mean["budgets"], cap["budgets"], strict=True):
        assert b_cap["feasible"] and b_mean["feasible"]
        # the cap holds for every calibration image (so also for their mean)
        bits = make_source_coder(stats, b_cap["scale"]).image_bits(y_cal)
        assert bits.max() == pytest.approx(b_cap["calibration_bits"], abs=1e-9)
        assert bits.mean() <= bits.max() <= b_cap["budget_bits"]
        # the mean budget bounds only the calibration images' mean
        assert b_mean["calibration_bits"] <= b_mean["budget_bits"]
    with pytest.raises(ValueError, match="statistic"):
        rate_accuracy_from_latents(model, y, test.labels, y_cal, stats, budgets,
                                   statistic="median")


def test_screen_recipe_picks_by_rate_accuracy(tmp_path):
    cfg = dict(dataset="synthetic", num_per_class=40, test_num_per_class=20, backbone="resnet8",
               width=0.25, batch_size=40, epochs=2, augment=False, progress=False, seed=0,
               dims=[4, 8], screen_budgets=[12.0, 24.0, 48.0], out=str(tmp_path))
    res = run_recipe("screen", cfg)
    assert TrainConfig().screen.rule == "rate-mean"  # the default rule
    table = json.loads((tmp_path / "screen.json").read_text())
    assert table["screen_rule"] == "rate-mean" and table["screen_budgets"] == [12.0, 24.0, 48.0]
    rows = table["rows"]
    for r in rows:
        accs = []
        for b in r["rate"]["budgets"]:
            if b["feasible"]:
                assert b["calibration_bits"] <= b["budget_bits"]
            accs.append(b["accuracy"] if b["feasible"] else 0.1)
            assert r[f"acc@{b['budget_bits']:g}b"] == b["accuracy"]
        assert r["score"] == pytest.approx(sum(accs) / len(accs))
    best = max(rows, key=lambda r: (r["score"], -r["latent_dim"]))
    assert res.metrics["best_latent_dim"] == best["latent_dim"]
    assert load_model(tmp_path / "model.pt").latent_dim == best["latent_dim"]
    assert res.metrics["selected_by"].startswith("rate-mean: mean test accuracy over payload")
    head = (tmp_path / "screen.csv").read_text().splitlines()[0]
    assert head == "latent_dim,train_acc,test_acc,acc@12b,acc@24b,acc@48b,score,checkpoint"
    assert "**(best)**" in (tmp_path / "screen.md").read_text()


def test_screen_options_are_validated_and_reach_the_cli():
    import argparse

    from commsldr.cli.train import add_arguments, config_from_args

    with pytest.raises(ValueError, match="screen_at_bits"):
        TrainConfig.from_dict(dict(screen_rule="rate-at", screen_at_bits=20.0))
    with pytest.raises(ValueError, match="screen_budgets"):
        TrainConfig.from_dict(dict(screen_budgets=[]))
    with pytest.raises(ValueError, match="screen_rule"):
        TrainConfig.from_dict(dict(screen_rule="auc"))
    p = argparse.ArgumentParser()
    add_arguments(p)
    c = config_from_args(p.parse_args(["--recipe", "screen", "--screen-rule", "rate-at",
                                       "--screen-budgets", "16,48", "--screen-at-bits", "48"]))
    assert (c.screen.rule, c.screen.budgets, c.screen.at_bits) == ("rate-at", (16.0, 48.0), 48.0)
