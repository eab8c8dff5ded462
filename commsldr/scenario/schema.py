"""The scenario schema: YAML → validated dataclasses, with errors that name the dotted key.

A scenario file is a YAML mapping with the sections below (every key, its type, default and
allowed values: the guide page "Scenario reference", generated from these dataclasses by
:func:`reference_markdown` and checked against them by a test). Validation happens entirely in
:func:`parse_scenario` — names are looked up in the registries and every channel, PHY, CSI model
and policy is constructed once — so a bad file fails before any data is loaded or model trained.

Sections with *open parameters* (``channels.<label>``, ``policies.<label>``, ``csi`` and the PHY
part of ``link``) take one selector key (``type``, or ``phy`` for ``link``) and then the
keyword parameters of the selected class, checked against its signature.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from commsldr.errors import UserError, did_you_mean, show
from commsldr.registry import PHYS as PHY_REGISTRY

#: A value as YAML or JSON gives it: a raw scenario mapping before validation, a JSON Schema
#: fragment. (The dataclass fields below keep ``Any`` where the validator reads it at run time.)
YAMLValue = None | bool | int | float | str | list["YAMLValue"] | dict[str, "YAMLValue"]


__all__ = [
    "ScenarioError",
    "CellSection",
    "DataConfig",
    "ModelConfig",
    "CodingConfig",
    "ChannelConfig",
    "LinkConfig",
    "CSIConfig",
    "PolicyConfig",
    "SchemeConfig",
    "AnalogConfig",
    "OutputConfig",
    "PaperFiguresConfig",
    "Scenario",
    "PHYS",
    "FIGURES",
    "SWEEPABLE",
]

#: Built-in PHY modes and the ``commsldr.link`` class each one builds (all of them, plug-ins
#: included: :data:`commsldr.registry.PHYS`).
PHYS: dict[str, str] = dict(PHY_REGISTRY.builtins)
#: Figure names a run can draw.
FIGURES = ("accuracy_vs_snr", "accuracy_vs_capacity", "accuracy_vs_rate", "timeline",
           "accuracy_vs_sensor_compute", "regret")
#: Figures drawn when ``outputs.figures`` is not given (``regret`` stores per-frame curves: opt in).
DEFAULT_FIGURES = FIGURES[:-1]
#: Top-level sections a sweep may change (the rest fixes the operating-point table).
SWEEPABLE = ("channels", "link", "csi", "policies", "analog", "frames")


class ScenarioError(UserError):
    """A scenario is invalid. ``key`` is the dotted path of the offending entry."""

T = TypeVar("T")


def _doc(text: str, **extra: object) -> dict[str, object]:
    return {"doc": text, **extra}


@dataclass
class DataConfig:
    """``data``: the images (training the model if needed, and the evaluation set)."""

    dataset: str = field(default="synthetic", metadata=_doc(
        "dataset name", choices=("synthetic", "cifar10", "cifar100", "imagefolder")))
    root: str | None = field(default=None, metadata=_doc(
        "dataset directory (imagefolder: a folder with train/ and test/; cifar: torchvision root)"))
    download: bool = field(default=False, metadata=_doc("let torchvision download CIFAR"))
    train_per_class: int | None = field(default=None, metadata=_doc(
        "training images per class (null: all; synthetic: how many to generate)", min=1))
    test_per_class: int | None = field(default=None, metadata=_doc(
        "evaluation images per class (null: all)", min=1))


@dataclass
class ModelConfig:
    """``model``: exactly one of ``checkpoint``, ``pretrained`` or ``recipe``."""

    checkpoint: str | None = field(default=None, metadata=_doc("path of a model checkpoint (.pt)"))
    pretrained: str | None = field(default=None, metadata=_doc(
        "name of a shipped checkpoint (models/<name>.pt)"))
    recipe: str | None = field(default=None, metadata=_doc(
        "training recipe (commsldr list recipes); the model is trained once and cached by the "
        "hash of its configuration"))
    train: dict[str, object] = field(default_factory=dict, metadata=_doc(
        "TrainConfig settings for the recipe by flat key (backbone, latent_dim, epochs, ...) "
        "or by group (optim: {momentum: 0.8})"))
    truncations: list[int] = field(default_factory=list, metadata=_doc(
        "extra encoder variants: keep the first k latent entries (each k < latent_dim)", min=1))
    finetune_truncations: bool = field(default=False, metadata=_doc(
        "fine-tune every truncated variant with the 'truncate' recipe (else plain truncation)"))
    cache_dir: str = field(default="", metadata=_doc(
        "where trained models and operating-point tables are cached (empty: the user cache, "
        "$COMMSLDR_CACHE, else $XDG_CACHE_HOME/commsldr, else ~/.cache/commsldr, shared by every "
        "working directory)"))


@dataclass
class CodingConfig:
    """``coding``: quantization scales and packet framing."""

    scales: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0, 2.0, 4.0], metadata=_doc(
        "quantization scales s of the operating-point grid", min_exclusive=0.0))
    rule: str = field(default="precision", metadata=_doc(
        "step allocation rule (commsldr.coding.ALLOCATION_RULES)"))
    codec: str = field(default="gaussian", metadata=_doc(
        "per-dimension entropy models", choices=("gaussian", "categorical")))
    transform: str = field(default="none", metadata=_doc(
        "decorrelating transform before quantization: none (the paper's per-entry coding) or klt "
        "(the Karhunen-Loeve transform of each variant's training latents; encodes the training "
        "set once per variant)", choices=("none", "klt")))
    crc_bits: int = field(default=16, metadata=_doc("packet CRC length", choices=(8, 16, 32)))


@dataclass
class ChannelConfig:
    """``channels.<label>``: ``type`` (commsldr list channels) plus that model's parameters."""

    type: str = field(default="", metadata=_doc("registered channel model name"))
    params: dict[str, object] = field(default_factory=dict, metadata=_doc("the model's parameters"))


