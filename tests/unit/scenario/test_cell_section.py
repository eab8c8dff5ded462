"""The scenario's ``cell`` section: one clear error per bad cell value, its jobs, its files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from commsldr.link.table import OperatingPoint, OperatingPointTable
from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario.cell_section import CellRunSection, run_cell
from commsldr.scenario.jobs import DigitalAsset, JobContext
from commsldr.scenario.plan import SPLIT_AE, RunAssets


def make_table(num_images: int = 60) -> OperatingPointTable:
    """Two points without a model: 200 bits at accuracy ~0.5, 900 bits at ~0.9."""
    rng = np.random.default_rng(0)
    bits = np.stack([rng.integers(180, 220, num_images), rng.integers(850, 950, num_images)])
    correct = np.stack([rng.random(num_images) < 0.5, rng.random(num_images) < 0.9])
    return OperatingPointTable([OperatingPoint(k=4, scale_index=0, scale=1.0),
                                OperatingPoint(k=8, scale_index=0, scale=1.0)],
                               bits, correct, rng.integers(0, 10, num_images),
                               {1: np.arange(num_images)[:, None]}, {1: bits + 64},
                               {"model_id": "synthetic"}, prior_class=0)


@pytest.mark.parametrize(("override", "key", "words"), [
    ("cell.sensors=[0, 4]", "cell.sensors[0]", ">= 1"),
    ("cell.schedulers=[round-robin, fair]", "cell.schedulers[1]", "unknown scheduler 'fair'"),
    ("cell.settings.bandwidth_hz=-5000000.0", "cell.settings.bandwidth_hz", "> 0"),
    ("cell.settings.num_prb=40", "cell.settings.num_prb", "40 PRBs do not fit"),
    ("cell.settings.num_sensors=3", "cell.settings.num_sensors", "cell.sensors instead"),
    ("cell.policies=[nope]", "cell.policies[0]", "not a label of policies"),
    ("cell.scheduler_params={task-aware: {fairness: -2}}", "cell.scheduler_params.task-aware",
     "fairness"),
    ("cell.settings.recever=mrc", "cell.settings.recever", "did you mean 'receiver'"),
])
def test_bad_cell_value_is_one_scenario_error(override: str, key: str, words: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("cell_uplink", [override])
    assert err.value.key == key, str(err.value)
    assert words in str(err.value)


def test_jobs_rows_and_files(tmp_path) -> None:
    loaded = load_scenario("cell_uplink", ["cell.sensors=[2, 3]", "cell.frames=4",
                                           "cell.schedulers=[round-robin, task-aware]",
                                           "cell.policies=[greedy]", "seeds=[0]"])
    assets = RunAssets("table-id")
    section = CellRunSection(loaded, assets)
    assert len(section.jobs) == section.cells == 4
    assert len({j.key for j in section.jobs}) == 4 and {j.kind for j in section.jobs} == {"cell"}
    again = CellRunSection(loaded, RunAssets("table-id"))
    assert [j.key for j in again.jobs] == [j.key for j in section.jobs]  # stable keys
    other = CellRunSection(loaded, RunAssets("another-table"))
    assert not {j.key for j in other.jobs} & {j.key for j in section.jobs}
    table = make_table()
    ctx = JobContext(points=[p.scenario for p in loaded.points],
                     digital={SPLIT_AE: DigitalAsset(table, np.zeros(len(table.points)))},
                     extra=assets.extra)
    rows = {j.key: run_cell(ctx, j) for j in section.jobs}
    for j in section.jobs:
        assert rows[j.key]["cell"]["policy"] == "greedy"
        assert len(rows[j.key]["sensors"]) == rows[j.key]["cell"]["num_sensors"]
    paths = section.write_outputs(tmp_path, rows, figures=True, formats=["png"])
    names = {p.name for p in paths}
    assert {"cell.csv", "cell_sensors.csv", "cell.json", "cell_map.png",
            "cell_accuracy_cdf.png", "cell_accuracy_vs_sensors.png"} <= names
    cells = list(csv.DictReader((tmp_path / "cell.csv").open()))
    assert [(int(c["num_sensors"]), c["scheduler"]) for c in cells] == [
        (2, "round-robin"), (2, "task-aware"), (3, "round-robin"), (3, "task-aware")]
    assert len(list(csv.DictReader((tmp_path / "cell_sensors.csv").open()))) == 2 + 2 + 3 + 3


@pytest.mark.parametrize(("overrides", "key", "words"), [
    (["cell.schedulers=[nope]"], "cell.schedulers[0]", "unknown scheduler 'nope'"),
    (["cell.settings.receiver=bogus"], "cell.settings.receiver", "['mrc', 'lmmse']"),
    (["cell.scheduler_params.task-aware.fairness=-5"], "cell.scheduler_params.task-aware",
     "fairness"),
    (["cell.policies=[nope]"], "cell.policies[0]", "not a label of policies"),
    (["cell.settings.bandwidth_hz=1e12"], "cell.settings.bandwidth_hz", "275 PRBs"),
    (["cell.settings.num_sensors=3"], "cell.settings.num_sensors", "cell.sensors instead"),
])
def test_a_cell_without_sensors_is_still_checked(overrides: list[str], key: str, words: str,
                                                 capsys) -> None:
    """``cell.sensors: []`` (no cell) used to skip every other check of the section."""
    from commsldr.cli.main import main

    with pytest.raises(ScenarioError) as err:
        load_scenario("cell_uplink", ["cell.sensors=[]", *overrides])
    assert err.value.key == key, str(err.value)
    assert words in str(err.value)
    args = ["run", "cell_uplink", "--check", "--set", "cell.sensors=[]"]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 2
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith(f"commsldr run: {key}: ")


def test_no_sensors_means_no_cell() -> None:
    """An empty list is the documented "no cell" (an extending scenario switches its cell off)."""
    loaded = load_scenario("cell_uplink", ["cell.sensors=[]"])
    assert loaded.scenario.cell.sensors == []
    from commsldr.scenario.cell_section import cell_sections

    assert cell_sections(loaded, RunAssets("table-id")) == []
