"""User-facing text names no internal issue numbers ("issue 15", "the recipe of issue 10"): the
docs, the README, the shipped scenarios and model notes, and every docstring that ``commsldr
describe`` or the API pages show."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ISSUE_NUMBER = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
USER_TEXT = ["README.md", "docs/**/*.md", "scenarios/**/*.yaml", "models/README.md",
             "commsldr/**/*.py", "channels/**/*.py", "tutorials/**/*.yaml", "tutorials/**/*.md"]


def _files() -> list[Path]:
    return sorted({p for g in USER_TEXT for p in ROOT.glob(g) if p.is_file()})


def test_there_is_user_text_to_check():
    files = _files()
    assert any(p.name == "README.md" for p in files) and any(p.suffix == ".yaml" for p in files)


def test_no_internal_issue_numbers():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()[:100]}" for p in _files()
            for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if ISSUE_NUMBER.search(line)]
    assert not hits, "user-facing text names internal issue numbers:\n" + "\n".join(hits)
