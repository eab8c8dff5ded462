"""Every recipe end to end on the synthetic dataset at tiny size, and the CLI.

Chance accuracy is 10 % (10 balanced classes); the test split has 300 images, so the standard
deviation of a chance-level accuracy is sqrt(0.1 * 0.9 / 300) ≈ 1.7 % and the threshold of 20 %
is ~6 standard deviations above chance.
"""

from __future__ import annotations

import json

import pytest

from commsldr.cli import main as cli_main
from commsldr.train import list_recipes, load_checkpoint, load_model, run_recipe

CHANCE_MARGIN = 0.20

TINY = dict(
    dataset="synthetic", num_per_class=50, test_num_per_class=30, backbone="resnet8", width=0.25,
    latent_dim=16, batch_size=50, epochs=1, ldr_epochs=1, finetune_epochs=1, ldr_lr=0.01,
    finetune_lr=0.01, augment=False, progress=False, seed=0,
)


def test_registry_lists_every_recipe():
    assert list_recipes() == sorted(["ce", "screen", "duphil", "ldr-ft", "truncate",
                                     "entropy-bottleneck"])
    with pytest.raises(ValueError, match="registered recipes"):
        run_recipe("nope", {})


def test_ce_recipe_beats_chance(tiny_trained):
    # tiny_trained *is* a run of run_recipe("ce", ...) (see tests/conftest.py)
    ck = load_checkpoint(tiny_trained.checkpoint_path)
    assert ck["train_config"]["recipe"] == "ce"
    assert tiny_trained.test_acc > 0.3
    from commsldr.train import evaluate

    assert evaluate(tiny_trained.model, tiny_trained.test) == pytest.approx(tiny_trained.test_acc)


@pytest.mark.parametrize("mode", ["alternate", "phases"])
def test_duphil_from_ce_checkpoint_beats_chance(tiny_trained, tmp_path, mode):
    res = run_recipe("duphil", dict(TINY, duphil_mode=mode, out=str(tmp_path),
                                    from_checkpoint=str(tiny_trained.checkpoint_path)))
    expected = ["duphil"] if mode == "alternate" else ["duphil-encoder", "duphil-decoder"]
    assert list(res.metrics["phases"]) == expected
    assert res.metrics["test_acc"] > CHANCE_MARGIN
    assert load_model(res.checkpoint_path).latent_dim == 16
    rec = res.metrics["phases"][expected[0]]
    assert rec["rate"] > rec["class_rate"] > 0  # ΔR > 0 after the LDR step


def test_ldr_ft_three_steps_beat_chance(tiny_trained, tmp_path):
    res = run_recipe("ldr-ft", dict(TINY, out=str(tmp_path), ssl_views=2,
                                    from_checkpoint=str(tiny_trained.checkpoint_path)))
    assert list(res.metrics["phases"]) == ["ldr-ft-1-ldr", "ldr-ft-2-ssl", "ldr-ft-3-ce"]
    assert "loss_ldr-ssl" in res.metrics["phases"]["ldr-ft-2-ssl"]
    assert res.metrics["test_acc"] > CHANCE_MARGIN
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["phase"] for x in lines] == ["ldr-ft-1-ldr", "ldr-ft-2-ssl", "ldr-ft-3-ce"]
    assert json.loads((tmp_path / "config.json").read_text())["recipe"] == "ldr-ft"


def test_truncate_keeps_first_k_and_finetunes(tiny_trained, tmp_path):
    res = run_recipe("truncate", dict(TINY, out=str(tmp_path), keep=8,
                                      from_checkpoint=str(tiny_trained.checkpoint_path)))
    model = load_model(res.checkpoint_path)
    assert model.latent_dim == 8 and model.config["truncated_from"] == 16
    assert res.metrics["keep"] == 8
    assert res.metrics["test_acc"] > CHANCE_MARGIN


def test_screen_writes_table_and_picks_the_best(tmp_path):
    res = run_recipe("screen", dict(TINY, dims=[4, 16], epochs=4, num_per_class=100,
                                    batch_size=32, out=str(tmp_path), screen_select="val",
                                    screen_rule="float"))  # the float-accuracy pick
    rows = json.loads((tmp_path / "screen.json").read_text())["rows"]
    assert [r["latent_dim"] for r in rows] == [4, 16]
    best = max(rows, key=lambda r: (r["val_acc"], -r["latent_dim"]))
    assert res.metrics["best_latent_dim"] == best["latent_dim"]
    assert load_model(tmp_path / "model.pt").latent_dim == best["latent_dim"]
    assert (tmp_path / "screen.csv").read_text().startswith("latent_dim,train_acc,test_acc,val_acc,acc@")
    assert "**(best)**" in (tmp_path / "screen.md").read_text()
    assert res.metrics["test_acc"] == best["test_acc"]
    assert max(r["test_acc"] for r in rows) > CHANCE_MARGIN


def test_screen_reuses_ce_runs_trained_on_their_own(tmp_path):
    """The study trains each d_y with ``--recipe ce`` into ``<out>/d<d>``; the screen over them
    trains nothing and leaves their checkpoints as they are."""
    for d in (4, 8):  # d = 8 with another later-phase setting, which CE-T does not use
        run_recipe("ce", dict(TINY, latent_dim=d, out=str(tmp_path / f"d{d}"),
                              finetune_lr=0.3 if d == 8 else TINY["finetune_lr"]))
    files = {d: (tmp_path / f"d{d}" / "model.pt").read_bytes() for d in (4, 8)}
    res = run_recipe("screen", dict(TINY, dims=[4, 8], out=str(tmp_path), resume=True,
                                    screen_rule="float"))
    assert {d: (tmp_path / f"d{d}" / "model.pt").read_bytes() for d in (4, 8)} == files
    rows = json.loads((tmp_path / "screen.json").read_text())["rows"]
    assert [r["latent_dim"] for r in rows] == [4, 8]
    assert res.metrics["best_latent_dim"] in (4, 8)
    # a changed training setting is not reused: the CE-T phase says why it cannot resume
    with pytest.raises(Exception, match="cannot resume"):
        run_recipe("screen", dict(TINY, dims=[4], out=str(tmp_path), resume=True, lr=0.5))


def test_cli_ldr_ft_from_scratch_and_resume(tmp_path, capsys):
    args = ["train", "--recipe", "ldr-ft", "--dataset", "synthetic", "--num-per-class", "20",
            "--test-num-per-class", "10", "--width", "0.25", "--latent-dim", "8", "--epochs", "1",
            "--batch-size", "50", "--no-augment", "--no-progress", "--out", str(tmp_path)]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "test accuracy:" in out
    first = load_checkpoint(tmp_path / "model.pt")
    assert (tmp_path / "ce-t" / "last.pt").exists()  # CE-T trained first (no --from)
    # --resume on a finished run retrains nothing and reproduces the same model
    assert cli_main([*args, "--resume"]) == 0
    assert load_checkpoint(tmp_path / "model.pt")["model_id"] == first["model_id"]


def test_cli_rejects_bad_values(tmp_path, capsys):
    assert cli_main(["train", "--recipe", "ce", "--latent-dim", "0", "--out", str(tmp_path)]) == 2
    assert "--latent-dim: must be >= 1" in capsys.readouterr().err
    assert cli_main(["train", "--recipe", "ce", "--set", "nope=1", "--out", str(tmp_path)]) == 2
    assert "--set nope: unknown training setting" in capsys.readouterr().err
