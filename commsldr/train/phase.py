"""A training phase and its steps: what :func:`commsldr.train.loop.train_phase` runs.

:class:`PhaseSettings` is the optimiser-and-loss part of a phase (optimizer, schedule, AMP,
augmentation, the LDR constants, the side-branch input, ...): defined once here, inherited by
:class:`Phase` (which adds its name, steps, epochs and batch size) and filled from a
:class:`~commsldr.train.TrainConfig` by field name (:meth:`Phase.from_config`), so the 22 settings
are not copied by hand between the two. A phase record (:meth:`Phase.to_dict`, stored in every
checkpoint) is flat, as before.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["LOSSES", "PARTS", "SCHEDULES", "SIDE_FIELDS", "SIDE_INPUTS", "SIDE_QUANTIZERS", "Phase",
           "PhaseSettings", "Step"]

PARTS = ("encoder", "decoder", "side")
LOSSES = ("ce", "ldr", "ldr-ssl")
#: ``cosine``, ``multistep`` and ``constant`` step once per epoch; ``triangle`` once per
#: mini-batch (linear from 0.2·lr up to lr at ``warmup`` of the steps, then down to 0.07·lr:
#: airbench94's schedule).
SCHEDULES = ("cosine", "multistep", "constant", "triangle")
SIDE_INPUTS = ("clean", "quantized")
SIDE_QUANTIZERS = ("noise", "ste")
#: the side-branch settings: taken from the config only by phases with an LDR step (a CE-only
#: phase never uses the side branch, so its record does not depend on them)
SIDE_FIELDS = ("side_input", "side_quantizer", "side_step", "side_noise")


@dataclass(frozen=True)
class Step:
    """One optimisation step per mini-batch: which parts it updates with which loss.

    Attributes:
        parts: model parts updated by this step (subset of :data:`PARTS`).
        loss: ``ce``, ``ldr`` or ``ldr-ssl``.
        weight: factor on the loss (the authors' ``ce_lam`` for the decoder's CE step).
        lr: learning rate of this step's optimizer.
    """

    parts: tuple[str, ...]
    loss: str
    lr: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, got {self.loss!r}")
        bad = [p for p in self.parts if p not in PARTS]
        if bad or not self.parts:
            raise ValueError(f"parts must be a non-empty subset of {list(PARTS)}, got {self.parts}")
        if self.loss != "ce" and "decoder" in self.parts:
            raise ValueError("an LDR step cannot update the decoder (the loss does not reach it)")
        if self.loss == "ce" and "side" in self.parts:
            raise ValueError("a CE step cannot update the side branch (CE-T detaches it)")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass(frozen=True, kw_only=True)
class PhaseSettings:
    """How a phase optimises and what its losses use (every field a :class:`TrainConfig` field
    of the same name and meaning; see :class:`~commsldr.train.config.TrainConfig`)."""

    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    milestones: tuple[float, ...] = (0.5, 0.75, 0.9)
    gamma: float = 0.1
    amp: bool = False
    augment: str = "light"
    eps_sq: float = 0.5
    rate_weight: float = 1.0
    ssl_views: int = 2
    seed: int = 0
    eval_every: int = 1
    nesterov: bool = False
    label_smoothing: float = 0.0
    bias_lr_scale: float = 1.0
    warmup: float = 0.23
    channels_last: bool = False
    lookahead: bool = False
    side_input: str = "clean"
    side_quantizer: str = "noise"
    side_step: float = 1.0
    side_noise: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.augment, bool):  # legacy: True was the family T
            object.__setattr__(self, "augment", "heavy" if self.augment else "none")
        if self.side_input not in SIDE_INPUTS:
            raise ValueError(f"side_input must be one of {list(SIDE_INPUTS)}, got {self.side_input!r}")
        if self.side_quantizer not in SIDE_QUANTIZERS:
            raise ValueError(f"side_quantizer must be one of {list(SIDE_QUANTIZERS)}, "
                             f"got {self.side_quantizer!r}")
        if not (math.isfinite(self.side_step) and self.side_step > 0):
            raise ValueError(f"side_step must be finite and > 0, got {self.side_step!r}")
        if not (math.isfinite(self.side_noise) and self.side_noise > 0):
            raise ValueError(f"side_noise must be finite and > 0, got {self.side_noise!r}")
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {self.schedule!r}")

    @classmethod
    def from_config(cls, config: Any, *, side: bool = True, **overrides: Any) -> dict[str, Any]:
        """The settings of ``config`` (a :class:`~commsldr.train.TrainConfig`) as keyword
        arguments, read by field name; ``side=False`` leaves the side-branch fields at their
        defaults; ``overrides`` win."""
        out = {f.name: getattr(config, f.name) for f in dataclasses.fields(cls)
               if side or f.name not in SIDE_FIELDS}
        if side:
            out["side_step"], out["side_noise"] = float(out["side_step"]), float(out["side_noise"])
        out["milestones"] = tuple(out["milestones"])
        out.update(overrides)
        if "milestones" in overrides:
            out["milestones"] = tuple(out["milestones"])
        return out


@dataclass(frozen=True)
class Phase(PhaseSettings):
    """A training phase: ``epochs`` epochs, each mini-batch running ``steps`` in order, with the
    :class:`PhaseSettings` it inherits (keyword arguments)."""

    name: str
    steps: tuple[Step, ...]
    epochs: int
    batch_size: int

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.steps:
            raise ValueError("a phase needs at least one step")
        seen: set[str] = set()
        for s in self.steps:
            overlap = seen & set(s.parts)
            if overlap:
                raise ValueError(f"parts {sorted(overlap)} are updated by two steps of phase {self.name!r}")
            seen |= set(s.parts)
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")

    @classmethod
    def from_config(cls, config: Any, name: str, steps: tuple[Step, ...], *,  # type: ignore[override]
                    epochs: int, batch_size: int, **overrides: Any) -> Phase:
        """A phase with ``config``'s settings (:meth:`PhaseSettings.from_config`; the side-branch
        settings only when a step has an LDR loss) and ``overrides`` (e.g. ``milestones``)."""
        side = any(s.loss != "ce" for s in steps)
        return cls(name=name, steps=tuple(steps), epochs=epochs, batch_size=batch_size,
                   **PhaseSettings.from_config(config, side=side, **overrides))

    @property
    def trained_parts(self) -> set[str]:
        return {p for s in self.steps for p in s.parts}

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["steps"] = [dataclasses.asdict(s) for s in self.steps]
        d["steps"] = [{**s, "parts": list(s["parts"])} for s in d["steps"]]
        d["milestones"] = list(self.milestones)
        return d
