"""``decode(verify=True)`` re-encodes the decoded codes directly; it must accept exactly the
payloads that equal ``encode`` of the decoded symbols (the definition of canonical)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsldr.coding import LatentCodec, PayloadError


def _small_codec(kind: str, k: int, rng: np.random.Generator) -> LatentCodec:
    """Small alphabets so that random payloads often decode escapes (and, categorical, codes
    between an entry's range and the shared escape column)."""
    mean = rng.normal(0, 2, size=k)
    std = rng.uniform(0.05, 1.5, size=k)
    if kind == "gaussian":
        return LatentCodec.gaussian(mean, std)
    train = np.round(rng.normal(mean, std, size=(30, k))).astype(np.int32)
    return LatentCodec.fit_categorical(train, alpha=0.05)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["gaussian", "categorical"]), k=st.integers(1, 6),
       m=st.integers(1, 4), payload=st.binary(min_size=0, max_size=24),
       seed=st.integers(0, 2**32 - 1))
def test_verify_accepts_exactly_the_canonical_payloads(kind, k, m, payload, seed):
    codec = _small_codec(kind, k, np.random.default_rng(seed))
    payload = payload.rstrip(b"\x00")
    try:
        loose = codec.decode(payload, m).numpy()
    except PayloadError:  # invalid for the range decoder or the payload bound: both paths agree
        with pytest.raises(PayloadError):
            codec.decode(payload, m, verify=True)
        return
    canonical = codec.encode(loose) == payload
    if canonical:
        np.testing.assert_array_equal(codec.decode(payload, m, verify=True).numpy(), loose)
    else:
        with pytest.raises(PayloadError, match="canonical"):
            codec.decode(payload, m, verify=True)


def _crafted(codec: LatentCodec, codes: list[int], halves: list[int]) -> bytes:
    """The message of one image's model ``codes`` (one per entry) and escape ``halves``."""
    return codec._encode_codes(np.asarray(codes, np.int32).reshape(codec.k, 1),
                               np.asarray(halves, np.int32))


def test_escaped_value_inside_the_window_is_not_canonical():
    codec = LatentCodec.gaussian(np.zeros(1), np.ones(1))  # window [-9, 9], escape code 10
    payload = _crafted(codec, [codec.escape], [0, 3])  # value 3 sent as an escape
    assert codec.decode(payload, 1).tolist() == [[3]]
    with pytest.raises(PayloadError, match="canonical"):
        codec.decode(payload, 1, verify=True)
    # the same value outside the window is the canonical escape
    payload = _crafted(codec, [codec.escape], [0, 300])
    assert codec.decode(payload, 1, verify=True).tolist() == [[300]]


def test_categorical_code_beyond_the_entry_range_is_not_canonical():
    train = np.array([[0, 0], [1, 5], [2, 2]], dtype=np.int32)  # sizes 3 and 6, escape code 6
    codec = LatentCodec.fit_categorical(train)
    assert codec.size.tolist() == [3, 6] and codec.escape == 6
    payload = _crafted(codec, [4, 1], [])  # entry 0 has no code 4: its symbol 4 is an escape
    assert codec.decode(payload, 1).tolist() == [[4, 1]]
    with pytest.raises(PayloadError, match="canonical"):
        codec.decode(payload, 1, verify=True)
    assert codec.decode(_crafted(codec, [2, 5], []), 1, verify=True).tolist() == [[2, 5]]


def test_symbol_beyond_int32_is_not_canonical():
    codec = LatentCodec.gaussian(np.full(1, 2.0**31 - 2), np.ones(1))  # centre 2^31 - 2
    payload = _crafted(codec, [4], [])  # centre + 4 leaves int32
    with pytest.raises(PayloadError, match="canonical"):
        codec.decode(payload, 1, verify=True)
    assert codec.decode(_crafted(codec, [1], []), 1, verify=True).tolist() == [[2**31 - 1]]