@dataclass
class LinkConfig:
    """``link``: PHY mode, framing; other keys are the PHY's parameters (e.g. ``bandwidth_hz``)."""

    phy: str = field(default="shannon", metadata=_doc(
        "PHY mode: shannon, nr, bittrue or a plug-in (commsldr list phys)"))
    frame_s: float = field(default=1e-3, metadata=_doc(
        "frame duration in seconds (given to the PHY and to channels that take frame_s)",
        min_exclusive=0.0))
    images_per_packet: int = field(default=1, metadata=_doc(
        "images m carried by each packet (at most the receiver's max_images_per_packet, 256, "
        "and the number of test images)", min=1, max=256))
    fallback: str = field(default="error", metadata=_doc(
        "decision for the images of a lost packet", choices=("error", "prior")))
    max_attempts: int = field(default=1, metadata=_doc(
        "transmissions per packet: a lost packet is re-sent in the next frames (1: no "
        "retransmission; > 1 needs deadline_frames >= 2)", min=1))
    deadline_frames: int = field(default=1, metadata=_doc(
        "a packet generated in frame t may be sent up to frame t + deadline_frames - 1; "
        "packets waiting behind a retransmission expire (fallback) after it", min=1))
    packet_interval_frames: int = field(default=1, metadata=_doc(
        "the sensor generates a packet every this many frames; frames with nothing queued stay "
        "idle (room for retransmissions)", min=1))
    harq_timing: dict[str, object] | None = field(default=None, metadata=_doc(
        "HARQ round trip and parallel processes {rtt_frames: >= 1, processes: 1-16, repick: "
        "true/false} (commsldr.link.harq_loop.HARQTiming): a packet sent in frame t is ACKed or "
        "NACKed for frame t + rtt_frames; null: one stop-and-wait process, retransmission in the "
        "next frame"))
    params: dict[str, object] = field(default_factory=dict, metadata=_doc("the PHY's parameters"))


@dataclass
class CSIConfig:
    """``csi``: what the policies know of the channel (the Oracle always gets perfect CSI)."""

    type: str = field(default="perfect", metadata=_doc(
        "CSI model: perfect, delayed, noisy, ack-nack or a plug-in (commsldr list csi)"))
    params: dict[str, object] = field(default_factory=dict, metadata=_doc("the CSI model's parameters"))


