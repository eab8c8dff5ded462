"""The groups of a :class:`~commsldr.train.config.TrainConfig`: one small frozen dataclass per
concept, each validating its own fields.

| group (``TrainConfig.<group>``) | class | flat keys (``commsldr train`` options, ``--set``, ``model.train``) |
|---|---|---|
| ``data`` | :class:`DataSettings` | dataset, data_root, download, num_per_class, test_num_per_class, augment, val_fraction |
| ``model`` | :class:`ModelSettings` | backbone, latent_dim, side_dim, width |
| ``ce`` | :class:`CeSettings` | epochs, batch_size, lr |
| ``optim`` | :class:`OptimSettings` | optimizer, momentum, weight_decay, schedule, milestones, gamma, amp, nesterov, label_smoothing, bias_lr_scale, warmup, channels_last, lookahead |
| ``ldr`` | :class:`LdrSettings` | ldr_epochs, ldr_batch_size, ldr_lr, ldr_milestones, ce_weight, eps_sq, rate_weight, ssl_views, duphil_mode |
| ``side`` | :class:`SideSettings` | side_input, side_quantizer, side_step, side_noise |
| ``finetune`` | :class:`FinetuneSettings` | finetune_epochs, finetune_lr |
| ``truncate`` | :class:`TruncateSettings` | keep, truncate_finetune |
| ``screen`` | :class:`ScreenSettings` | dims, screen_select, screen_rule, screen_budgets, screen_at_bits |
| ``eb`` | :class:`EbSettings` | eb_lambdas, eb_lr |
| ``run`` | :class:`RunSettings` | seed, out, resume, device, progress, eval_every, from_checkpoint |

Inside a group a field drops its group's prefix (``config.ldr.epochs`` is the flat ``ldr_epochs``,
``config.side.input`` is ``side_input``); the flat key of every field is :data:`FLAT_PATHS`.
:class:`OptimSettings` and :class:`SideSettings` are also the optimiser and side-branch parts of
a :class:`~commsldr.train.phase.Phase`. Values are immutable: lists are stored as tuples and
written back as lists by :meth:`Settings.to_flat`.

Errors name the flat key (:class:`TrainConfigError`), the user-facing spelling everywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from commsldr.errors import UserError, did_you_mean, show
from commsldr.registry import MODELS  # the registry, not the models: no torch import

__all__ = ["AUGMENT_MODES", "CeSettings", "DATASETS", "DUPHIL_MODES", "DataSettings",
           "EbSettings", "FLAT_KEYS", "FLAT_PATHS", "FinetuneSettings", "GROUPS", "LdrSettings",
           "ModelSettings", "OPTIMIZERS", "OptimSettings", "RunSettings", "SCHEDULES",
           "SCREEN_RULES", "SCREEN_SELECT", "SIDE_INPUTS", "SIDE_QUANTIZERS", "ScreenSettings",
           "Settings", "SideSettings", "TRUNCATE_FINETUNE", "TrainConfigError", "TruncateSettings",
           "flat_settings", "MAX_EPOCHS", "MAX_SSL_VIEWS"]

#: most epochs of any training phase (the paper's longest is 200): more is a typo that would
#: train for days, refused before any work
MAX_EPOCHS = 10_000
#: most views per image of the LDR-SSL loss (each view is a copy of the batch in memory)
MAX_SSL_VIEWS = 64

DATASETS = ("synthetic", "cifar10", "cifar100", "imagefolder")
OPTIMIZERS = ("sgd", "adam")
#: ``cosine``, ``multistep`` and ``constant`` step once per epoch; ``triangle`` once per
#: mini-batch (linear from 0.2·lr up to lr at ``warmup`` of the steps, then down to 0.07·lr:
#: airbench94's schedule).
SCHEDULES = ("cosine", "multistep", "constant", "triangle")
AUGMENT_MODES = ("light", "heavy", "none")
DUPHIL_MODES = ("alternate", "phases")
TRUNCATE_FINETUNE = ("ce", "ldr-ft")
SCREEN_SELECT = ("test", "val")
SIDE_INPUTS = ("clean", "quantized")
SIDE_QUANTIZERS = ("noise", "ste")
SCREEN_RULES = ("rate-mean", "rate-at", "float")


class TrainConfigError(UserError):
    """A training setting is invalid; ``key`` is the flat :class:`TrainConfig` key."""


_TYPE_NAMES = {int: "an integer", float: "a finite number", str: "a string", bool: "true or false"}


def _check_value(key: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against the annotation ``tp`` (strict: no strings for numbers, no bools for
    integers, finite floats); return it with integers widened to ``float`` where a float is due
    and lists made tuples where a tuple is due."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _check_value(key, value, inner)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise TrainConfigError(key, f"expected a list, got {show(value)}")
        inner = typing.get_args(tp)[0]
        items = [_check_value(f"{key}[{i}]", v, inner) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise TrainConfigError(key, f"expected a mapping, got {show(value)}")
        kt, vt = typing.get_args(tp) or (Any, Any)
        return {_check_value(f"{key}.{k}", k, kt): _check_value(f"{key}.{k}", v, vt)
                for k, v in value.items()}
    if tp not in _TYPE_NAMES:  # Any, or a type this checker does not know: the field's own checks
        return value
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool)
                          and math.isfinite(v)),
        str: lambda v: isinstance(v, str),
    }[tp]
    if not ok(value):
        raise TrainConfigError(key, f"expected {_TYPE_NAMES[tp]}, got {show(value)}")
    return float(value) if tp is float else value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _flat(name: str) -> dict[str, str]:
    """Field metadata: the flat key of a field whose name inside its group differs."""
    return {"flat": name}


S = TypeVar("S", bound="Settings")


class Settings:
    """Behaviour shared by the groups: strict type checks (naming the flat key), then the
    group's own checks (:meth:`check`); conversion to and from the flat and nested spellings."""

    #: the group's attribute name in :class:`TrainConfig`
    GROUP: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        names = self.flat_names()
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _check_value(names[f.name], getattr(self, f.name), hints[f.name])
            object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """The group's own checks (ranges, allowed names); raise :class:`TrainConfigError`."""

    @classmethod
    def flat_names(cls) -> dict[str, str]:
        """``{field name: flat key}`` of the group's fields, in order."""
        return {f.name: f.metadata.get("flat", f.name)
                for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def from_flat(cls: type[S], flat: Mapping[str, Any]) -> S:
        """The group from the flat keys of ``flat`` that are its own (the others are ignored)."""
        return cls(**{n: flat[k] for n, k in cls.flat_names().items() if k in flat})  # type: ignore[call-arg]

    def to_flat(self) -> dict[str, Any]:
        """``{flat key: value}`` with lists for tuples (the record stored in checkpoints)."""
        return {k: _plain(getattr(self, n)) for n, k in self.flat_names().items()}

    def to_nested(self) -> dict[str, Any]:
        """``{field name: value}`` with lists for tuples."""
        return {n: _plain(getattr(self, n)) for n in self.flat_names()}

    # -- checks shared by the groups ----------------------------------------------------------
    def _choice(self, name: str, allowed: tuple[str, ...]) -> None:
        v = getattr(self, name)
        if v not in allowed:
            raise TrainConfigError(self.flat_names()[name],
                                   f"{show(v)} is not allowed{did_you_mean(v, allowed)}; "
                                   f"allowed values: {', '.join(allowed)}")

    def _at_least_one(self, *names: str) -> None:
        for name in names:
            v = getattr(self, name)
            if v is not None and v < 1:
                raise TrainConfigError(self.flat_names()[name], f"must be >= 1, got {v}")

    def _at_most(self, limit: int, *names: str) -> None:
        for name in names:
            v = getattr(self, name)
            if v is not None and v > limit:
                raise TrainConfigError(self.flat_names()[name], f"must be <= {limit}, got {v}")

    def _positive(self, *names: str) -> None:
        for name in names:
            if not getattr(self, name) > 0:
                raise TrainConfigError(self.flat_names()[name],
                                       f"must be > 0, got {getattr(self, name)}")

    def _non_negative(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) < 0:
                raise TrainConfigError(self.flat_names()[name],
                                       f"must be >= 0, got {getattr(self, name)}")

    def _fractions(self, name: str) -> None:
        v = getattr(self, name)
        if any(not 0 < f < 1 for f in v):
            raise TrainConfigError(self.flat_names()[name],
                                   f"must be fractions in (0, 1), got {show(list(v))}")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class DataSettings(Settings):
    """The images: ``dataset`` (one of :data:`DATASETS`), ``data_root`` (``imagefolder``: a folder
    with ``train/`` and ``test/``), ``download`` (let torchvision download CIFAR),
    ``num_per_class`` / ``test_num_per_class`` (images per class kept; ``None``: all;
    ``synthetic``: how many to generate), ``augment`` of the training images (``light``: flip +
    2-pixel translate; ``heavy``: the family T; ``none``; ``True``/``False`` of older configs mean
    ``heavy``/``none``) and ``val_fraction`` (share of each class held out for validation by the
    ``screen`` with ``screen_select: val`` and by the entropy bottleneck)."""

    GROUP: ClassVar[str] = "data"
    dataset: str = "synthetic"
    root: str | None = field(default=None, metadata=_flat("data_root"))
    download: bool = False
    num_per_class: int | None = None
    test_num_per_class: int | None = None
    augment: str = "light"
    val_fraction: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.augment, bool):  # older configs: True meant the family T
            object.__setattr__(self, "augment", "heavy" if self.augment else "none")
        super().__post_init__()

    def check(self) -> None:
        self._choice("dataset", DATASETS)
        self._choice("augment", AUGMENT_MODES)
        self._at_least_one("num_per_class", "test_num_per_class")
        if not 0 < self.val_fraction < 1:
            raise TrainConfigError("val_fraction", f"must be in (0, 1), got {self.val_fraction}")


