"""A JSON Schema (draft 2020-12) of the scenario file, generated from :mod:`commsldr.scenario.schema`.

``commsldr schema > scenario.schema.json``. Every fixed key carries its type, default, range,
allowed values and description (the metadata the loader checks with). The open sections —
``channels.<label>``, ``policies.<label>``, ``csi``, ``schemes.<label>`` and ``link`` — are a
``oneOf`` over the registered types (built-ins and imported plug-ins): each branch pins the
selector (``type``, or ``phy`` for ``link``) with ``const`` and lists that class's constructor
parameters (:func:`commsldr.registry.describe_params`). The schema helps editors; the loader
remains the judge (it also checks cross-field rules such as "exactly one of checkpoint,
pretrained, recipe").
"""

from __future__ import annotations

import ast
import dataclasses
import types
import typing
from collections.abc import Callable

from commsldr.docstrings import to_text
from commsldr.registry import CSI_MODELS, PHYS, POLICIES, describe_params
from commsldr.scenario.schema import (
    OPEN_SECTIONS,
    ChannelConfig,
    CSIConfig,
    LinkConfig,
    PolicyConfig,
    Scenario,
    SchemeConfig,
    YAMLValue,
)
from commsldr.schemes import get_scheme_class, list_schemes
from commsldr_channels import get_channel_class, list_channels

__all__ = ["scenario_json_schema", "SCHEMA_ID"]

SCHEMA_ID = "https://commsldr.invalid/scenario.schema.json"
"""The ``$id`` of the generated schema (a name, not a location)."""


def _json_type(tp: object) -> dict[str, YAMLValue]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_json_type(a) for a in typing.get_args(tp)]}
    if tp is type(None):
        return {"type": "null"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if origin is list:
        return {"type": "array", "items": _json_type(typing.get_args(tp)[0])}
    if origin is dict:
        return {"type": "object"}
    return {}


def _jsonable(value: object) -> YAMLValue:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _field_schema(f: dataclasses.Field[object], tp: object) -> dict[str, YAMLValue]:
    meta = dict(f.metadata)
    out = _json_type(tp)
    if "doc" in meta:
        out["description"] = meta["doc"]
    default = f.default if f.default is not dataclasses.MISSING else \
        f.default_factory()  # type: ignore[misc]
    if not dataclasses.is_dataclass(default):
        out["default"] = _jsonable(default)
    if "choices" in meta:
        items = out.get("items") if out.get("type") == "array" else None
        (items if items is not None else out)["enum"] = list(meta["choices"])
    target = out["items"] if out.get("type") == "array" else out  # a list's bounds: its items'
    for key, word in (("min", "minimum"), ("max", "maximum"), ("min_exclusive", "exclusiveMinimum"),
                      ("max_exclusive", "exclusiveMaximum")):
        if key in meta:
            target[word] = meta[key]
    return out




def _default_value(text: str) -> YAMLValue:
    try:
        return _jsonable(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return None


def _param_schema(cls: type) -> dict[str, dict[str, YAMLValue]]:
    props: dict[str, dict[str, YAMLValue]] = {}
    for p in describe_params(cls):
        entry: dict[str, YAMLValue] = {"description": " ".join(to_text(p.doc).split())}
        if not p.required:
            value = _default_value(p.default)
            if value is not None or p.default == "None":
                entry["default"] = value
            if isinstance(value, bool):
                entry["type"] = "boolean"
            elif isinstance(value, (int, float)):
                # a number, never a numeric string: validation refuses '10' (the scenario loader
                # reads 3.5e9 as the YAML 1.2 number it is)
                entry["type"] = "number"
            elif isinstance(value, str):
                entry["type"] = "string"
        props[p.name] = entry
    return props


def _open_section(cls: type, registry: dict[str, Callable[[], type]]) -> dict[str, YAMLValue]:
    selector = OPEN_SECTIONS[cls]
    hints = typing.get_type_hints(cls)
    fixed = {f.name: _field_schema(f, hints[f.name]) for f in dataclasses.fields(cls)
             if f.name != "params"}
    branches = []
    for name in sorted(registry):
        try:
            params = _param_schema(registry[name]())
        except Exception:  # noqa: BLE001 - a plug-in whose class cannot be described
            params = {}
        branch_fixed = {k: v for k, v in fixed.items() if k != selector}
        branches.append({
            "title": name,
            "properties": {selector: {"const": name}, **branch_fixed, **params},
            "required": [selector] if selector == "type" else [],
            "additionalProperties": False,
        })
    doc = (cls.__doc__ or "").strip().splitlines()[0]
    out: dict[str, YAMLValue] = {"type": "object", "description": doc,
                           "properties": {selector: {**fixed[selector],
                                                     "enum": sorted(registry)}},
                           "oneOf": branches}
    if selector == "phy":  # link.phy has a default: a branch without it is the default PHY
        default = fixed[selector].get("default")
        for b in branches:
            if b["title"] == default:
                b["properties"][selector] = {"const": default, "default": default}
        out["oneOf"] = [b if b["title"] != default else
                        {**b, "required": []} for b in branches]
        for b in out["oneOf"]:
            if b["title"] != default:
                b["required"] = [selector]
    return out


def _registries() -> dict[type, dict[str, Callable[[], type]]]:
    def reg(names: list[str], get: Callable[[str], type]) -> dict[str, Callable[[], type]]:
        return {n: (lambda n=n: get(n)) for n in names}

    return {
        ChannelConfig: reg(list(list_channels()), get_channel_class),
        PolicyConfig: reg(list(POLICIES.names()), POLICIES.get),
        CSIConfig: reg(list(CSI_MODELS.names()), CSI_MODELS.get),
        LinkConfig: reg(list(PHYS.names()), PHYS.get),
        SchemeConfig: reg(list(list_schemes()), get_scheme_class),
    }


def _section(cls: type, registries: dict[type, dict[str, Callable[[], type]]]) -> dict[str, YAMLValue]:
    if cls in OPEN_SECTIONS:
        return _open_section(cls, registries[cls])
    hints = typing.get_type_hints(cls)
    props: dict[str, YAMLValue] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = typing.get_args(tp)
        if dataclasses.is_dataclass(tp):
            props[f.name] = {**_section(tp, registries),
                             "description": dict(f.metadata).get("doc", "")}
        elif typing.get_origin(tp) is dict and len(args) == 2 and args[1] in OPEN_SECTIONS:
            props[f.name] = {"type": "object", "description": dict(f.metadata).get("doc", ""),
                             "additionalProperties": _section(args[1], registries)}
        else:
            props[f.name] = _field_schema(f, tp)
    doc = (cls.__doc__ or "").strip().splitlines()[0]
    return {"type": "object", "description": doc, "properties": props,
            "additionalProperties": False}


def scenario_json_schema() -> dict[str, YAMLValue]:
    """The JSON Schema of a scenario file.

    Output:
        dict, JSON-serialisable (``json.dumps``), draft 2020-12.
    """
    out = _section(Scenario, _registries())
    props = out["properties"]
    props["extends"] = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                        "description": props["extends"].get("description", "")}
    props["sweep"] = {**props.get("sweep", {}), "type": "object",
                      "additionalProperties": {"type": "array", "minItems": 1},
                      "propertyNames": {"pattern": r"^[A-Za-z0-9_*\-]+(\.[A-Za-z0-9_*\-]+)+$|^frames$"}}
    props["sweep"].pop("default", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "commsldr scenario", **out}
