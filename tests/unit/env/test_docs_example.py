"""The 20-line bandit example of docs/guide/learning.md runs as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("gymnasium")

DOC = Path(__file__).resolve().parents[3] / "docs" / "guide" / "learning.md"


def _example() -> str:
    text = DOC.read_text()
    block = text.split("<!-- example: bandit", 1)[1]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def test_example_is_at_most_20_lines():
    code = _example()
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 20


def test_bandit_example_runs(capsys):
    exec(compile(_example(), str(DOC), "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    m = re.fullmatch(r"images classified correctly: (\d+) of 2000\n", out)
    assert m and 0 < int(m.group(1)) <= 2000
