"""Input paths written in a scenario file resolve relative to that file, not to the working
directory; ``--set`` paths and output locations stay relative to the working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import commsldr_channels
from commsldr.scenario import ScenarioError, load_scenario

TRACE = Path(commsldr_channels.__file__).parent / "data" / "att-lte-driving-20s.up"

SCENARIO = """
data: {dataset: synthetic, train_per_class: 10, test_per_class: 5}
model: {recipe: ce, train: {latent_dim: 8}}
channels:
  lte: {type: trace-mahimahi, path: traces/t.up, mean_bits_per_frame: 100.0}
policies:
  oracle: {type: oracle}
"""


@pytest.fixture
def study(tmp_path: Path) -> Path:
    d = tmp_path / "study"
    (d / "traces").mkdir(parents=True)
    (d / "traces" / "t.up").write_bytes(TRACE.read_bytes())
    (d / "s.yaml").write_text(SCENARIO)
    return d / "s.yaml"


def test_relative_path_resolves_from_the_scenario_file(study: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    loaded = load_scenario(os.path.relpath(study, other))
    path = Path(loaded.scenario.channels["lte"].params["path"])
    assert path.is_absolute() and path.samefile(study.parent / "traces" / "t.up")
    assert loaded.scenario.outputs.dir == "runs"  # outputs stay relative to the working dir


def test_set_paths_are_relative_to_the_working_directory(study: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match="channels.lte.path"):
        load_scenario(study, ["channels.lte.path=traces/t.up"])  # no tmp/traces/t.up
    loaded = load_scenario(study, ["channels.lte.path=study/traces/t.up"])
    assert loaded.scenario.channels["lte"].params["path"] == "study/traces/t.up"


def test_sweep_values_of_path_parameters_resolve_too(study: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    study.write_text(SCENARIO + "sweep:\n  channels.lte.path: [traces/t.up]\n")
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(study)
    assert Path(loaded.points[0].scenario.channels["lte"].params["path"]).is_file()


def test_plugin_paths_resolve_and_survive_the_resolved_config(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    repo = Path(__file__).resolve().parents[3]
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(repo / "scenarios" / "custom_policy.yaml")
    (plugin,) = loaded.scenario.plugins
    assert Path(plugin).is_absolute() and Path(plugin).samefile(repo / "examples" / "custom_policy.py")
    # the run directory's config.yaml loads again from anywhere
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text(yaml.safe_dump(loaded.scenario.to_dict()))
    again = load_scenario(tmp_path / "run" / "config.yaml")
    assert again.scenario.policies["hysteresis"].type == "hysteresis-greedy"