@dataclass
class PolicyConfig:
    """``policies.<label>``: ``type`` (commsldr list policies) plus its parameters."""

    type: str = field(default="", metadata=_doc("registered policy name"))
    params: dict[str, object] = field(default_factory=dict, metadata=_doc("the policy's parameters"))


@dataclass
class SchemeConfig:
    """``schemes.<label>``: a baseline scheme (commsldr list schemes) plus its parameters.

    The split autoencoder of the ``model`` and ``coding`` sections always runs (scheme
    ``split-ae``); each entry here adds one more scheme, simulated on the same channel draws
    (:mod:`commsldr.schemes`). Digital schemes run every policy of ``policies`` (or of this
    entry's own ``policies``, e.g. a ``fixed`` policy at a JPEG quality); analog schemes are
    evaluated once per channel, sweep point and seed.
    """

    type: str = field(default="", metadata=_doc("registered scheme name"))
    policies: dict[str, PolicyConfig] = field(default_factory=dict, metadata=_doc(
        "the policies of this scheme, by label (empty: the top-level policies)"))
    params: dict[str, object] = field(default_factory=dict, metadata=_doc("the scheme's parameters"))


@dataclass
class AnalogConfig:
    """``analog``: add uncoded (analog) transmission of the latent as an extra curve.

    Each test image is sent in its own frame as ``k·symbols_per_entry`` complex symbols through the
    channel's ``forward`` (symbol-level channels only); the server decodes the noisy latent. For a
    fair comparison give the digital PHY the same channel uses per image
    (``bandwidth_hz·frame_s = k·symbols_per_entry`` with one image per packet).
    """

    enabled: bool = field(default=False, metadata=_doc("add the analog curve"))
    k: int | None = field(default=None, metadata=_doc(
        "encoder variant sent (null: the full latent)", min=1))
    symbols_per_entry: float = field(default=0.5, metadata=_doc(
        "complex channel symbols per latent entry (a multiple of 0.5)", min_exclusive=0.0))
    repeats: int = field(default=1, metadata=_doc("channel realisations per test image", min=1))


@dataclass
class PaperFiguresConfig:
    """``paper_figures``: also draw the paper's Figs. 2-5 (:mod:`commsldr.report.paper_figures`).

    Off while ``models`` is empty. The curves use the scenario's ``data`` (test set) and
    ``coding.rule``; figures go to the run's ``figures/``, the summary to
    ``paper_figures/summary.json`` in the run directory.
    """

    models: dict[str, str] = field(default_factory=dict, metadata=_doc(
        "legend label → shipped model name (commsldr list pretrained) or checkpoint path (.pt)"))
    entropy_targets: list[float] = field(
        default_factory=lambda: [10.0, 14.0, 20.0, 28.0, 40.0, 56.0, 72.0, 88.0], metadata=_doc(
            "paper total-entropy targets (bits per image) of the rate-accuracy curves",
            min_exclusive=0.0))
    distortions: bool = field(default=True, metadata=_doc(
        "evaluate the distorted test sets (rotation, flip, colour jitter) and draw Fig. 3"))
    rate_models: list[str] = field(default_factory=list, metadata=_doc(
        "labels drawn in Fig. 2 (empty: the models that are not truncated variants)"))
    distortion_models: list[str] = field(default_factory=list, metadata=_doc(
        "labels evaluated on the distorted test sets, Fig. 3 (empty: those of Fig. 2)"))
    truncation_models: list[str] = field(default_factory=list, metadata=_doc(
        "labels drawn in Fig. 4 (empty: the truncated models plus the untruncated ones whose "
        "d_y is a truncation's source or target)"))


