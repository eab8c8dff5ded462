"""The first-study tutorial's numbers are the rendering of the stored numbers of a run by
scripts/tutorial_numbers.py, and the script reads a real run directory."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_page_block_is_generated_from_the_stored_numbers(load_script) -> None:
    s = load_script("tutorial_numbers")
    stored = json.loads(s.NUMBERS.read_text())
    page = s.PAGE.read_text()
    assert s.render(stored) in page
    assert stored["environment"]["threads"] >= 1 and stored["table"]


def test_numbers_of_a_run(tiny_overrides, load_script, tmp_path) -> None:
    from commsldr.scenario import load_scenario
    from commsldr.scenario.runner import run_scenario

    loaded = load_scenario("quickstart", [*tiny_overrides,
                                          "channels={awgn: {type: awgn, snr_db: 5.0}}",
                                          "sweep={}"])
    out = run_scenario(loaded, out=tmp_path / "run", progress=False, plot=False,
                       log=lambda *_: None)
    n = load_script("tutorial_numbers").numbers_of_run(out.run_dir)
    assert set(n["table"]) == {"4", "8"}
    assert n["simulations"] == len(loaded.scenario.policies) * len(loaded.scenario.seeds)
    assert 0.0 <= n["model_test_accuracy"] <= 1.0
    assert n["environment"] is None or n["environment"]["threads"] >= 1
