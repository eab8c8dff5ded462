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
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from commsldr.cli import main
from commsldr.errors import UserError
from commsldr.scenario import load_scenario
from commsldr.scenario.fuzz import paths

BASE: dict[str, Any] = {
    "name": "hyp",
    "data": {"train_per_class": 8, "test_per_class": 4},
    "model": {"recipe": "ce", "train": {"backbone": "resnet8", "width": 0.25, "latent_dim": 4,
                                        "epochs": 1, "batch_size": 40}},
    "coding": {"scales": [1.0]},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0, "coherence_frames": 2},
                 "dop": {"type": "doppler-fading", "mean_snr_db": 10.0, "speed_mps": 3.0},
                 "ge": {"type": "gilbert-elliott", "snr_good_db": 15.0, "snr_bad_db": 0.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "frame_s": 1e-3, "images_per_packet": 1,
             "max_attempts": 1, "deadline_frames": 1},
    "csi": {"type": "delayed", "delay_frames": 1},
    "policies": {"fixed": {"type": "fixed", "k": 4, "scale": 1.0},
                 "greedy": {"type": "capacity-greedy", "margin": 0.1},
                 "outage": {"type": "outage-aware", "snr_std_db": 1.0}},
    "seeds": [0],
    "frames": 20,
    "outputs": {"figures": ["timeline"]},
}

EXTREMES = [0, -1, 1, 2, 2**31, 2**63, 10**15, 10**16, 10**400, 1e-308, 5e-324, 1e308, -1e308,
            1e15, -1e15, 0.5, -0.5, 1e-9, 1e3, 1e12]
#: the edges of the documented ranges (commsldr.scenario.bounds, commsldr_channels._validate)
EDGES = [200, -200, 200.0, 1e4, 1e12, 1e-9, 1000, 10**6, 10**9, 10**12, 1e15, -1e15, 2**62]
numbers = st.one_of(st.sampled_from(EXTREMES), st.integers(),
                    st.floats(allow_nan=False, allow_infinity=False))
leaves = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12),
                   st.sampled_from(["1e5", "10", "../..", "=cmd|x", "", "a" * 300]))
values = st.recursive(leaves, lambda ch: st.lists(ch, max_size=3)
                      | st.dictionaries(st.text(max_size=6), ch, max_size=3), max_leaves=10)
ALL_PATHS = [p for p in paths(BASE) if p[0] != "name"] + [
    ("channels", "ray", "x"), ("link", "snr_gap_db"), ("link", "packet_interval_frames"),
    ("analog",), ("analog", "repeats"), ("sweep",), ("seeds", 0), ("frames",),
    ("data", "dataset"), ("model", "train", "lr"), ("paper_figures",), ("schemes",)]
#: what changes the simulations but not the trained model or its table (runs stay fast)
RUN_PATHS = [p for p in paths(BASE)
             if (p[0] in ("channels", "policies") and len(p) == 3)
             or (p[0] in ("link", "csi") and len(p) == 2)
             if p[-1] not in ("type", "phy", "images_per_packet")]


def _apply(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set ``raw[path] = value`` where the path still exists (earlier mutations may cut it)."""
    node: Any = raw
    for p in path[:-1]:
        if isinstance(node, dict) and isinstance(node.get(p), (dict, list)):
            node = node[p]
        elif isinstance(node, list) and isinstance(p, int) and p < len(node):
            node = node[p]
        else:
            return
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value


mutations = st.lists(st.tuples(st.sampled_from(ALL_PATHS), values), min_size=1, max_size=3)
run_mutations = st.lists(st.tuples(st.sampled_from(RUN_PATHS),
                                   st.sampled_from(EXTREMES + EDGES) | numbers),
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
