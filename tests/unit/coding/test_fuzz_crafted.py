"""Crafted CRC-valid packets: the receiver's configuration, not the sender, bounds decoder work.

A corrupted packet almost never passes the CRC (test_fuzz.py); an adversary, or a sender with
another configuration, simply computes a valid one. Here every packet has a correct CRC and the
checks behind it must hold: image counts above the receiver's ``max_images`` or above what the
payload length can hold are refused before any entropy decoding, unknown operating points are
refused, and everything else decodes to exactly ``[m, k]`` or raises a ``PacketError``.
The time per packet is measured by ``benchmarks/adversarial_packets.py`` (no timed tests).
"""

import numpy as np
import pytest
import torch

from commsldr.coding import (
    MAX_IMAGES_PER_PACKET,
    MAX_SYMBOLS_PER_PACKET,
    CoderMismatchError,
    LatentCodec,
    MalformedPacketError,
    PacketError,
    PacketHeader,
    PayloadError,
    build_packet,
    decode_packet,
    encode_images,
    make_source_coder,
    packet_model_id,
)

MID = "c0ffee0000000000"


@pytest.fixture(scope="module")
def receiver(gaussian_stats, gaussian_latents):
    """A multi-scale receiver: gaussian coders at scales 0.5, 1, 2 and a categorical one."""
    train, _ = gaussian_latents
    coders = {(24, i): make_source_coder(gaussian_stats, s, scale_index=i)
              for i, s in enumerate((0.5, 1.0, 2.0))}
    coders[(24, 3)] = make_source_coder(gaussian_stats, 3.0, codec="categorical",
                                        train_latents=train, scale_index=3)
    return coders


def _packet(k: int, scale_index: int, m: int, payload: bytes, crc_bits: int = 16) -> bytes:
    return build_packet(PacketHeader(packet_model_id(MID), k, scale_index, m), payload, crc_bits)


def test_default_bounds():
    assert MAX_IMAGES_PER_PACKET == 256 and MAX_SYMBOLS_PER_PACKET == 256 * 64


def test_empty_payload_claiming_65536_images_is_refused_by_the_receiver_bound(receiver):
    pkt = _packet(24, 1, 65536, b"")
    assert len(pkt) <= 14  # the size of the packet in issue 13 (13-20 s, 1.8 GB before)
    with pytest.raises(MalformedPacketError, match="exceeds max_images 256"):
        decode_packet(pkt, receiver, model_id=MID)
    with pytest.raises(MalformedPacketError, match="exceeds max_images 4"):
        decode_packet(_packet(24, 1, 5, b"\x01"), receiver, model_id=MID, max_images=4)


@pytest.mark.parametrize("si", [0, 1, 2, 3])
def test_empty_payload_within_max_images_is_refused_by_the_payload_bound(receiver, si):
    codec = receiver[(24, si)].codec
    cap = codec.max_images(0)
    assert cap is not None and cap < MAX_IMAGES_PER_PACKET
    with pytest.raises(PayloadError, match="cannot hold"):
        decode_packet(_packet(24, si, cap + 1, b""), receiver, model_id=MID)
    with pytest.raises(PayloadError, match="cannot hold"):
        decode_packet(_packet(24, si, MAX_IMAGES_PER_PACKET, b"\x01" * 10), receiver,
                      model_id=MID)


def test_images_times_k_is_bounded_by_max_symbols(receiver):
    with pytest.raises(MalformedPacketError, match="exceeds max_symbols 100"):
        decode_packet(_packet(24, 0, 5, b"\x01" * 200), receiver, model_id=MID, max_symbols=100)
    # the default bound admits 256 images of 64 entries, not of 65
    big = {(65, 0): receiver[(24, 0)]}
    with pytest.raises(MalformedPacketError, match="max_symbols 16384"):
        decode_packet(_packet(65, 0, 256, b""), big, model_id=MID)


def test_zero_images_is_malformed(receiver):
    with pytest.raises(MalformedPacketError, match="at least one image"):
        decode_packet(_packet(24, 0, 0, b""), receiver, model_id=MID)


@pytest.mark.parametrize("k,si", [(24, 4), (24, 1000), (16, 0), (0, 0), (64, 0)])
def test_unknown_operating_point_of_a_multi_scale_receiver(receiver, k, si):
    with pytest.raises(MalformedPacketError, match="no coder"):
        decode_packet(_packet(k, si, 1, b"\x42"), receiver, model_id=MID)


