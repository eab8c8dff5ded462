"""The fast ``airnet`` backbone: whitening stem, split autoencoder on it, truncation, recipe."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from commsldr.data import LightAugment
from commsldr.models import SplitAutoencoder, create_model
from commsldr.models.airnet import AirNet, BiasBatchNorm, WhiteningStem
from commsldr.train.config import fast_config
from commsldr.train.loop import Phase, Step, _param_groups, _triangle, part_modules
from commsldr.train.settings import OptimSettings


def test_whitening_stem_whitens_patches():
    """After init_from_data the stem's linear part maps 2x2 patches to unit covariance."""
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(3, 3, generator=g)
    x = torch.einsum("ij,bjhw->bihw", mix, torch.randn(400, 3, 8, 8, generator=g))
    x = x + 0.5 * torch.roll(x, 1, dims=3)  # correlated neighbours
    stem = WhiteningStem(eps=0.0)
    stem.init_from_data(x)
    out = F.conv2d(x.double(), stem.weight.double())  # [N, 24, 7, 7], no bias / GELU
    half = out[:, :12].permute(0, 2, 3, 1).reshape(-1, 12)
    cov = half.T @ half / len(half)
    assert torch.allclose(cov, torch.eye(12, dtype=torch.float64), atol=1e-6)
    assert torch.equal(stem.weight[12:], -stem.weight[:12])
    assert "weight" in dict(stem.named_buffers()) and "weight" not in dict(stem.named_parameters())


def test_bias_batchnorm_has_no_scale_and_normalises():
    bn = BiasBatchNorm(4)
    assert [n for n, _ in bn.named_parameters()] == ["bias"]
    x = torch.randn(8, 4, 5, 5) * 3 + 2
    y = bn(x)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5)
    assert torch.allclose(y.var(dim=(0, 2, 3), unbiased=False), torch.ones(4), atol=1e-4)
    bn.eval()
    assert torch.isfinite(bn(x)).all()


@pytest.mark.parametrize("split_stage", [2, 3])
def test_split_airnet_shapes_and_exact_truncation(split_stage):
    torch.manual_seed(0)
    m = SplitAutoencoder("airnet", 16, 10, width=0.25, split_stage=split_stage)
    m.init_from_data(torch.randn(64, 3, 32, 32))
    x = torch.randn(5, 3, 32, 32)
    out = m(x)
    assert out.y.shape == (5, 16) and out.logits.shape == (5, 10) and out.z.shape == (5, 16)
    m.eval()
    t = m.truncate(6)
    y = m.encode(x)
    assert torch.allclose(t.encode(x), y[:, :6], atol=1e-5)
    padded = torch.cat([y[:, :6], torch.zeros(5, 10)], 1)
    assert torch.allclose(t.decode(y[:, :6]), m.decode(padded), atol=1e-5)
    rebuilt = SplitAutoencoder.from_config(m.config)
    rebuilt.load_state_dict(m.state_dict())  # the whitening filters travel in the state dict
    rebuilt.eval()
    assert torch.equal(rebuilt.encode(x), m.encode(x))


def test_airnet_default_split_puts_every_group_on_the_sensor():
    m = create_model("split_autoencoder", backbone="airnet", latent_dim=8, num_classes=10, width=0.25)
    assert m.config["split_stage"] == 3 and len(m.decoder.stages) == 0
    assert isinstance(AirNet(width=0.25)(torch.zeros(2, 3, 32, 32)), torch.Tensor)


def test_light_augment_translates_and_flips_exactly():
    img = torch.arange(2 * 3 * 6 * 6, dtype=torch.uint8).reshape(2, 3, 6, 6)
    g = torch.Generator().manual_seed(1)
    out = LightAugment(translate=1, normalize=False)(img, g)
    assert out.shape == (2, 3, 6, 6)
    # every output is a (possibly mirrored) 1-pixel shift of its reflect-padded input
    pad = F.pad(img.float() / 255, (1, 1, 1, 1), mode="reflect")
    for i in range(2):
        found = any(
            torch.equal(out[i], cand) or torch.equal(out[i], cand.flip(2))
            for dy in range(3) for dx in range(3)
            for cand in [pad[i, :, dy:dy + 6, dx:dx + 6]]
        )
        assert found
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(LightAugment()(img, g1), LightAugment()(img, g2))


def test_triangle_schedule_shape():
    total = 100
    vals = [_triangle(i, total, 0.23) for i in range(total + 1)]
    assert math.isclose(vals[0], 0.2) and math.isclose(vals[23], 1.0)
    assert math.isclose(vals[-1], 0.07)
    assert max(vals) == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(vals[:23], vals[1:24], strict=True))
    assert all(a >= b for a, b in zip(vals[23:-1], vals[24:], strict=True))


def test_bias_lr_groups_keep_decay_per_step():
    m = SplitAutoencoder("airnet", 8, 10, width=0.25)
    phase = Phase("p", (Step(("encoder", "decoder"), "ce", 0.5),), epochs=1, batch_size=4,
                  optim=OptimSettings(weight_decay=1e-3, bias_lr_scale=64.0))
    groups = _param_groups(phase, part_modules(m), ("encoder", "decoder"), 0.5)
    biases, rest = groups
    assert biases["lr"] == 32.0 and rest["lr"] == 0.5
    assert biases["lr"] * biases["weight_decay"] == pytest.approx(rest["lr"] * rest["weight_decay"])
    n_bias = sum(1 for part in (m.encoder, m.decoder) for mod in part.modules()
                 if isinstance(mod, torch.nn.modules.batchnorm._NormBase) and mod.bias is not None)
    assert len(biases["params"]) == n_bias
    total = sum(1 for _ in m.encoder.parameters()) + sum(1 for _ in m.decoder.parameters())
    assert len(biases["params"]) + len(rest["params"]) == total


def test_fast_preset_is_airbench_in_mean_loss_units():
    cfg = fast_config()
    assert cfg.model.backbone == "airnet" and cfg.data.augment == "light" and cfg.optim.schedule == "triangle"
    assert cfg.ce.lr == pytest.approx(11.5 / 7850 * 1024)
    assert cfg.ce.lr * cfg.optim.weight_decay == pytest.approx(0.0153 * 1024 / 7850)
