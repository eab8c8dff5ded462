"""Every scenario YAML block of the docs is one the loader takes.

A block with a ``name`` is a whole scenario: when a shipped scenario of that name exists, the
block must equal it (the page shows the file); otherwise it is loaded from a folder of its own
(``extends: base/...`` then finds the shipped base files). A fragment (``schemes:``, ``model:``) is put into a shipped scenario
key by key (``schemes.jpeg``, ``model.train``), as ``--set`` would, and the result is loaded and
checked. A block of comments only (an editor's schema line) is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
PAGES = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md"]
_FENCE = re.compile(r"```ya?ml\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        text = page.read_text()
        for m in _FENCE.finditer(text):
            line = text[: m.start()].count("\n") + 1
            out.append((f"{page.relative_to(REPO).as_posix()}:{line}", m.group(1)))
    return out


BLOCKS = _blocks()


def test_the_pages_have_scenario_blocks():
    assert sum(isinstance(yaml.safe_load(b), dict) for _, b in BLOCKS) >= 4


@pytest.mark.parametrize(("where", "text"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_scenario_block_loads(where, text, tmp_path, monkeypatch):
    from commsldr.scenario import load_scenario

    monkeypatch.setenv("COMMSLDR_CACHE", str(tmp_path / "cache"))
    block = yaml.safe_load(text)
    if block is None:
        pytest.skip("comments only")
    assert isinstance(block, dict), f"{where}: not a mapping"
    if "name" in block:
        shipped = REPO / "scenarios" / f"{block['name']}.yaml"
        if shipped.is_file():
            assert block == yaml.safe_load(shipped.read_text()), f"{where} differs from {shipped}"
            return
        path = tmp_path / "doc.yaml"  # extends: base/... is found among the shipped files
        path.write_text(text)
        load_scenario(path)
        return
    base = "baselines_quick" if "schemes" in block else "quickstart"
    overrides = [(f"{section}.{key}", value) for section, body in block.items()
                 for key, value in body.items()]
    load_scenario(base, overrides)
