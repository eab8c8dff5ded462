"""LatentCodec: exact round trips (hypothesis), escapes, sizes, canonical payloads."""

import math

import constriction
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsldr.coding import LatentCodec, PayloadError, make_source_coder
from commsldr.coding import codec as codec_mod


def _codec(kind, k, rng):
    mean = rng.normal(0, 3, size=k)
    std = np.exp(rng.uniform(np.log(0.01), np.log(300), size=k))
    if kind == "gaussian":
        return LatentCodec.gaussian(mean, std), mean, std
    train = np.round(rng.normal(mean, std, size=(200, k))).astype(np.int32)
    return LatentCodec.fit_categorical(train), mean, std


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["gaussian", "categorical"]),
    k=st.integers(0, 20),
    m=st.integers(0, 9),
    extremes=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_roundtrip_exact(kind, k, m, extremes, seed):
    rng = np.random.default_rng(seed)
    codec, mean, std = _codec(kind, k, rng)
    q = np.round(rng.normal(mean, std, size=(m, k))).astype(np.int64)
    if m and k:  # out-of-model values take the escape path
        for _ in range(extremes):
            q[rng.integers(m), rng.integers(k)] = rng.choice([-(2**31), 2**31 - 1, 10**6, -77777])
    q = q.astype(np.int32)
    payload = codec.encode(q)
    assert not payload.endswith(b"\x00")
    out = codec.decode(payload, m, verify=True)
    assert out.dtype == torch.int32 and out.shape == (m, k)
    assert np.array_equal(out.numpy(), q)
    assert codec.bits(q) == 8 * len(payload)
    # torch input gives the same bytes
    assert codec.encode(torch.from_numpy(q)) == payload


def test_image_bits_are_single_messages_and_close_to_ideal():
    rng = np.random.default_rng(7)
    # spreads where no symbol is rarer than constriction's smallest probability (2^-24), so the
    # fixed-point model matches the float model closely
    mean, std = rng.normal(0, 3, size=32), rng.uniform(0.3, 50, size=32)
    codec = LatentCodec.gaussian(mean, std)
    q = np.round(rng.normal(mean, std, size=(300, 32))).astype(np.int32)
    per = codec.image_bits(q)
    assert per.dtype == np.int64
    assert all(per[i] == 8 * len(codec.encode(q[i: i + 1])) for i in range(0, 300, 37))
    ideal = codec.information_bits(q)
    over = per - ideal
    # trimmed seal: at most 1 bit of interval slack + byte rounding (< 8) above the ideal; a
    # point with k extra trailing zeros turns up with probability ~2^-k, so a few images code
    # below -log2 p
    assert over.max() < 9.0 and 1.0 < over.mean() < 4.0
    assert np.mean(over < -4) < 0.05
    # one message for all images: within 0.1 % of the ideal plus a few bits
    assert abs(codec.bits(q) - ideal.sum()) < 1e-3 * ideal.sum() + 16


@pytest.mark.parametrize("per_message", [1, 3, 8, 64])
def test_message_bits_share_each_message(per_message):
    """Each image's share is its message's bytes over its images: the shares of a message are
    equal, they add up to the message's bits, one image per message is image_bits, and the
    byte rounding spread over many images brings the mean down to the information."""
    rng = np.random.default_rng(3)
    mean, std = rng.normal(0, 1, size=6), rng.uniform(0.2, 1.5, size=6)
    codec = LatentCodec.gaussian(mean, std)
    q = np.round(rng.normal(mean, std, size=(101, 6))).astype(np.int32)
    share = codec.message_bits(q, per_message)
    assert share.dtype == np.float64 and share.shape == (101,)
    for i in range(0, 101, per_message):
        chunk = q[i: i + per_message]
        assert share[i: i + per_message] == pytest.approx(
            np.full(len(chunk), 8 * len(codec.encode(chunk)) / len(chunk)))
    if per_message == 1:
        assert np.array_equal(share, codec.image_bits(q))
    ideal = codec.information_bits(q).mean()
    # at most the range coder's final bits and the last byte of every message above the ideal
    assert share.mean() <= ideal + (2 + 8) * math.ceil(101 / per_message) / 101
    if per_message == 64:  # two messages: within half a bit of the information per image
        assert share.mean() < ideal + 0.5 < codec.image_bits(q).mean()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_message_bits_refuses_bad_counts(bad):
    codec = LatentCodec.gaussian(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="images_per_message"):
        codec.message_bits(np.zeros((4, 2), np.int32), bad)


