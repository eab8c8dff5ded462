"""Griffe extension for the API pages: Sphinx roles and ``.. math::`` blocks in docstrings
become Markdown that arithmatex and the shipped KaTeX render (``commsldr.docstrings``).

Loaded by mkdocstrings (``mkdocs.yml``: ``handlers.python.options.extensions``); the converter
is loaded by file path so that the build does not import the package (and torch).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import griffe

_SPEC = importlib.util.spec_from_file_location(
    "_commsldr_docstrings", Path(__file__).resolve().parents[2] / "commsldr" / "docstrings.py")
assert _SPEC is not None and _SPEC.loader is not None
_DOC = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_DOC)


class SphinxRoles(griffe.Extension):
    """Rewrite each docstring once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _DOC.to_markdown(obj.docstring.value)
