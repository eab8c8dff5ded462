"""Backbones, the registry and the split autoencoder (shapes, truncation, config round-trip)."""

import io
import json

import pytest
import torch

from commsldr.models import (
    CifarResNet,
    SplitAutoencoder,
    SplitOutput,
    create_model,
    list_models,
)
from commsldr.models.airnet import AirNet

BACKBONES = [n for n in list_models() if n != "split_autoencoder"]


def test_registry_lists_the_documented_models():
    assert {"resnet8", "resnet20", "resnet18", "resnet34", "split_autoencoder"} <= set(list_models())
    with pytest.raises(ValueError, match="registered models"):
        create_model("vgg11")


@pytest.mark.parametrize("name", BACKBONES)
def test_every_backbone_classifies_and_splits(name):
    torch.manual_seed(0)
    small = name in ("resnet18", "resnet34")
    kw = {"width": 0.25} if small else {}
    net = create_model(name, num_classes=7, **kw)
    assert isinstance(net, (CifarResNet, AirNet))
    x = torch.randn(2, 3, 32, 32)
    assert net(x).shape == (2, 7)
    m = create_model("split_autoencoder", backbone=name, latent_dim=12, num_classes=7,
                     side_dim=5, **kw)
    out = m(x)
    assert isinstance(out, SplitOutput)
    assert out.y.shape == (2, 12) and out.logits.shape == (2, 7) and out.z.shape == (2, 5)
    assert out.y.dtype == out.logits.dtype == out.z.dtype == torch.float32
    torch.testing.assert_close(out.z.norm(dim=1), torch.ones(2))
    assert m(x, with_side=False).z is None
    # truncation keeps exactly the first k latent units (their weights bit for bit; outputs up
    # to GEMM rounding), and the decoder sees them as the original decoder would see y with the
    # dropped entries set to zero
    m.eval()
    t = m.truncate(5)
    full_w, cut_w = m.encoder.bottleneck[-1].weight, t.encoder.bottleneck[-1].weight
    assert torch.equal(cut_w, full_w[:5])
    assert torch.equal(t.encoder.bottleneck[-1].bias, m.encoder.bottleneck[-1].bias[:5])
    up_w = m.decoder.upsample[0].weight  # ConvT [d_y, C, k, k] or, split after the last stage, Linear [C, d_y]
    assert torch.equal(t.decoder.upsample[0].weight, up_w[:, :5] if up_w.dim() == 2 else up_w[:5])
    y = m.encode(x)
    torch.testing.assert_close(t.encode(x), y[:, :5], atol=1e-6, rtol=1e-5)
    padded = torch.cat([y[:, :5], torch.zeros(2, 7)], dim=1)
    torch.testing.assert_close(t.decode(y[:, :5]), m.decode(padded), atol=1e-5, rtol=1e-5)
    assert t.side(y[:, :5]).shape == (2, 5)


def test_resnet18_and_34_have_the_standard_sizes():
    n18 = sum(p.numel() for p in create_model("resnet18").parameters())
    n34 = sum(p.numel() for p in create_model("resnet34").parameters())
    # CIFAR ResNet-18: 11.17 M parameters; ResNet-34: 21.28 M (10 classes)
    assert abs(n18 - 11_173_962) < 1000 and abs(n34 - 21_282_122) < 1000
    stem = create_model("resnet18").stem[0]
    assert stem.kernel_size == (3, 3) and stem.stride == (1, 1)


def test_submodules_partition_parameters():
    m = SplitAutoencoder("resnet8", 16, 10)
    ids = [{id(p) for p in sub.parameters()} for sub in (m.encoder, m.decoder, m.side_branch)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert set().union(*ids) == {id(p) for p in m.parameters()}
    assert m.config["split_stage"] == 2 and m.latent_dim == 16 and m.num_classes == 10


def _roundtrip(model):
    cfg = json.loads(json.dumps(model.config))
    buf = io.BytesIO()
    torch.save({"config": cfg, "state": model.state_dict()}, buf)
    buf.seek(0)
    blob = torch.load(buf, weights_only=True)
    new = SplitAutoencoder.from_config(blob["config"])
    new.load_state_dict(blob["state"])
    return new


def test_config_roundtrip_and_truncated_config():
    torch.manual_seed(1)
    m = SplitAutoencoder("resnet8", 16, 10, width=0.5, bottleneck_hidden=64, split_stage=1)
    m.train()
    x = torch.randn(8, 3, 32, 32)
    m(x)  # move BN statistics away from their initial values
    m.eval()
    new = _roundtrip(m).eval()
    ref, got = m(x), new(x)
    assert all(torch.equal(a, b) for a, b in zip(ref, got, strict=True))
    t = m.truncate(6)
    assert t.config["latent_dim"] == 6 and t.config["truncated_from"] == 16
    assert t.truncate(3).config["truncated_from"] == 16
    t2 = _roundtrip(t).eval()
    torch.testing.assert_close(t2.encode(x), m.encode(x)[:, :6], atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown SplitAutoencoder config keys"):
        SplitAutoencoder.from_config({**m.config, "depth": 3})


def test_truncated_model_is_independent_and_trainable():
    torch.manual_seed(2)
    m = SplitAutoencoder("resnet8", 8, 10, width=0.5, bottleneck_hidden=32)
    for p in m.encoder.parameters():
        p.requires_grad_(False)
    t = m.truncate(4)
    assert not any(p.requires_grad for p in t.encoder.parameters())
    assert all(p.requires_grad for p in t.decoder.parameters())
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    opt = torch.optim.SGD([p for p in t.parameters() if p.requires_grad], lr=0.1)
    x, y = torch.randn(6, 3, 32, 32), torch.randint(0, 10, (6,))
    loss = torch.nn.functional.cross_entropy(t(x).logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert float((t.decoder.classifier.weight - m.decoder.classifier.weight).detach().abs().max()) > 0
    assert all(torch.equal(p, before[n]) for n, p in m.named_parameters())


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="latent_dim"):
        SplitAutoencoder("resnet8", 0, 10)
    with pytest.raises(ValueError, match="split_stage"):
        SplitAutoencoder("resnet8", 8, 10, split_stage=3)
    with pytest.raises(ValueError, match="unknown backbone"):
        SplitAutoencoder("resnet9", 8, 10)
    m = SplitAutoencoder("resnet8", 8, 10, width=0.5)
    with pytest.raises(ValueError, match="k must be"):
        m.truncate(9)
    with pytest.raises(ValueError, match="y must have shape"):
        m.decode(torch.zeros(2, 7))
