"""``extends``: merge rules, paths relative to each file, shipped bases, cycles, errors."""

from __future__ import annotations

import pytest

from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario.compose import merge

BASE = """
data: {dataset: synthetic, train_per_class: 10, test_per_class: 5}
model: {recipe: ce, train: {backbone: resnet8, width: 0.25, latent_dim: 16, epochs: 1}}
channels:
  a: {type: awgn, snr_db: 5.0}
  b: {type: awgn, snr_db: 9.0}
policies: {fixed: {type: fixed, k: 16, scale: 1.0}}
seeds: [0, 1, 2]
frames: 50
"""


def test_merge_rules():
    base = {"m": {"x": 1, "y": {"z": 2}}, "l": [1, 2], "s": 1, "gone": {"k": 1}, "name": "b"}
    over = {"m": {"y": {"w": 3}}, "l": [3], "gone": None, "new": 4}
    assert merge(base, over) == {"m": {"x": 1, "y": {"z": 2, "w": 3}}, "l": [3], "s": 1,
                                 "name": "b", "new": 4}
    assert base["m"]["y"] == {"z": 2}  # inputs untouched


def test_extends_merges_and_replaces(tmp_path):
    (tmp_path / "base.yaml").write_text("name: base\n" + BASE)
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\n"
                     "model: {train: {epochs: 2}}\n"
                     "channels: {b: null, c: {type: awgn, snr_db: 1.0}}\n"
                     "seeds: [7]\n")
    sc = load_scenario(child).scenario
    assert sc.name == "child"  # not inherited
    assert sc.data.train_per_class == 10 and sc.model.train["epochs"] == 2
    assert sc.model.train["latent_dim"] == 16  # merged key by key
    assert list(sc.channels) == ["a", "c"]
    assert sc.seeds == [7] and sc.frames == 50


def test_chain_and_list_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.yaml").write_text(BASE)
    (tmp_path / "sub" / "mid.yaml").write_text("extends: base.yaml\nframes: 60\n")
    (tmp_path / "other.yaml").write_text("frames: 70\nseeds: [4]\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: [sub/mid.yaml, other.yaml]\n")
    sc = load_scenario(child).scenario
    assert sc.frames == 70 and sc.seeds == [4]  # the later base wins
    child.write_text("extends: [other.yaml, sub/mid.yaml]\n")
    assert load_scenario(child).scenario.frames == 60


def test_base_paths_are_relative_to_the_base(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "plug.py").write_text("X = 1\n")
    (tmp_path / "lib" / "base.yaml").write_text("plugins: [plug.py]\n" + BASE)
    child = tmp_path / "child.yaml"
    child.write_text("extends: lib/base.yaml\n")
    sc = load_scenario(child, allow_plugins=True).scenario
    assert sc.plugins == [str(tmp_path / "lib" / "plug.py")]


def test_shipped_base_from_anywhere(tmp_path):
    child = tmp_path / "mine.yaml"
    child.write_text("extends: base/synthetic.yaml\n"
                     "channels: {a: {type: awgn, snr_db: 5.0}}\n"
                     "policies: {fixed: {type: fixed, k: 16, scale: 1.0}}\n")
    sc = load_scenario(child).scenario
    assert sc.data.dataset == "synthetic" and sc.model.truncations == [8, 16]


@pytest.mark.parametrize(("text", "match"), [
    ("extends: nowhere.yaml\n", "nowhere.yaml.*is not a file"),
    ("extends: 3\n", "expected a file name or a list"),
    ("extends: self.yaml\n", "cycle: self.yaml → self.yaml"),
])
def test_errors_name_extends(tmp_path, text, match):
    f = tmp_path / "self.yaml"
    f.write_text(text + BASE)
    with pytest.raises(ScenarioError, match=match) as e:
        load_scenario(f)
    assert e.value.key == "extends"


def test_cycle_through_two_files(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n" + BASE)
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="cycle: a.yaml → b.yaml → a.yaml"):
        load_scenario(tmp_path / "a.yaml")
