"""A run directory is data: a results.json that is valid JSON but not of the shape commsldr
writes (a key removed, a number turned into text, a row that is a list) is a clear error naming
the entry, never an internal error of the figures (``commsldr plot`` exited 1 with KeyError
'rows' and TypeError for these)."""

from __future__ import annotations

import copy
import json
import os

import pytest

from commsldr.cli import main as cli_main
from commsldr.report.plots import plot_run
from commsldr.report.results import load_results, save_results

GOOD = {
    "scenario": "shape", "sweep_keys": ["channels.a.snr_db"],
    "sweep_values": [{"channels.a.snr_db": 0.0}, {"channels.a.snr_db": 10.0}],
    "channels": ["a"], "policies": ["fixed"], "seeds": [0], "frames": 10,
    "operating_points": [{"k": 8, "scale": 1.0, "accuracy": 0.5, "bits_per_image": 100.0}],
    "timeline_point": {"channels.a.snr_db": 10.0}, "schemes": {},
    "rows": [{"point": p, "scheme": "split-ae", "channel": "a", "policy": "fixed",
              "policy_type": "fixed", "channels.a.snr_db": snr, "mean_capacity_bits": 100.0,
              "mean_snr_db": snr, "accuracy": 0.5, "accuracy_low": 0.4, "accuracy_high": 0.6,
              "mean_bits_per_image": 100.0, "sensor_macs": 1e6}
             for p, snr in enumerate((0.0, 10.0))],
    "per_seed": [],
    "timeline": {"a": {"fixed": {"snr_db": [10.0] * 6, "capacity_bits": [300.0] * 6,
                                 "packet_bits": [100] * 6, "k": [8] * 6, "scale": [1.0] * 6,
                                 "delivered": [True, False] * 3, "num_correct": [1, 0] * 3,
                                 "images_per_packet": 1}}},
}


def _drop_rows(d):
    del d["rows"]


def _text_accuracy(d):
    d["rows"][0]["accuracy"] = "high"


def _null_accuracy(d):
    d["rows"][1]["accuracy"] = None


def _row_is_list(d):
    d["rows"][0] = [1, 2]


def _no_channel(d):
    del d["rows"][1]["channel"]


def _no_low(d):
    del d["rows"][1]["accuracy_low"]


def _ci_method_object(d):
    d["per_seed"] = [dict(d["rows"][0], ci_method={"a": 1})]


def _numeric_policy(d):
    d["rows"][0]["policy"] = 3


def _rows_is_object(d):
    d["rows"] = {"a": 1}


def _top_is_list(d):
    return [1]


def _op_text(d):
    d["operating_points"][0]["bits_per_image"] = "many"


def _channels_text(d):
    d["channels"] = "a"


def _timeline_nested_list(d):
    d["timeline"]["a"]["fixed"]["k"][2] = [1]


def _timeline_lengths(d):
    d["timeline"]["a"]["fixed"]["delivered"].append(True)


def _timeline_line_text(d):
    d["timeline"]["a"]["fixed"] = "x"


def _timeline_scalar_text(d):
    d["timeline"]["a"]["fixed"]["images_per_packet"] = "one"


def _no_channels(d):
    del d["channels"]


def _no_scenario(d):
    del d["scenario"]


def _numeric_sweep_key(d):
    d["sweep_keys"] = [5]


def _empty_channels(d):
    d["channels"] = []


def _sweep_value_list(d):
    d["sweep_values"][0] = [1]


def _op_no_k(d):
    del d["operating_points"][0]["k"]


def _scheme_text(d):
    d["schemes"] = {"jpeg": "x"}


def _scheme_op_macs_text(d):
    d["schemes"] = {"jpeg": {"operating_points": [{"accuracy": 0.5, "bits_per_image": 10.0,
                                                   "sensor_macs": "many"}]}}


def _confidence_text(d):
    d["confidence"] = "high"


def _seed_text(d):
    d["seeds"] = ["zero"]


def _swept_value_list(d):
    d["rows"][0]["channels.a.snr_db"] = [1, 2]


def _regret_point_text(d):
    d["regret"] = {"point": "x", "curves": []}


def _regret_short_band(d):
    d["regret"] = {"point": 0, "references": {"oracle": "fixed"}, "curves": [
        {"point": 0, "channel": "a", "policy": "fixed", "reference": "oracle",
         "frames": [1, 2, 3], "regret": [0.1, 0.2, 0.3], "regret_low": [0.0, 0.1],
         "regret_high": [0.2, 0.3, 0.4]}]}


def _regret_curve_no_frames(d):
    d["regret"] = {"point": 0, "curves": [{"point": 0, "channel": "a", "policy": "fixed",
                                           "reference": "oracle", "regret": [0.1]}]}


def _timeline_no_k(d):
    del d["timeline"]["a"]["fixed"]["k"]


def _timeline_zero_images(d):
    d["timeline"]["a"]["fixed"]["images_per_packet"] = 0


def _timeline_no_lines(d):
    d["timeline"]["a"] = {}


def _timeline_lines_differ(d):
    line = copy.deepcopy(d["timeline"]["a"]["fixed"])
    d["timeline"]["a"]["other"] = {k: (v[:3] if isinstance(v, list) else v) for k, v in line.items()}


