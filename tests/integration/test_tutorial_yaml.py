"""Every complete scenario in a tutorial's ```yaml block loads and runs as written (placed where
the shipped scenarios are, so that its relative paths mean what the tutorial says), with a tiny
model and few frames."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from commsldr.scenario import load_scenario
from commsldr.scenario.runner import run_scenario

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def _scenarios() -> list[tuple[str, str]]:
    out = []
    for page in sorted((REPO / "docs" / "tutorials").glob("*.md")):
        for text in BLOCK.findall(page.read_text()):
            doc = yaml.safe_load(text)
            if isinstance(doc, dict) and "name" in doc:  # a whole scenario, not a fragment
                out.append((f"{page.stem}:{doc['name']}", text))
    return out


SCENARIOS = _scenarios()


def test_the_tutorials_have_scenarios():
    assert SCENARIOS


@pytest.mark.slow
@pytest.mark.parametrize(("where", "text"), SCENARIOS, ids=[w for w, _ in SCENARIOS])
def test_tutorial_scenario_runs(where, text, tmp_path, tiny_overrides):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "examples").symlink_to(REPO / "examples")
    path = tmp_path / "scenarios" / f"{where.split(':')[1]}.yaml"
    path.write_text(text)
    model = [o for o in tiny_overrides if not o.startswith(("policies=", "seeds=", "frames="))]
    loaded = load_scenario(path, [*model, "seeds=[0]", "frames=30"])
    out = run_scenario(loaded, out=tmp_path / "run", progress=False, plot=False,
                       log=lambda *_: None)
    rows = out.results["rows"]
    assert {r["policy"] for r in rows} == set(yaml.safe_load(text)["policies"])
