"""Packet format: round trips, exact sizes, golden CRCs, one specific error per defect."""

import numpy as np
import pytest
import torch

from commsldr.coding import (
    CRCError,
    MalformedPacketError,
    PacketError,
    PacketHeader,
    PayloadError,
    build_packet,
    compute_crc,
    decode_packet,
    encode_images,
    header_bytes,
    make_source_coder,
    packet_bits,
    packet_model_id,
    parse_packet,
)
from commsldr.coding.packets import _varint

MID = "0123abcd99887766"


def _sealed(body: bytes, crc_bits: int = 16) -> bytes:
    return body + compute_crc(body, crc_bits).to_bytes(crc_bits // 8, "big")


def test_crc_golden_check_values():
    # the catalogue "check" values over b"123456789" (Greg Cook's CRC catalogue)
    assert compute_crc(b"123456789", 8) == 0xF4  # CRC-8/SMBUS, poly 0x07
    assert compute_crc(b"123456789", 16) == 0x29B1  # CRC-16/IBM-3740
    assert compute_crc(b"123456789", 32) == 0xCBF43926  # CRC-32/ISO-HDLC
    with pytest.raises(ValueError, match="crc_bits"):
        compute_crc(b"", 24)


@pytest.mark.parametrize("crc_bits", [8, 16, 32])
@pytest.mark.parametrize("plen", [0, 1, 127, 128, 300, 16384])
def test_build_parse_roundtrip_and_exact_size(crc_bits, plen):
    rng = np.random.default_rng(plen)
    payload = bytes(rng.integers(0, 256, size=plen).tolist())
    hdr = PacketHeader(packet_model_id(MID), k=200, scale_index=7, num_images=3)
    pkt = build_packet(hdr, payload, crc_bits)
    assert parse_packet(pkt, crc_bits) == (hdr, payload)
    assert 8 * len(pkt) == int(packet_bits(8 * plen, k=200, scale_index=7, num_images=3,
                                           crc_bits=crc_bits))
    assert pkt[0] == 0x10 | ({8: 0, 16: 1, 32: 2}[crc_bits] << 2)


def test_header_layout_and_minimum_size():
    hdr = PacketHeader(0xDEADBEEF, k=5, scale_index=0, num_images=1)
    assert header_bytes(hdr, 3, 16) == bytes([0x14, 0xDE, 0xAD, 0xBE, 0xEF, 5, 0, 1, 3])
    assert packet_bits(np.array([0, 8, 1016, 1024]), k=5, scale_index=0).tolist() == [
        88, 96, 1104, 1120]
    assert _varint(2**32 - 1) == b"\xff\xff\xff\xff\x0f" and _varint(128) == b"\x80\x01"
    assert packet_model_id(MID) == 0x0123ABCD and packet_model_id(5) == 5
    with pytest.raises(ValueError, match="model_id"):
        packet_model_id("xyz")
    with pytest.raises(ValueError, match=r"PacketHeader.k"):
        PacketHeader(1, -1, 0, 1)


@pytest.mark.parametrize(
    "body,crc_bits,match",
    [
        (bytes([0x24, 0, 0, 0, 1, 5, 0, 1, 0]), 16, "version"),
        (bytes([0x15, 0, 0, 0, 1, 5, 0, 1, 0]), 16, "reserved"),
        (bytes([0x10, 0, 0, 0, 1, 5, 0, 1, 0]), 16, "CRC code 0"),
        (bytes([0x14, 0, 0, 0, 1, 0x85, 0x00, 0, 1, 0]), 16, "'k' is not minimally"),
        (bytes([0x14, 0, 0, 0, 1, 5, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), 16,
         "longer than 5 bytes"),
        (bytes([0x14, 0, 0, 0, 1, 5, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), 16, "exceeds 2\\^32"),
        (bytes([0x14, 0, 0, 0, 1, 5, 0, 1, 4, 9, 9]), 16, "does not match"),
        (bytes([0x14, 0, 0, 0, 1, 5, 0, 1, 1, 9, 9]), 16, "does not match"),
        (bytes([0x14, 0, 0, 0, 1, 5, 0, 1, 0x80, 0x80]), 16, "runs past"),
    ],
)
def test_malformed_headers_with_valid_crc(body, crc_bits, match):
    with pytest.raises(MalformedPacketError, match=match):
        parse_packet(_sealed(body, crc_bits), crc_bits)


def test_short_crc_and_limits():
    good = build_packet(PacketHeader(1, 5, 0, 2), b"\x07", 16)
    with pytest.raises(MalformedPacketError, match="shorter than the minimum"):
        parse_packet(good[:10], 16)
    bad = bytearray(good)
    bad[-1] ^= 1
    with pytest.raises(CRCError):
        parse_packet(bytes(bad), 16)
    with pytest.raises(MalformedPacketError, match="max_images"):
        parse_packet(good, 16, max_images=1)
    assert issubclass(CRCError, PacketError) and issubclass(PayloadError, MalformedPacketError)


@pytest.mark.parametrize("crc_bits", [8, 16, 32])
def test_encode_images_decode_packet(crc_bits, gaussian_stats, gaussian_latents):
    y = gaussian_latents[1][:7]
    coders = {(24, s): make_source_coder(gaussian_stats, sc) for s, sc in enumerate([0.5, 2.0])}
    pkt = encode_images(y, coders[(24, 1)], model_id=MID, scale_index=1, crc_bits=crc_bits)
    rx = decode_packet(pkt, coders, model_id=MID, crc_bits=crc_bits)
    q = coders[(24, 1)].quantizer.quantize(y)
    assert rx.header == PacketHeader(packet_model_id(MID), 24, 1, 7)
    assert torch.equal(rx.symbols, q)
    assert torch.equal(rx.latents, coders[(24, 1)].quantizer.dequantize(q))
    # sizes add up: header + CRC + payload, all counted
    payload = coders[(24, 1)].encode(y)
    assert len(pkt) * 8 == int(packet_bits(8 * len(payload), k=24, scale_index=1, num_images=7,
                                           crc_bits=crc_bits))
    with pytest.raises(MalformedPacketError, match="model_id"):
        decode_packet(pkt, coders, model_id="ffffffff00000000", crc_bits=crc_bits)
    with pytest.raises(MalformedPacketError, match=r"no coder for \(k, scale_index\) = \(24, 1\)"):
        decode_packet(pkt, {(24, 0): coders[(24, 0)]}, model_id=MID, crc_bits=crc_bits)
    other = make_source_coder(gaussian_stats, 1.0, k=10, scale_index=1)
    with pytest.raises(MalformedPacketError, match="k=24"):
        decode_packet(pkt, other, model_id=MID, crc_bits=crc_bits)
    # a receiver configured for another CRC width checks the wrong trailing bytes
    with pytest.raises(PacketError):
        decode_packet(pkt, coders, model_id=MID, crc_bits={8: 16, 16: 32, 32: 8}[crc_bits])


@pytest.mark.parametrize("crc_bits", [8, 16, 32])
def test_single_coder_rejects_another_scale_index(crc_bits, gaussian_stats, gaussian_latents):
    """A packet sent at scale index 1 never reaches the quantizer of scale index 0: a receiver
    holding only that coder raises CoderMismatchError (a MalformedPacketError), whether the coder
    knows its index or the caller says it; with the right index the packet decodes exactly."""
    from commsldr.coding import CoderMismatchError

    y = gaussian_latents[1][:5]
    sent = make_source_coder(gaussian_stats, 2.0, scale_index=1)
    pkt = encode_images(y, sent, model_id=MID, scale_index=1, crc_bits=crc_bits)
    wrong = make_source_coder(gaussian_stats, 0.5, scale_index=0)
    for kwargs, coder in (({}, wrong),
                          ({"scale_index": 0}, make_source_coder(gaussian_stats, 0.5))):
        with pytest.raises(CoderMismatchError, match="scale_index=1") as err:
            decode_packet(pkt, coder, model_id=MID, crc_bits=crc_bits, **kwargs)
        assert (err.value.field, err.value.packet_value, err.value.coder_value) == ("scale_index", 1, 0)
        assert isinstance(err.value, MalformedPacketError)
    # the coder of the packet's own index decodes it exactly (index from the coder or the call)
    rx = decode_packet(pkt, sent, model_id=MID, crc_bits=crc_bits)
    assert torch.equal(rx.symbols, sent.quantizer.quantize(y))
    rx = decode_packet(pkt, make_source_coder(gaussian_stats, 2.0), model_id=MID,
                       crc_bits=crc_bits, scale_index=1)
    assert torch.equal(rx.latents, sent.quantizer.dequantize(sent.quantizer.quantize(y)))
    # k is checked with the same error type
    with pytest.raises(CoderMismatchError, match="k=24") as err:
        decode_packet(pkt, make_source_coder(gaussian_stats, 2.0, k=10, scale_index=1),
                      model_id=MID, crc_bits=crc_bits)
    assert err.value.field == "k"


def test_scale_index_must_be_known_and_consistent(gaussian_stats, gaussian_latents):
    y = gaussian_latents[1][:2]
    coder = make_source_coder(gaussian_stats, 1.0, scale_index=2)
    pkt = encode_images(y, coder, model_id=MID, scale_index=2)
    with pytest.raises(ValueError, match="scale_index: a single coder must know"):
        decode_packet(pkt, make_source_coder(gaussian_stats, 1.0), model_id=MID)
    with pytest.raises(ValueError, match="scale_index: 3 differs"):
        decode_packet(pkt, coder, model_id=MID, scale_index=3)
    with pytest.raises(ValueError, match="scale_index: only used with a single coder"):
        decode_packet(pkt, {(24, 2): coder}, model_id=MID, scale_index=2)
    with pytest.raises(ValueError, match=r"coders: the coder under key \(24, 2\)"):
        decode_packet(pkt, {(24, 2): make_source_coder(gaussian_stats, 1.0, scale_index=0)},
                      model_id=MID)
    with pytest.raises(ValueError, match="scale_index: 1 differs"):
        encode_images(y, coder, model_id=MID, scale_index=1)
    with pytest.raises(ValueError, match="scale_index must be None or an int"):
        make_source_coder(gaussian_stats, 1.0, scale_index=-1)
