"""ImageTensors, to_float, the synthetic dataset and load_dataset('synthetic')."""

import pytest
import torch

from commsldr.data import (
    SYNTHETIC_CLASSES,
    ImageTensors,
    derive_seed,
    load_dataset,
    make_synthetic,
    to_float,
)


def test_synthetic_is_seeded_and_shaped():
    a = make_synthetic(6, seed=3)
    b = make_synthetic(6, seed=3)
    c = make_synthetic(6, seed=4)
    assert a.images.dtype == torch.uint8 and a.images.shape == (60, 3, 32, 32)
    assert a.labels.dtype == torch.int64
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)
    assert a.classes == SYNTHETIC_CLASSES and len(a.classes) == 10
    assert torch.equal(a.class_counts(), torch.full((10,), 6))
    # shuffled: not sorted by class
    assert not torch.equal(a.labels, a.labels.sort().values)


def test_synthetic_images_vary_within_class_and_use_range():
    d = make_synthetic(20, seed=0, image_size=24)
    assert d.images.shape[-2:] == (24, 24)
    x = d.images.float()
    for c in range(10):
        xc = x[d.labels == c]
        # every image has real content (foreground vs background contrast)
        assert bool((xc.flatten(1).std(1) > 5).all())
        # images of one class differ from each other (position, colour, size...)
        assert float((xc - xc.mean(0)).abs().mean()) > 10
    assert int(d.images.min()) == 0 or int(d.images.max()) == 255


def test_synthetic_class_identity_not_from_colour():
    # mean colour per class should be roughly equal: label information is in shape, not colour.
    d = make_synthetic(200, seed=1)
    means = torch.stack([d.images[d.labels == c].float().mean((0, 2, 3)) for c in range(10)])
    # foreground and background colours are uniform and symmetric about 127.5 whatever the shape,
    # so every class mean has expectation 127.5 and std <= 255 / sqrt(12 * 200) ~ 5.2 grey levels;
    # 30 such means spread by ~4 sigma ~ 21 — 40 is ~8 sigma.
    assert float(means.max() - means.min()) < 40
    assert float((means - 127.5).abs().max()) < 25


def test_synthetic_bad_args():
    with pytest.raises(ValueError, match="num_per_class"):
        make_synthetic(0, seed=0)
    with pytest.raises(ValueError, match="image_size"):
        make_synthetic(2, seed=0, image_size=4)


def test_load_dataset_synthetic_splits_independent():
    tr = load_dataset("synthetic", "train", num_per_class=5, seed=0)
    te = load_dataset("synthetic", "test", num_per_class=5, seed=0)
    tr2 = load_dataset("synthetic", "train", num_per_class=5, seed=0)
    assert len(tr) == len(te) == 50
    assert torch.equal(tr.images, tr2.images)
    assert not torch.equal(tr.images, te.images)
    assert derive_seed(0, "a") != derive_seed(0, "b") and derive_seed(1, "a") != derive_seed(0, "a")
    with pytest.raises(ValueError, match="valid names"):
        load_dataset("mnist", "train")
    with pytest.raises(ValueError, match="split"):
        load_dataset("synthetic", "val")
    with pytest.raises(ValueError, match="num_per_class"):
        load_dataset("synthetic", "train", num_per_class=0)


def test_image_tensors_validation_and_subsets():
    imgs = torch.zeros(6, 3, 4, 4, dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    d = ImageTensors(imgs, labels, ["a", "b", "c"])
    assert len(d) == 6 and d.num_classes == 3 and d.image_size == (4, 4)
    s = d.subset([1, 4])
    assert torch.equal(s.labels, torch.tensor([1, 1]))
    st = d.stratified_subset(1, seed=0)
    assert torch.equal(st.class_counts(), torch.ones(3, dtype=torch.int64))
    assert torch.equal(st.labels, d.stratified_subset(1, seed=0).labels)
    with pytest.raises(TypeError, match="uint8"):
        ImageTensors(imgs.float(), labels, ["a", "b", "c"])
    with pytest.raises(ValueError, match="labels must lie"):
        ImageTensors(imgs, labels, ["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        ImageTensors(imgs[:, :1], labels, ["a", "b", "c"])
    with pytest.raises(ValueError, match="labels must have shape"):
        ImageTensors(imgs, labels[:3], ["a", "b", "c"])


def test_to_float_closed_form():
    x = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 3, 1, 1)
    y = to_float(x)
    assert y.dtype == torch.float32
    expected = (torch.tensor([0.0, 128.0, 255.0]) / 255 - 0.5) / 0.25
    torch.testing.assert_close(y.flatten(), expected)
    z = to_float(x, mean=(0, 0, 0), std=(1, 1, 1))
    torch.testing.assert_close(z.flatten(), torch.tensor([0.0, 128.0, 255.0]) / 255)
    # float input in [0, 1] is treated as already scaled
    torch.testing.assert_close(to_float(x.float() / 255), y)
    with pytest.raises(ValueError, match="len\\(mean\\)"):
        to_float(x, mean=(0.5,), std=(0.25,))
