"""Files shipped inside the package, found with :mod:`importlib.resources`: the scenarios and
the index of the pretrained checkpoints.

``commsldr/shipped/`` holds links into the repository, ``scenarios -> ../../scenarios``,
``models -> ../../models``, ``channels/data -> ../../../channels/data`` and ``examples ->
../../examples``, so the YAML files, ``index.json``, the shipped traces and the example plug-ins
have one home (the top-level folders users open in a clone) and both a clone and an installed
package see them; a shipped scenario's relative paths (``../channels/data/...``,
``../examples/...``) resolve the same way in both. A wheel (``pip wheel .``) copies the files
behind the links: every ``scenarios/*.yaml``, ``models/index.json``, the traces and the example
plug-ins — not the checkpoint files themselves (265 MB), which stay in a clone's
``models/`` folder (:mod:`commsldr.models.pretrained` says so when one is absent).

This module imports no torch: ``commsldr list`` uses it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["SHIPPED", "shipped_dir", "shipped_models_dir", "shipped_scenarios_dir"]

#: folder of the shipped files inside the package
SHIPPED = "shipped"


def shipped_dir() -> Path:
    """``<package>/shipped`` as a file-system path (an installed wheel or a source checkout)."""
    root = files("commsldr") / SHIPPED
    if not isinstance(root, Path):  # a zip import: no file-system path to hand out
        raise RuntimeError(f"commsldr's shipped files are not on the file system ({root})")
    return root


def shipped_scenarios_dir() -> Path:
    """The shipped scenarios (``scenarios/*.yaml`` of the repository)."""
    return shipped_dir() / "scenarios"


def shipped_models_dir() -> Path:
    """The folder of the checkpoint index ``index.json`` (and, in a clone, the checkpoints)."""
    return shipped_dir() / "models"
