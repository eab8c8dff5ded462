"""The seeded synthetic table: shapes, packet sizes, accuracy rising with the information."""

from __future__ import annotations

import numpy as np

from commsldr.link.synthetic_table import synthetic_table


def test_shapes_seeding_and_packets():
    t = synthetic_table(num_images=100, images_per_packet=(1, 4), seed=3)
    assert len(t) == 15 and t.num_images == 100 and t.prior_class == 0
    groups, pbits = t.packets(4)
    assert groups.shape == (25, 4)
    assert np.array_equal(pbits, t.bits[:, groups].sum(axis=2) + 72)
    same = synthetic_table(num_images=100, images_per_packet=(1, 4), seed=3)
    assert np.array_equal(t.bits, same.bits) and np.array_equal(t.correct, same.correct)
    assert not np.array_equal(t.bits, synthetic_table(num_images=100, seed=4).bits)


def test_accuracy_follows_the_closed_form_and_correctness_is_nested():
    t = synthetic_table(num_images=20000, seed=0)
    for i, p in enumerate(t.points):
        info = p.k / 32 * np.log2(1 + 4 / p.scale)
        expect = 0.95 - (0.95 - 0.3) * 2 ** (-info / 0.6)
        assert abs(t.accuracy()[i] - expect) < 4 * np.sqrt(expect * (1 - expect) / 20000)
    acc = t.accuracy()
    order = np.argsort(acc)
    # one difficulty per image: an image right at a point is right at every more accurate point
    assert all(np.all(t.correct[order[j]] <= t.correct[order[j + 1]]) for j in range(len(t) - 1))
