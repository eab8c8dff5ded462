"""The recipe ``entropy-bottleneck``: what it writes, that a finished run resumes to the same
result, and that the stored bottleneck gives the coder the recipe scored."""

import json

import numpy as np
import torch

from commsldr.train import load_checkpoint, load_model, run_recipe
from commsldr.train.bottleneck import (
    EB_STATE_KEY,
    eb_latents,
    eb_predictions,
    eb_rate_points,
    load_entropy_bottleneck,
)
from tests.conftest import TINY_CONFIG


def _config(tmp_path, ckpt):
    return dict(TINY_CONFIG, out=str(tmp_path / "eb"), from_checkpoint=str(ckpt),
                finetune_epochs=1, finetune_lr=0.01, eb_lambdas=[0.01, 0.3], resume=True,
                progress=False)


def test_recipe_writes_a_bottleneck_per_rate_and_resumes(tmp_path, tiny_trained):
    torch.set_num_threads(1)
    res = run_recipe("entropy-bottleneck", _config(tmp_path, tiny_trained.checkpoint_path))
    ck = load_checkpoint(res.checkpoint_path)
    assert EB_STATE_KEY in ck
    rates = res.metrics["rates"]
    assert [r["lambda"] for r in rates] == [0.01, 0.3]
    # the validation split is held out of the fine-tune: 10 % of every class
    assert res.metrics["val_images"] == 10 * 10 and res.metrics["train_images_used"] == 90 * 10
    # the stored model + bottleneck reproduce the recorded test accuracy and rate estimate
    model, eb = load_model(res.checkpoint_path), load_entropy_bottleneck(res.checkpoint_path)
    lat = eb_latents(model, tiny_trained.test)
    for r, rec in enumerate(rates):
        pred, bits = eb_predictions(model, eb, lat, r)
        assert float((pred == tiny_trained.test.labels.numpy()).mean()) == rec["test_acc"]
        assert abs(float(bits.mean()) - rec["test_bits_estimate"]) < 1e-9
        # the deployed coder sends exactly what the estimate counts, plus the codec's overhead
        coder = eb.source_coder(r)
        coded = coder.image_bits(lat)
        q = coder.symbols(lat).numpy()
        info = coder.codec.information_bits(q)
        # images without an escaped symbol (outside the support, < 1e-9 of the mass; it is
        # coded as the escape's tail mass + 32 raw bits) cost exactly the estimate
        off = q - coder.codec.lo
        plain = ((off >= 0) & (off < coder.codec.size)).all(1)
        np.testing.assert_allclose(info[plain], bits[plain], rtol=1e-4, atol=1e-3)
        assert (coded - info).max() <= 9.5
    # a finished run resumes without training and gives the same result
    again = run_recipe("entropy-bottleneck", _config(tmp_path, tiny_trained.checkpoint_path))
    assert json.dumps(again.metrics, sort_keys=True) == json.dumps(res.metrics, sort_keys=True)
    # rate points: alone, each image's whole bytes; in messages, each image's share of them
    alone = eb_rate_points(model, eb, tiny_trained.test, tiny_trained.test)
    shared = eb_rate_points(model, eb, tiny_trained.test, tiny_trained.test, images_per_message=16)
    for r, (a, m) in enumerate(zip(alone, shared, strict=True)):
        coder = eb.source_coder(r)
        assert a["accuracy"] == m["accuracy"] == rates[r]["test_acc"]  # the same symbols
        assert a["payload_bits"] == float(coder.image_bits(lat).mean()) == a["calibration_bits"]
        assert m["payload_bits"] == float(coder.message_bits(lat, 16).mean())
        # at most the coder's final bits and one byte per message above the information
        n = len(lat)
        info = coder.codec.information_bits(coder.symbols(lat).numpy()).mean()
        assert m["payload_bits"] <= info + 10 * -(-n // 16) / n


def _point(rate, lam, cal_bits, cal_acc, acc, bits):
    return {"rate": rate, "lambda": lam, "calibration_bits": cal_bits,
            "calibration_accuracy": cal_acc, "accuracy": acc, "payload_bits": bits,
            "payload_p50": bits, "payload_p95": bits, "payload_max": bits}


def test_budgets_pick_the_most_accurate_rate_point_within_them_on_training_images():
    from commsldr.train.bottleneck import eb_budgets

    pts = [_point(0, 0.003, 30.0, 0.93, 0.86, 31.0),   # more bits, less accurate on training
           _point(1, 0.01, 20.0, 0.95, 0.87, 19.0),    # images: never chosen over rate point 1
           _point(2, 0.1, 9.0, 0.80, 0.80, 8.5)]
    got = eb_budgets(pts, [40.0, 8.0, 9.0, 20.0])
    assert [g["budget_bits"] for g in got] == [8.0, 9.0, 20.0, 40.0]
    assert [g["rate"] for g in got] == [None, 2, 1, 1]
    assert not got[0]["feasible"] and got[0]["accuracy"] is None
    # the test numbers are reported as measured (the choice never looks at them)
    assert got[3]["payload_bits"] == 19.0 and got[3]["scale"] == 0.01
    # a tie on the training images: the cheaper point
    tie = [_point(0, 0.003, 12.0, 0.9, 0.5, 12.0), _point(1, 0.01, 10.0, 0.9, 0.4, 10.0)]
    assert eb_budgets(tie, [14.0])[0]["rate"] == 1


def test_points_without_calibration_accuracy_keep_the_most_bits():
    from commsldr.train.bottleneck import eb_budgets

    old = [_point(0, 0.003, 13.0, None, 0.86, 13.0), _point(1, 0.01, 10.0, None, 0.87, 10.0)]
    assert eb_budgets(old, [14.0])[0]["rate"] == 0
