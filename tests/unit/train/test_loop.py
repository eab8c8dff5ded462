"""The training loop: exact resume, freezing / parameter groups, metrics and checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from commsldr.data import make_synthetic
from commsldr.train import (
    CheckpointError,
    OptimSettings,
    Phase,
    SideSettings,
    Step,
    TrainConfig,
    build_model,
    load_checkpoint,
    train_phase,
)


def _grouped(settings: dict) -> dict:
    """Flat phase settings with the optimiser and side-branch ones moved into their groups."""
    grouped = {k: v for k, v in settings.items() if k not in OptimSettings.flat_names().values()
               and k not in SideSettings.flat_names().values()}
    return {**grouped, "optim": OptimSettings.from_flat(settings),
            "side": SideSettings.from_flat(settings)}


class Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def small_data():
    return make_synthetic(6, seed=3), make_synthetic(2, seed=4)  # 60 train, 20 test images


def _model(seed: int = 0):
    return build_model(TrainConfig.from_dict(dict(width=0.25, latent_dim=8, seed=seed)), num_classes=10)


def _phase(**kw) -> Phase:
    # DuPHiL-style alternation with the SSL loss: exercises both optimizers, both schedulers,
    # the data-order generator, the augmentation generator and make_views.
    steps = (Step(("encoder", "side"), "ldr-ssl", 0.05), Step(("decoder",), "ce", 0.05, weight=2.0))
    base = dict(name="p", steps=steps, epochs=3, batch_size=16, schedule="multistep",
                milestones=(0.5,), augment=True, ssl_views=2, seed=7)
    base.update(kw)
    return Phase(**_grouped(base))


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


FAST_OPTIONS = dict(lookahead=True, schedule="triangle", nesterov=True, label_smoothing=0.2,
                    bias_lr_scale=4.0, augment="light")


@pytest.mark.parametrize("options", [{}, FAST_OPTIONS], ids=["default", "fast-recipe-options"])
def test_resume_after_interruption_reproduces_weights_exactly(small_data, tmp_path, options):
    train, test = small_data
    phase = _phase(**options)

    ref = _model()
    ref_result = train_phase(ref, phase, train, test, tmp_path / "ref", progress=False)

    def stop_after_two(epoch, record):
        if epoch == 2:
            raise Interrupted

    interrupted = _model()
    with pytest.raises(Interrupted):
        train_phase(interrupted, phase, train, test, tmp_path / "run", progress=False,
                    on_epoch_end=stop_after_two)
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 2

    resumed = _model(seed=123)  # different init: everything must come from the checkpoint
    res = train_phase(resumed, phase, train, test, tmp_path / "run", resume=True, progress=False)

    a, b = ref.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    strip = [{k: v for k, v in r.items() if k != "time_s"} for r in res.history]
    strip_ref = [{k: v for k, v in r.items() if k != "time_s"} for r in ref_result.history]
    assert strip == strip_ref
    # the optimizer state matches as well
    ck_a = load_checkpoint(tmp_path / "ref" / "last.pt")
    ck_b = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ck_a["model_id"] == ck_b["model_id"]
    assert (ck_b["lookahead"] is not None) == bool(options.get("lookahead"))
    mom_a = ck_a["optimizers"][0]["state"][0]["momentum_buffer"]
    assert torch.equal(mom_a, ck_b["optimizers"][0]["state"][0]["momentum_buffer"])


def test_resume_without_the_rng_state_would_differ(small_data, tmp_path):
    """Guard that the exact-resume test can fail: a fresh 3rd epoch from the same weights but with
    re-seeded generators gives different weights."""
    train, test = small_data
    ref = _model()
    train_phase(ref, _phase(), train, test, tmp_path / "ref", progress=False)
    two = _model()
    train_phase(two, _phase(epochs=2), train, test, tmp_path / "two", progress=False)
    ck = load_checkpoint(tmp_path / "two" / "last.pt")
    other = _model()
    other.load_state_dict(ck["model_state"])
    train_phase(other, _phase(epochs=1), train, test, tmp_path / "one", progress=False)
    assert not all(torch.equal(v, other.state_dict()[k]) for k, v in ref.state_dict().items())


def test_resume_rejects_a_different_phase(small_data, tmp_path):
    train, test = small_data
    train_phase(_model(), _phase(epochs=1), train, test, tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="different phase"):
        train_phase(_model(), _phase(epochs=1, batch_size=8), train, test, tmp_path,
                    resume=True, progress=False)


def test_completed_phase_is_not_retrained_on_resume(small_data, tmp_path):
    train, test = small_data
    m = _model()
    train_phase(m, _phase(epochs=1), train, test, tmp_path, progress=False)
    again = _model(seed=5)
    res = train_phase(again, _phase(epochs=1), train, test, tmp_path, resume=True, progress=False)
    assert len(res.history) == 1
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in m.state_dict().items())


def _changed(before, after, prefix):
    keys = [k for k in before if k.startswith(prefix)]
    assert keys
    return {k for k in keys if not torch.equal(before[k], after[k])}


def test_decoder_phase_freezes_encoder_weights_and_batchnorm(small_data, tmp_path):
    train, _ = small_data
    m = _model()
    before = _state(m)
    phase = _phase(name="dec", steps=(Step(("decoder",), "ce", 0.1),), epochs=1)
    train_phase(m, phase, train, None, tmp_path, progress=False)
    after = m.state_dict()
    assert _changed(before, after, "encoder.") == set()  # incl. BN running stats
    assert _changed(before, after, "side_branch.") == set()
    assert _changed(before, after, "decoder.")
    assert all(p.requires_grad for p in m.parameters())  # unfrozen afterwards


def test_ldr_phase_leaves_decoder_untouched_and_ce_leaves_side_branch(small_data, tmp_path):
    train, _ = small_data
    m = _model()
    before = _state(m)
    enc = _phase(name="enc", steps=(Step(("encoder", "side"), "ldr", 0.1),), epochs=1)
    train_phase(m, enc, train, None, tmp_path / "a", progress=False)
    after = _state(m)
    assert _changed(before, after, "decoder.") == set()
    assert _changed(before, after, "encoder.") and _changed(before, after, "side_branch.")
    ce = _phase(name="ce", steps=(Step(("encoder", "decoder"), "ce", 0.1),), epochs=1)
    train_phase(m, ce, train, None, tmp_path / "b", progress=False)
    assert _changed(after, m.state_dict(), "side_branch.") == set()  # CE-T: side detached


def test_ldr_step_reduces_the_ldr_loss(small_data, tmp_path):
    train, _ = small_data
    m = _model()
    phase = _phase(name="ldr", steps=(Step(("encoder", "side"), "ldr", 0.05),), epochs=4,
                   batch_size=60, augment=False, schedule="constant")
    res = train_phase(m, phase, train, None, tmp_path, progress=False)
    losses = [r["loss_ldr"] for r in res.history]
    assert losses[-1] < losses[0] - 0.1, losses
    assert all(r["rate"] > r["class_rate"] for r in res.history[1:])


def test_metrics_log_and_checkpoint_contents(small_data, tmp_path):
    train, test = small_data
    res = train_phase(_model(), _phase(epochs=2), train, test, tmp_path, progress=False,
                      extra_state={"train_config": {"note": "x"}})
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    for key in ("loss_ldr-ssl", "loss_ce", "rate", "class_rate", "train_acc", "test_acc",
                "time_s", "lr_ce"):
        assert key in lines[-1], key
    assert lines[0]["lr_ce"] == pytest.approx(0.05) and lines[1]["lr_ce"] == pytest.approx(0.005)
    ck = load_checkpoint(res.checkpoint_path)
    assert ck["complete"] and ck["epoch"] == 2 and ck["train_config"] == {"note": "x"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_adam_cosine_and_bad_phase_definitions(small_data, tmp_path):
    train, _ = small_data
    res = train_phase(_model(), _phase(optimizer="adam", schedule="cosine", epochs=2), train,
                      None, tmp_path, progress=False)
    assert res.history[1]["lr_ce"] == pytest.approx(0.05 * 0.5)  # cos(π/2) halfway
    with pytest.raises(ValueError, match="two steps"):
        Phase("x", (Step(("encoder",), "ce", 0.1), Step(("encoder", "side"), "ldr", 0.1)), 1, 8)
    with pytest.raises(ValueError, match="side branch"):
        Step(("side",), "ce", 0.1)
    with pytest.raises(ValueError, match="loss"):
        Step(("encoder",), "mse", 0.1)


def test_amp_bfloat16_on_cpu_keeps_ldr_terms_finite(small_data, tmp_path):
    train, test = small_data
    res = train_phase(_model(), _phase(epochs=1, amp=True), train, test, tmp_path, progress=False)
    rec = res.history[0]
    for key in ("loss_ldr-ssl", "loss_ce", "rate", "class_rate"):
        assert rec[key] == rec[key] and abs(rec[key]) < 1e6, key  # finite, not NaN