@dataclass(frozen=True)
class ModelSettings(Settings):
    """The split autoencoder: ``backbone`` (a registered backbone), ``latent_dim`` (d_y),
    ``side_dim`` (side-branch output; ``None``: the model's default), ``width`` (channel
    multiplier of the backbone)."""

    GROUP: ClassVar[str] = "model"
    backbone: str = "resnet8"
    latent_dim: int = 32
    side_dim: int | None = None
    width: float = 0.5

    def check(self) -> None:
        backbones = [b for b in MODELS.names() if b != "split_autoencoder"]
        if self.backbone not in backbones:
            raise TrainConfigError("backbone", f"{show(self.backbone)} is not a registered "
                                               f"backbone{did_you_mean(self.backbone, backbones)}"
                                               f"; allowed values: {', '.join(backbones)}")
        self._at_least_one("latent_dim", "side_dim")
        self._positive("width")


@dataclass(frozen=True)
class CeSettings(Settings):
    """CE-T, the first training of every recipe: ``epochs``, ``batch_size``, ``lr``. The LDR
    and fine-tuning phases fall back to its epochs (and the LDR phases to its batch size)."""

    GROUP: ClassVar[str] = "ce"
    epochs: int = 2
    batch_size: int = 64
    lr: float = 0.1

    def check(self) -> None:
        self._at_least_one("epochs", "batch_size")
        self._at_most(MAX_EPOCHS, "epochs")
        self._positive("lr")


