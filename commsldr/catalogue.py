"""What ``commsldr list`` prints: every registered name with a one-line description, found
without importing torch (so the command answers at once).

The registries themselves live with what they register (``channels.registry``,
:mod:`commsldr.registry`, ``commsldr.models.registry``, ``commsldr.train.recipes``,
``commsldr.models.pretrained``); importing those packages imports torch, which alone takes
seconds. This module reads the same facts from their sources instead: the names and docstrings
of classes decorated with ``@register_channel(...)``, the ``register_backbone(BackboneSpec(...))``
and ``@register_recipe(...)`` calls, ``@register_scheme(...)`` classes, the pretrained index file
and the shipped scenario files;
policies, CSI models and PHYs come from :mod:`commsldr.registry`, whose built-ins are lazy. A test
checks that every listing equals the imported registry. Modules that are already imported (a
plug-in loaded with ``--plugin``) are read from memory.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from commsldr.registry import CSI_MODELS, PHYS, POLICIES, _module_file, source_summary
from commsldr.resources import shipped_models_dir, shipped_scenarios_dir

__all__ = ["KINDS", "catalogue"]

#: kinds ``commsldr list`` and ``commsldr describe`` know
KINDS = ("channels", "policies", "csi", "phys", "models", "recipes", "pretrained", "scenarios",
         "schemes")

def _first_line(text: str | None) -> str:
    text = (text or "").strip()
    return text.splitlines()[0].strip() if text else ""

def _const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

def _decorated(path: Path, decorator: str) -> dict[str, str]:
    """``{name: description}`` of ``@decorator("name"[, "description"])`` in a source file
    (the description: the second argument, else the decorated object's docstring)."""
    out: dict[str, str] = {}
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            continue
        for dec in node.decorator_list:
            if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Name)
                    and dec.func.id == decorator and dec.args):
                name = _const_str(dec.args[0])
                if name is None:
                    continue
                desc = _const_str(dec.args[1]) if len(dec.args) > 1 else None
                out[name] = _first_line(desc if desc is not None else ast.get_docstring(node))
    return out

def _channels() -> dict[str, str]:
    if "channels.registry" in sys.modules:
        return dict(sys.modules["channels.registry"].channel_descriptions())
    init = _module_file("channels")
    if init is None:
        return {}
    out: dict[str, str] = {}
    for path in sorted(init.parent.glob("*.py")):
        out.update(_decorated(path, "register_channel"))
    for ep in entry_points(group="commsldr.channels"):
        if ep.name not in out:
            out[ep.name] = source_summary(ep.value) or ""
    return dict(sorted(out.items()))

def _schemes() -> dict[str, str]:
    if "commsldr.schemes.registry" in sys.modules:
        return dict(sys.modules["commsldr.schemes.registry"].scheme_descriptions())
    init = _module_file("commsldr.schemes")
    if init is None:
        return {}
    out: dict[str, str] = {}
    for path in sorted(init.parent.glob("*.py")):
        out.update(_decorated(path, "register_scheme"))
    for ep in entry_points(group="commsldr.schemes"):
        if ep.name not in out:
            out[ep.name] = source_summary(ep.value) or ""
    return dict(sorted(out.items()))

def _models() -> dict[str, str]:
    path = _module_file("commsldr.models.registry")
    out: dict[str, str] = {}
    assert path is not None
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "BackboneSpec" and node.args):
            name = _const_str(node.args[0])
            desc = _const_str(node.args[3]) if len(node.args) > 3 else next(
                (_const_str(k.value) for k in node.keywords if k.arg == "description"), "")
            if name is not None:
                out[name] = desc or ""
    out["split_autoencoder"] = source_summary("commsldr.models.split:SplitAutoencoder") or ""
    return out

def _recipes() -> dict[str, str]:
    path = _module_file("commsldr.train.recipes")
    assert path is not None
    return _decorated(path, "register_recipe")

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
        desc = _first_line(str(e.get("description", "")))
        return f"{head} · {desc}" if head else desc

    return {n: line(e) for n, e in sorted(models.items())}

def _scenarios() -> dict[str, str]:
    import yaml

    out = {}
    for path in sorted(shipped_scenarios_dir().glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            raw = {}
        out[path.stem] = _first_line(str(raw.get("description", ""))) if isinstance(raw, dict) \
            else ""
    return out

def catalogue(kind: str) -> dict[str, str]:
    """``{name: one-line description}`` of every registered ``kind`` (one of :data:`KINDS`)."""
    if kind == "channels":
        return _channels()
    if kind == "policies":
        return POLICIES.summaries()
    if kind == "csi":
        return CSI_MODELS.summaries()
    if kind == "phys":
        return PHYS.summaries()
    if kind == "models":
        return _models()
    if kind == "recipes":
        return _recipes()
    if kind == "pretrained":
        return _pretrained()
    if kind == "scenarios":
        return _scenarios()
    if kind == "schemes":
        return _schemes()
    raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")
