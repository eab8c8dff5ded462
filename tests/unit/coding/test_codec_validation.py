"""The codec and quantizer refuse non-integral or non-finite symbols and counts instead of
truncating them; the quantizer takes NumPy latents as tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from commsldr.coding.codec import LatentCodec
from commsldr.coding.quantize import Quantizer

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("symbols", [np.full((4, 1), NAN), np.array([[0.4], [1.6]]),
                                     np.array([[1.0], [INF]]), np.array([[1e30]])])
def test_fit_categorical_refuses_non_integral_symbols(symbols):
    with pytest.raises(ValueError, match="^symbols must be whole numbers"):
        LatentCodec.fit_categorical(symbols)


@pytest.mark.parametrize("symbols", [np.array([["a"]]), np.array([[True]])])
def test_fit_categorical_refuses_non_numeric_symbols(symbols):
    with pytest.raises(TypeError, match="^symbols must be integers"):
        LatentCodec.fit_categorical(symbols)


@pytest.mark.parametrize("kw, words", [({"alpha": NAN}, "alpha"), ({"alpha": INF}, "alpha"),
                                       ({"alpha": 0.0}, "alpha"),
                                       ({"max_alphabet": 2.5}, "max_alphabet"),
                                       ({"max_alphabet": 0}, "max_alphabet")])
def test_fit_categorical_refuses_bad_settings(kw, words):
    with pytest.raises(ValueError, match=f"^{words} must be"):
        LatentCodec.fit_categorical(np.array([[0], [1]]), **kw)


def test_integral_float_symbols_fit_the_same_codec():
    ints = np.array([[0, 3], [1, -2], [2, 3]])
    a = LatentCodec.fit_categorical(ints)
    b = LatentCodec.fit_categorical(ints.astype(np.float32))
    c = LatentCodec.fit_categorical(torch.as_tensor(ints, dtype=torch.float64))
    assert a.encode(ints) == b.encode(ints) == c.encode(ints)


@pytest.mark.parametrize("m", [1.5, NAN, INF, -1, "1", True])
def test_decode_refuses_a_non_integer_image_count(m):
    codec = LatentCodec.fit_categorical(np.array([[0], [1], [2]]))
    payload = codec.encode(np.array([[1], [2]]))
    with pytest.raises(ValueError, match="^num_images must be an integer >= 0"):
        codec.decode(payload, m)


def test_decode_takes_integral_counts():
    codec = LatentCodec.fit_categorical(np.array([[0], [1], [2]]))
    payload = codec.encode(np.array([[1], [2]]))
    for m in (2, 2.0, np.int64(2)):
        assert codec.decode(payload, m).tolist() == [[1], [2]]


def test_quantizer_takes_numpy_latents():
    qz = Quantizer(torch.tensor([0.5, 2.0]))
    y = np.array([[1.2, -3.1]], dtype=np.float32)
    assert torch.equal(qz.quantize(y), qz.quantize(torch.from_numpy(y)))
    assert torch.equal(qz.dequantize(np.array([[2, -2]])), qz.dequantize(torch.tensor([[2, -2]])))


@pytest.mark.parametrize("y, exc, words", [
    (np.array([[1.0]]), ValueError, r"^y must have shape \[B, 2\]"),
    (np.array([[1.0, NAN]]), ValueError, "^y contains NaN or inf"),
    ([["a", "b"]], TypeError, r"^y: expected latents \[B, 2\]"),
])
def test_quantizer_refuses_bad_latents(y, exc, words):
    with pytest.raises(exc, match=words):
        Quantizer(torch.tensor([0.5, 2.0])).quantize(y)
