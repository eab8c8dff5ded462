"""Rate–accuracy evaluation: the four rate measures side by side, results files, figures."""

import csv
import json

import numpy as np
import pytest
import torch

from commsldr.coding import (
    RATE_MEASURES,
    RateAccuracyResult,
    rate_accuracy_from_latents,
)
from commsldr.report.coding_figures import plot_latent_std, plot_rate_accuracy


@pytest.fixture(scope="module")
def linear_task(gaussian_latents):
    """A 'server' that is a fixed linear classifier; labels are its decisions on the clean
    latents, so the unquantized accuracy is exactly 1."""
    train, test = gaussian_latents
    g = torch.Generator().manual_seed(5)
    w = torch.randn(24, 5, generator=g)
    center = train.mean(0)

    def decode_fn(y):
        return (y - center) @ w

    return train, test, decode_fn, decode_fn(test).argmax(1)


def test_rate_measures_side_by_side(linear_task, gaussian_stats):
    train, test, decode_fn, labels = linear_task
    scales = [0.05, 0.2, 1.0, 16.0]
    res = rate_accuracy_from_latents(test, labels, decode_fn, gaussian_stats, scales,
                                     progress=False, label="lin")
    assert res.unquantized_accuracy == 1.0 and res.num_test == 1000 and res.k == 24
    acc = res.column("accuracy")
    assert acc[-1] > 0.97 and acc[0] < acc[-1]
    for m in RATE_MEASURES:  # precision reading: more bits as s grows, for every measure
        assert np.all(np.diff(res.column(m)) > 0), m
    exact, emp = res.column("exact_entropy_bits"), res.column("empirical_entropy_bits")
    payload, ideal = res.column("payload_bits"), res.column("ideal_bits")
    # empirical ~ exact (n = 1000 test symbols per entry; plug-in bias is small and negative)
    assert np.all(np.abs(emp - exact) < 0.05 * exact + 1.0)
    # coded bits: the ideal code length under the training-set model plus the per-message seal
    assert np.all(payload - ideal > 0.5) and np.all(payload - ideal < 6)
    assert np.all(ideal > exact - 1.0)  # cross-entropy >= entropy, up to sampling noise
    # the high-resolution formula underestimates the exact entropy by < 0.06 bits per entry with
    # sigma/Delta >= 1 and < 0.3 bits per unreliable (sigma/Delta < 1, maybe clamped) entry
    for r in res.rows:
        gap = r["exact_entropy_bits"] - r["paper_entropy_bits"]
        bad = r["paper_unreliable_entries"]
        assert -1e-9 < gap < 0.06 * (24 - bad) + 0.3 * bad
    assert res.rows[0]["paper_clamped_entries"] > res.rows[-1]["paper_clamped_entries"]
    # header + CRC-16 of a one-image packet: 9 + 2 bytes
    assert np.allclose(res.column("packet_bits") - payload, 88)
    # one message for all images costs less per image than single-image messages
    assert np.all(res.column("batch_bits_per_image") < payload)


def test_results_files_and_figures(tmp_path, linear_task, gaussian_stats):
    train, test, decode_fn, labels = linear_task
    a = rate_accuracy_from_latents(test, labels, decode_fn, gaussian_stats, [0.1, 1.0],
                                   progress=False, label="precision")
    b = rate_accuracy_from_latents(test, labels, decode_fn, gaussian_stats, [0.1, 1.0],
                                   rule="uniform", codec="categorical", train_latents=train,
                                   progress=False)
    a.to_json(tmp_path / "a.json")
    assert RateAccuracyResult.from_json(tmp_path / "a.json") == a
    a.to_csv(tmp_path / "a.csv")
    rows = list(csv.DictReader(open(tmp_path / "a.csv")))
    assert len(rows) == 2 and float(rows[1]["accuracy"]) == a.rows[1]["accuracy"]
    assert json.loads((tmp_path / "a.json").read_text())["rule"] == "precision"
    paths = plot_rate_accuracy([a, b], tmp_path / "fig" / "rate_acc")
    paths += plot_latent_std({"synthetic": a.latent_std}, tmp_path / "fig" / "std", sort=True)
    assert [p.suffix for p in paths] == [".png", ".pdf", ".png", ".pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    with pytest.raises(ValueError, match="unknown measure"):
        plot_rate_accuracy(a, tmp_path / "x", measures=["nope"])
    with pytest.raises(KeyError, match="unknown column"):
        a.column("nope")
    with pytest.raises(ValueError, match="labels"):
        rate_accuracy_from_latents(test, labels[:3], decode_fn, gaussian_stats, [1.0],
                                   progress=False)
