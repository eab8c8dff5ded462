"""JPEG / WebP through Pillow: what the sensor sends decodes to exactly Pillow's pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from commsldr.schemes.codec import _pack, codec_roundtrip, decode_image, encode_image


def _images(n: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(rng.integers(-8, 9, size=(n, 3, 32, 32)), axis=3)
    return np.clip(128 + smooth, 0, 255).astype(np.uint8)


def _pillow_decode(image: np.ndarray, fmt: str, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image.transpose(1, 2, 0)).save(buf, fmt, quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")).transpose(2, 0, 1)


@pytest.mark.parametrize("codec,fmt", [("jpeg", "JPEG"), ("webp", "WEBP")])
@pytest.mark.parametrize("quality", [1, 5, 30, 75, 100])
def test_minimal_stream_decodes_to_pillows_own_pixels(codec, fmt, quality):
    for img in _images():
        payload = encode_image(img, codec, quality)
        full = encode_image(img, codec, quality, headers="full")
        assert len(payload) < len(full)
        np.testing.assert_array_equal(decode_image(payload, codec, quality),
                                      _pillow_decode(img, fmt, quality))
        np.testing.assert_array_equal(decode_image(full, codec, quality, headers="full"),
                                      _pillow_decode(img, fmt, quality))


def test_jpeg_minimal_stream_drops_exactly_the_rebuildable_parts():
    img = _images(1)[0]
    full = encode_image(img, "jpeg", 50, headers="full")
    body = encode_image(img, "jpeg", 50)
    # what is left starts with the frame header (SOF0) and carries no tables or JFIF segment
    assert body[:2] == b"\xff\xc0"
    assert b"\xff\xdb" not in body[:body.index(b"\xff\xda")]  # no DQT before the scan
    assert b"\xff\xc4" not in body[:body.index(b"\xff\xda")]  # no DHT before the scan
    # the scan (SOS header + entropy-coded data) is the one of the file Pillow writes
    assert full[full.index(b"\xff\xda"):] == body[body.index(b"\xff\xda"):] + b"\xff\xd9"


def test_webp_minimal_stream_is_the_vp8_chunk():
    img = _images(1)[0]
    full = encode_image(img, "webp", 50, headers="full")
    body = encode_image(img, "webp", 50)
    assert full[20:20 + len(body)] == body and len(full) - len(body) in (20, 21)


def test_roundtrip_sizes_and_pack_layout():
    imgs = _images(3)
    import torch

    dec, sizes = codec_roundtrip(torch.from_numpy(imgs), "jpeg", np.array([10, 50, 90]))
    assert dec.dtype == torch.uint8 and dec.shape == imgs.shape
    assert [len(encode_image(imgs[i], "jpeg", q)) for i, q in enumerate([10, 50, 90])] == \
        sizes.tolist()
    a, b, c = b"abc", b"de", b"f"
    assert _pack([a]) == a
    assert _pack([a, b, c]) == b"\x00\x03abc\x00\x02def"


@pytest.mark.parametrize("bad", [0, 101, 2.5, True])
def test_bad_quality_names_the_parameter(bad):
    with pytest.raises(ValueError, match="quality"):
        encode_image(_images(1)[0], "jpeg", bad)


def test_unknown_codec_and_headers():
    with pytest.raises(ValueError, match="codec"):
        encode_image(_images(1)[0], "png", 50)
    with pytest.raises(ValueError, match="headers"):
        encode_image(_images(1)[0], "jpeg", 50, headers="some")
