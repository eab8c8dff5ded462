"""A corpus of bad inputs for the command line: every one ends in exit code 2 and one or two lines
naming the key or file, never a traceback, before any work starts (``run --check`` and
``train`` with no data loaded). ``main`` is called in-process; two cases also run the real
``commsldr`` process to cover the interpreter's own output.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from commsldr.cli import main
from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario.runner import make_run_dir

BASE = {
    "name": "tiny",
    "data": {"train_per_class": 20, "test_per_class": 10},
    "model": {"recipe": "ce", "train": {"epochs": 1, "latent_dim": 16}},
    "coding": {"scales": [0.5, 1.0]},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "images_per_packet": 2},
    "policies": {"fixed": {"type": "fixed", "k": 16, "scale": 1.0}, "oracle": {"type": "oracle"}},
    "seeds": [0],
    "frames": 50,
}


@pytest.fixture(scope="module")
def base_file(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    p = d / "base.yaml"
    p.write_text(yaml.safe_dump(BASE))
    return p


def _laughs(levels: int = 12) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for i in range(levels):
        text += f"l{i}: &l{i} [{', '.join(['*' + prev] * 9)}]\n"
        prev = f"l{i}"
    return text


#: (id, file content or None for the base file, --set overrides, words the message must contain)
SCENARIOS = [
    ("not-utf8", b"name: x\nframes: 10\n# \xff\xfe caf\xe9\n", [], ["not UTF-8", "line 3"]),
    ("deep-nesting", "a: " + "[" * 50_000 + "]" * 50_000 + "\n", [], ["nesting deeper than 32"]),
    ("billion-laughs", _laughs(), [], ["expands to more than 100000"]),
    ("bad-yaml", "name: [unclosed\n", [], ["not valid YAML"]),
    ("top-level-list", "- 1\n- 2\n", [], ["top level", "mapping"]),
    ("typo-key", None, ["chanels={}"], ["chanels", "did you mean 'channels'"]),
    ("typo-channel-param", None, ["channels.ray.mean_snr_dB=3"],
     ["channels.ray.mean_snr_dB", "did you mean 'mean_snr_db'"]),
    ("string-lr", None, ['model.train.lr="0.1"'], ["model.train.lr", "finite number"]),
    ("inf-lr", None, ["model.train.lr=.inf"], ["model.train.lr", "finite"]),
    ("inf-width", None, ["model.train.width=.inf"], ["model.train.width", "finite"]),
    ("nan-scale", None, ["coding.scales=[.nan, 1.0]"], ["coding.scales[0]", "finite"]),
    ("inf-channel-param", None, ["channels.ray.mean_snr_db=-.inf"],
     ["channels.ray.mean_snr_db", "finite"]),
    ("bool-epochs", None, ["model.train.epochs=true"], ["model.train.epochs", "integer"]),
    ("unknown-train-key", None, ["model.train.latent_dm=8"],
     ["model.train.latent_dm", "did you mean 'latent_dim'"]),
    ("unknown-backbone", None, ["model.train.backbone=resnet9"],
     ["model.train.backbone", "resnet8"]),
    ("huge-latent-dim", None, ["model.train.latent_dim=100000000"],
     ["model.train.latent_dim", "GiB"]),
    ("huge-width", None, ["model.train.width=100000.0"], ["model.train.width", "GiB"]),
    ("huge-frames", None, ["frames=1000000000"], ["frames", "GiB"]),
    ("frames-out-of-range", None, ["frames=100000000000000"], ["frames", "must be in [1, 1e+09]"]),
    ("packet-over-receiver-bound", None, ["link.images_per_packet=5000"],
     ["link.images_per_packet", "<= 256"]),
    ("packet-over-test-set", None, ["data.test_per_class=1", "link.images_per_packet=20"],
     ["link.images_per_packet", "10 test images"]),
    ("name-dotdot", None, ["name=../.."], ["name", "safe directory name"]),
    ("name-absolute", None, ["name=/etc"], ["name", "safe directory name"]),
    ("name-huge", None, ["name=" + "x" * 20_000], ["name", "..."]),
    ("cifar-offline", None, ["data.dataset=cifar10", "data.root=null"],
     ["data.download", "download is off"]),
    ("imagefolder-missing-root", None, ["data.dataset=imagefolder", "data.root=/nonexistent/x"],
     ["data.root", "no such directory"]),
    ("malformed-set", None, ["no-equals-sign"], ["--set", "KEY=VALUE"]),
    ("set-deep-value", None, ["description=" + "[" * 5000 + "]" * 5000],
     ["--set description", "nesting"]),
    ("sweep-too-large", None, ["sweep.frames=[10, 20, 30, 40]",
                               "sweep.channels.*.mean_snr_db=[0, 5, 10, 15]"],
     ["sweep", "16 sweep points", "--max-sweep-points"]),
]


@pytest.mark.parametrize(("content", "overrides", "words"), [s[1:] for s in SCENARIOS],
                         ids=[s[0] for s in SCENARIOS])
def test_bad_scenarios_exit_2_with_a_short_message(content, overrides, words, base_file, tmp_path,
                                                   capsys):
    path = base_file
    if content is not None:
        path = tmp_path / "s.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    argv = ["run", str(path), "--check", "--max-sweep-points", "10"]
    for o in overrides:
        argv += ["--set", o]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert 1 <= len(err.strip().splitlines()) <= 2, err
    assert len(err) < 1000, len(err)
    for w in words:
        assert w in err, (w, err)


def test_blocked_output_and_cache_directories_are_refused_at_check_time(base_file, tmp_path,
                                                                        capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for key in ("outputs.dir", "model.cache_dir"):
        assert main(["run", str(base_file), "--check", "--set", f"{key}={blocker}/sub"]) == 2
        err = capsys.readouterr().err
        assert key in err and "not a directory" in err and "Traceback" not in err


def test_a_garbage_checkpoint_is_refused_at_check_time(base_file, tmp_path, capsys):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(os.urandom(2000))
    raw = {**BASE, "model": {"checkpoint": str(garbage)}}
    path = tmp_path / "ckpt.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["run", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "model.checkpoint" in err and "Traceback" not in err


def test_check_accepts_what_run_can_run_for_train_values(base_file, capsys):
    """A string lr used to pass --check and crash the run; now both use TrainConfig's checks."""
    assert main(["run", str(base_file), "--check", "--set", "model.train.lr=0.05"]) == 0
    capsys.readouterr()
    loaded = load_scenario(base_file, ["model.train.lr=0.05"])
    from commsldr.scenario.load import train_config

    assert train_config(loaded.scenario).ce.lr == 0.05