def test_information_bits_match_gaussian_probabilities():
    from scipy.stats import norm

    codec = LatentCodec.gaussian(np.array([0.3]), np.array([2.0]))
    q = np.array([[0], [3], [-5]])
    r = codec.half_width
    z = norm.cdf(r + 1.5, 0.3, 2.0) - norm.cdf(-r - 0.5, 0.3, 2.0)
    p = norm.cdf(q[:, 0] + 0.5, 0.3, 2.0) - norm.cdf(q[:, 0] - 0.5, 0.3, 2.0)
    assert np.allclose(codec.information_bits(q), -np.log2(p / z))
    # escape: -log2 p(escape bin) + 32 raw bits
    esc = np.array([[10**7]])
    pe = (norm.sf(r + 0.5, 0.3, 2.0) - norm.sf(r + 1.5, 0.3, 2.0)) / z
    assert codec.information_bits(esc)[0] == pytest.approx(32 - np.log2(pe))


def test_categorical_smoothing_unseen_and_escape():
    train = np.array([[0, 5], [1, 5], [1, 5], [3, 5]])
    codec = LatentCodec.fit_categorical(train, alpha=0.5)
    # value 2 never seen (inside the range), 9 / -4 outside -> escape
    q = np.array([[2, 5], [9, 5], [-4, 6], [1, 5]], dtype=np.int32)
    assert np.array_equal(codec.decode(codec.encode(q), 4, verify=True).numpy(), q)
    bits = codec.information_bits(q[:1])
    # entry 0: counts 0.5 + [1, 2, 0, 1] + escape 0.5 = 6.5 total; value 2 has 0.5
    # entry 1: counts [4.5] + escape 0.5 = 5 total; value 5 has 4.5
    assert bits[0] == pytest.approx(-np.log2(0.5 / 6.5) - np.log2(4.5 / 5.0))
    with pytest.raises(ValueError, match="alpha"):
        LatentCodec.fit_categorical(train, alpha=0.0)


def test_categorical_alphabet_cap_and_chunked_tables(monkeypatch):
    rng = np.random.default_rng(1)
    train = np.round(rng.normal(0, 400, size=(500, 3))).astype(np.int32)
    codec = LatentCodec.fit_categorical(train, max_alphabet=64)
    assert codec.table.shape == (3, 65)
    q = np.round(rng.normal(0, 400, size=(50, 3))).astype(np.int32)
    payload = codec.encode(q)
    assert np.array_equal(codec.decode(payload, 50).numpy(), q)
    # the per-symbol models, their repeated tables in chunks of entries, give the same bit stream
    # as the per-entry tables
    monkeypatch.setattr(codec_mod, "_TILE_FLOATS", 65 * 50)
    monkeypatch.setattr(codec_mod, "_TABLE_MIN_IMAGES", 10**9)
    chunked = LatentCodec.fit_categorical(train, max_alphabet=64)
    assert chunked._entry_step(50) == 1
    assert chunked.encode(q) == payload
    assert np.array_equal(chunked.decode(payload, 50).numpy(), q)


@pytest.mark.parametrize("kind", ["gaussian", "categorical"])
def test_per_entry_tables_code_the_per_symbol_models_bytes(kind, monkeypatch):
    """Messages of many images use one reusable table per entry; the bytes are those of the
    per-symbol models (grid of spreads, including near-deterministic and wide entries)."""
    rng = np.random.default_rng(7)
    for _trial in range(6):
        k = int(rng.integers(1, 40))
        std = 10.0 ** rng.uniform(-3.5, 1.5, size=k)
        mean = rng.normal(0, 2, size=k)
        if kind == "gaussian":
            codec = LatentCodec.gaussian(mean, std)
        else:
            train = np.round(rng.normal(mean, std, size=(400, k))).astype(np.int32)
            codec = LatentCodec.fit_categorical(train)
        assert codec.prepare()._entry_models() is not None
        q = np.round(rng.normal(mean, 1.5 * std, size=(int(rng.integers(8, 60)), k)))
        q[0, 0] += 10**6  # an escape
        q = q.astype(np.int32)
        payload = codec.encode(q)
        assert np.array_equal(codec.decode(payload, len(q), verify=True).numpy(), q)
        with monkeypatch.context() as mp:
            mp.setattr(codec_mod, "_TABLE_MIN_IMAGES", 10**9)
            assert codec.encode(q) == payload
            assert np.array_equal(codec.decode(payload, len(q), verify=True).numpy(), q)
    # one image: the entries in order, the same bytes either way
    assert codec.encode(q[:1]) == codec.encode(q[:1].reshape(1, -1))


