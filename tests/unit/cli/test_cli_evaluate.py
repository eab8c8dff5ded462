"""``commsldr evaluate``: the numbers equal the library's own evaluation, bad input is one line."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from commsldr.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        rc = main(["evaluate", *argv])
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_float_accuracy_is_the_training_runs_test_accuracy(tiny_trained, tmp_path, capsys):
    report = tmp_path / "scores.json"
    rc, out, err = _run(capsys, str(tiny_trained.checkpoint_path), "--dataset", "synthetic",
                        "--test-per-class", "30", "--flip-tta", "--json", str(report))
    assert rc == 0, err
    row = json.loads(report.read_text())["models"][str(tiny_trained.checkpoint_path)]
    assert row["test_images"] == len(tiny_trained.test) == 300
    assert row["float_acc"] == pytest.approx(tiny_trained.test_acc, abs=1e-9)
    lo, hi = row["float_acc_ci95"]
    half = 1.96 * (row["float_acc"] * (1 - row["float_acc"]) / 300) ** 0.5
    assert lo == pytest.approx(row["float_acc"] - half) and hi == pytest.approx(row["float_acc"] + half)
    assert 0.0 <= row["flip_tta_acc"] <= 1.0
    assert f"{100 * tiny_trained.test_acc:.2f} %" in out


def test_budgets_use_the_checkpoints_latent_statistics(tiny_trained, tmp_path, capsys):
    from commsldr.coding import attach_latent_stats, compute_latent_stats
    from commsldr.train.screening import rate_accuracy_at_budgets

    ckpt = tmp_path / "with-stats.pt"
    shutil.copyfile(tiny_trained.checkpoint_path, ckpt)
    stats = compute_latent_stats(tiny_trained.model, tiny_trained.train)
    attach_latent_stats(ckpt, stats)
    report = tmp_path / "scores.json"
    rc, out, err = _run(capsys, str(ckpt), "--dataset", "synthetic", "--test-per-class", "30",
                        "--budgets", "8,40", "--json", str(report))
    assert rc == 0, err
    got = json.loads(report.read_text())["models"][str(ckpt)]["budgets"]
    from commsldr.data import load_dataset
    from commsldr.train.screening import CALIBRATION_PER_CLASS

    # the scales are solved on training images (the calibration draw), never on the test split
    cal = load_dataset("synthetic", "train", num_per_class=CALIBRATION_PER_CLASS)
    want = rate_accuracy_at_budgets(tiny_trained.model, cal, tiny_trained.test, [8.0, 40.0],
                                    stats=stats)["budgets"]
    assert [b["budget_bits"] for b in got] == [8.0, 40.0]
    for g, w in zip(got, want, strict=True):
        assert g["feasible"] == w["feasible"]
        if w["feasible"]:
            assert g["accuracy"] == pytest.approx(w["accuracy"])
            assert g["calibration_bits"] <= g["budget_bits"] + 1e-9
            assert g["payload_bits"] == pytest.approx(w["payload_bits"])
    assert "@ 8 bits" in out and "@ 40 bits" in out


def test_shipped_name_is_looked_up_and_its_index_accuracy_shown(tiny_trained, tmp_path, capsys,
                                                               monkeypatch):
    from commsldr.models.pretrained import INDEX_FORMAT, sha256_file

    path = tmp_path / "tiny.pt"
    shutil.copyfile(tiny_trained.checkpoint_path, path)
    (tmp_path / "index.json").write_text(json.dumps({"format": INDEX_FORMAT, "models": {
        "tiny-model": {"file": path.name, "sha256": sha256_file(path), "test_acc": 0.4321}}}))
    monkeypatch.setenv("COMMSLDR_MODELS", str(tmp_path))
    rc, out, err = _run(capsys, "tiny-model", "--dataset", "synthetic", "--test-per-class", "30")
    assert rc == 0, err
    assert "tiny-model" in out and "43.21 %" in out
    rc, out, err = _run(capsys, "tiny-modle", "--dataset", "synthetic")
    assert rc == 2 and out == ""
    assert "tiny-modle" in err and "did you mean 'tiny-model'" in err and len(err.splitlines()) <= 2


@pytest.mark.parametrize("argv, needle", [
    (["no/such/model.pt", "--dataset", "synthetic"], "no such checkpoint file"),
    (["{ckpt}", "--dataset", "mnist"], "--dataset"),
    (["{ckpt}", "--dataset", "imagefolder"], "--data-root"),
    (["{ckpt}", "--dataset", "synthetic", "--test-per-class", "0"], "--test-per-class"),
    (["{ckpt}", "--dataset", "synthetic", "--json", "{tmp}/missing/dir/x.json"], "--json"),
])
def test_bad_input_is_one_line(tiny_trained, tmp_path, capsys, argv, needle):
    argv = [a.format(ckpt=tiny_trained.checkpoint_path, tmp=tmp_path) for a in argv]
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == "" and needle in err and len(err.splitlines()) <= 2
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("budgets, needle", [
    ("8,,9", "empty item"), ("8,8", "given more than once"), ("8,abc", "numbers"),
    ("0", "positive"), ("nan", "positive"), ("", "empty item"),
])
def test_bad_budgets_are_one_line(tiny_trained, capsys, budgets, needle):
    rc, out, err = _run(capsys, str(tiny_trained.checkpoint_path), "--budgets", budgets)
    assert rc == 2 and out == "" and needle in err and len(err.splitlines()) == 1, err


def test_json_never_overwrites_what_it_did_not_write(tiny_trained, tmp_path, capsys):
    ckpt = tmp_path / "model.pt"
    shutil.copyfile(tiny_trained.checkpoint_path, ckpt)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    before = {p: p.read_bytes() for p in (ckpt, notes)}
    base = [str(ckpt), "--dataset", "synthetic", "--test-per-class", "1", "--json"]
    for target, needle in ((ckpt, "checkpoint being evaluated"),
                           (notes, "refusing to overwrite"),
                           (tmp_path, "is a directory"),
                           (notes / "x.json", "is a file")):
        rc, out, err = _run(capsys, *base, str(target))
        assert rc == 2 and out == "" and "--json" in err and needle in err, err
        assert len(err.splitlines()) == 1
    assert {p: p.read_bytes() for p in (ckpt, notes)} == before
    out_json = tmp_path / "scores.json"
    for _ in range(2):  # an earlier --json output is replaced
        rc, out, err = _run(capsys, *base, str(out_json))
        assert rc == 0, err
    assert str(ckpt) in json.loads(out_json.read_text())["models"]


def test_a_dataset_with_other_classes_is_refused(tiny_trained, tmp_path, capsys):
    from PIL import Image

    for split in ("train", "test"):
        for c in ("a", "b", "c"):
            d = tmp_path / "imgs" / split / c
            d.mkdir(parents=True)
            Image.new("RGB", (32, 32), (10, 20, 30)).save(d / "0.png")
    rc, out, err = _run(capsys, str(tiny_trained.checkpoint_path), "--dataset", "imagefolder",
                        "--data-root", str(tmp_path / "imgs"))
    assert rc == 2 and "10 classes" in err and "3" in err


def test_a_model_of_other_images_is_evaluated_with_a_warning(tiny_trained, tmp_path, capsys):
    """A model trained on natural images scores near chance on the synthetic shapes (same class
    count and size): the run says so instead of printing a bare 0 %."""
    from commsldr.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(tiny_trained.checkpoint_path)
    ckpt["train_config"] = {**ckpt["train_config"], "dataset": "cifar10"}
    other = tmp_path / "natural.pt"
    torch.save(ckpt, other)
    rc, _, err = _run(capsys, str(other), "--dataset", "synthetic", "--test-per-class", "3")
    assert rc == 0, err
    assert "warning: natural.pt was trained on cifar10 images" in err.replace(str(other), "natural.pt")
    rc, _, err = _run(capsys, str(tiny_trained.checkpoint_path), "--dataset", "synthetic",
                      "--test-per-class", "3")
    assert rc == 0 and "warning" not in err


def test_budgets_without_a_training_split_say_why_before_any_work(tmp_path, capsys):
    (tmp_path / "imgs" / "test" / "a").mkdir(parents=True)
    rc, _, err = _run(capsys, "cifar10-ce-d64", "--dataset", "imagefolder", "--data-root",
                      str(tmp_path / "imgs"), "--budgets", "14")
    assert rc == 2 and err.count("\n") == 1
    assert "--budgets: needs the training split" in err and "no train/ folder" in err


def test_help_needs_no_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom commsldr.cli import build_parser\n"
            "build_parser(train=False).parse_args(['evaluate', 'x'])\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert torch.__version__  # the test process itself may import it


def test_dataset_names_match_the_loaders():
    """``commsldr evaluate`` repeats the dataset names so that ``--help`` needs no torch."""
    from commsldr.cli.evaluate import DATASET_NAMES
    from commsldr.data.datasets import DATASETS

    assert tuple(DATASET_NAMES) == tuple(DATASETS)


def test_a_shipped_file_named_by_path_shows_the_index_numbers(tiny_trained, tmp_path, capsys,
                                                             monkeypatch):
    from commsldr.coding import attach_latent_stats, compute_latent_stats
    from commsldr.models.pretrained import INDEX_FORMAT, sha256_file

    path = tmp_path / "tiny.pt"
    shutil.copyfile(tiny_trained.checkpoint_path, path)
    attach_latent_stats(path, compute_latent_stats(tiny_trained.model, tiny_trained.train))
    (tmp_path / "index.json").write_text(json.dumps({"format": INDEX_FORMAT, "models": {
        "tiny-model": {"file": path.name, "sha256": sha256_file(path), "test_acc": 0.4321,
                       "acc_at_bits": {"1": None, "40": {"accuracy": 0.1234}}}}}))
    monkeypatch.setenv("COMMSLDR_MODELS", str(tmp_path))
    report = tmp_path / "scores.json"
    rc, out, err = _run(capsys, str(path), "--dataset", "synthetic", "--test-per-class", "30",
                        "--budgets", "1,40", "--json", str(report))
    assert rc == 0, err
    assert "43.21 %" in out and "index: 12.34 %" in out and "infeasible (index: infeasible)" in out
    assert "at least one byte" in out  # the infeasible budget is explained
    row = json.loads(report.read_text())["models"][str(path)]
    assert row["index_test_acc"] == 0.4321 and row["index_acc_at_bits"]["1"] is None


def test_an_infeasible_budget_names_the_cheapest_rate_point():
    from commsldr.cli.evaluate import _table

    row = {"float_acc": 0.88, "float_acc_ci95": (0.87, 0.89), "index_test_acc": 0.88,
           "latent_dim": 64, "test_images": 10000,
           "rate_points": [{"calibration_bits": 8.1664}, {"calibration_bits": 11.0}],
           "index_acc_at_bits": {"8": None},
           "budgets": [{"budget_bits": 8.0, "feasible": False},
                       {"budget_bits": 14.0, "feasible": True, "accuracy": 0.872,
                        "payload_bits": 10.85, "payload_p95": 16.0}]}
    text = _table({"eb": row}, [8.0, 14.0], flip_tta=False)
    assert "infeasible (cheapest rate point 8.17 b; index: infeasible)" in text
    assert "87.20 % (10.8 b, p95 16)" in text