@dataclass
class OutputConfig:
    """``outputs``: where results go and what is drawn."""

    dir: str = field(default="runs", metadata=_doc(
        "runs are written to <dir>/<scenario name>/<timestamp>/ (--out overrides)"))
    figures: list[str] = field(default_factory=lambda: list(DEFAULT_FIGURES), metadata=_doc(
        "figures to draw", choices=FIGURES))
    formats: list[str] = field(default_factory=lambda: ["png", "pdf"], metadata=_doc(
        "figure file formats", choices=("png", "pdf", "svg")))
    ci: str = field(default="auto", metadata=_doc(
        "confidence interval on accuracy: auto (Student t over seeds from 5 seeds, else the "
        "moving-block bootstrap over frames), t, block-bootstrap, bootstrap (over seeds) or "
        "wilson (pooled images; right only where frames are independent)",
        choices=("auto", "t", "block-bootstrap", "bootstrap", "wilson")))
    confidence: float = field(default=0.95, metadata=_doc(
        "confidence level of the intervals", min_exclusive=0.0, max_exclusive=1.0))
    timeline_frames: int = field(default=200, metadata=_doc(
        "frames shown in the timeline figure", min=1))


@dataclass
class CellSection:
    """``cell``: many sensors sharing one OFDMA uplink (guide: "A cell of sensors"); one job per
    number of sensors, scheduler, policy and seed. Not swept by ``sweep``: it has its own lists."""

    sensors: list[int] = field(default_factory=list, metadata=_doc(
        "numbers of sensors N to run (empty: no cell)", min=1, max=4096))
    schedulers: list[str] = field(default_factory=lambda: ["proportional-fair"], metadata=_doc(
        "schedulers to compare (commsldr list schedulers)"))
    scheduler_params: dict[str, dict[str, Any]] = field(default_factory=dict, metadata=_doc(
        "parameters per scheduler name, e.g. {task-aware: {fairness: 1.0}}"))
    policies: list[str] = field(default_factory=list, metadata=_doc(
        "labels of the policies section every sensor runs (empty: all of them)"))
    frames: int = field(default=200, metadata=_doc("image frames per cell run", min=1))
    settings: dict[str, Any] = field(default_factory=dict, metadata=_doc(
        "the cell's other parameters (commsldr.cell.CellConfig: scenario, num_rings, "
        "bandwidth_hz, num_prb, num_rx_antennas, receiver, fading, slots_per_frame, ...)"))


@dataclass
class Scenario:
    """A whole study. Top-level keys."""

    name: str = field(default="", metadata=_doc("scenario name (the run directory's name)"))
    description: str = field(default="", metadata=_doc("free text"))
    extends: list[str] = field(default_factory=list, metadata=_doc(
        "scenario files this one starts from (a name or a list; paths relative to this file, or "
        "shipped scenario names): mappings merge key by key, lists and scalars replace, null "
        "removes an inherited key, name is not inherited"))
    plugins: list[str] = field(default_factory=list, metadata=_doc(
        "modules imported before validation so that the policies, CSI models, PHYs and channels "
        "they register can be used here: dotted module names or .py files (relative to this "
        "file)"))
    data: DataConfig = field(default_factory=DataConfig, metadata=_doc("see data"))
    model: ModelConfig = field(default_factory=ModelConfig, metadata=_doc("see model"))
    coding: CodingConfig = field(default_factory=CodingConfig, metadata=_doc("see coding"))
    channels: dict[str, ChannelConfig] = field(default_factory=dict, metadata=_doc(
        "channel models to compare, by label"))
    link: LinkConfig = field(default_factory=LinkConfig, metadata=_doc("see link"))
    csi: CSIConfig = field(default_factory=CSIConfig, metadata=_doc("see csi"))
    policies: dict[str, PolicyConfig] = field(default_factory=dict, metadata=_doc(
        "policies to compare, by label"))
    analog: AnalogConfig = field(default_factory=AnalogConfig, metadata=_doc("see analog"))
    schemes: dict[str, SchemeConfig] = field(default_factory=dict, metadata=_doc(
        "baseline schemes to run next to the split autoencoder, by label"))
    sweep: dict[str, list[object]] = field(default_factory=dict, metadata=_doc(
        "dotted key → list of values; the run covers the product of all lists. Keys under "
        "channels (a label or * for every channel), link, csi, policies, or frames"))
    seeds: list[int] = field(default_factory=lambda: [0], metadata=_doc(
        "seeds; each gives independent channel, CSI and image draws", min=0))
    frames: int = field(default=1000, metadata=_doc("frames simulated per seed and sweep point",
                                                    min=1))
    paper_figures: PaperFiguresConfig = field(default_factory=PaperFiguresConfig, metadata=_doc(
        "see paper_figures"))
    cell: CellSection = field(default_factory=CellSection, metadata=_doc("see cell"))
    outputs: OutputConfig = field(default_factory=OutputConfig, metadata=_doc("see outputs"))

    def to_dict(self) -> dict[str, object]:
        """The resolved configuration in the YAML layout (open parameters flattened)."""
        return to_yaml_dict(self)