@dataclass(frozen=True)
class OptimSettings(Settings):
    """How a phase optimises (also :attr:`Phase.optim <commsldr.train.phase.Phase.optim>`).

    ``optimizer`` (``sgd``/``adam``), ``momentum``, ``weight_decay``, ``schedule`` (one of
    :data:`SCHEDULES`), ``milestones`` (``multistep``: fractions of the epochs; the LDR phases
    use ``ldr_milestones``), ``gamma`` (multistep factor), ``amp`` (autocast: bfloat16 on CPU,
    float16 + GradScaler on CUDA), ``nesterov``, ``label_smoothing`` (of every CE loss),
    ``bias_lr_scale`` (learning-rate factor of BatchNorm parameters, weight decay divided by it),
    ``warmup`` (``triangle``: fraction of the steps to the peak), ``channels_last`` (NHWC memory
    format), ``lookahead`` (airbench's weight averaging, see :mod:`commsldr.train.loop`)."""

    GROUP: ClassVar[str] = "optim"
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    milestones: tuple[float, ...] = (0.5, 0.75, 0.9)
    gamma: float = 0.1
    amp: bool = False
    nesterov: bool = False
    label_smoothing: float = 0.0
    bias_lr_scale: float = 1.0
    warmup: float = 0.23
    channels_last: bool = False
    lookahead: bool = False

    def check(self) -> None:
        self._choice("optimizer", OPTIMIZERS)
        self._choice("schedule", SCHEDULES)
        self._positive("gamma", "bias_lr_scale")
        for name in ("label_smoothing", "warmup"):
            if not 0 <= getattr(self, name) < 1:
                raise TrainConfigError(name, f"must be in [0, 1), got {getattr(self, name)}")
        self._non_negative("momentum", "weight_decay")
        if not self.momentum < 1:
            raise TrainConfigError("momentum", f"must be in [0, 1), got {self.momentum}")
        self._fractions("milestones")


