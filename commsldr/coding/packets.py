"""Packet framing: a small header, the entropy-coded payload, and a CRC.

Binary format (version 1; all multi-byte integers big-endian)::

    offset  size      field
    0       1         bits 7-4: format version (1); bits 3-2: CRC width code
                      (0: CRC-8, 1: CRC-16, 2: CRC-32); bits 1-0: reserved, must be 0
    1       4         model id (uint32; :func:`packet_model_id` of the checkpoint's id)
    5       1-5       k: number of latent entries (encoder variant), unsigned LEB128
    .       1-5       scale index, unsigned LEB128
    .       1-5       number of images m, unsigned LEB128
    .       1-5       payload length L in bytes, unsigned LEB128
    .       L         payload (:meth:`LatentCodec.encode` of the ``[m, k]`` symbols)
    .       c/8       CRC over every preceding byte

LEB128 fields (7 bits per byte, least-significant group first, high bit = "more follows") must
be minimal and ``< 2^32``. The smallest header is 9 bytes; with CRC-16 a one-image packet costs
88 bits on top of its payload, and every rate this library reports includes these bits.

CRCs: CRC-8 with polynomial 0x07 (``crc.Crc8.CCITT``), CRC-16/IBM-3740
(polynomial 0x1021, init 0xFFFF, the 16-bit CRC of 3GPP TS 38.212, ``crc.Crc16.IBM_3740``),
CRC-8 table-driven in vectorised NumPy and CRC-16 by the standard library's compiled
``binascii.crc_hqx`` (:mod:`commsldr.coding.crc`, both bit-exact with the ``crc`` package), and
CRC-32 (IEEE 802.3, :func:`zlib.crc32`). A random corruption passes a ``c``-bit CRC with
probability ``~2^-c``; the payload's canonical-form check then rejects most of those too.

Receiving checks, in order: length >= minimum (else :class:`MalformedPacketError`), CRC
(:class:`CRCError`), then the header fields and that the packet length equals header + payload
+ CRC exactly (:class:`MalformedPacketError`), ``1 <= num_images <= max_images`` (the receiver's
bound, default :data:`MAX_IMAGES_PER_PACKET`), the model id, ``num_images * k <= max_symbols``
(default :data:`MAX_SYMBOLS_PER_PACKET`) and the operating point, then that the
payload length can hold ``num_images`` images (:meth:`LatentCodec.max_images`) and the payload
itself (:class:`PayloadError`). Decoder work is thus bounded by the packet's length and the
receiver's configuration, never by a count the sender claims.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .crc import CRC8_CCITT, crc16_ibm_3740
from .errors import CoderMismatchError, CRCError, MalformedPacketError

if TYPE_CHECKING:
    from .scheme import SourceCoder

__all__ = [
    "CRC_WIDTHS",
    "FORMAT_VERSION",
    "MAX_IMAGES_PER_PACKET",
    "MAX_SYMBOLS_PER_PACKET",
    "DecodedPacket",
    "PacketHeader",
    "build_packet",
    "compute_crc",
    "decode_packet",
    "encode_images",
    "header_bytes",
    "packet_bits",
    "packet_model_id",
    "parse_packet",
]

FORMAT_VERSION = 1
#: supported CRC widths in bits
CRC_WIDTHS = (8, 16, 32)
_CRC_CODE = {8: 0, 16: 1, 32: 2}
_UINT32 = 1 << 32
#: default receiver bound on the images one packet may claim (``max_images`` of the decoders)
MAX_IMAGES_PER_PACKET = 256
#: default receiver bound on the latent entries (images x k) one packet may claim
MAX_SYMBOLS_PER_PACKET = 1 << 14
_MIN_HEADER = 1 + 4 + 4
_CALC = {8: CRC8_CCITT, 16: crc16_ibm_3740}


def _check_crc_bits(crc_bits: int) -> int:
    if crc_bits not in _CRC_CODE:
        raise ValueError(f"crc_bits must be one of {CRC_WIDTHS}, got {crc_bits}")
    return crc_bits // 8


def compute_crc(data: bytes, crc_bits: int = 16) -> int:
    """The ``crc_bits``-bit CRC of ``data`` (see module docstring for the polynomials)."""
    _check_crc_bits(crc_bits)
    if crc_bits == 32:
        return zlib.crc32(data) & 0xFFFFFFFF
    return _CALC[crc_bits](data)


def packet_model_id(model_id: str | int) -> int:
    """32-bit model id for the header: the first 8 hex digits of a checkpoint's ``model_id``
    (or an ``int`` in ``[0, 2^32)``, returned unchanged)."""
    if isinstance(model_id, int):
        if not 0 <= model_id < _UINT32:
            raise ValueError(f"model_id must be in [0, 2^32), got {model_id}")
        return model_id
    try:
        return int(str(model_id)[:8], 16)
    except ValueError:
        raise ValueError(f"model_id must be a hex string, got {model_id!r}") from None


@dataclass(frozen=True)
class PacketHeader:
    """Header fields of a packet (the payload length is implied by the payload).

    Attributes:
        model_id: 32-bit id of the model (:func:`packet_model_id`).
        k: number of latent entries of the encoder variant.
        scale_index: index of the quantization scale in the deployed grid.
        num_images: number of images ``m`` in the payload.
    """

    model_id: int
    k: int
    scale_index: int
    num_images: int

    def __post_init__(self) -> None:
        for name in ("model_id", "k", "scale_index", "num_images"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or not 0 <= int(v) < _UINT32:
                raise ValueError(f"PacketHeader.{name} must be an int in [0, 2^32), got {v!r}")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(data: bytes, i: int, end: int, name: str) -> tuple[int, int]:
    value = shift = 0
    for j in range(5):
        if i + j >= end:
            raise MalformedPacketError(f"header field {name!r} runs past the end of the packet")
        b = data[i + j]
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if j and b == 0:
                raise MalformedPacketError(f"header field {name!r} is not minimally encoded")
            if value >= _UINT32:
                raise MalformedPacketError(f"header field {name!r} exceeds 2^32 - 1")
            return value, i + j + 1
    raise MalformedPacketError(f"header field {name!r} is longer than 5 bytes")


def header_bytes(header: PacketHeader, payload_length: int, crc_bits: int = 16) -> bytes:
    """The serialized header (everything before the payload)."""
    _check_crc_bits(crc_bits)
    if not 0 <= payload_length < _UINT32:
        raise ValueError(f"payload_length must be in [0, 2^32), got {payload_length}")
    first = (FORMAT_VERSION << 4) | (_CRC_CODE[crc_bits] << 2)
    return (bytes([first]) + int(header.model_id).to_bytes(4, "big") + _varint(int(header.k))
            + _varint(int(header.scale_index)) + _varint(int(header.num_images))
            + _varint(int(payload_length)))


def packet_bits(
    payload_bits: np.ndarray | int,
    *,
    k: int,
    scale_index: int,
    num_images: int = 1,
    crc_bits: int = 16,
) -> np.ndarray:
    """Total packet size in bits (header + payload + CRC) for payload sizes in bits.

    Args:
        payload_bits: ``int [...]`` payload sizes (multiples of 8, e.g.
            :meth:`LatentCodec.image_bits`).

    Returns:
        ``int64 [...]`` of the same shape.
    """
    nbytes = _check_crc_bits(crc_bits)
    p = np.asarray(payload_bits, dtype=np.int64)
    if np.any(p % 8) or np.any(p < 0):
        raise ValueError("payload_bits must be non-negative multiples of 8")
    fixed = len(header_bytes(PacketHeader(0, k, scale_index, num_images), 0, crc_bits)) - 1
    # LEB128 length of the payload length field: 1 byte below 128, 2 below 16384, ...
    plen = p // 8
    vlen = 1 + (plen >= 1 << 7) + (plen >= 1 << 14) + (plen >= 1 << 21) + (plen >= 1 << 28)
    return p + 8 * (fixed + vlen + nbytes)


def build_packet(header: PacketHeader, payload: bytes, crc_bits: int = 16) -> bytes:
    """``header || payload || CRC`` (see the module docstring for the layout)."""
    nbytes = _check_crc_bits(crc_bits)
    body = header_bytes(header, len(payload), crc_bits) + bytes(payload)
    return body + compute_crc(body, crc_bits).to_bytes(nbytes, "big")


def parse_packet(
    data: bytes, crc_bits: int = 16, *, max_images: int = MAX_IMAGES_PER_PACKET
) -> tuple[PacketHeader, bytes]:
    """Check and split a packet.

    Args:
        data: the received bytes.
        crc_bits: the CRC width the link uses (must match the packet's CRC code).
        max_images: largest acceptable number of images (the receiver's
            ``max_images_per_packet``; bounds decoder work). A packet must carry >= 1 image.

    Returns:
        ``(header, payload)``.

    Raises:
        CRCError: the CRC does not match.
        MalformedPacketError: too short, bad version/reserved bits/CRC code, bad field, or
            length mismatch.
    """
    nbytes = _check_crc_bits(crc_bits)
    data = bytes(data)
    if len(data) < _MIN_HEADER + nbytes:
        raise MalformedPacketError(f"packet of {len(data)} bytes is shorter than the minimum "
                                   f"{_MIN_HEADER + nbytes}")
    end = len(data) - nbytes
    if compute_crc(data[:end], crc_bits) != int.from_bytes(data[end:], "big"):
        raise CRCError(f"CRC-{crc_bits} mismatch")
    first = data[0]
    if first >> 4 != FORMAT_VERSION:
        raise MalformedPacketError(f"unsupported format version {first >> 4}")
    if first & 0x3:
        raise MalformedPacketError("reserved header bits are set")
    if (first >> 2) & 0x3 != _CRC_CODE[crc_bits]:
        raise MalformedPacketError(f"packet declares CRC code {(first >> 2) & 0x3}, the link "
                                   f"uses CRC-{crc_bits}")
    mid = int.from_bytes(data[1:5], "big")
    i = 5
    k, i = _read_varint(data, i, end, "k")
    scale_index, i = _read_varint(data, i, end, "scale_index")
    num_images, i = _read_varint(data, i, end, "num_images")
    length, i = _read_varint(data, i, end, "payload_length")
    if i + length != end:
        raise MalformedPacketError(f"payload_length {length} does not match the packet size "
                                   f"({end - i} payload bytes present)")
    if num_images > max_images:
        raise MalformedPacketError(f"num_images {num_images} exceeds max_images {max_images}")
    if num_images < 1:
        raise MalformedPacketError("num_images is 0 (a packet carries at least one image)")
    return PacketHeader(mid, k, scale_index, num_images), data[i:end]


def encode_images(
    y: torch.Tensor,
    coder: SourceCoder,
    *,
    model_id: str | int,
    scale_index: int,
    crc_bits: int = 16,
) -> bytes:
    """Latents ``y`` (``float [m, k]``) -> one packet: quantize, entropy-code, frame.

    Raises:
        ValueError: ``scale_index`` differs from the ``coder.scale_index`` it was built for.
    """
    if coder.scale_index is not None and int(coder.scale_index) != int(scale_index):
        raise ValueError(f"scale_index: {scale_index} differs from the coder's scale_index "
                         f"{coder.scale_index}")
    payload = coder.encode(y)
    header = PacketHeader(packet_model_id(model_id), coder.k, scale_index, int(y.shape[0]))
    return build_packet(header, payload, crc_bits)


@dataclass(frozen=True)
class DecodedPacket:
    """A received packet: its header, the symbols ``int32 [m, k]`` and the dequantized latents
    ``float32 [m, k]``."""

    header: PacketHeader
    symbols: torch.Tensor
    latents: torch.Tensor


def decode_packet(
    data: bytes,
    coders: Mapping[tuple[int, int], SourceCoder] | SourceCoder,
    *,
    model_id: str | int,
    crc_bits: int = 16,
    verify: bool = True,
    max_images: int = MAX_IMAGES_PER_PACKET,
    scale_index: int | None = None,
    max_symbols: int = MAX_SYMBOLS_PER_PACKET,
) -> DecodedPacket:
    """Packet bytes -> latents, or a :class:`PacketError` -- never a silently wrong latent.

    Args:
        data: received bytes.
        coders: the receiver's coders keyed by ``(k, scale_index)``, or a single coder. A single
            coder decodes only packets of its own operating point: the header's ``k`` must equal
            ``coder.k`` and its scale index must equal the coder's (``coder.scale_index``, or the
            ``scale_index`` argument), else :class:`~commsldr.coding.CoderMismatchError`.
        model_id: the receiver's model id; a packet for another model is rejected.
        crc_bits: the link's CRC width.
        verify: require the payload to be the canonical encoding of the decoded symbols.
        max_images: the receiver's ``max_images_per_packet``, a bound on ``num_images``; the
            coder's :meth:`~commsldr.coding.codec.LatentCodec.max_images` also bounds it by what
            the payload length can hold. Together they bound the decoder's work: any packet of
            <= 1,500 bytes decodes or is rejected in well under 10 ms (docs: Robustness).
        scale_index: with a single coder built without ``scale_index``: the scale index it
            decodes. Not used with a mapping (the key says it).
        max_symbols: the receiver's bound on ``num_images * k`` (entries to decode).

    Raises:
        PacketError: the bytes are not a valid packet for this receiver (a subclass says why).
        ValueError: a single coder whose scale index is unknown (neither ``coder.scale_index``
            nor ``scale_index`` given) or given twice with different values; ``scale_index``
            with a mapping; a mapping entry built for another scale index than its key.
    """
    if isinstance(coders, Mapping):
        if scale_index is not None:
            raise ValueError("scale_index: only used with a single coder (the mapping's keys "
                             "give each coder's scale index)")
        expected = None
    else:
        own = coders.scale_index
        if own is not None and scale_index is not None and int(own) != int(scale_index):
            raise ValueError(f"scale_index: {scale_index} differs from the coder's scale_index "
                             f"{own}")
        expected = own if scale_index is None else scale_index
        if expected is None:
            raise ValueError("scale_index: a single coder must know the scale index it decodes; "
                             "build it with make_source_coder(..., scale_index=i) or pass "
                             "decode_packet(..., scale_index=i)")
    header, payload = parse_packet(data, crc_bits, max_images=max_images)
    if header.model_id != packet_model_id(model_id):
        raise MalformedPacketError(f"packet model_id {header.model_id:#010x} is not this "
                                   f"receiver's {packet_model_id(model_id):#010x}")
    if header.num_images * header.k > max_symbols:
        raise MalformedPacketError(f"num_images * k = {header.num_images} * {header.k} exceeds "
                                   f"max_symbols {max_symbols}")
    if isinstance(coders, Mapping):
        coder = coders.get((header.k, header.scale_index))
        if coder is None:
            raise MalformedPacketError(f"no coder for (k, scale_index) = "
                                       f"({header.k}, {header.scale_index})")
        if coder.k != header.k or coder.scale_index not in (None, header.scale_index):
            raise ValueError(f"coders: the coder under key ({header.k}, {header.scale_index}) "
                             f"was built for (k, scale_index) = ({coder.k}, {coder.scale_index})")
    else:
        coder = coders
        if coder.k != header.k:
            raise CoderMismatchError("k", header.k, coder.k)
        if header.scale_index != int(expected):
            raise CoderMismatchError("scale_index", header.scale_index, int(expected))
    symbols = coder.codec.decode(payload, header.num_images, verify=verify)
    return DecodedPacket(header, symbols, coder.latents(symbols))
