"""Augment, make_views, BatchLoader and distort."""

import pytest
import torch

from commsldr.data import (
    DISTORTIONS,
    Augment,
    BatchLoader,
    distort,
    make_synthetic,
    make_views,
    to_float,
)

IDENTITY = dict(crop_padding=0, flip_p=0.0, rotation_p=0.0, jitter_p=0.0, grayscale_p=0.0,
                normalize=False)


@pytest.fixture(scope="module")
def data():
    return make_synthetic(8, seed=0)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def test_augment_seeded(data):
    aug = Augment()
    x = data.images[:16]
    a, b, c = aug(x, g(1)), aug(x, g(1)), aug(x, g(2))
    assert a.shape == (16, 3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_augment_identity_when_disabled(data):
    x = data.images[:8]
    out = Augment(**IDENTITY)(x, g())
    torch.testing.assert_close(out, x.float() / 255, atol=1e-5, rtol=0)
    # normalised output equals to_float of the input
    out_n = Augment(**{**IDENTITY, "normalize": True})(x, g())
    torch.testing.assert_close(out_n, to_float(x), atol=1e-4, rtol=0)


def test_augment_crop_is_integer_shift_with_zero_fill(data):
    x = data.images[:12].float() / 255
    p = 3
    out = Augment(**{**IDENTITY, "crop_padding": p})(x, g(5))
    padded = torch.nn.functional.pad(x, (p, p, p, p))
    shifts_seen = set()
    for i in range(len(x)):
        match = [
            (dx, dy)
            for dx in range(-p, p + 1)
            for dy in range(-p, p + 1)
            if torch.allclose(out[i], padded[i, :, p - dy: p - dy + 32, p - dx: p - dx + 32], atol=1e-5)
        ]
        assert match, f"sample {i} is not a padded crop"
        shifts_seen.add(match[0])
    assert len(shifts_seen) > 1


def test_augment_flip_gray_and_jitter_bounds(data):
    x = data.images[:8].float() / 255
    flipped = Augment(**{**IDENTITY, "flip_p": 1.0})(x, g())
    torch.testing.assert_close(flipped, x.flip(3), atol=1e-5, rtol=0)
    gray = Augment(**{**IDENTITY, "grayscale_p": 1.0})(x, g())
    assert torch.allclose(gray[:, 0], gray[:, 1]) and torch.allclose(gray[:, 1], gray[:, 2])
    bright = Augment(**{**IDENTITY, "jitter_p": 1.0, "contrast": 0, "saturation": 0, "hue": 0,
                        "brightness": 0.3})(x, g())
    ratio = bright.sum((1, 2, 3)) / x.sum((1, 2, 3))
    # clipping can only lower the ratio below the factor, never raise it
    assert bool((ratio <= 1.3 + 1e-4).all()) and bool((ratio >= 0.7 - 1e-4).all())
    assert not torch.allclose(bright, x)
    rot = Augment(**{**IDENTITY, "rotation_p": 1.0, "rotation_deg": 30})(x, g())
    assert not torch.allclose(rot, x, atol=1e-2)


def test_augment_validation():
    with pytest.raises(ValueError, match="flip_p"):
        Augment(flip_p=1.5)
    with pytest.raises(ValueError, match="crop_padding"):
        Augment(crop_padding=-1)
    with pytest.raises(TypeError, match="generator"):
        Augment()(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), 0)


def test_make_views_layout_and_labels(data):
    x = data.images[:5]
    views, labels = make_views(x, 3, Augment(**IDENTITY), g())
    assert views.shape == (15, 3, 32, 32)
    assert torch.equal(labels, torch.tensor([0, 1, 2, 3, 4] * 3))
    for v in range(3):
        torch.testing.assert_close(views[v * 5: (v + 1) * 5], x.float() / 255, atol=1e-5, rtol=0)
    rv, rl = make_views(x, 2, Augment(), g(3))
    rv2, _ = make_views(x, 2, Augment(), g(3))
    assert torch.equal(rv, rv2) and not torch.equal(rv[:5], rv[5:])
    assert torch.equal(rl, torch.arange(5).repeat(2))
    with pytest.raises(ValueError, match="n_views"):
        make_views(x, 0, Augment(), g())


