"""Scenario composition: ``extends: other.yaml``.

A scenario file may start from one or more others::

    extends: base/synthetic.yaml          # or a list: [base/synthetic.yaml, my_channels.yaml]
    channels:
      doppler: {type: doppler-fading, mean_snr_db: 10.0}

Merge rules (documented in ``docs/guide/scenarios.md``):

1. Each name in ``extends`` is a path relative to the extending file, else relative to the
   shipped scenarios (``base/synthetic.yaml`` works from any folder), or the name of a shipped
   scenario (``quickstart``). A base may extend others itself; a cycle is an error.
2. Bases are applied in order (a later base wins), then the file itself.
3. Mappings merge key by key, recursively. Lists (``seeds``, ``sweep`` values, ``plugins``) and
   scalars replace what they inherit.
4. A key set to ``null`` in the extending file removes the inherited key (e.g.
   ``channels: {rayleigh: null}`` drops an inherited channel).
5. ``name`` is never inherited (it defaults to the extending file's stem).
6. Relative input paths of a base (``plugins`` files, ``data.root``, ``*_path`` parameters ...)
   are resolved against the base's own directory before merging.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from commsldr.errors import show
from commsldr.scenario.schema import ScenarioError, YAMLValue

__all__ = ["merge", "compose", "MAX_EXTENDS_DEPTH"]

#: bases deep one chain of ``extends`` may go
MAX_EXTENDS_DEPTH = 16


def merge(base: dict[str, YAMLValue], over: dict[str, YAMLValue]) -> dict[str, YAMLValue]:
    """``over`` on top of ``base`` by the rules of this module (new dict; inputs untouched).

    Input:
        base: the inherited mapping.
        over: the extending mapping.

    Output:
        dict: mappings merged key by key, anything else from ``over``; ``None`` in ``over``
        removes the key.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _base_path(ref: str, here: Path, shipped_dir: Path) -> Path:
    p = Path(ref).expanduser()
    candidates = [p] if p.is_absolute() else [here.parent / p, shipped_dir / p]
    if not p.suffix:
        candidates.append(shipped_dir / f"{ref}.yaml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise ScenarioError("extends", f"{show(ref)} (from {here}) is not a file; give a path "
                                   f"relative to the extending file or to the shipped scenarios "
                                   f"({shipped_dir}), or a shipped scenario name")


def compose(raw: dict[str, YAMLValue], path: Path, *, read: Callable[[Path], YAMLValue],
            resolve_paths: Callable[[dict[str, YAMLValue], Path], None],
            shipped_dir: Path, _chain: tuple[Path, ...] = ()) -> dict[str, YAMLValue]:
    """``raw`` (read from ``path``) with its ``extends`` applied; without ``extends`` unchanged.

    Input:
        raw: the parsed file.
        path: its location (relative ``extends`` entries start there).
        read: reads a YAML file (the loader's bounded reader).
        resolve_paths: makes a raw scenario's relative input paths absolute, given its directory.
        shipped_dir: the folder of the shipped scenarios (second place a base is looked for).

    Output:
        dict: the merged mapping, without ``extends``.

    Raises:
        ScenarioError: ``extends`` malformed, a base missing, not a mapping, or a cycle.
    """
    refs = raw.get("extends")
    if refs is None:
        return raw
    if isinstance(refs, str):
        refs = [refs]
    if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
        raise ScenarioError("extends", f"expected a file name or a list of them, got {show(refs)}")
    here = path.resolve()
    chain = (*_chain, here)
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise ScenarioError("extends", f"more than {MAX_EXTENDS_DEPTH} levels of extends "
                                       f"({' → '.join(p.name for p in chain)})")
    merged: dict[str, YAMLValue] = {}
    for ref in refs:
        base_path = _base_path(ref, here, shipped_dir)
        if base_path in chain:
            cycle = " → ".join(p.name for p in (*chain, base_path))
            raise ScenarioError("extends", f"cycle: {cycle}")
        base = read(base_path)
        if base is None:
            base = {}
        if not isinstance(base, dict):
            raise ScenarioError("extends", f"{base_path}: the top level must be a mapping")
        base = compose(base, base_path, read=read, resolve_paths=resolve_paths,
                       shipped_dir=shipped_dir, _chain=chain)
        base.pop("name", None)
        resolve_paths(base, base_path.parent)
        merged = merge(merged, base)
    own = {k: v for k, v in raw.items() if k != "extends"}
    return merge(merged, own)
