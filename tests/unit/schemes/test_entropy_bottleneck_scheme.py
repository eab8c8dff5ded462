"""The ``entropy-bottleneck`` scheme: a normal digital table (one point per rate), real packets
that decode to what the server classified, and parameter validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.coding.packets import PacketHeader, build_packet, packet_model_id, parse_packet
from commsldr.schemes import create_scheme
from commsldr.schemes.base import SchemeContext
from commsldr.train import load_model, run_recipe
from commsldr.train.bottleneck import eb_latents, load_entropy_bottleneck
from tests.conftest import TINY_CONFIG


@pytest.fixture(scope="module")
def eb_checkpoint(tmp_path_factory, tiny_trained):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("eb")
    res = run_recipe("entropy-bottleneck", dict(
        TINY_CONFIG, out=str(out), from_checkpoint=str(tiny_trained.checkpoint_path),
        finetune_epochs=1, finetune_lr=0.01, eb_lambdas=[0.003, 0.05, 0.5], progress=False))
    return res.checkpoint_path


def test_table_has_one_point_per_rate_and_real_packets(eb_checkpoint, tiny_trained, tmp_path):
    scheme = create_scheme("entropy-bottleneck", model=str(eb_checkpoint))
    ctx = SchemeContext(data=lambda: (tiny_trained.train, tiny_trained.test),
                        model=lambda: tiny_trained.model, cache_dir=tmp_path, crc_bits=16,
                        images_per_packet=(1, 4), seed=0, log=lambda *_: None)
    prod = scheme.prepare(ctx)
    table = prod.table
    eb, net = load_entropy_bottleneck(eb_checkpoint), load_model(eb_checkpoint)
    assert [(p.k, p.scale_index, p.scale) for p in table.points] == [
        (16, 0, 0.003), (16, 1, 0.05), (16, 2, 0.5)]
    assert prod.sensor_macs.shape == (3,) and (prod.sensor_macs == prod.sensor_macs[0]).all()
    lat = eb_latents(net, tiny_trained.test)
    labels = tiny_trained.test.labels.numpy()
    for r in range(3):
        coder = eb.source_coder(r)
        np.testing.assert_array_equal(table.bits[r], np.maximum(coder.image_bits(lat), 1))
        q = coder.symbols(lat)
        pred = net.decode(coder.latents(q)).argmax(1).numpy()
        np.testing.assert_array_equal(table.correct[r], pred == labels)
    # a stored packet size is the size of the real packet of its images
    g = table.packet_groups[4][0]
    payload = eb.source_coder(1).codec.encode(eb.source_coder(1).symbols(lat[g]))
    packet = build_packet(PacketHeader(packet_model_id(table.meta["model_id"]), 16, 1, 4),
                          payload, 16)
    assert table.packet_bits[4][1, 0] == 8 * len(packet)
    header, body = parse_packet(packet, 16)
    assert header.scale_index == 1
    back = eb.source_coder(1).codec.decode(body, 4, verify=True)
    assert torch.equal(back, eb.source_coder(1).symbols(lat[g]))


def test_bad_parameters_name_the_key():
    with pytest.raises(ValueError, match="rates"):
        create_scheme("entropy-bottleneck", model="x.pt", rates=[0, 0])
    with pytest.raises(ValueError, match="rates"):
        create_scheme("entropy-bottleneck", model="x.pt", rates=[-1])
    with pytest.raises(ValueError, match="model"):
        create_scheme("entropy-bottleneck", model="")
