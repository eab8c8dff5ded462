"""The ``paper_figures`` scenario section end to end: Figs. 2-5 and the summary of a tiny run."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from commsldr.scenario import load_scenario
from commsldr.scenario.runner import run_scenario
from commsldr.train import load_model, save_checkpoint

TARGETS = [4.0, 12.0, 30.0]


@pytest.fixture(scope="module")
def paper_run(tiny_trained, tiny_overrides, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paper")
    full = load_model(tiny_trained.checkpoint_path).eval()  # private copy
    full_path, trunc_path = tmp / "full.pt", tmp / "trunc.pt"
    save_checkpoint(full_path, full)
    save_checkpoint(trunc_path, full.truncate(8))
    digest = hashlib.sha256(full_path.read_bytes()).hexdigest()
    raw = {
        "name": "tiny-paper",
        "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0}},
        "link": {"phy": "shannon", "bandwidth_hz": 60000.0},
        "paper_figures": {"models": {"CE d16": str(full_path), "CE d16->8": str(trunc_path)},
                          "entropy_targets": TARGETS, "distortions": True},
    }
    overrides = [*tiny_overrides, "policies={oracle: {type: oracle}}", "frames=20",
                 "data.train_per_class=20", "data.test_per_class=10"]
    out = run_scenario(load_scenario(raw, overrides), out=tmp / "run", progress=False,
                       log=lambda *_: None)
    return out.run_dir, digest, full_path


def test_the_four_paper_figures_are_drawn(paper_run):
    run_dir, _, _ = paper_run
    for fig in ("fig2_accuracy_vs_rate", "fig3_distortions", "fig4_truncation",
                "fig5_latent_std"):
        for suffix in (".png", ".pdf"):
            assert (run_dir / "figures" / f"{fig}{suffix}").stat().st_size > 5_000, fig
    # the link-study figures are still there
    assert (run_dir / "figures" / "accuracy_vs_snr.png").is_file()


def test_the_summary_holds_the_curves_at_the_entropy_targets(paper_run):
    run_dir, digest, full_path = paper_run
    s = json.loads((run_dir / "paper_figures" / "summary.json").read_text())
    assert s["targets_bits"] == TARGETS and s["num_test"] == 100
    full, trunc = s["models"]["CE d16"], s["models"]["CE d16->8"]
    assert (full["latent_dim"], full["truncated_from"]) == (16, None)
    assert (trunc["latent_dim"], trunc["truncated_from"]) == (8, 16)
    assert full["train_images"] == 200  # statistics computed on the scenario's training set
    for e in (full, trunc):
        assert 0.0 <= e["test_acc_unquantized"] <= 1.0
        bits = [r["paper_entropy_bits"] for r in e["curve"]]
        np.testing.assert_allclose(bits, TARGETS, rtol=1e-6)  # bisection hits every target
        assert all(0.0 <= r["accuracy"] <= 1.0 for r in e["curve"])
        payload = [r["payload_bits"] for r in e["curve"]]
        assert payload[0] < payload[-1]  # more entropy, more coded bits
        assert all(r["packet_bits"] > r["payload_bits"] for r in e["curve"])  # header + CRC
    # truncation keeps the first 8 latent entries, so their test std is the full model's prefix
    np.testing.assert_allclose(trunc["latent_std_test"], full["latent_std_test"][:8], rtol=1e-5)
    assert len(full["latent_std_test"]) == 16
    # distortions: only untruncated models by default, every kind and severity in [0, 1]
    assert list(s["distortions"]) == ["CE d16"]
    d = s["distortions"]["CE d16"]
    assert d["clean"] == full["test_acc_unquantized"]
    for kind in ("rotation", "flip", "color_jitter"):
        assert set(d[kind]) == {"1", "3", "5"}
        assert all(0.0 <= a <= 1.0 for a in d[kind].values())
    # the checkpoint was read, not rewritten
    assert hashlib.sha256(full_path.read_bytes()).hexdigest() == digest
    curves = run_dir / "paper_figures" / "curves"
    assert (curves / "CE_d16-8.json").is_file() and (curves / "CE_d16.csv").is_file()


def test_the_figure_selections_reach_the_figures(tiny_trained, tiny_overrides, tmp_path):
    """``rate_models`` / ``distortion_models`` pick Fig. 2's and Fig. 3's models (here the
    truncated one, which neither would draw by default)."""
    full = load_model(tiny_trained.checkpoint_path).eval()
    full_path, trunc_path = tmp_path / "full.pt", tmp_path / "trunc.pt"
    save_checkpoint(full_path, full)
    save_checkpoint(trunc_path, full.truncate(8))
    raw = {
        "name": "tiny-paper-select",
        "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0}},
        "link": {"phy": "shannon", "bandwidth_hz": 60000.0},
        "paper_figures": {"models": {"full": str(full_path), "trunc": str(trunc_path)},
                          "entropy_targets": TARGETS, "rate_models": ["trunc"],
                          "distortion_models": ["trunc"], "truncation_models": ["full", "trunc"]},
    }
    overrides = [*tiny_overrides, "policies={oracle: {type: oracle}}", "frames=20",
                 "data.train_per_class=20", "data.test_per_class=10"]
    out = run_scenario(load_scenario(raw, overrides), out=tmp_path / "run", progress=False,
                       log=lambda *_: None)
    s = json.loads((out.run_dir / "paper_figures" / "summary.json").read_text())
    assert list(s["distortions"]) == ["trunc"]
    for fig in ("fig2_accuracy_vs_rate", "fig3_distortions", "fig4_truncation"):
        assert (out.run_dir / "figures" / f"{fig}.png").is_file(), fig
