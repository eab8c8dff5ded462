"""What ``commsldr list`` prints: every registered name with a one-line description, found
without importing torch (so the command answers at once).

Every kind of class or builder is listed from its registry in :data:`commsldr.registry.REGISTRIES`
(channels, policies, CSI models, PHYs, models, recipes, schemes): built-ins are lazy
``"module:Class"`` entries whose summary (the first docstring line) is read from the source, so
listing imports none of them; plug-ins come from the entry points or from modules already
imported (``--plugin``). A plug-in that cannot be used (its module is missing or fails to
import, it is not of the kind, or its name is taken) is left out, with one line
``commsldr: warning: ...`` on stderr naming it and the error, so a broken third-party package
never hides the built-ins. Two kinds are data rather than code: the pretrained checkpoints (their
index, package data) and the shipped scenarios (package data). A test checks that every listing
equals the imported registries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from commsldr.registry import REGISTRIES, first_line, plugin_warnings_as_lines
from commsldr.resources import shipped_models_dir, shipped_scenarios_dir

__all__ = ["KINDS", "catalogue"]

#: kinds ``commsldr list`` and ``commsldr describe`` know
KINDS = (*REGISTRIES, "pretrained", "scenarios")


def _pretrained() -> dict[str, str]:
    env = os.environ.get("COMMSLDR_MODELS")
    index = (Path(env).expanduser() if env else shipped_models_dir()) / "index.json"
    if not index.is_file():
        return {}
    models = json.loads(index.read_text()).get("models", {})

    def line(e: dict) -> str:
        acc = e.get("test_acc")
        head = " ".join(str(x) for x in (
            e.get("backbone"), f"d_y={e['latent_dim']}" if e.get("latent_dim") else None,
            f"{100 * acc:.2f} %" if isinstance(acc, (int, float)) else None) if x)
        desc = first_line(str(e.get("description", "")))
        at = e.get("acc_at_bits") or {}
        rates = ", ".join(f"{100 * v['accuracy']:.2f} % at {v['payload_bits']:.1f} real bits "
                          f"(<= {b} b)" if isinstance(v, dict) else
                          f"none within {b} b (below the cheapest rate point)"
                          for b, v in at.items() if isinstance(v, dict) or v is None)
        if rates:  # accuracy at real bits (entropy-bottleneck models), before the description
            head = f"{head} · {rates}"
        return f"{head} · {desc}" if head else desc

    return {n: line(e) for n, e in sorted(models.items())}


def _scenarios() -> dict[str, str]:
    import yaml  # ~50 ms, only for this listing

    out = {}
    for path in sorted(shipped_scenarios_dir().glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            raw = {}
        out[path.stem] = first_line(str(raw.get("description", ""))) if isinstance(raw, dict) \
            else ""
    return out


def catalogue(kind: str) -> dict[str, str]:
    """``{name: one-line description}`` of every registered ``kind`` (one of :data:`KINDS`).

    A failing plug-in is left out with one warning line on stderr naming it and the error.
    """
    if kind in REGISTRIES:
        with plugin_warnings_as_lines("commsldr"):
            return REGISTRIES[kind].summaries()
    if kind == "pretrained":
        return _pretrained()
    if kind == "scenarios":
        return _scenarios()
    raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
