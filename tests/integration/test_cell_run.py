"""``commsldr run cell_uplink`` end to end on the tiny model: cell jobs through the backends,
their files, identical on a pool, and a resumed run redoes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from commsldr.scenario import load_scenario
from commsldr.scenario.runner import run_scenario

QUIET = {"progress": False, "log": lambda *_: None}
CELL = ["cell.sensors=[2, 3]", "cell.frames=6", "cell.schedulers=[round-robin, task-aware]",
        "cell.policies=[greedy, sat]", "cell.settings.num_prb=6", "outputs.formats=[png]"]


def _cells(run_dir: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader((run_dir / "cell.csv").open()))
    for r in rows:
        r.pop("sensor_slots_per_s")  # a timing
    return rows


def test_cell_uplink_runs_on_backends_and_resumes(tiny_overrides, tmp_path):
    loaded = load_scenario("cell_uplink", [*tiny_overrides, *CELL])
    serial = run_scenario(loaded, out=tmp_path / "serial", jobs=1, **QUIET)
    d = serial.run_dir
    for name in ("cell.csv", "cell_sensors.csv", "cell.json", "cell_accuracy_vs_sensors.png",
                 "cell_accuracy_cdf.png", "cell_map.png", "results.csv"):
        assert (d / name).is_file(), name
    cells = _cells(d)
    assert len(cells) == 2 * 2 * 2  # sensors x schedulers x policies (one seed)
    assert {r["policy"] for r in cells} == {"greedy", "sat"}
    sensors = list(csv.DictReader((d / "cell_sensors.csv").open()))
    assert len(sensors) == 2 * 2 * (2 + 3)
    assert all(0.0 <= float(r["accuracy"]) <= 1.0 for r in sensors)
    pool = run_scenario(loaded, out=tmp_path / "pool", jobs=2, plot=False, **QUIET)
    assert _cells(pool.run_dir) == cells
    assert (pool.run_dir / "cell_sensors.csv").read_bytes() == (d / "cell_sensors.csv").read_bytes()
    again = run_scenario(loaded, out=d, resume=True, plot=False, **QUIET)
    assert again.results["jobs"]["ran"] == 0
    assert _cells(d) == cells
