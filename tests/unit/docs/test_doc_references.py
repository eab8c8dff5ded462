"""Every dotted name of the library that the docs write in code (``commsldr.link.simulate``,
``commsldr_channels.create_channel``) exists; the entry-point groups of the plug-in registries
(``commsldr.policies``) are names of another kind and are checked against the registries."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PAGES = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md", REPO / "models" / "README.md"]
_REF = re.compile(r"`((?:commsldr|commsldr_channels)(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")


def _resolve(name: str) -> object:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def test_every_dotted_name_in_the_docs_exists():
    from commsldr.registry import REGISTRIES

    groups = {r.group for r in REGISTRIES.values()}
    refs = {(m.group(1), p.relative_to(REPO).as_posix()) for p in PAGES
            for m in _REF.finditer(p.read_text())}
    assert len(refs) > 100
    missing = []
    for name, page in sorted(refs):
        if name in groups:
            continue
        try:
            _resolve(name)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{page}: {name} ({type(exc).__name__})")
    assert not missing, "\n".join(missing)
