"""Scenario text the YAML reader refuses: control characters, syntax errors, duplicate keys, and
files that are not scenarios (empty, a list, a directory). Each is exit code 2 and one line
naming the file (or ``--set KEY``), the line and what is wrong; never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from commsldr.cli.main import main
from commsldr.scenario import ScenarioError
from commsldr.scenario.files import parse_yaml, read_yaml, scenarios_dir

#: a complete scenario that passes ``--check`` without data or training
GOOD = """\
name: tiny
data: {dataset: synthetic, train_per_class: 20, test_per_class: 10}
model: {recipe: ce, train: {epochs: 1, latent_dim: 16}}
coding: {scales: [0.5, 1.0]}
channels:
  ray:
    type: rayleigh-block
    mean_snr_db: 10.0
link: {phy: shannon, bandwidth_hz: 100000.0, images_per_packet: 2}
policies:
  fixed: {type: fixed, k: 16, scale: 1.0}
  oracle: {type: oracle}
seeds: [0]
frames: 50
"""


def _run(capsys, path: Path, *sets: str) -> tuple[int, str]:
    argv = ["run", str(path), "--check"]
    for s in sets:
        argv += ["--set", s]
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return code, err


def test_the_good_scenario_passes(tmp_path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    assert main(["run", str(path), "--check"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(("char", "name"), [("\x00", "U+0000"), ("\x01", "U+0001"),
                                             ("\x07", "U+0007"), ("\x7f", "U+007F")])
def test_a_control_character_names_the_file_and_line(char, name, tmp_path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("name: tiny", f"name: ti{char}ny", 1).replace(
        "frames: 50", f"frames: 50\ndescription: a{char}b"))
    code, err = _run(capsys, path)
    assert code == 2
    assert f"{path}: control character {name} at line 1, column 9" in err, err
    assert "printable" in err


def test_a_control_character_in_a_set_value_names_the_key(tmp_path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    code, err = _run(capsys, path, "frames=1\x07")
    assert code == 2
    assert "--set frames: control character U+0007 at line 1, column 2" in err, err


def test_parse_yaml_refuses_control_characters_as_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"^f\.yaml: control character U\+0000 at line 3"):
        parse_yaml("a: 1\nb: 2\nc: \x00\n", "f.yaml")


@pytest.mark.parametrize(("text", "words"), [
    ("name: x\nframes: [1, 2\nseeds: 3\n",
     ["expected ',' or ']', but got ':' at line 3, column 6",
      "while parsing a flow sequence that starts at line 2, column 9"]),
    ("name: 'unclosed\n", ["found unexpected end of stream at line 2, column 1",
                           "quoted scalar that starts at line 1, column 7"]),
    ("a: 1\n  b: 2\n", ["mapping values are not allowed here at line 2, column 4"]),
    ("a:\n\tb: 1\n", ["found character '\\t' that cannot start any token at line 2, column 1"]),
    ("a: !!python/object:os.system x\n", ["could not determine a constructor", "line 1, column 4"]),
])
def test_a_yaml_syntax_error_is_one_line_with_line_and_column(text, words, tmp_path,
                                                              capsys) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, err = _run(capsys, path)
    assert code == 2
    assert f"{path}: not valid YAML: " in err, err
    assert "<unicode string>" not in err and "\\n" not in err, err
    for w in words:
        assert w in err, (w, err)


def test_a_yaml_syntax_error_in_a_set_value_names_the_key(tmp_path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    code, err = _run(capsys, path, "seeds=[1, 2")
    assert code == 2
    assert "--set seeds: not valid YAML: " in err and "line 1" in err, err


@pytest.mark.parametrize(("old", "new", "key", "line", "first"), [
    ("frames: 50", "frames: 50\nframes: 60", "frames", 15, 14),
    ("    mean_snr_db: 10.0", "    mean_snr_db: 10.0\n    mean_snr_db: 3.0", "mean_snr_db", 9, 8),
    ("  oracle: {type: oracle}", "  fixed: {type: fixed, k: 16, scale: 0.5}", "fixed", 12, 11),
    ("seeds: [0]", "seeds: [0]\n'seeds': [1]", "seeds", 14, 13),
])
def test_a_duplicate_key_is_refused_at_every_level(old, new, key, line, first, tmp_path,
                                                   capsys) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    code, err = _run(capsys, path)
    assert code == 2
    assert f"{path}: duplicate key '{key}' at line {line} (first at line {first})" in err, err


def test_a_duplicate_key_in_a_set_value_names_the_key(tmp_path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    code, err = _run(capsys, path, "channels.ray={type: awgn, snr_db: 1, snr_db: 2}")
    assert code == 2
    assert "--set channels.ray: duplicate key 'snr_db' at line 1, column 25 (first at column 14)" \
        in err, err


@pytest.mark.parametrize(("text", "expected"), [
    # an explicit key overrides a key merged with ``<<`` (legal YAML, as the merge spec says)
    ("b: &b {x: 1, y: 2}\nc: {<<: *b, x: 3}\n", {"b": {"x": 1, "y": 2}, "c": {"x": 3, "y": 2}}),
    # a merged mapping that itself merges, flattened before its own turn (what b gets is
    # PyYAML's business: it keeps the first 'k' it merges)
    ("x: &x {k: 0}\na:\n  inner: &i {<<: *x, k: 1}\nb: {<<: *i}\n", None),
    ("a: &a {k: 0}\nb: &b {k: 1, j: 2}\nc:\n  <<: [*a, *b]\n  k: 5\n",
     {"a": {"k": 0}, "b": {"k": 1, "j": 2}, "c": {"k": 5, "j": 2}}),
    ("a: {x: 1}\nb: {x: 1}\n", {"a": {"x": 1}, "b": {"x": 1}}),
])
def test_merge_keys_overridden_by_explicit_keys_stay_allowed(text, expected) -> None:
    got = parse_yaml(text, "f.yaml")
    assert got == yaml.safe_load(text)
    assert expected is None or got == expected


def test_a_duplicate_inside_a_merged_mapping_is_refused() -> None:
    with pytest.raises(ScenarioError, match="duplicate key 'k' at line 1, column 14"):
        parse_yaml("a: &a {k: 0, k: 1}\nb: {<<: *a}\n", "f.yaml")


@pytest.mark.parametrize("path", sorted(scenarios_dir().glob("**/*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_still_reads(path: Path) -> None:
    assert isinstance(read_yaml(path), dict)


@pytest.mark.parametrize(("content", "words"), [
    ("- 1\n- 2\n", ["the top level of a scenario must be a mapping", "got a list"]),
    ("just text\n", ["the top level of a scenario must be a mapping", "got a string"]),
    ("", ["the file is empty"]),
    ("# only a comment\n\n", ["the file is empty"]),
])
def test_a_file_that_is_not_a_scenario_mapping_is_named(content, words, tmp_path,
                                                        capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content)
    code, err = _run(capsys, path)
    assert code == 2
    assert f"{path}: " in err, err
    for w in words:
        assert w in err, (w, err)


def test_a_scenario_path_that_is_a_directory_says_so(tmp_path, capsys) -> None:
    d = tmp_path / "dir.yaml"
    d.mkdir()
    code, err = _run(capsys, d)
    assert code == 2
    assert f"{d}: is a directory" in err and "no scenario file" not in err, err
    with pytest.raises(ScenarioError, match="is a directory"):
        read_yaml(d)
