"""The vectorised CRC-8/16 tables are bit-exact with the ``crc`` package (the reference)."""

from __future__ import annotations

import crc
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commsldr.coding.crc import CHUNK_BYTES, CRC8_CCITT, CRC16_IBM_3740, TableCRC
from commsldr.coding.packets import compute_crc

_REF = {
    8: crc.Calculator(crc.Crc8.CCITT, optimized=True),
    16: crc.Calculator(crc.Crc16.IBM_3740, optimized=True),
}
_OURS = {8: CRC8_CCITT, 16: CRC16_IBM_3740}


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=0, max_size=3 * CHUNK_BYTES + 3), width=st.sampled_from([8, 16]))
def test_bit_exact_with_crc_package(data: bytes, width: int) -> None:
    assert _OURS[width](data) == _REF[width].checksum(data)
    assert compute_crc(data, width) == _REF[width].checksum(data)


@pytest.mark.parametrize("width", [8, 16])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 1500, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1,
                               2 * CHUNK_BYTES + 1, 65536])
def test_chunk_boundaries(width: int, n: int) -> None:
    rng = np.random.default_rng(n + width)
    data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    assert _OURS[width](data) == _REF[width].checksum(data)


def test_check_values() -> None:
    # the catalogue's check values over b"123456789" (Williams' parameter model)
    assert CRC8_CCITT(b"123456789") == 0xF4
    assert CRC16_IBM_3740(b"123456789") == 0x29B1


def test_residue_after_appending_crc_is_zero() -> None:
    # no final XOR: a message followed by its CRC has CRC 0
    for width, f in _OURS.items():
        msg = bytes(range(200))
        tail = f(msg).to_bytes(width // 8, "big")
        assert f(msg + tail) == 0


def test_bad_width() -> None:
    with pytest.raises(ValueError, match="width"):
        TableCRC(32, 0x04C11DB7, 0xFFFFFFFF)
