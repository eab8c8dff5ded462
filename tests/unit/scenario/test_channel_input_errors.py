"""Channel inputs a scenario can get wrong (trace files beyond the bounds, a trace path that is a
directory, ``pathloss-shadowing`` parameters of the wrong type), through ``commsldr run --check``:
exit code 2 and one line naming the key and the file, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from commsldr.cli.main import main

SCENARIO = """\
name: tiny
data: {{dataset: synthetic, train_per_class: 20, test_per_class: 10}}
model: {{recipe: ce, train: {{epochs: 1, latent_dim: 16}}}}
coding: {{scales: [0.5, 1.0]}}
channels:
  x: {{{channel}}}
link: {{phy: shannon, bandwidth_hz: 100000.0, frame_s: 0.01, images_per_packet: 2}}
policies:
  oracle: {{type: oracle}}
seeds: [0]
frames: 50
"""


def _check(tmp_path: Path, capsys, channel: str) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(channel=channel))
    code = main(["run", str(path), "--check"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert "RuntimeWarning" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return code, err


@pytest.mark.parametrize(("name", "content", "model", "words"), [
    ("t.up", "0\n99999999999999999999\n", "trace-mahimahi", [":2: timestamp", "1e+12 ms"]),
    ("t.up", "0\n9000000000000000000\n", "trace-mahimahi", [":2: timestamp", "1e+12 ms"]),
    ("t.csv", "0,1.7e308\n0.01,1.7e308\n0.02,1.7e308\n", "trace-csv",
     [":1: 1.7e+308 bits in 0.01 s exceed", "1e+15 bit/s"]),
])
def test_a_trace_beyond_the_bounds_is_refused_at_check(name, content, model, words, tmp_path,
                                                        capsys) -> None:
    trace = tmp_path / name
    trace.write_text(content)
    code, err = _check(tmp_path, capsys, f"type: {model}, path: {name}, mean_bits_per_frame: 300")
    assert code == 2
    assert f"channels.x.path: {trace}" in err, err
    for w in words:
        assert w in err, (w, err)


def test_a_trace_path_that_is_a_directory_says_so(tmp_path, capsys) -> None:
    (tmp_path / "traces").mkdir()
    code, err = _check(tmp_path, capsys, "type: trace-mahimahi, path: traces")
    assert code == 2
    assert f"channels.x.path: '{tmp_path / 'traces'}' is a directory" in err, err
    assert "does not exist" not in err


@pytest.mark.parametrize(("params", "key", "words"), [
    ("distances_m: 5", "channels.x.distances_m", ["expected a list of distances", "got 5"]),
    ("small_scale_params: 5", "channels.x.small_scale_params",
     ["expected a mapping", "allowed: mean_snr_db, coherence_frames"]),
    ("small_scale_params: {nope: 1}", "channels.x.small_scale_params",
     ["'nope' is not a parameter of small_scale 'rayleigh-block'",
      "allowed: mean_snr_db, coherence_frames"]),
])
def test_pathloss_parameters_of_the_wrong_type_name_the_key(params, key, words, tmp_path,
                                                            capsys) -> None:
    code, err = _check(tmp_path, capsys, f"type: pathloss-shadowing, {params}")
    assert code == 2
    assert f"{key}: " in err and "not iterable" not in err and "__init__" not in err, err
    for w in words:
        assert w in err, (w, err)


@pytest.mark.parametrize("override", ["channels.y.mean_snr_db=3", "sweep.channels.y.mean_snr_db=[0, 3]",
                                      "channels.xx.mean_snr_db=3"])
def test_a_label_the_scenario_lacks_is_named_with_the_labels_it_has(tmp_path, capsys, override):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(channel="type: awgn, snr_db: 10"))
    assert main(["run", str(path), "--check", "--set", override]) == 2
    err = capsys.readouterr().err
    assert "is not a label of channels" in err and "(labels: x)" in err, err
    assert len(err.strip().splitlines()) == 1
    if "xx" in override:
        assert "did you mean 'x'" in err


def test_a_channel_frame_other_than_the_links_is_refused(tmp_path, capsys):
    rc, err = _check(tmp_path, capsys, "type: doppler-fading, mean_snr_db: 10, frame_s: 5")
    assert rc == 2 and "channels.x.frame_s" in err and "link.frame_s (0.01)" in err, err
    rc, err = _check(tmp_path, capsys, "type: doppler-fading, mean_snr_db: 10, frame_s: 0.01")
    assert rc == 0, err
