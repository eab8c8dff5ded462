"""DuPHiL's alternation, checked at every optimizer step: the encoder step (encoder + side branch,
L_LDR) leaves the decoder's parameters bit-identical and the decoder step (CE) leaves the
encoder's and the side branch's parameters bit-identical.

(BatchNorm running statistics are buffers, not parameters: as in the authors' code, which keeps
the whole network in train mode for both steps, the encoder's BN statistics follow the batches
seen in the decoder step's forward pass.)
"""

from __future__ import annotations

import pytest
import torch
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

from commsldr.data import make_synthetic
from commsldr.train import TrainConfig, build_model, train_phase
from commsldr.train.loop import part_modules
from commsldr.train.recipes import duphil_phases


@pytest.fixture(scope="module")
def small_data():
    return make_synthetic(6, seed=3), make_synthetic(2, seed=4)  # 60 train images


def _snapshot(mods):
    return {part: [p.detach().clone() for p in mod.parameters()] for part, mod in mods.items()}


def _record_steps(model):
    """Hooks on every optimizer step: which parts it owns and which parts' parameters changed."""
    mods = part_modules(model)
    owner = {id(p): part for part, mod in mods.items() for p in mod.parameters()}
    log: list[tuple[frozenset[str], dict[str, bool]]] = []
    before: dict[str, list[torch.Tensor]] = {}

    def pre(opt, args, kwargs):
        before.clear()
        before.update(_snapshot(mods))

    def post(opt, args, kwargs):
        stepped = frozenset(owner[id(p)] for g in opt.param_groups for p in g["params"])
        after = _snapshot(mods)
        changed = {part: any(not torch.equal(a, b) for a, b in zip(before[part], after[part], strict=True))
                   for part in mods}
        log.append((stepped, changed))

    handles = [register_optimizer_step_pre_hook(pre), register_optimizer_step_post_hook(post)]
    return log, handles


@pytest.mark.parametrize("side_input", ["clean", "quantized"])
def test_alternating_duphil_steps_leave_the_other_side_bit_identical(small_data, tmp_path, side_input):
    train, _ = small_data
    cfg = TrainConfig.from_dict(dict(width=0.25, latent_dim=8, ldr_epochs=2, ldr_batch_size=20, ldr_lr=0.05,
                      augment=True, side_input=side_input, seed=1))
    (phase,) = duphil_phases(cfg, "ldr")
    model = build_model(cfg, num_classes=10)
    log, handles = _record_steps(model)
    try:
        train_phase(model, phase, train, None, tmp_path, progress=False)
    finally:
        for h in handles:
            h.remove()
    enc, dec = frozenset({"encoder", "side"}), frozenset({"decoder"})
    assert [s for s, _ in log] == [enc, dec] * (2 * 3)  # 2 epochs x 3 mini-batches, alternating
    for stepped, changed in log:
        if stepped == enc:
            assert not changed["decoder"]  # decoder parameters bit-identical
            assert changed["encoder"] and changed["side"]
        else:
            assert not changed["encoder"] and not changed["side"]  # encoder bit-identical
            assert changed["decoder"]


def test_phases_mode_freezes_the_other_part_for_a_whole_phase(small_data, tmp_path):
    train, _ = small_data
    cfg = TrainConfig.from_dict(dict(width=0.25, latent_dim=8, ldr_epochs=1, ldr_batch_size=30, ldr_lr=0.05,
                      duphil_mode="phases", seed=2))
    model = build_model(cfg, num_classes=10)
    mods = part_modules(model)
    for phase in duphil_phases(cfg, "ldr"):
        before = _snapshot(mods)
        train_phase(model, phase, train, None, tmp_path / phase.name, progress=False)
        after = _snapshot(mods)
        same = {p: all(torch.equal(a, b) for a, b in zip(before[p], after[p], strict=True)) for p in mods}
        if phase.name.endswith("encoder"):
            assert same["decoder"] and not same["encoder"] and not same["side"]
        else:
            assert same["encoder"] and same["side"] and not same["decoder"]
