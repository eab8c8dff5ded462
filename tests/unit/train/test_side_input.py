"""The side-branch input option: clean latent or the quantized latent (noise / straight-through)."""

from __future__ import annotations

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
    run_recipe,
    save_checkpoint,
    train_phase,
)
from commsldr.train.loop import side_latent


def _grouped(settings: dict) -> dict:
    """Flat phase settings with the optimiser and side-branch ones moved into their groups."""
    grouped = {k: v for k, v in settings.items() if k not in OptimSettings.flat_names().values()
               and k not in SideSettings.flat_names().values()}
    return {**grouped, "optim": OptimSettings.from_flat(settings),
            "side": SideSettings.from_flat(settings)}


@pytest.fixture(scope="module")
def small_data():
    return make_synthetic(6, seed=3), make_synthetic(2, seed=4)


def _model(seed: int = 0):
    return build_model(TrainConfig.from_dict(dict(width=0.25, latent_dim=8, seed=seed)), num_classes=10)


def _phase(**kw) -> Phase:
    steps = (Step(("encoder", "side"), "ldr", 0.05), Step(("decoder",), "ce", 0.05))
    base = dict(name="p", steps=steps, epochs=2, batch_size=20, augment=False, seed=7)
    base.update(kw)
    return Phase(**_grouped(base))


def _side_inputs(model):
    """Record every tensor the side branch receives."""
    seen: list[torch.Tensor] = []
    handle = model.side_branch.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach().clone()))
    return seen, handle


def test_side_latent_noise_bounds_seed_and_identity_gradient():
    y = torch.randn(400, 8, dtype=torch.float64).float().requires_grad_(True)
    phase = _phase(side_input="quantized", side_quantizer="noise", side_step=0.5, side_noise=1.0)
    out = side_latent(y, phase, torch.Generator().manual_seed(1))
    err = (out - y).detach()
    assert err.abs().max() <= 0.5 + 1e-6  # |noise| <= side_noise * side_step
    assert err.abs().max() > 0.49  # and reaches the edge (3200 draws)
    assert abs(float(err.mean())) < 0.02  # E u = 0; sd of the mean = 0.5/sqrt(3*3200) ≈ 0.005
    assert float(err.var()) == pytest.approx(0.25 / 3, rel=0.1)  # Var U(-a, a) = a²/3
    again = side_latent(y, phase, torch.Generator().manual_seed(1))
    assert torch.equal(out, again)  # one seed, one draw
    out.sum().backward()
    assert torch.equal(y.grad, torch.ones_like(y))  # additive noise: identity gradient


def test_side_latent_ste_rounds_forward_and_passes_gradient():
    y = torch.tensor([[0.1, 0.37, -0.8, 1.26]], requires_grad=True)
    phase = _phase(side_input="quantized", side_quantizer="ste", side_step=0.25)
    out = side_latent(y, phase)
    assert torch.equal(out.detach(), torch.tensor([[0.0, 0.25, -0.75, 1.25]]))
    (out * torch.arange(1.0, 5.0)).sum().backward()
    assert torch.equal(y.grad, torch.arange(1.0, 5.0).view(1, 4))  # straight through


def test_clean_is_the_identity_and_bad_values_are_named():
    y = torch.randn(3, 4)
    assert side_latent(y, _phase()) is y
    for key, value in [("side_input", "noisy"), ("side_quantizer", "round"), ("side_step", 0.0),
                       ("side_noise", -1.0)]:
        with pytest.raises(ValueError, match=key):
            _phase(**{key: value})
        with pytest.raises(ValueError, match=key):
            TrainConfig.from_dict({key: value})