CORRUPT = {
    "no_channels": (_no_channels, "no 'channels'"),
    "no_scenario": (_no_scenario, "no 'scenario'"),
    "numeric_sweep_key": (_numeric_sweep_key, r"sweep_keys\[0\]: expected text, got 5"),
    "empty_channels": (_empty_channels, "'channels' is empty"),
    "sweep_value_list": (_sweep_value_list, r"sweep_values\[0\]: expected an object"),
    "op_no_k": (_op_no_k, r"operating_points\[0\]: expected an object with numbers accuracy, "
                          r"bits_per_image, k"),
    "scheme_text": (_scheme_text, "schemes.jpeg: expected an object"),
    "scheme_op_macs_text": (_scheme_op_macs_text,
                            r"schemes.jpeg.operating_points\[0\].sensor_macs: expected a number"),
    "confidence_text": (_confidence_text, r"confidence: expected a number in \(0, 1\)"),
    "seed_text": (_seed_text, r"seeds\[0\]: expected an integer"),
    "swept_value_list": (_swept_value_list,
                         r"rows\[0\].channels.a.snr_db: expected a number or text"),
    "regret_point_text": (_regret_point_text, "regret.point: expected an integer"),
    "regret_short_band": (_regret_short_band, r"regret.curves\[0\]: .* of different lengths"),
    "regret_curve_no_frames": (_regret_curve_no_frames,
                               r"regret.curves\[0\].frames: expected a non-empty list"),
    "timeline_no_k": (_timeline_no_k, "timeline.json: 'a'.'fixed': no 'k' list"),
    "timeline_zero_images": (_timeline_zero_images,
                             "images_per_packet: expected a positive number, got 0"),
    "timeline_no_lines": (_timeline_no_lines, "timeline.json: 'a': no lines"),
    "timeline_lines_differ": (_timeline_lines_differ, r"series of different lengths \[3, 6\]"),
    "drop_rows": (_drop_rows, "no 'rows'"),
    "text_accuracy": (_text_accuracy, r"rows\[0\]\.accuracy: expected a number, got 'high'"),
    "null_accuracy": (_null_accuracy, r"rows\[1\]\.accuracy: expected a number, got None"),
    "row_is_list": (_row_is_list, r"rows\[0\]: expected an object, got list"),
    "no_channel": (_no_channel, r"rows\[1\]: no 'channel'"),
    "no_low": (_no_low, r"rows\[1\]: no 'accuracy_low'"),
    "ci_method_object": (_ci_method_object, r"per_seed\[0\]\.ci_method: expected text"),
    "numeric_policy": (_numeric_policy, r"rows\[0\]\.policy: expected text, got 3"),
    "rows_is_object": (_rows_is_object, "'rows' has the wrong kind"),
    "top_is_list": (_top_is_list, "expected a JSON object, got list"),
    "op_text": (_op_text, r"operating_points\[0\]"),
    "channels_text": (_channels_text, "'channels' has the wrong kind"),
    "timeline_nested_list": (_timeline_nested_list, r"timeline.json: 'a'.'fixed'.k: expected numbers"),
    "timeline_lengths": (_timeline_lengths, r"series of different lengths \[6, 7\]"),
    "timeline_line_text": (_timeline_line_text, "expected an object of series"),
    "timeline_scalar_text": (_timeline_scalar_text, "images_per_packet: expected a list or a number"),
}


def test_the_good_file_loads_and_plots(tmp_path):
    save_results(tmp_path, copy.deepcopy(GOOD))
    assert load_results(tmp_path)["rows"][0]["accuracy"] == 0.5
    assert plot_run(tmp_path, formats=["png"])


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_shapes_are_named(tmp_path, case, capsys):
    edit, message = CORRUPT[case]
    if case.startswith("timeline"):
        data = copy.deepcopy(GOOD)
        edit(data)
        save_results(tmp_path, data)
    else:
        save_results(tmp_path, copy.deepcopy(GOOD))
        path = tmp_path / "results.json"
        data = json.loads(path.read_text())
        data = edit(data) or data
        path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message):
        load_results(tmp_path)
    assert cli_main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt result file" in err[0]


def test_the_figure_directory_is_named_when_it_cannot_be_made(tmp_path, capsys):
    """``--out /proc/x`` said only ``[Errno 2] No such file or directory``."""
    save_results(tmp_path / "run", copy.deepcopy(GOOD))
    (tmp_path / "a-file").write_text("x")
    for out in ([str(tmp_path / "a-file")]
                + (["/proc/commsldr-no-such-dir/x"] if os.path.isdir("/proc/self") else [])):
        assert cli_main(["plot", str(tmp_path / "run"), "--out", out, "--formats", "png"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"commsldr plot: --out {out}: cannot create "
                                                   f"the output directory")
    assert (tmp_path / "a-file").read_text() == "x"


def test_an_unknown_format_names_formats(tmp_path, capsys):
    save_results(tmp_path, copy.deepcopy(GOOD))
    assert cli_main(["plot", str(tmp_path), "--formats", "bogus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["commsldr plot: --formats: 'bogus' is not a figure format; valid: png, pdf, svg"]
    assert not (tmp_path / "figures").exists()


def test_nulls_in_timeline_and_regret_series_are_drawn_as_gaps(tmp_path):
    """A NaN written as null (a regret band over one seed, a capacity of a trace) is drawn."""
    data = copy.deepcopy(GOOD)
    data["timeline"]["a"]["fixed"]["capacity_bits"][1] = None
    data["regret"] = {"point": 0, "references": {"oracle": "fixed"}, "curves": [
        {"point": 0, "channel": "a", "policy": "fixed", "reference": "oracle",
         "frames": [1, 2, 3], "regret": [0.1, 0.2, 0.3], "regret_low": [None] * 3,
         "regret_high": [None] * 3}]}
    save_results(tmp_path, data)
    assert plot_run(tmp_path, formats=["png"], figures=["timeline", "regret"])