@dataclass(frozen=True)
class LdrSettings(Settings):
    """The LDR phases (DuPHiL and LDR-FT steps 1–2): ``epochs``/``batch_size`` (``ldr_*``;
    ``None``: those of CE-T), ``lr``, ``milestones`` (fractions of the epochs), ``ce_weight`` (CE
    weight ``ce_lam`` in the decoder step), ``eps_sq`` (ε², see :mod:`commsldr.losses`),
    ``rate_weight`` (γ), ``ssl_views`` (n views per image of L_LDR-SSL) and ``duphil_mode``:
    ``alternate`` (per mini-batch: encoder + side step with L_LDR, then decoder step with CE —
    the authors' code) or ``phases`` (encoder phase, then decoder phase)."""

    GROUP: ClassVar[str] = "ldr"
    epochs: int | None = field(default=None, metadata=_flat("ldr_epochs"))
    batch_size: int | None = field(default=None, metadata=_flat("ldr_batch_size"))
    lr: float = field(default=0.01, metadata=_flat("ldr_lr"))
    milestones: tuple[float, ...] = field(default=(0.25, 0.5, 0.75),
                                          metadata=_flat("ldr_milestones"))
    ce_weight: float = 1.0
    eps_sq: float = 0.5
    rate_weight: float = 1.0
    ssl_views: int = 2
    duphil_mode: str = "alternate"

    def check(self) -> None:
        self._at_least_one("epochs", "batch_size", "ssl_views")
        self._at_most(MAX_EPOCHS, "epochs")
        self._at_most(MAX_SSL_VIEWS, "ssl_views")
        self._positive("lr", "eps_sq")
        self._non_negative("ce_weight", "rate_weight")
        self._fractions("milestones")
        if self.ssl_views < 2:
            raise TrainConfigError("ssl_views", f"must be >= 2 (n views per image), got "
                                                f"{self.ssl_views}")
        self._choice("duphil_mode", DUPHIL_MODES)


@dataclass(frozen=True)
class SideSettings(Settings):
    """What the side branch sees in the LDR phases (CE steps never use it; also
    :attr:`Phase.side <commsldr.train.phase.Phase.side>`): ``input`` ``clean`` (the float latent
    y) or ``quantized`` (the latent quantized with step ``step``, trained through ``quantizer``:
    ``noise``, additive ``U(-noise, noise)·step`` — the authors' code, step 1, half-width 1 — or
    ``ste``, rounding with the straight-through estimator). Flat keys ``side_*``."""

    GROUP: ClassVar[str] = "side"
    input: str = field(default="clean", metadata=_flat("side_input"))
    quantizer: str = field(default="noise", metadata=_flat("side_quantizer"))
    step: float = field(default=1.0, metadata=_flat("side_step"))
    noise: float = field(default=1.0, metadata=_flat("side_noise"))

    def check(self) -> None:
        self._choice("input", SIDE_INPUTS)
        self._choice("quantizer", SIDE_QUANTIZERS)
        self._positive("step", "noise")


@dataclass(frozen=True)
class FinetuneSettings(Settings):
    """LDR-FT step 3, truncation fine-tuning and the entropy bottleneck's fine-tuning:
    ``epochs`` (``finetune_epochs``; ``None``: those of CE-T) and ``lr`` (``finetune_lr``)."""

    GROUP: ClassVar[str] = "finetune"
    epochs: int | None = field(default=None, metadata=_flat("finetune_epochs"))
    lr: float = field(default=0.005, metadata=_flat("finetune_lr"))

    def check(self) -> None:
        self._at_least_one("epochs")
        self._at_most(MAX_EPOCHS, "epochs")
        self._positive("lr")


