"""Sensor MACs against closed forms, and the scheme registry."""

from __future__ import annotations

import pytest
import torch

from commsldr.schemes import create_scheme, get_scheme_class, list_schemes
from commsldr.schemes.cost import CODEC_MACS_PER_PIXEL, codec_macs, count_macs


@pytest.mark.parametrize("n_in,n_out,batch", [(3, 5, 1), (64, 10, 4), (17, 33, 2)])
def test_linear_macs_are_in_times_out(n_in, n_out, batch):
    layer = torch.nn.Linear(n_in, n_out)
    assert count_macs(layer, torch.zeros(batch, n_in)) == n_in * n_out


@pytest.mark.parametrize("c_in,c_out,k,size", [(3, 8, 3, 16), (4, 4, 1, 8)])
def test_conv_macs_closed_form(c_in, c_out, k, size):
    conv = torch.nn.Conv2d(c_in, c_out, k, padding=k // 2)
    expected = c_in * c_out * k * k * size * size
    assert count_macs(conv, torch.zeros(2, c_in, size, size)) == expected


def test_elementwise_layers_cost_nothing():
    net = torch.nn.Sequential(torch.nn.BatchNorm1d(4).eval(), torch.nn.ReLU())
    assert count_macs(net, torch.zeros(3, 4)) == 0


def test_codec_estimates():
    assert codec_macs("jpeg", 32, 32) == 36.5 * 1024
    assert codec_macs("webp", 10, 20) == CODEC_MACS_PER_PIXEL["webp"] * 200
    with pytest.raises(ValueError, match="codec"):
        codec_macs("png", 8, 8)


def test_registry_lists_the_built_in_schemes():
    assert {"split-ae", "jpeg", "webp", "edge-label", "analog-jscc"} <= set(list_schemes())
    for name in list_schemes():
        cls = get_scheme_class(name)
        assert cls.name == name and cls.kind in ("digital", "analog")
        assert cls.__doc__


def test_unknown_scheme_and_bad_parameters_name_themselves():
    with pytest.raises(ValueError, match="valid: .*jpeg"):
        get_scheme_class("gif")
    with pytest.raises(ValueError, match="unknown parameter 'quality'"):
        create_scheme("jpeg", quality=3)
    with pytest.raises(ValueError, match="qualities"):
        create_scheme("webp", qualities=[10, 10])
    with pytest.raises(ValueError, match="classifier"):
        create_scheme("jpeg", classifier="big")
    with pytest.raises(ValueError, match="label_coding"):
        create_scheme("edge-label", label_coding="huffman")
    with pytest.raises(ValueError, match="train_snr_db"):
        create_scheme("analog-jscc", train_snr_db=[10.0, 0.0])
    with pytest.raises(ValueError, match="channel_uses"):
        create_scheme("analog-jscc", channel_uses=0)


def test_cli_lists_schemes(capsys):
    from commsldr.cli import main

    assert main(["list", "schemes"]) == 0
    out = capsys.readouterr().out.split()
    assert {"split-ae", "jpeg", "webp", "edge-label", "analog-jscc"} <= set(out)