def test_wrong_scale_index_against_a_single_coder(receiver):
    with pytest.raises(CoderMismatchError, match="scale_index=2"):
        decode_packet(_packet(24, 2, 1, b"\x42"), receiver[(24, 0)], model_id=MID)


def test_wrong_model_id_is_refused(receiver):
    with pytest.raises(MalformedPacketError, match="model_id"):
        decode_packet(_packet(24, 0, 1, b"\x42"), receiver, model_id="0123456700000000")


def test_random_crc_valid_packets_decode_exactly_or_raise_packet_error(receiver):
    """4,000 crafted packets: random operating point (known or not), image count and payload of
    up to 1,400 bytes, every CRC correct. Outcome: ``[m, k]`` latents or a PacketError."""
    rng = np.random.default_rng(13)
    keys = list(receiver) + [(24, 9), (8, 0)]
    seen = {"decoded": 0, "count_refused": 0, "other_refused": 0}
    for trial in range(4000):
        k, si = keys[rng.integers(len(keys))]
        m = int(rng.choice([1, 2, 3, 8, 64, 255, 256, 257, 2**16, 2**32 - 1]))
        n = int(rng.choice([0, 1, 2, 5, 17, 100, 400, 1400]))
        payload = bytes(rng.integers(0, 256, size=n).tolist())
        if trial % 3 == 0:
            payload = payload.rstrip(b"\x00")
        crc = int(rng.choice([8, 16, 32]))
        try:
            out = decode_packet(_packet(k, si, m, payload, crc), receiver, model_id=MID,
                                crc_bits=crc)
        except PacketError as err:
            key = "count_refused" if any(w in str(err) for w in (
                "cannot hold", "max_images", "max_symbols")) else "other_refused"
            seen[key] += 1
            continue
        assert out.latents.shape == (m, k) and torch.isfinite(out.latents).all()
        seen["decoded"] += 1
    assert seen["count_refused"] > 1000 and seen["other_refused"] > 500, seen


@pytest.mark.parametrize("kind", ["gaussian", "categorical", "categorical-relu"])
def test_the_payload_bound_never_refuses_an_honest_packet(kind):
    """The cheapest honest messages (every symbol the most probable one, m up to 256, models
    from nearly deterministic to wide) always fit the bound ``m <= max_images(len(payload))``."""
    rng = np.random.default_rng(7)
    for trial in range(30):
        k = int(rng.integers(1, 40))
        if kind == "gaussian":
            std = 10 ** rng.uniform(-2.5, 1.5, size=k)
            codec = LatentCodec.gaussian(rng.normal(0, 3, size=k), std)
            mode = np.round(codec.mean).astype(np.int64)
        elif kind == "categorical-relu":  # the mode is each entry's lowest value (code 0)
            sym = np.maximum(0, np.round(rng.normal(0, 10 ** rng.uniform(-1, 1),
                                                    size=(int(rng.integers(1, 200)), k))))
            codec = LatentCodec.fit_categorical(sym, alpha=float(10 ** rng.uniform(-3, 0)))
            mode = codec.lo + np.argmax(codec.table[:, :-1], axis=1)
        else:
            sym = rng.integers(-3, 4, size=(int(rng.integers(1, 200)), k))
            sym[:, : k // 2] = 0  # some near-deterministic entries
            codec = LatentCodec.fit_categorical(sym, alpha=float(10 ** rng.uniform(-3, 0)))
            mode = codec.lo + np.argmax(codec.table[:, :-1], axis=1)
        for m in (1, 2, 7, 64, 256):
            q = np.tile(mode, (m, 1)).astype(np.int32)
            payload = codec.encode(q)
            cap = codec.max_images(len(payload))
            assert cap is None or m <= cap, (trial, m, len(payload), codec.min_image_bits())
            np.testing.assert_array_equal(codec.decode(payload, m, verify=True).numpy(), q)
        y = codec.encode(np.tile(mode, (3, 1)).astype(np.int32))
        assert 8 * len(y) + 64 >= 3 * codec.min_image_bits()


def test_honest_packets_still_decode(receiver, gaussian_latents):
    _, test = gaussian_latents
    for (k, si), coder in receiver.items():
        for m in (1, 5, 32):
            pkt = encode_images(test[:m], coder, model_id=MID, scale_index=si)
            out = decode_packet(pkt, receiver, model_id=MID)
            assert out.latents.shape == (m, k)