#: (id, argv after "train", words)
TRAIN = [
    ("lr-inf", ["--lr", "inf"], ["--lr", "finite"]),
    ("width-nan", ["--width", "nan"], ["--width", "finite"]),
    ("unknown-backbone", ["--backbone", "resnet9"], ["--backbone", "did you mean 'resnet8'"]),
    ("missing-data-root", ["--dataset", "imagefolder", "--data-root", "/nonexistent/x"],
     ["--data-root", "train/"]),
    ("imagefolder-no-root", ["--dataset", "imagefolder"], ["--data-root", "required"]),
    ("cifar-offline", ["--dataset", "cifar10", "--data-root", "/nonexistent/x"],
     ["--download", "download is off"]),
    ("string-lr-set", ["--set", 'lr="0.1"'], ["--set lr", "finite number"]),
    ("unknown-set", ["--set", "latent_dm=3"], ["--set latent_dm", "did you mean 'latent_dim'"]),
    ("set-no-equals", ["--set", "lr"], ["--set", "KEY=VALUE"]),
    ("huge-latent", ["--latent-dim", "100000000"], ["--latent-dim", "GiB"]),
    ("huge-width", ["--width", "1e9"], ["--width"]),
    ("zero-epochs", ["--epochs", "0"], ["--epochs", ">= 1"]),
    ("bad-milestones", ["--set", "milestones=[0.5, 2]"], ["--set milestones", "(0, 1)"]),
    ("threads", ["--threads", "0"], ["--threads", ">= 1"]),
    ("missing-from", ["--from", "/nonexistent/ckpt.pt"], ["checkpoint not found"]),
]