def test_training_feeds_the_side_branch_the_quantized_latent(small_data, tmp_path):
    train, _ = small_data
    m = _model()
    seen, handle = _side_inputs(m)
    res = train_phase(m, _phase(side_input="quantized", side_quantizer="ste", side_step=0.25,
                                epochs=1), train, None, tmp_path / "ste", progress=False)
    handle.remove()
    assert seen and all(torch.equal(t, torch.round(t / 0.25) * 0.25) for t in seen)
    assert load_checkpoint(res.checkpoint_path)["phase"]["side_input"] == "quantized"

    clean, noisy = _model(), _model()
    seen_c, hc = _side_inputs(clean)
    train_phase(clean, _phase(epochs=1), train, None, tmp_path / "clean", progress=False)
    hc.remove()
    seen_n, hn = _side_inputs(noisy)
    train_phase(noisy, _phase(epochs=1, side_input="quantized"), train, None, tmp_path / "noise",
                progress=False)
    hn.remove()
    # same weights and batches up to the first side-branch call: inputs differ by the noise only
    diff = seen_n[0] - seen_c[0]
    assert 0 < float(diff.abs().max()) <= 1.0 + 1e-6
    assert not any(torch.equal(t, torch.round(t)) for t in seen_n)


def test_noise_mode_resumes_exactly(small_data, tmp_path):
    train, _ = small_data
    phase = _phase(side_input="quantized", epochs=3)
    ref = _model()
    train_phase(ref, phase, train, None, tmp_path / "ref", progress=False)

    class Stop(Exception):
        pass

    def stop(epoch, record):
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        train_phase(_model(), phase, train, None, tmp_path / "run", progress=False, on_epoch_end=stop)
    resumed = _model(seed=9)
    train_phase(resumed, phase, train, None, tmp_path / "run", resume=True, progress=False)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


_ADDED_CONFIG_KEYS = ("side_input", "side_quantizer", "side_step", "side_noise", "screen_rule",
                      "screen_budgets", "screen_at_bits", "provenance")


def test_checkpoints_from_before_the_option_still_resume(small_data, tmp_path):
    train, _ = small_data
    m = _model()
    extra = {"train_config": TrainConfig().to_dict()}
    train_phase(m, _phase(epochs=1), train, None, tmp_path, progress=False, extra_state=extra)
    ck = load_checkpoint(tmp_path / "last.pt")
    for key in ("side_input", "side_quantizer", "side_step", "side_noise"):
        del ck["phase"][key]  # as written before the option existed
    for key in _ADDED_CONFIG_KEYS:
        del ck["train_config"][key]
    state = {k: v for k, v in ck.items() if k not in ("format", "config", "model_state", "model_id")}
    save_checkpoint(tmp_path / "last.pt", m, **state)
    res = train_phase(_model(seed=3), _phase(epochs=1), train, None, tmp_path, resume=True,
                      progress=False, extra_state=extra)
    assert len(res.history) == 1
    # a real change of the side-branch input is still refused, through the phase record
    with pytest.raises(CheckpointError, match="side_input"):
        train_phase(_model(seed=3), _phase(epochs=1, side_input="quantized"), train, None,
                    tmp_path, resume=True, progress=False, extra_state=extra)


def test_recipe_records_the_side_input_in_every_checkpoint(tmp_path):
    cfg = dict(dataset="synthetic", num_per_class=10, test_num_per_class=5, width=0.25,
               latent_dim=8, batch_size=50, epochs=1, ldr_epochs=1, augment=False,
               progress=False, side_input="quantized", side_quantizer="ste", out=str(tmp_path))
    res = run_recipe("duphil", cfg)
    final = load_checkpoint(res.checkpoint_path)
    assert final["train_config"]["side_input"] == "quantized"
    assert final["train_config"]["side_quantizer"] == "ste"
    duphil = load_checkpoint(tmp_path / "duphil" / "last.pt")
    assert duphil["phase"]["side_input"] == "quantized"
    assert duphil["train_config"]["side_input"] == "quantized"
    # the CE-T phase never uses the side branch: its phase record keeps the defaults
    assert load_checkpoint(tmp_path / "ce-t" / "last.pt")["phase"]["side_input"] == "clean"