def test_batch_loader_epoch_and_determinism(data):
    loader = BatchLoader(data, 32, shuffle=True, generator=g(0))
    batches = list(loader)
    assert len(batches) == len(loader) == 3 and batches[-1][0].shape[0] == 16
    ys = torch.cat([y for _, y in batches])
    xs = torch.cat([x for x, _ in batches])
    # a permutation of the data: same label multiset, every image once
    assert torch.equal(ys.sort().values, data.labels.sort().values)
    assert torch.allclose(xs.sum(0), to_float(data.images).sum(0), atol=1e-2)
    again = list(BatchLoader(data, 32, shuffle=True, generator=g(0)))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(batches, again, strict=True))
    # a second epoch draws a new order
    second = list(loader)
    assert not torch.equal(torch.cat([y for _, y in second]), ys) or len(data) < 3
    dl = BatchLoader(data, 32, shuffle=False, generator=None, drop_last=True)
    assert len(dl) == 2 and all(x.shape[0] == 32 for x, _ in dl)
    raw = next(iter(BatchLoader(data, 8, shuffle=False, generator=None, raw=True)))
    assert raw[0].dtype == torch.uint8 and torch.equal(raw[0], data.images[:8])
    aug = next(iter(BatchLoader(data, 8, shuffle=False, generator=g(), augment=Augment())))
    assert aug[0].dtype == torch.float32 and torch.equal(aug[1], data.labels[:8])
    with pytest.raises(ValueError, match="generator"):
        BatchLoader(data, 8, shuffle=True, generator=None)
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(data, 0, shuffle=False, generator=None)


@pytest.mark.parametrize("kind", DISTORTIONS)
def test_distort_identity_at_zero_and_changes_otherwise(data, kind):
    x = data.images[:16]
    assert torch.equal(distort(x, kind, 0, g()), x)
    prev = 0.0
    for s in (1, 3, 5):
        a, b = distort(x, kind, s, g(7)), distort(x, kind, s, g(7))
        assert a.dtype == torch.uint8 and a.shape == x.shape and torch.equal(a, b)
        change = float((a.float() - x.float()).abs().mean())
        assert change > 0
        if kind != "flip":
            assert change >= prev * 0.8  # higher severity distorts at least about as much
            prev = change


def test_distort_closed_forms(data):
    x = data.images[:16]
    f = distort(x, "flip", 5, g(1))
    for i in range(16):
        assert torch.equal(f[i], x[i].flip(1)) or torch.equal(f[i], x[i].flip(1).flip(2))
    r = distort(x.float() / 255, "rotation", 5, g(1))  # 45 degrees: corners come from outside
    assert float(r[:, :, 0, 0].abs().max()) == 0.0 and float(r[:, :, -1, -1].abs().max()) == 0.0
    grey = x.float().mean(1, keepdim=True).expand(-1, 3, -1, -1) / 255
    j = distort(grey, "color_jitter", 5, g(2))
    torch.testing.assert_close(j[:, 0], j[:, 1], atol=1e-4, rtol=0)
    torch.testing.assert_close(j[:, 1], j[:, 2], atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="kind"):
        distort(x, "blur", 1, g())
    with pytest.raises(ValueError, match="severity"):
        distort(x, "flip", 6, g())


def test_augment_probabilities_match_binomial():
    # asymmetric random images, so a mirrored image is never equal to the original
    n = 2000
    x = torch.rand(n, 3, 6, 6, generator=g(11))
    out = Augment(**{**IDENTITY, "flip_p": 0.3, "grayscale_p": 0.6})(x, g(12))
    gray = (out[:, 0] - out[:, 1]).abs().amax((1, 2)) < 1e-6
    colour = ~gray
    flipped = (out[colour] - x[colour].flip(3)).abs().amax((1, 2, 3)) < 1e-5
    kept = (out[colour] - x[colour]).abs().amax((1, 2, 3)) < 1e-5
    assert bool((flipped ^ kept).all())  # each colour image is exactly one of the two
    for count, trials, p in ((int(gray.sum()), n, 0.6), (int(flipped.sum()), int(colour.sum()), 0.3)):
        sigma = (trials * p * (1 - p)) ** 0.5
        assert abs(count - trials * p) < 4 * sigma, (count, trials, p)
