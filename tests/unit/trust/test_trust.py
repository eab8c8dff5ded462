"""Scenarios and run directories import no plug-in unless the user allowed it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from commsldr.cli import main
from commsldr.scenario import load_scenario
from commsldr.trust import PluginNotAllowedError, TrustList, allow_code, check_scenario_plugins


@pytest.fixture
def evil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A plug-in that leaves a marker file when it runs; an empty allow-list; no --allow-plugins
    left over from another test in this process."""
    allow_code(False)
    monkeypatch.setenv("COMMSLDR_TRUST_FILE", str(tmp_path / "no-such-trust-file"))
    monkeypatch.delenv("COMMSLDR_TRUSTED_PLUGINS", raising=False)
    marker = tmp_path / "ran"
    plugin = tmp_path / "evil.py"
    plugin.write_text(f"open({str(marker)!r}, 'w').write('executed')\n")
    return plugin, marker




@pytest.fixture
def scenario(tmp_path: Path, tiny_scenario):
    """A function writing the tiny scenario with the given ``plugins`` to ``tmp_path/s.yaml``."""
    def write(plugins: list[str]) -> Path:
        s = tmp_path / "s.yaml"
        s.write_text(yaml.safe_dump({**tiny_scenario(), "plugins": plugins}))
        return s
    return write


def test_load_and_check_import_nothing_unasked(scenario, tmp_path, evil, capsys):
    plugin, marker = evil
    s = scenario(["evil.py"])
    with pytest.raises(PluginNotAllowedError) as info:
        load_scenario(s)
    text = str(info.value)
    assert str(plugin) in text and str(s) in text and "--allow-plugins" in text
    assert "Nothing was imported" in text and len(text) <= 600
    assert main(["run", str(s), "--check"]) == 2
    err = capsys.readouterr().err
    assert "evil.py" in err and "--allow-plugins" in err and "Traceback" not in err
    assert not marker.exists()


def test_resume_of_a_shared_run_dir_imports_nothing(tmp_path, evil, capsys):
    plugin, marker = evil
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump({"name": "x", "plugins": [str(plugin)]}))
    assert main(["run", "--resume", str(run)]) == 2
    assert "would import and run the file" in capsys.readouterr().err
    assert not marker.exists()


def test_module_names_are_refused_too_and_sys_path_is_untouched(scenario, tmp_path, evil, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "filelock.py").write_text("raise SystemExit('the working directory was used')\n")
    before = list(sys.path)
    with pytest.raises(PluginNotAllowedError, match="the module 'json'"):
        load_scenario(scenario(["json"]))
    load_scenario(scenario(["json"]), allow_plugins=True)
    assert sys.path == before  # the working directory was not put first
    import filelock  # noqa: F401  the real package, not ./filelock.py

    assert "site-packages" in filelock.__file__ or "dist-packages" in filelock.__file__


def test_allow_plugins_runs_it(scenario, tmp_path, evil):
    plugin, marker = evil
    load_scenario(scenario([str(plugin)]), allow_plugins=True)
    assert marker.read_text() == "executed"


@pytest.mark.parametrize("entry", ["dir", "file", "env"])
def test_the_allow_list_trusts_files_and_directories(scenario, tmp_path, evil, monkeypatch, entry):
    plugin, marker = evil
    trust = tmp_path / "trusted-plugins"
    if entry == "env":
        monkeypatch.setenv("COMMSLDR_TRUSTED_PLUGINS", str(plugin))
    else:
        trust.write_text(f"# mine\n{tmp_path if entry == 'dir' else plugin}  # ok\n")
        monkeypatch.setenv("COMMSLDR_TRUST_FILE", str(trust))
    load_scenario(scenario(["evil.py"]))
    assert marker.exists()


def test_trust_list_rules(tmp_path):
    (tmp_path / "d").mkdir()
    t = TrustList.from_entries(["my_pkg", str(tmp_path / "d"), str(tmp_path / "x.py"), "", "# c"])
    assert t.allows("my_pkg", None) and t.allows("my_pkg.policies", None)
    assert not t.allows("my_pkgx", None) and not t.allows("json", None)
    assert t.allows("a.py", (tmp_path / "d" / "sub" / "a.py").resolve())
    assert t.allows("x.py", (tmp_path / "x.py").resolve())
    assert not t.allows("y.py", (tmp_path / "y.py").resolve())
    check_scenario_plugins([], source=None, base_dir=None, allow=False)  # nothing to check


def test_shipped_example_scenario_needs_no_flag(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMSLDR_TRUST_FILE", str(tmp_path / "none"))
    repo = Path(__file__).resolve().parents[3]
    loaded = load_scenario(repo / "scenarios" / "custom_policy.yaml")
    assert loaded.scenario.policies["hysteresis"].type == "hysteresis-greedy"


@pytest.fixture
def no_code_allowed():
    allow_code(False)
    yield
    allow_code(False)


def test_an_rl_checkpoint_outside_the_shipped_models_is_code_and_refused(tmp_path, monkeypatch,
                                                                         no_code_allowed):
    pytest.importorskip("stable_baselines3")
    from commsldr.adapt.rl import DeepRLPolicy, rl_checkpoint_paths
    from commsldr.resources import shipped_models_dir

    monkeypatch.setenv("COMMSLDR_TRUST_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("COMMSLDR_RL_DIR", raising=False)
    names = sorted(p.stem for p in (shipped_models_dir() / "rl").glob("*.json"))
    if not names:
        pytest.skip("no shipped RL checkpoint")
    zp, jp = rl_checkpoint_paths(names[0])
    DeepRLPolicy(names[0])  # shipped: as trusted as commsldr
    copy = tmp_path / "shared" / zp.name
    copy.parent.mkdir()
    shutil.copy(zp, copy)
    shutil.copy(jp, copy.with_suffix(".json"))
    with pytest.raises(PluginNotAllowedError, match=r"^checkpoint: the RL checkpoint .*pickle.*"
                                                    r"nothing was loaded.*--allow-plugins"):
        DeepRLPolicy(str(copy))
    allow_code()  # --allow-plugins
    assert DeepRLPolicy(str(copy)).agent is not None
