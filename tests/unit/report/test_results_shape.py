"""A run directory is data: a results.json that is valid JSON but not of the shape commsldr
writes (a key removed, a number turned into text, a row that is a list) is a clear error naming
the entry, never an internal error of the figures (``commsldr plot`` exited 1 with KeyError
'rows' and TypeError for these)."""

from __future__ import annotations

import copy
import json

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


CORRUPT = {
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
