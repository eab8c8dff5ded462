"""The coding path on a trained SplitAutoencoder (the suite's ``tiny_trained`` fixture)."""

import shutil

import numpy as np
import torch

from commsldr.coding import (
    attach_latent_stats,
    compute_latent_stats,
    decode_packet,
    encode_dataset,
    encode_images,
    load_latent_stats,
    make_source_coder,
    rate_accuracy_curve,
)


def test_trained_latents_to_bytes_and_back(tiny_trained, tmp_path):
    model = tiny_trained.model
    stats = compute_latent_stats(model, tiny_trained.train)
    assert stats.dim == model.latent_dim and stats.num_samples == len(tiny_trained.train.labels)
    # stored with the model, loadable with weights_only=True
    ckpt = tmp_path / "model.pt"
    shutil.copy(tiny_trained.checkpoint_path, ckpt)
    attach_latent_stats(ckpt, stats)
    back = load_latent_stats(ckpt)
    assert torch.equal(back.mean, stats.mean) and torch.equal(back.entropy_bits, stats.entropy_bits)

    y = encode_dataset(model, tiny_trained.test)
    mid = "0a1b2c3d4e5f6071"
    coder = make_source_coder(stats, 0.5, scale_index=0)
    pkt = encode_images(y, coder, model_id=mid, scale_index=0, crc_bits=32)
    # one packet for the whole test set: a receiver configured for that many images
    rx = decode_packet(pkt, coder, model_id=mid, crc_bits=32, max_images=len(y),
                       max_symbols=y.numel())
    assert torch.equal(rx.symbols, coder.quantizer.quantize(y))  # bytes and back, exactly
    with torch.no_grad():
        pred_rx = model.decode(rx.latents).argmax(1)
        pred_direct = model.decode(coder.quantizer.dequantize(coder.quantizer.quantize(y))).argmax(1)
    assert torch.equal(pred_rx, pred_direct)


def test_rate_accuracy_on_trained_model(tiny_trained):
    model = tiny_trained.model
    stats = compute_latent_stats(model, tiny_trained.train)
    scales = [0.02, 0.1, 1.0, 10.0]
    res = rate_accuracy_curve(model, stats, tiny_trained.test, scales, progress=False)
    assert abs(res.unquantized_accuracy - tiny_trained.test_acc) < 1e-9
    # the finest grid point classifies like the float latents (within 2 % of the test images)
    assert abs(res.rows[-1]["accuracy"] - res.unquantized_accuracy) <= 0.02
    # the paper's claims under the default (precision) reading: a smaller s gives fewer bits
    for m in ("paper_entropy_bits", "exact_entropy_bits", "payload_bits"):
        assert np.all(np.diff(res.column(m)) > 0)
    # ... and under the literal step-size reading the opposite
    res_step = rate_accuracy_curve(model, stats, tiny_trained.test, [0.01, 0.1, 1.0],
                                   rule="step", progress=False)
    assert np.all(np.diff(res_step.column("payload_bits")) < 0)