@dataclass(frozen=True)
class TruncateSettings(Settings):
    """The ``truncate`` recipe: ``keep`` (k latent entries; ``None``: half of d_y) and
    ``finetune`` (``truncate_finetune``: ``ce`` or ``ldr-ft``)."""

    GROUP: ClassVar[str] = "truncate"
    keep: int | None = None
    finetune: str = field(default="ce", metadata=_flat("truncate_finetune"))

    def check(self) -> None:
        self._at_least_one("keep")
        self._choice("finetune", TRUNCATE_FINETUNE)


@dataclass(frozen=True)
class ScreenSettings(Settings):
    """The ``screen`` recipe: ``dims`` (the latent dimensions tried), ``select`` (``test`` or
    ``val``), and the ``rule`` that picks d_y — ``rate-mean`` (largest mean accuracy over
    ``budgets``, real coded payload bits per image), ``rate-at`` (best accuracy at ``at_bits``,
    one of the budgets) or ``float`` (best unquantized accuracy). Flat keys ``screen_*``."""

    GROUP: ClassVar[str] = "screen"
    dims: tuple[int, ...] = (16, 32, 64)
    select: str = field(default="test", metadata=_flat("screen_select"))
    rule: str = field(default="rate-mean", metadata=_flat("screen_rule"))
    budgets: tuple[float, ...] = field(default=(16.0, 32.0, 64.0, 128.0),
                                       metadata=_flat("screen_budgets"))
    at_bits: float | None = field(default=None, metadata=_flat("screen_at_bits"))

    def check(self) -> None:
        if not self.dims or any(d < 1 for d in self.dims) or len(set(self.dims)) < len(self.dims):
            raise TrainConfigError("dims", f"must be a non-empty list of distinct positive "
                                           f"integers, got {show(list(self.dims))}")
        self._choice("select", SCREEN_SELECT)
        self._choice("rule", SCREEN_RULES)
        b = list(self.budgets)
        if not b or len(set(b)) != len(b) or any(not v > 0 for v in b):
            raise TrainConfigError("screen_budgets", f"must be a non-empty list of distinct numbers "
                                                     f"> 0 (bits per image), got {show(b)}")
        if self.rule == "rate-at" and self.at_bits not in b:
            raise TrainConfigError("screen_at_bits", f"must be one of screen_budgets {show(b)} when "
                                                     f"screen_rule is 'rate-at', got "
                                                     f"{show(self.at_bits)}")


@dataclass(frozen=True)
class EbSettings(Settings):
    """The ``entropy-bottleneck`` recipe: ``lambdas`` (``eb_lambdas``: the rate weights λ of the
    rate points, loss CE + λ·bits per image) and ``lr`` (``eb_lr``: Adam learning rate of the
    gains and priors)."""

    GROUP: ClassVar[str] = "eb"
    lambdas: tuple[float, ...] = field(default=(0.005, 0.015, 0.05, 0.15),
                                       metadata=_flat("eb_lambdas"))
    lr: float = field(default=0.01, metadata=_flat("eb_lr"))

    def check(self) -> None:
        if not self.lambdas or any(not (math.isfinite(v) and v >= 0) for v in self.lambdas):
            raise TrainConfigError("eb_lambdas", f"must be a non-empty list of numbers >= 0, got "
                                                 f"{show(list(self.lambdas))}")
        self._positive("lr")


@dataclass(frozen=True)
class RunSettings(Settings):
    """How the run goes (none of it changes what a phase trains, except ``seed`` and
    ``from_checkpoint``): ``seed`` (every draw), ``out`` (output directory), ``resume``,
    ``device`` (``None``: cuda if available), ``progress`` (tqdm bars), ``eval_every`` (epochs
    between test evaluations; the last epoch always) and ``from_checkpoint`` (start from this
    model)."""

    GROUP: ClassVar[str] = "run"
    seed: int = 0
    out: str = "runs/train"
    resume: bool = False
    device: str | None = None
    progress: bool = True
    eval_every: int = 1
    from_checkpoint: str | None = None

    def check(self) -> None:
        self._at_least_one("eval_every")
        if self.seed < 0:
            raise TrainConfigError("seed", f"must be >= 0, got {self.seed}")