def test_payload_is_a_plain_constriction_stream():
    """Our bytes, padded back to words, decode with bare constriction calls: entry by entry,
    each entry's QuantizedGaussian for all 20 images."""
    rng = np.random.default_rng(2)
    codec, mean, std = _codec("gaussian", 8, rng)
    q = np.round(rng.normal(mean, std, size=(20, 8))).astype(np.int32)
    payload = codec.encode(q)
    words = np.frombuffer(payload + b"\x00" * (-len(payload) % 4), dtype=">u4").astype(np.uint32)
    dec = constriction.stream.queue.RangeDecoder(words)
    r = codec.half_width
    models = [constriction.stream.model.QuantizedGaussian(-r, r + 1, float(mu), float(sd))
              for mu, sd in zip(codec._mu, codec._sd, strict=True)]
    codes = np.stack([dec.decode(model, 20) for model in models])  # [k, m]
    assert np.array_equal(codes.T + codec.center, q)
    # and trimming saved bytes compared with constriction's own sealing
    enc = constriction.stream.queue.RangeEncoder()
    for row, model in zip(codes, models, strict=True):
        enc.encode(row, model)
    assert len(payload) <= 4 * enc.num_words()


def test_verify_accepts_only_canonical_payloads():
    """With verify=True a modified payload is rejected unless it is itself the exact encoding
    of the symbols returned (then it is a different, valid message). Range-coded data has little
    redundancy, so only about half of the modifications are caught here: the CRC is the real
    protection (see test_fuzz.py)."""
    rng = np.random.default_rng(3)
    for kind in ("gaussian", "categorical"):
        codec, mean, std = _codec(kind, 12, rng)
        q = np.round(rng.normal(mean, std, size=(3, 12))).astype(np.int32)
        payload = codec.encode(q)
        rejected = tried = 0
        for _ in range(400):
            b = bytearray(payload)
            op = rng.integers(3)
            if op == 0 and b:
                b[rng.integers(len(b))] ^= int(rng.integers(1, 256))
            elif op == 1:
                b = b[: rng.integers(len(b) + 1)] if b else b + b"\x01"
            else:
                b += bytes(rng.integers(0, 256, size=rng.integers(1, 6)).tolist())
            b = bytes(b)
            if b == payload:
                continue
            tried += 1
            try:
                out = codec.decode(b, 3, verify=True).numpy()
            except PayloadError:
                rejected += 1
                continue
            assert codec.encode(out) == b and not np.array_equal(out, q)
        assert rejected > 0.25 * tried


def test_garbage_decodes_without_raising_when_not_verified():
    rng = np.random.default_rng(4)
    codec, _, _ = _codec("categorical", 10, rng)
    for _ in range(200):
        b = bytes(rng.integers(0, 256, size=rng.integers(0, 40)).tolist()).rstrip(b"\x00")
        if codec.max_images(len(b)) < 2:  # too short to hold two images: rejected up front
            with pytest.raises(PayloadError, match="cannot hold 2 images"):
                codec.decode(b, 2)
            continue
        out = codec.decode(b, 2)
        assert out.shape == (2, 10)
    with pytest.raises(PayloadError, match="zero byte"):
        codec.decode(b"\x05\x00", 1)


def test_input_validation():
    codec = LatentCodec.gaussian(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"shape \[m, 3\]"):
        codec.encode(np.zeros((2, 4), np.int32))
    with pytest.raises(TypeError, match="integers"):
        codec.encode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="int32"):
        codec.encode(np.full((1, 3), 2**40))
    with pytest.raises(ValueError, match="unknown codec kind"):
        LatentCodec("laplace", 3)
    with pytest.raises(ValueError, match="num_images"):
        codec.decode(b"", -1)


def test_source_coder_from_stats(gaussian_stats, gaussian_latents):
    train, test = gaussian_latents
    for kind in ("gaussian", "categorical"):
        coder = make_source_coder(gaussian_stats, 2.0, codec=kind, train_latents=train)
        payload = coder.encode(test[:50])
        yh = coder.decode(payload, 50, verify=True)
        assert torch.equal(yh, coder.quantizer.dequantize(coder.quantizer.quantize(test[:50])))
    with pytest.raises(ValueError, match="train_latents"):
        make_source_coder(gaussian_stats, 2.0, codec="categorical")


def test_codec_pickles_and_codes_the_same_bytes():
    """A codec (prepared or not) survives pickling, e.g. to a worker process."""
    import pickle

    rng = np.random.default_rng(4)
    for kind in ("gaussian", "categorical"):
        codec, mean, std = _codec(kind, 6, rng)
        q = np.round(rng.normal(mean, std, size=(12, 6))).astype(np.int32)
        payload = codec.prepare().encode(q)
        copy = pickle.loads(pickle.dumps(codec))
        assert copy.encode(q) == payload
        assert np.array_equal(copy.decode(payload, 12, verify=True).numpy(), q)
