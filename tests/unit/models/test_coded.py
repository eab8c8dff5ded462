"""CodedModel: compress -> decompress is the model's own decoder on the dequantized latents."""

from __future__ import annotations

import math

import pytest
import torch

import commsldr.train as train
from commsldr.coding import PacketError, compute_latent_stats, make_source_coder
from commsldr.models import CodedModel, SplitAutoencoder, model_id, predict_from_latent

SCALES = (0.5, 2.0)


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = SplitAutoencoder("resnet8", latent_dim=8, num_classes=10, width=0.25).eval()
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (12, 3, 32, 32), dtype=torch.uint8, generator=g)
    stats = compute_latent_stats(model, images)
    coders = {(8, j): make_source_coder(stats, s, scale_index=j) for j, s in enumerate(SCALES)}
    return model, images, coders


@pytest.mark.parametrize("scale_index", range(len(SCALES)))
@pytest.mark.parametrize("m", [1, 5, None])
def test_decompress_of_compress_is_the_decoder_on_dequantized_latents(setup, scale_index, m):
    model, images, coders = setup
    coded = CodedModel(model, coders)
    packets = coded.compress(images, scale_index=scale_index, images_per_packet=m)
    assert len(packets) == (1 if m is None else math.ceil(len(images) / m))
    logits = coded.decompress(packets)
    y_hat = coders[(8, scale_index)].reconstruct(coded.encode(images))
    with torch.no_grad():
        expected = model.decode(y_hat)
    assert logits.shape == (len(images), 10)
    torch.testing.assert_close(logits, expected, rtol=0, atol=0)
    assert torch.equal(logits.argmax(1), predict_from_latent(model, y_hat))


def test_a_packet_of_another_model_or_a_flipped_bit_is_rejected(setup):
    model, images, coders = setup
    coded = CodedModel(model, coders)
    packet = coded.compress(images[:3], scale_index=0)[0]
    other = SplitAutoencoder("resnet8", latent_dim=8, num_classes=10, width=0.25).eval()
    assert model_id(other) != coded.model_id
    with pytest.raises(PacketError):
        CodedModel(other, coders).decompress([packet])
    for i in range(len(packet)):
        bad = bytearray(packet)
        bad[i] ^= 0x10
        with pytest.raises(PacketError):
            coded.decompress([bytes(bad)])


def test_a_single_coder_and_the_old_names(setup):
    model, images, coders = setup
    single = CodedModel(model, coders[(8, 1)])
    assert sorted(single.coders) == [(8, 1)]
    with pytest.raises(KeyError, match="scale_index 0"):
        single.compress(images, scale_index=0)
    with pytest.raises(ValueError, match="scale_index"):
        CodedModel(model, make_source_coder(compute_latent_stats(model, images), 1.0))
    with pytest.raises(ValueError, match="k=8"):
        CodedModel(model, {(4, 0): coders[(8, 0)]})
    assert train.model_id is model_id and train.predict_from_latent is predict_from_latent
