"""A training phase and its steps: what :func:`commsldr.train.loop.train_phase` runs.

A :class:`Phase` has its name, steps, epochs and batch size, the optimiser group of the
:class:`~commsldr.train.TrainConfig` itself (``optim``: an
:class:`~commsldr.train.settings.OptimSettings`), its side-branch group (``side``: a
:class:`~commsldr.train.settings.SideSettings`, the config's for a phase with an LDR step, the
defaults otherwise) and the six loss and run settings it reads from the other groups
(augment, eps_sq, rate_weight, ssl_views, seed, eval_every). :meth:`Phase.from_config` builds one
from a config: the two groups are shared as they are, the six settings are read from the groups
they live in. A phase record (:meth:`Phase.to_dict`, stored in
every checkpoint and compared on resume) is flat, with the keys and order it always had.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commsldr.train.settings import (
    SCHEDULES,
    SIDE_INPUTS,
    SIDE_QUANTIZERS,
    OptimSettings,
    SideSettings,
)

if TYPE_CHECKING:
    from commsldr.train.config import TrainConfig

__all__ = ["LOSSES", "PARTS", "RECORD_SETTINGS", "SCHEDULES", "SIDE_INPUTS", "SIDE_QUANTIZERS",
           "Phase", "Step"]

PARTS = ("encoder", "decoder", "side")
LOSSES = ("ce", "ldr", "ldr-ssl")
#: the settings of a phase record (:meth:`Phase.to_dict`) in their stored order (flat keys)
RECORD_SETTINGS = ("optimizer", "momentum", "weight_decay", "schedule", "milestones", "gamma",
                   "amp", "augment", "eps_sq", "rate_weight", "ssl_views", "seed", "eval_every",
                   "nesterov", "label_smoothing", "bias_lr_scale", "warmup", "channels_last",
                   "lookahead", "side_input", "side_quantizer", "side_step", "side_noise")
#: the phase's own settings (not in a group), with the config group each is read from
_OWN = {"augment": "data", "eps_sq": "ldr", "rate_weight": "ldr", "ssl_views": "ldr",
        "seed": "run", "eval_every": "run"}
_OPTIM_FIELDS = tuple(f.name for f in dataclasses.fields(OptimSettings))


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


@dataclass(frozen=True)
class Phase:
    """A training phase: ``epochs`` epochs of mini-batches of ``batch_size``, each running
    ``steps`` in order.

    Attributes:
        name: the phase's name (its checkpoint directory).
        steps: the :class:`Step` s of every mini-batch.
        epochs, batch_size: the phase's length and mini-batch size.
        optim: how it optimises (the config's :class:`~commsldr.train.settings.OptimSettings`).
        side: what the side branch sees (:class:`~commsldr.train.settings.SideSettings`).
        augment: the training augmentation (``light``, ``heavy``, ``none``).
        eps_sq, rate_weight, ssl_views: the LDR loss constants (ε², γ, n views).
        seed: seed of the phase's draws (order, augmentation, side noise).
        eval_every: epochs between test evaluations (the last epoch always).
    """

    name: str
    steps: tuple[Step, ...]
    epochs: int
    batch_size: int
    optim: OptimSettings = field(default_factory=OptimSettings)
    side: SideSettings = field(default_factory=SideSettings)
    augment: str = "light"
    eps_sq: float = 0.5
    rate_weight: float = 1.0
    ssl_views: int = 2
    seed: int = 0
    eval_every: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.augment, bool):  # legacy: True was the family T
            object.__setattr__(self, "augment", "heavy" if self.augment else "none")
        if not isinstance(self.optim, OptimSettings) or not isinstance(self.side, SideSettings):
            raise TypeError("optim must be an OptimSettings and side a SideSettings")
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
    def from_config(cls, config: TrainConfig, name: str, steps: tuple[Step, ...], *,
                    epochs: int, batch_size: int, **overrides: Any) -> Phase:
        """A phase with ``config``'s optimiser group, its side-branch group when a step has an
        LDR loss (else the defaults: a CE-only phase never uses the side branch, so its record
        does not depend on it), its loss and run settings, and ``overrides``: fields of
        :class:`~commsldr.train.settings.OptimSettings` (e.g. ``milestones``) or of the phase."""
        optim_changes = {k: overrides.pop(k) for k in list(overrides) if k in _OPTIM_FIELDS}
        optim = (dataclasses.replace(config.optim, **optim_changes) if optim_changes
                 else config.optim)
        own: dict[str, Any] = {k: getattr(getattr(config, group), k) for k, group in _OWN.items()}
        own.update(overrides)
        side = any(s.loss != "ce" for s in steps)
        return cls(name=name, steps=tuple(steps), epochs=epochs, batch_size=batch_size,
                   optim=optim, side=config.side if side else SideSettings(), **own)

    @property
    def trained_parts(self) -> set[str]:
        return {p for s in self.steps for p in s.parts}

    def to_dict(self) -> dict[str, Any]:
        """The flat phase record: :data:`RECORD_SETTINGS` in order, then ``name``, ``steps``,
        ``epochs``, ``batch_size`` (the keys and order of every stored record)."""
        settings = {**self.optim.to_flat(), **self.side.to_flat(),
                    **{k: getattr(self, k) for k in _OWN}}
        d: dict[str, Any] = {k: settings[k] for k in RECORD_SETTINGS}
        d.update(name=self.name,
                 steps=[{"parts": list(s.parts), "loss": s.loss, "lr": s.lr, "weight": s.weight}
                        for s in self.steps],
                 epochs=self.epochs, batch_size=self.batch_size)
        return d

    @staticmethod
    def record_defaults() -> dict[str, Any]:
        """The record's settings of a phase built with every default (what an older record
        that lacks a later setting implicitly used)."""
        return {**OptimSettings().to_flat(), **SideSettings().to_flat()}