def test_train_out_blocked_by_a_file(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["train", "--recipe", "ce", "--out", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert code == 2 and "--out" in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "words"), [t[1:] for t in TRAIN], ids=[t[0] for t in TRAIN])
def test_bad_train_arguments_exit_2_with_a_short_message(argv, words, tmp_path, capsys):
    code = main(["train", "--recipe", "ce", "--out", str(tmp_path / "o"), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and 1 <= len(err.strip().splitlines()) <= 2, err
    for w in words:
        assert w in err, (w, err)
    assert not (tmp_path / "o").exists()  # refused before any work


def test_debug_shows_the_traceback(base_file):
    with pytest.raises(ScenarioError):
        main(["--debug", "run", str(base_file), "--check", "--set", "frames=0"])
    with pytest.raises(ScenarioError):
        main(["run", str(base_file), "--check", "--set", "frames=0", "--debug"])


def test_an_unexpected_error_is_one_line_and_exit_1(monkeypatch, base_file, capsys):
    import commsldr.scenario as scenario

    def boom(*a, **k):
        raise KeyError("some internal detail")

    monkeypatch.setattr(scenario, "load_scenario", boom)
    assert main(["run", str(base_file), "--check"]) == 1
    err = capsys.readouterr().err
    assert "internal error" in err and "--debug" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"name: \xff\n", _laughs().encode()])
def test_the_real_process_prints_no_traceback(content, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[3]),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "commsldr.cli", "run", str(path), "--check"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and str(path) in proc.stderr


# ---------------------------------------------------------------------------------------------
# run directories
# ---------------------------------------------------------------------------------------------
def _scenario(tmp_path: Path, name: str = "tiny"):
    sc = load_scenario(BASE).scenario
    return dataclasses.replace(sc, name=name, outputs=dataclasses.replace(
        sc.outputs, dir=str(tmp_path / "runs")))


def test_two_runs_in_the_same_second_get_different_directories(tmp_path):
    sc = _scenario(tmp_path)
    dirs = {make_run_dir(sc) for _ in range(5)}
    assert len(dirs) == 5
    root = (tmp_path / "runs").resolve()
    assert all(d.resolve().is_relative_to(root) and d.is_dir() for d in dirs)


@pytest.mark.parametrize("name", ["../..", "/etc", "a/b", "..", ""])
def test_unsafe_names_never_leave_outputs_dir(tmp_path, name):
    with pytest.raises(ScenarioError, match="name"):
        make_run_dir(_scenario(tmp_path, name))
    assert not any(p for p in tmp_path.iterdir() if p.name != "runs")


def test_out_onto_a_used_directory_needs_overwrite(tmp_path):
    sc = _scenario(tmp_path)
    out = tmp_path / "out"
    assert make_run_dir(sc, out) == out  # new: fine
    (out / "results.json").write_text("{}")
    with pytest.raises(ScenarioError, match="--out.*--overwrite"):
        make_run_dir(sc, out)
    assert make_run_dir(sc, out, overwrite=True) == out
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ScenarioError, match="not a directory"):
        make_run_dir(sc, blocker)


def test_an_unwritable_outputs_dir_is_named(tmp_path):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the runs directory should be")
    sc = _scenario(tmp_path)
    sc = dataclasses.replace(sc, outputs=dataclasses.replace(sc.outputs, dir=str(blocker)))
    with pytest.raises(ScenarioError, match="outputs.dir"):
        make_run_dir(sc)


def test_torch_is_importable():  # the corpus above must not leave torch in a bad state
    assert torch.zeros(1).item() == 0


def test_user_errors_survive_pickling():  # sweeps may run points in other processes
    import pickle

    from commsldr.train import CheckpointError
    from commsldr.train.loop import TrainingDivergedError

    for err in (ScenarioError("a.b", "bad"), CheckpointError("gone"), TrainingDivergedError("x")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err) and back.key == err.key