#: dataclass → (selector key, params field) for sections with open parameters
OPEN_SECTIONS: dict[type, str] = {
    ChannelConfig: "type", PolicyConfig: "type", CSIConfig: "type", LinkConfig: "phy",
    SchemeConfig: "type",
}


# ---------------------------------------------------------------------------------------------
# generic typed parsing
# ---------------------------------------------------------------------------------------------
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _type_name(tp: object) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    if origin is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "mapping"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(tp, str(tp))


def _coerce(key: str, value: Any, tp: object, meta: dict[str, object]) -> Any:
    """Check ``value`` against type ``tp`` and the field's constraints; return the parsed value."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)][0]
        return _coerce(key, value, inner, meta)
    if origin is list:
        if not isinstance(value, list):
            raise ScenarioError(key, f"expected a {_type_name(tp)}, got {show(value)}")
        (inner,) = typing.get_args(tp)
        return [_coerce(f"{key}[{i}]", v, inner, meta) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ScenarioError(key, f"expected a mapping, got {show(value)}")
        kt, vt = typing.get_args(tp) or (object, object)
        if vt is object or vt is Any:
            return dict(value)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ScenarioError(f"{key}.{k}", "keys must be strings")
            out[k] = _coerce(f"{key}.{k}", v, vt, {})
        return out
    if tp is object or tp is Any:  # any YAML value
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ScenarioError(key, f"expected true or false, got {show(value)}")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(key, f"expected an integer, got {show(value)}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ScenarioError(key, f"expected a finite number, got {show(value)}")
        value = float(value)
    elif tp is str:
        if not isinstance(value, str):
            raise ScenarioError(key, f"expected a string, got {show(value)}")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ScenarioError(key, f"{show(value)} is not allowed; allowed values: "
                                 f"{', '.join(map(str, choices))}")
    if "min" in meta and value < meta["min"]:
        raise ScenarioError(key, f"must be >= {meta['min']}, got {show(value)}")
    if "max" in meta and value > meta["max"]:
        raise ScenarioError(key, f"must be <= {meta['max']}, got {show(value)}")
    if "min_exclusive" in meta and not value > meta["min_exclusive"]:
        raise ScenarioError(key, f"must be > {meta['min_exclusive']}, got {show(value)}")
    if "max_exclusive" in meta and not value < meta["max_exclusive"]:
        raise ScenarioError(key, f"must be < {meta['max_exclusive']}, got {show(value)}")
    return value


def _parse_labelled(cls: type[T], raw: object, key: str, label: str,
                    siblings: dict[object, object]) -> T:
    """One labelled entry of an open section (``channels.<label>``): a label without its
    selector (``type``) is usually a misspelt or missing label, e.g. ``--set
    channels.rayleig.mean_snr_db=3`` or a sweep of a label the scenario lacks."""
    selector = OPEN_SECTIONS[cls]
    if isinstance(raw, dict) and selector not in raw and \
            {f.name: f for f in dataclasses.fields(cls)}[selector].default == "":
        named = [str(lbl) for lbl, e in siblings.items()
                 if str(lbl) != label and isinstance(e, dict) and selector in e]
        if named:
            raise ScenarioError(f"{key}.{label}.{selector}", (
                f"missing (required): {label!r} is not a label of {key}"
                f"{did_you_mean(label, named)} (labels: {', '.join(named)}); a new label needs "
                f"its {selector}"))
    return parse_section(cls, raw, f"{key}.{label}")


def parse_section(cls: type[T], raw: object, key: str) -> T:
    """Parse the mapping ``raw`` into dataclass ``cls`` (key: its dotted path, for errors)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError(key, f"expected a mapping, got {show(raw)}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    selector = OPEN_SECTIONS.get(cls)
    named = {n for n in fields if n != "params"} if selector else set(fields)
    kwargs: dict[str, object] = {}
    params: dict[str, object] = {}
    for k, v in raw.items():
        sub = f"{key}.{k}" if key else str(k)
        if not isinstance(k, str):
            raise ScenarioError(sub, "keys must be strings")
        if k in named:
            f = fields[k]
            tp = hints[k]
            if dataclasses.is_dataclass(tp):
                kwargs[k] = parse_section(tp, v, sub)
            elif typing.get_origin(tp) is dict and typing.get_args(tp)[1] in OPEN_SECTIONS:
                if not isinstance(v, dict):
                    raise ScenarioError(sub, f"expected a mapping of label → entry, got {show(v)}")
                kwargs[k] = {str(lbl): _parse_labelled(typing.get_args(tp)[1], e, sub, str(lbl), v)
                             for lbl, e in v.items()}
            else:
                kwargs[k] = _coerce(sub, v, tp, dict(f.metadata))
        elif selector:
            params[k] = v
        else:
            allowed = ", ".join(sorted(fields))
            raise ScenarioError(sub, f"unknown key{did_you_mean(k, fields)}; allowed keys: "
                                     f"{allowed}")
    if selector:
        if selector not in raw and fields[selector].default == "":
            raise ScenarioError(f"{key}.{selector}", "missing (required)")
        kwargs["params"] = params
    return cls(**kwargs)


def to_yaml_dict(obj: object) -> object:
    """Dataclass tree → plain dict in the YAML layout (open parameters flattened)."""
    if dataclasses.is_dataclass(obj):
        out: dict[str, object] = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if f.name == "params" and type(obj) in OPEN_SECTIONS:
                out.update({k: to_yaml_dict(x) for k, x in v.items()})
            else:
                out[f.name] = to_yaml_dict(v)
        return out
    if isinstance(obj, dict):
        return {k: to_yaml_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_yaml_dict(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def reference_markdown() -> str:
    """The scenario reference (every key, type, default, allowed values) as Markdown tables."""
    lines: list[str] = []
    sections = [("(top level)", Scenario), ("data", DataConfig), ("model", ModelConfig),
                ("coding", CodingConfig), ("channels.<label>", ChannelConfig),
                ("link", LinkConfig), ("csi", CSIConfig), ("policies.<label>", PolicyConfig),
                ("analog", AnalogConfig), ("schemes.<label>", SchemeConfig),
                ("paper_figures", PaperFiguresConfig), ("cell", CellSection),
                ("outputs", OutputConfig)]
    for title, cls in sections:
        lines += [f"### `{title}`" if "(" not in title else f"### {title}", "",
                  (cls.__doc__ or "").strip(), "",
                  "| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
        hints = _hints(cls)
        for f in dataclasses.fields(cls):
            if f.name == "params" and cls in OPEN_SECTIONS:
                lines.append("| *any other key* | | | | " + f.metadata["doc"] + " |")
                continue
            if f.default is not dataclasses.MISSING:
                default = f.default
            else:
                default = f.default_factory()  # type: ignore[misc]
            if dataclasses.is_dataclass(default):
                default_s = "(section)"
            elif default == "" and cls in OPEN_SECTIONS and f.name == OPEN_SECTIONS[cls]:
                default_s = "required"
            else:
                default_s = "`" + _yaml_scalar(to_yaml_dict(default)) + "`"
            meta = dict(f.metadata)
            allowed = []
            if "choices" in meta:
                allowed.append(", ".join(f"`{c}`" for c in meta["choices"]))
            if "min" in meta:
                allowed.append(f"≥ {meta['min']}")
            if "max" in meta:
                allowed.append(f"≤ {meta['max']}")
            if "min_exclusive" in meta:
                allowed.append(f"> {meta['min_exclusive']}")
            if "max_exclusive" in meta:
                allowed.append(f"< {meta['max_exclusive']}")
            lines.append(f"| `{f.name}` | {_type_name(hints[f.name])} | {default_s} | "
                         f"{'; '.join(allowed)} | {meta.get('doc', '')} |")
        lines.append("")
    return "\n".join(lines)


def _yaml_scalar(v: object) -> str:
    return yaml.safe_dump(v, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
