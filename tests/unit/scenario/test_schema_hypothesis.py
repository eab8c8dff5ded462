"""Property-based fuzzing of the scenario schema (Hypothesis): types, extreme finite values and
nesting anywhere in a scenario end in a valid scenario or one short ``UserError``; accepted
scenarios with extreme link, channel, CSI and policy values run to the end or stop with exit 2,
never with an internal error, never leaving a partial run directory, never with NaN accuracies."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from commsldr.cli import main
from commsldr.errors import UserError
from commsldr.scenario import load_scenario
from commsldr.scenario.fuzz import EDGES, EXTREMES, RUN_BASE, paths, run_paths, set_path

BASE = RUN_BASE
numbers = st.one_of(st.sampled_from(list(EXTREMES)), st.integers(),
                    st.floats(allow_nan=False, allow_infinity=False))
leaves = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12),
                   st.sampled_from(["1e5", "10", "../..", "=cmd|x", "", "a" * 300]))
values = st.recursive(leaves, lambda ch: st.lists(ch, max_size=3)
                      | st.dictionaries(st.text(max_size=6), ch, max_size=3), max_leaves=10)
ALL_PATHS = [p for p in paths(BASE) if p[0] != "name"] + [
    ("channels", "ray", "x"), ("link", "snr_gap_db"), ("link", "packet_interval_frames"),
    ("analog",), ("analog", "repeats"), ("sweep",), ("seeds", 0), ("frames",),
    ("data", "dataset"), ("model", "train", "lr"), ("paper_figures",), ("schemes",)]
RUN_PATHS = run_paths(BASE)
_apply = set_path

mutations = st.lists(st.tuples(st.sampled_from(ALL_PATHS), values), min_size=1, max_size=3)
run_mutations = st.lists(st.tuples(st.sampled_from(RUN_PATHS),
                                   st.sampled_from(list(EXTREMES + EDGES)) | numbers),
                         min_size=1, max_size=2)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hyp-cache")


def test_the_base_is_valid():
    assert load_scenario(BASE).points


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(muts=mutations)
def test_validation_ends_valid_or_in_one_short_user_error(muts):
    raw = copy.deepcopy(BASE)
    for path, value in muts:
        _apply(raw, path, copy.deepcopy(value))
    try:
        load_scenario(raw)
    except UserError as err:
        assert len(str(err)) <= 600 and "\n" not in str(err).strip(), (muts, str(err))


def _finite_rows(run: Path) -> None:
    results = json.loads((run / "results.json").read_text())
    for row in results["rows"]:
        assert row["accuracy"] is not None and math.isfinite(row["accuracy"]), row
        if row["scheme"] == "split-ae":
            for key in ("mean_snr_db", "mean_capacity_bits"):
                assert row[key] is not None and math.isfinite(row[key]), (key, row)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(muts=run_mutations)
def test_accepted_extreme_scenarios_run_or_stop_cleanly(muts, cache, tmp_path_factory):
    raw = copy.deepcopy(BASE)
    raw["model"]["cache_dir"] = str(cache)
    for path, value in muts:
        _apply(raw, path, value)
    work = tmp_path_factory.mktemp("hyp-run")
    scenario = work / "s.yaml"
    try:
        scenario.write_text(yaml.safe_dump(raw))
    except OverflowError:
        return
    out = work / "run"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(["run", str(scenario), "--out", str(out), "--no-plot", "--quiet", "--jobs", "1"])
    text = err.getvalue()
    event(f"exit {rc}")
    assert rc in (0, 2) and "internal error" not in text, (muts, text[-600:])
    if rc == 0:
        _finite_rows(out)
    else:
        assert not out.exists(), (muts, "partial run directory", sorted(out.iterdir()))
