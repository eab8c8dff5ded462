"""One --quiet for every command, YAML --set in train, full remedies in user errors, singular
kinds and did-you-mean, the cache location, provenance of results."""

from __future__ import annotations

import argparse
import json

from commsldr.cache import cache_root, resolve_cache_dir
from commsldr.cli import main as cli_main
from commsldr.provenance import overrides_of, provenance


def test_quiet_anywhere_and_singular_kinds(capsys):
    assert cli_main(["--quiet", "list", "channel"]) == 0
    assert "rayleigh-block" in capsys.readouterr().out
    assert cli_main(["describe", "policy", "fixed", "--quiet"]) == 0
    assert "policy 'fixed'" in capsys.readouterr().out


def test_did_you_mean(capsys):
    assert cli_main(["describe", "channels", "raleigh-block"]) == 2
    assert "did you mean 'rayleigh-block'" in capsys.readouterr().err
    assert cli_main(["run", "quickstar", "--check"]) == 2
    assert "did you mean 'quickstart'" in capsys.readouterr().err


def test_train_set_takes_yaml():
    from commsldr.cli.train import add_arguments, config_from_args

    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--recipe", "screen", "--set", "dims=[16, 32]", "--set", "lr=1e-2"])
    cfg = config_from_args(args)
    assert list(cfg.screen.dims) == [16, 32] and cfg.ce.lr == 0.01


def test_long_user_errors_keep_their_remedy(monkeypatch, capsys):
    import torchvision.datasets

    class Offline:
        def __init__(self, *a, **k):
            raise OSError("[Errno -3] Temporary failure in name resolution " + "x" * 300)

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", Offline)
    assert cli_main(["evaluate", "--dataset", "cifar10", "--download", "--quiet",
                     "cifar10-ce-d64"]) == 2
    err = capsys.readouterr().err
    assert "or use an imagefolder copy" in err and "..." not in err


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMSLDR_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c" and resolve_cache_dir("") == tmp_path / "c"
    monkeypatch.delenv("COMMSLDR_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "commsldr"
    assert resolve_cache_dir("/some/where") .as_posix() == "/some/where"


def test_provenance_fields():
    p = provenance(["commsldr", "run", "q", "--set", "frames=5", "--set=seeds=[0]"])
    assert p["overrides"] == ["frames=5", "seeds=[0]"] == overrides_of(p["command"])
    for key in ("commsldr", "torch", "numpy", "python", "git_commit", "sionna"):
        assert key in p
    assert p["torch"]


def test_plugin_option_travels_with_the_scenario(capsys, monkeypatch):
    """--plugin FILE is recorded in the scenario's plugins (config.yaml), which every worker
    (spawn, Ray) imports before its first job."""
    from pathlib import Path

    import yaml

    repo = Path(__file__).resolve().parents[3]
    monkeypatch.chdir(repo)
    assert cli_main(["run", "quickstart", "--check", "--plugin", "examples/custom_policy.py",
                     "--set", "policies.h={type: hysteresis-greedy}"]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["plugins"] == [str((repo / "examples" / "custom_policy.py").resolve())]


def test_run_interrupted_says_how_to_continue(tmp_path, monkeypatch, capsys):
    """Ctrl-C while the model trains (before any job) ended 'commsldr run' with exit 130 and no
    word, with --quiet or without; now one line names the --resume command."""
    import commsldr.scenario.runner as runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_scenario", interrupted)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nextends: base/synthetic.yaml\n"
                        "channels: {a: {type: awgn, snr_db: 10.0}}\n"
                        "link: {phy: shannon, bandwidth_hz: 1.0e+5}\n"
                        "policies: {o: {type: oracle}}\nframes: 10\nseeds: [0]\n")
    out = tmp_path / "run"
    for quiet in ([], ["--quiet"]):
        assert cli_main(["run", str(scenario), "--out", str(out), *quiet]) == 130
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"commsldr run: interrupted; finished work is kept, continue with: "
                       f"commsldr run --resume {out}"]


def test_a_resumed_run_keeps_the_overrides_that_started_it(tmp_path):
    from commsldr.scenario.runner import FIRST_PROVENANCE_FILE, _provenance

    first = provenance(["commsldr", "run", "q.yaml", "--set", "frames=5", "--out", "d"])
    (tmp_path / FIRST_PROVENANCE_FILE).write_text(json.dumps(first))
    resumed = _provenance(tmp_path, resume=True)
    assert resumed["overrides"] == ["frames=5"] and resumed["first_run"] == first
    assert "first_run" not in _provenance(tmp_path, resume=False)
    (tmp_path / FIRST_PROVENANCE_FILE).write_text("{not json")  # damaged: said, not fatal
    assert _provenance(tmp_path, resume=True)["first_run"] is None


def test_argument_errors_are_one_line(capsys):
    for argv in (["--bogus"], [], ["frob"], ["run", "--jobs", "abc"], ["list", "nope"],
                 ["evaluate", "x", "--budgets", "8,abc"], ["describe"]):
        try:
            rc = cli_main(argv)
        except SystemExit as e:  # argparse exits
            rc = e.code
        err = capsys.readouterr().err
        assert rc == 2 and len(err.strip().splitlines()) == 1, (argv, err)
        assert "usage:" not in err and "--help" in err, (argv, err)


def test_the_command_list_is_the_parsers():
    from commsldr.cli.main import COMMANDS, build_parser

    sub = next(a for a in build_parser(train=False)._actions
               if isinstance(a, argparse._SubParsersAction))
    assert tuple(sub.choices) == COMMANDS


def test_train_refuses_a_bad_device_before_writing(tmp_path, capsys):
    out = tmp_path / "run"
    for device in ("bogus", "mps", "cpu:abc", "cpu:1"):
        assert cli_main(["train", "--recipe", "ce", "--device", device, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "--device" in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_train_refuses_keep_beyond_the_latent(tmp_path, capsys):
    argv = ["train", "--recipe", "truncate", "--keep", "100", "--latent-dim", "32",
            "--dataset", "synthetic", "--out", str(tmp_path / "run")]
    assert cli_main(argv) == 2
    assert "--keep: 100 exceeds --latent-dim, 32" in capsys.readouterr().err


def test_train_help_needs_no_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom commsldr.cli import build_parser\n"
            "build_parser(train=True).parse_args(['train', '--recipe', 'ce'])\n"
            "import commsldr.train\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_train_package_exports_every_name_lazily():
    import commsldr.train as train

    assert set(train.__all__) == set(train._EXPORTS)
    for name in train.__all__:
        assert getattr(train, name) is not None
