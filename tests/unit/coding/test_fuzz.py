"""Fuzzing the receiver: >= 10^4 corrupted packets, none crashes or yields a wrong latent.

With CRC-32 every corruption must end in a :class:`PacketError` (a random corruption passes
CRC-32 with probability 2^-32, i.e. never in 10^4 seeded trials). With CRC-8 / CRC-16 a random
corruption passes the CRC with probability ~2^-c, which we check statistically; those are the
packets a real link would misdeliver, so the library reports them rather than hiding them.
"""

import math

import numpy as np
import pytest
import torch

from commsldr.coding import (
    PacketError,
    PacketHeader,
    build_packet,
    compute_crc,
    decode_packet,
    encode_images,
    make_source_coder,
    parse_packet,
)

MID = "5eed5eed00000000"


@pytest.fixture(scope="module")
def link(gaussian_stats, gaussian_latents):
    train, test = gaussian_latents
    coders = {
        (24, 0): make_source_coder(gaussian_stats, 1.0),
        (24, 1): make_source_coder(gaussian_stats, 3.0, codec="categorical", train_latents=train),
    }
    packets = []
    for i in range(12):
        idx = (24, i % 2)
        y = test[i * 3: i * 3 + 1 + i % 3]
        packets.append((encode_images(y, coders[idx], model_id=MID, scale_index=idx[1],
                                      crc_bits=32), idx, coders[idx].quantizer.quantize(y)))
    return coders, packets


def _mutate(pkt: bytes, kind: int, rng: np.random.Generator) -> bytes:
    b = bytearray(pkt)
    if kind == 0:  # 1..8 random bit flips
        for pos in rng.choice(8 * len(b), size=rng.integers(1, 9), replace=False):
            b[pos // 8] ^= 1 << (pos % 8)
    elif kind == 1:  # truncation
        b = b[: rng.integers(0, len(b))]
    elif kind == 2:  # extension
        b += bytes(rng.integers(0, 256, size=rng.integers(1, 17)).tolist())
    elif kind == 3:  # random packet of random length
        b = bytearray(rng.integers(0, 256, size=rng.integers(0, 64)).tolist())
    else:  # a burst of random bytes overwritten
        start = rng.integers(0, len(b))
        n = min(len(b) - start, int(rng.integers(1, 9)))
        b[start: start + n] = bytes(rng.integers(0, 256, size=n).tolist())
    return bytes(b)


def test_fuzz_crc32_never_accepts_a_wrong_latent(link):
    coders, packets = link
    rng = np.random.default_rng(2024)
    outcomes = {"rejected": 0, "identical": 0}
    for trial in range(12000):
        pkt, idx, q = packets[trial % len(packets)]
        bad = _mutate(pkt, trial % 5, rng)
        if bad == pkt:
            outcomes["identical"] += 1
            continue
        try:
            decode_packet(bad, coders, model_id=MID, crc_bits=32)
        except PacketError:
            outcomes["rejected"] += 1
            continue
        pytest.fail(f"corrupted packet accepted (trial {trial}, kind {trial % 5})")
    assert outcomes["rejected"] >= 10_000


def test_fuzz_valid_crc_garbage_never_crashes(link):
    """Random headers and payloads *with a correct CRC* exercise the parser and the entropy
    decoder: each is a PacketError or a canonical message (re-encodes to the same payload)."""
    coders, _ = link
    rng = np.random.default_rng(7)
    accepted = 0
    for trial in range(3000):
        if trial % 2:
            hdr = PacketHeader(0x5EED5EED, 24, int(rng.integers(0, 2)), int(rng.integers(0, 5)))
            payload = bytes(rng.integers(0, 256, size=rng.integers(0, 40)).tolist())
            pkt = build_packet(hdr, payload, 32)
        else:
            body = bytes(rng.integers(0, 256, size=rng.integers(5, 40)).tolist())
            body = bytes([0x18]) + body  # version 1, CRC-32 code, random fields
            pkt = body + compute_crc(body, 32).to_bytes(4, "big")
        try:
            rx = decode_packet(pkt, coders, model_id=MID, crc_bits=32)
        except PacketError:
            continue
        accepted += 1
        _, payload = parse_packet(pkt, 32)
        coder = coders[(rx.header.k, rx.header.scale_index)]
        assert coder.codec.encode(rx.symbols) == payload
    assert accepted > 0  # some garbage is a valid message: the CRC is what protects the link


@pytest.mark.parametrize("crc_bits", [8, 16])
def test_short_crc_false_accept_rate(crc_bits, gaussian_stats, gaussian_latents):
    coder = make_source_coder(gaussian_stats, 1.0, scale_index=0)
    y = gaussian_latents[1][:2]
    pkt = encode_images(y, coder, model_id=MID, scale_index=0, crc_bits=crc_bits)
    q = coder.quantizer.quantize(y)
    rng = np.random.default_rng(crc_bits)
    n = 20000
    # a random error pattern (each byte XORed with a uniform byte, not all zero)
    errors = rng.integers(0, 256, size=(n, len(pkt)), dtype=np.uint8)
    base = np.frombuffer(pkt, dtype=np.uint8)
    crc_pass = wrong_latent = 0
    for e in errors:
        if not e.any():
            continue
        bad = (base ^ e).tobytes()
        try:
            rx = decode_packet(bad, coder, model_id=MID, crc_bits=crc_bits)
        except PacketError as exc:
            crc_pass += type(exc).__name__ != "CRCError"
            continue
        crc_pass += 1
        wrong_latent += not torch.equal(rx.symbols, q) or rx.symbols.shape != q.shape
    p = 2.0**-crc_bits
    sd = math.sqrt(n * p * (1 - p))
    assert abs(crc_pass - n * p) < 5 * sd + 1
    # the header and payload checks after the CRC reject most of those
    assert wrong_latent <= crc_pass