#: group name → class, in the order of :class:`~commsldr.train.config.TrainConfig`'s fields
GROUPS: dict[str, type[Settings]] = {cls.GROUP: cls for cls in (
    DataSettings, ModelSettings, CeSettings, OptimSettings, LdrSettings, SideSettings,
    FinetuneSettings, TruncateSettings, ScreenSettings, EbSettings, RunSettings)}

#: flat key → (group, field name) of every grouped setting
FLAT_PATHS: dict[str, tuple[str, str]] = {
    flat: (group, name) for group, cls in GROUPS.items() for name, flat in cls.flat_names().items()}

#: every flat key in the order of the flat record (``TrainConfig.to_dict``, stored in checkpoints)
FLAT_KEYS: tuple[str, ...] = (
    "recipe", "dataset", "data_root", "download", "num_per_class", "test_num_per_class",
    "augment", "backbone", "latent_dim", "side_dim", "width", "epochs", "batch_size", "lr",
    "optimizer", "momentum", "weight_decay", "schedule", "milestones", "gamma", "amp", "nesterov",
    "label_smoothing", "bias_lr_scale", "warmup", "channels_last", "lookahead", "ldr_epochs",
    "ldr_batch_size", "ldr_lr", "ldr_milestones", "ce_weight", "eps_sq", "rate_weight",
    "ssl_views", "duphil_mode", "finetune_epochs", "finetune_lr", "dims", "screen_select",
    "val_fraction", "keep", "truncate_finetune", "from_checkpoint", "eb_lambdas", "eb_lr", "seed",
    "out", "resume", "device", "progress", "eval_every", "side_input", "side_quantizer",
    "side_step", "side_noise", "screen_rule", "screen_budgets", "screen_at_bits", "provenance")

#: the flat keys that are not in a group
TOP_KEYS = ("recipe", "provenance")


def flat_settings(data: Mapping[Any, Any]) -> dict[str, Any]:
    """``data`` in the flat spelling: each key a flat key (``momentum``), a dotted key
    (``optim.momentum``) or a group with a mapping or a :class:`Settings` of that group
    (``optim: {momentum: 0.8}``). Unknown keys raise :class:`TrainConfigError` naming the first
    (sorted) with a did-you-mean over the flat keys; a setting given twice raises too."""
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    unknown: list[str] = []

    def put(flat: str, value: Any, as_key: str) -> None:
        if flat in out:
            raise TrainConfigError(as_key, f"is given twice (also as {spelled[flat]})")
        out[flat], spelled[flat] = value, as_key

    def put_group(group: str, sub: Any, value: Any) -> None:
        names = GROUPS[group].flat_names()
        if sub not in names:
            raise TrainConfigError(f"{group}.{sub}", f"unknown setting of the group {group!r}"
                                                     f"{did_you_mean(sub, names)}; allowed: "
                                                     f"{', '.join(names)}")
        put(names[sub], value, f"{group}.{sub}")

    for key, value in data.items():
        if key in FLAT_PATHS or key in TOP_KEYS:
            put(key, value, key)
        elif key in GROUPS:
            if isinstance(value, GROUPS[key]):
                for flat, v in value.to_flat().items():
                    put(flat, v, f"{key}.{flat}")
            elif isinstance(value, Mapping):
                for sub, v in value.items():
                    put_group(key, sub, v)
            else:
                raise TrainConfigError(key, f"expected a mapping of the group's settings "
                                            f"({', '.join(GROUPS[key].flat_names())}), got "
                                            f"{show(value)}")
        elif isinstance(key, str) and key.partition(".")[0] in GROUPS and "." in key:
            group, _, sub = key.partition(".")
            put_group(group, sub, value)
        else:
            unknown.append(str(key))
    if unknown:
        first = sorted(unknown)[0]
        raise TrainConfigError(first, f"unknown training setting{did_you_mean(first, FLAT_KEYS)}; "
                                      f"allowed: {', '.join(sorted(FLAT_KEYS))}")
    return out
