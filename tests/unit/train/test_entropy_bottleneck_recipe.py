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


def test_budgets_pick_the_richest_rate_point_within_them_on_training_images():
    from commsldr.train.bottleneck import eb_budgets

    pts = [{"rate": 0, "lambda": 0.01, "calibration_bits": 30.0, "accuracy": 0.9,
            "payload_bits": 31.0, "payload_p50": 30.0, "payload_p95": 40.0, "payload_max": 50.0},
           {"rate": 1, "lambda": 0.1, "calibration_bits": 9.0, "accuracy": 0.8,
            "payload_bits": 8.5, "payload_p50": 8.0, "payload_p95": 16.0, "payload_max": 24.0}]
    got = eb_budgets(pts, [40.0, 8.0, 9.0, 20.0])
    assert [g["budget_bits"] for g in got] == [8.0, 9.0, 20.0, 40.0]
    assert [g["rate"] for g in got] == [None, 1, 1, 0]
    assert not got[0]["feasible"] and got[0]["accuracy"] is None
    # the test payload is reported as measured, even where it exceeds the budget
    assert got[3]["payload_bits"] == 31.0 and got[3]["scale"] == 0.01
