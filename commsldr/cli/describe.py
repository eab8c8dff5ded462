"""``commsldr describe KIND NAME``: what a registered name is, its parameters, defaults and units.

Parameters come from the class signature, their meaning from the ``Args:`` section of its
docstring and the unit from the suffix of the name (:func:`commsldr.registry.unit_of`). Unlike
``commsldr list`` this imports the class (and so torch for channels, PHYs and models).
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from commsldr.docstrings import to_text
from commsldr.registry import MODELS, REGISTRIES, ParamInfo, describe_params

__all__ = ["describe", "format_params"]


def _intro(doc: str | None) -> str:
    """The docstring up to its first section header (``Args:``, ``Example:``, ...)."""
    lines = to_text(inspect.cleandoc(doc or "")).splitlines()
    out = []
    for line in lines:
        if line.strip().rstrip(":") in ("Args", "Arguments", "Parameters", "Example", "Examples",
                                        "Raises", "Returns", "Attributes") and line.endswith(":"):
            break
        out.append(line)
    return "\n".join(out).strip()


def format_params(params: list[ParamInfo]) -> str:
    """A plain-text table: name, default (or ``required``), unit, meaning."""
    if not params:
        return "parameters: (none)"
    rows = [(p.name, "required" if p.required else p.default, p.unit or "-", to_text(p.doc))
            for p in params]
    w = [max(len(r[i]) for r in rows + [("name", "default", "unit", "")]) for i in range(3)]
    head = f"  {'name'.ljust(w[0])}  {'default'.ljust(w[1])}  {'unit'.ljust(w[2])}  meaning"
    lines = ["parameters:", head]
    indent = 2 + sum(w) + 6
    for name, default, unit, doc in rows:
        first = f"  {name.ljust(w[0])}  {default.ljust(w[1])}  {unit.ljust(w[2])}  "
        wrapped = textwrap.wrap(doc, width=max(40, 100 - indent)) or [""]
        lines.append(first + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def _class_text(kind: str, name: str, cls: Any, extra: str = "") -> str:
    where = f"{cls.__module__}:{cls.__qualname__}"
    parts = [f"{kind} {name!r} ({where})", "", _intro(cls.__doc__)]
    if extra:
        parts += ["", extra]
    parts += ["", format_params(describe_params(cls))]
    return "\n".join(parts).rstrip()


def describe(kind: str, name: str) -> str:
    """The description of ``name`` of ``kind`` (a kind of :data:`commsldr.cli.catalogue.KINDS`).

    Raises:
        ValueError: unknown kind or name (the message lists the valid ones).
    """
    if kind not in REGISTRIES and kind not in ("pretrained", "scenarios"):
        from commsldr.cli.catalogue import KINDS

        raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    if kind == "models" and name in MODELS and MODELS.target(name).startswith(
            "commsldr.models.registry:"):
        from commsldr.models import backbone_spec

        spec = backbone_spec(name)
        return (f"backbone {name!r}: {spec.description}\n\nstages (channels x BasicBlocks): "
                + ", ".join(f"{c} x {b}" for c, b in zip(spec.channels, spec.blocks, strict=True))
                + "\nused as model.train.backbone (or commsldr train --backbone) with --width "
                  "scaling the channels")
    if kind == "recipes":
        reg = REGISTRIES[kind]
        reg.get(name)  # an unknown name lists the valid ones
        return (f"recipe {name!r}: {reg.summary(name)}\n\n"
                "its settings are the TrainConfig settings (flat keys, or groups such as "
                "optim.momentum): commsldr train --help, or model.train in a scenario")
    if kind in REGISTRIES:
        reg = REGISTRIES[kind]
        extra = ("frame_s, where the model takes it, is set from the scenario's link.frame_s."
                 if kind == "channels" else "")
        return _class_text(reg.kind, name, reg.get(name), extra)
    if kind == "pretrained":
        from commsldr.models.pretrained import PretrainedError, pretrained_info

        try:
            info = pretrained_info(name)
        except PretrainedError as e:
            raise ValueError(str(e)) from None
        lines = [f"pretrained {name!r}"]
        lines += [f"  {k}: {_short(v)}" for k, v in info.items()]
        return "\n".join(lines)
    if kind == "scenarios":
        from commsldr.scenario import ScenarioError, load_scenario
        from commsldr.scenario.load import scenario_path

        try:
            path = scenario_path(name)
            loaded = load_scenario(path)
        except ScenarioError as e:
            raise ValueError(str(e)) from None
        sc = loaded.scenario
        header = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#")]
        lines = [f"scenario {name!r} ({path})", sc.description, ""]
        if header:
            lines += [*header, ""]
        lines += [
            "channels: " + ", ".join(f"{k} ({v.type})" for k, v in sc.channels.items()),
            "policies: " + ", ".join(f"{k} ({v.type})" for k, v in sc.policies.items()),
            f"link: {sc.link.phy}, csi: {sc.csi.type}, frames: {sc.frames}, seeds: {sc.seeds}",
            "sweep: " + (", ".join(f"{k} = {v}" for k, v in sc.sweep.items()) or "(none)")
            + f"  ({len(loaded.points)} point(s))",
        ]
        return "\n".join(lines)
    raise AssertionError(kind)  # every kind is handled above


def _short(v: Any) -> str:
    text = str(v)
    return text if len(text) <= 200 else text[:197] + "..."
