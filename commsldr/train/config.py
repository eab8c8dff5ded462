"""The resolved training configuration shared by every recipe (one dataclass, JSON-able).

CPU-sized defaults (compact backbone, a few epochs, the synthetic dataset) run in minutes on a
laptop; :func:`paper_config` switches to the settings of Qi et al. §4 and of the authors' code
(GitHub ``QiSiyu/MCR2-Guided-Image-Classification``, ``autoencoder/train_ae.py`` and the
``params.json`` of their released model):

| field | CPU default | paper / authors' code |
|---|---|---|
| `backbone`, `width` | `resnet8` ×0.5 | `resnet18` ×1 (CIFAR-10); `resnet34` for CIFAR-100 |
| `latent_dim` (d_y) | 32 | 64 (chosen by the screen on CIFAR-10, §4.1) |
| `epochs` (CE-T) | 2 | 200 (§4) |
| `batch_size` (CE) | 64 | 200 (the authors' `ce_trainloader`) |
| `lr`, `optimizer` (CE) | SGD 0.1, momentum 0.9, wd 5e-4 | SGD 0.1, momentum 0.9, wd 5e-4 |
| `schedule` (CE) | cosine | multistep at 50/75/90 % of the epochs, ×0.1 |
| `ldr_epochs` | = `epochs` | 100 (`--epo` default) |
| `ldr_batch_size` | = `batch_size` | 1000 (`--bs`) |
| `ldr_lr` (DuPHiL, SGD) | 0.01 | 1e-4 (released model), multistep 25/50/75 % |
| `ce_weight` (`ce_lam`) | 1.0 | 2.5 (released model) |
| `eps_sq` (ε², their `eps`) | 0.5 | 0.5 |
| `finetune_lr` (LDR-FT step 3) | 0.005 | 1e-5 ("a smaller learning rate", §3.1) |

Every value :func:`paper_config` sets is tagged in the resolved config's ``provenance`` with where
it comes from (:data:`PROVENANCE_TAGS`): ``paper`` (stated in the paper), ``authors' code``
(their released code or model, not the paper), ``our choice`` (stated nowhere; ours), or ``user``
(overridden by the caller). :func:`paper_provenance` gives the tag and its source for every
preset field; ``commsldr train --paper --print-config`` prints them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from commsldr.errors import show
from commsldr.train.settings import (
    AUGMENT_MODES,
    DATASETS,
    DUPHIL_MODES,
    FLAT_KEYS,
    GROUPS,
    OPTIMIZERS,
    SCHEDULES,
    SCREEN_RULES,
    SIDE_INPUTS,
    SIDE_QUANTIZERS,
    CeSettings,
    DataSettings,
    EbSettings,
    FinetuneSettings,
    LdrSettings,
    ModelSettings,
    OptimSettings,
    RunSettings,
    ScreenSettings,
    SideSettings,
    TrainConfigError,
    TruncateSettings,
    flat_settings,
)

__all__ = ["AUGMENT_MODES", "DATASETS", "DUPHIL_MODES", "FAST_PRESET", "OPTIMIZERS",
           "PROVENANCE_TAGS", "SCHEDULES", "SCREEN_RULES", "SIDE_INPUTS", "SIDE_QUANTIZERS",
           "TrainConfig", "TrainConfigError", "fast_config", "paper_backbone", "paper_config",
           "paper_provenance"]

#: where a preset value comes from (``TrainConfig.provenance``)
PROVENANCE_TAGS = ("paper", "authors' code", "our choice", "user")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a recipe needs, in groups (:mod:`commsldr.train.settings`); stored (resolved,
    flat: :meth:`to_dict`) in every checkpoint and in ``config.json``.

    Groups (attribute: class — flat keys):
        ``data``: :class:`~commsldr.train.settings.DataSettings` — dataset, data_root, download,
        num_per_class, test_num_per_class, augment, val_fraction.
        ``model``: :class:`~commsldr.train.settings.ModelSettings` — backbone, latent_dim,
        side_dim, width.
        ``ce``: :class:`~commsldr.train.settings.CeSettings` — epochs, batch_size, lr (CE-T).
        ``optim``: :class:`~commsldr.train.settings.OptimSettings` — optimizer, momentum,
        weight_decay, schedule, milestones, gamma, amp, nesterov, label_smoothing, bias_lr_scale,
        warmup, channels_last, lookahead (every phase's optimiser: ``Phase.optim``).
        ``ldr``: :class:`~commsldr.train.settings.LdrSettings` — ldr_epochs, ldr_batch_size,
        ldr_lr, ldr_milestones, ce_weight, eps_sq, rate_weight, ssl_views, duphil_mode.
        ``side``: :class:`~commsldr.train.settings.SideSettings` — side_input, side_quantizer,
        side_step, side_noise (the LDR phases' ``Phase.side``).
        ``finetune``: :class:`~commsldr.train.settings.FinetuneSettings` — finetune_epochs,
        finetune_lr.
        ``truncate``: :class:`~commsldr.train.settings.TruncateSettings` — keep,
        truncate_finetune.
        ``screen``: :class:`~commsldr.train.settings.ScreenSettings` — dims, screen_select,
        screen_rule, screen_budgets, screen_at_bits.
        ``eb``: :class:`~commsldr.train.settings.EbSettings` — eb_lambdas, eb_lr.
        ``run``: :class:`~commsldr.train.settings.RunSettings` — seed, out, resume, device,
        progress, eval_every, from_checkpoint.
    Top level:
        recipe (the recipe's name) and ``provenance``: flat key -> one of
        :data:`PROVENANCE_TAGS` (see :func:`paper_config`); empty for a plain config.

    Build it from the flat keys (the spelling of ``commsldr train``, ``--set`` and a scenario's
    ``model.train``) or from groups with :meth:`from_dict`; a group may also be given to the
    constructor as a mapping of its fields (``TrainConfig(optim={"momentum": 0.8})``).

    Example:
        >>> c = TrainConfig.from_dict({"momentum": 0.8, "ldr": {"epochs": 3}})
        >>> (c.optim.momentum, c.ldr.epochs, c.to_dict()["ldr_epochs"])
        (0.8, 3, 3)
    """

    recipe: str = "ce"
    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    ce: CeSettings = field(default_factory=CeSettings)
    optim: OptimSettings = field(default_factory=OptimSettings)
    ldr: LdrSettings = field(default_factory=LdrSettings)
    side: SideSettings = field(default_factory=SideSettings)
    finetune: FinetuneSettings = field(default_factory=FinetuneSettings)
    truncate: TruncateSettings = field(default_factory=TruncateSettings)
    screen: ScreenSettings = field(default_factory=ScreenSettings)
    eb: EbSettings = field(default_factory=EbSettings)
    run: RunSettings = field(default_factory=RunSettings)
    provenance: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, cls in GROUPS.items():
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, cls.from_flat(flat_settings({name: value})))
            elif not isinstance(value, cls):
                raise TrainConfigError(name, f"expected a {cls.__name__} or a mapping of its "
                                             f"settings, got {show(value)}")
        self.validate()

    # -- helpers -----------------------------------------------------------------------------
    @property
    def ldr_epochs_resolved(self) -> int:
        """Epochs of each LDR phase: ``ldr_epochs``, else ``epochs``."""
        return self.ce.epochs if self.ldr.epochs is None else self.ldr.epochs

    @property
    def ldr_batch_size_resolved(self) -> int:
        """Batch size of the LDR phases: ``ldr_batch_size``, else ``batch_size``."""
        return self.ce.batch_size if self.ldr.batch_size is None else self.ldr.batch_size

    @property
    def finetune_epochs_resolved(self) -> int:
        """Epochs of the fine-tuning phases: ``finetune_epochs``, else ``epochs``."""
        return self.ce.epochs if self.finetune.epochs is None else self.finetune.epochs

    def validate(self) -> None:
        """Raise :class:`TrainConfigError` (a ``ValueError``) naming the first bad flat key.

        Strict: every setting must have its annotated type (``"0.1"`` is not a number, ``true``
        is not an integer), numbers must be finite, names must be registered. Each group checks
        its own fields when it is built (:mod:`commsldr.train.settings`); this checks the top
        level. It is the one validator of training settings: ``commsldr train`` and a scenario's
        ``model.train`` both go through it.
        """
        if not isinstance(self.recipe, str):
            raise TrainConfigError("recipe", f"expected a string, got {show(self.recipe)}")
        if not isinstance(self.provenance, dict):
            raise TrainConfigError("provenance", f"expected a mapping, got {show(self.provenance)}")
        for k, tag in self.provenance.items():
            if k not in FLAT_KEYS or tag not in PROVENANCE_TAGS:
                raise TrainConfigError("provenance", f"entry {show(k)}: {show(tag)} must map a "
                                                     f"TrainConfig field to one of "
                                                     f"{', '.join(PROVENANCE_TAGS)}")

    def to_dict(self) -> dict[str, Any]:
        """The flat record: ``{flat key: value}`` in the order of
        :data:`~commsldr.train.settings.FLAT_KEYS` (lists, not tuples; JSON-able). Stored in
        checkpoints and hashed into the scenario's model cache key."""
        flat: dict[str, Any] = {"recipe": self.recipe, "provenance": dict(self.provenance)}
        for name in GROUPS:
            flat.update(getattr(self, name).to_flat())
        return {k: flat[k] for k in FLAT_KEYS}

    def to_nested(self) -> dict[str, Any]:
        """``{"recipe": ..., <group>: {field: value}, ..., "provenance": {...}}``."""
        return {"recipe": self.recipe,
                **{name: getattr(self, name).to_nested() for name in GROUPS},
                "provenance": dict(self.provenance)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from flat keys, dotted keys (``optim.momentum``) or groups (``optim:
        {momentum: 0.8}``), or any mix that names each setting once; missing settings take
        their defaults. Unknown keys raise :class:`TrainConfigError` naming them."""
        flat = flat_settings(data)
        top = {k: flat.pop(k) for k in ("recipe", "provenance") if k in flat}
        return cls(**top, **{name: g.from_flat(flat) for name, g in GROUPS.items()})

    def replace(self, **changes: Any) -> TrainConfig:
        """A validated copy with some settings changed, named as in :meth:`from_dict` (flat
        keys, or groups); unknown names raise :class:`TrainConfigError`."""
        return TrainConfig.from_dict({**self.to_dict(), **flat_settings(changes)})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


_PAPER = "paper"
_CODE = "authors' code"
_OURS = "our choice"
_REPO = "QiSiyu/MCR2-Guided-Image-Classification"

#: field -> (tag, source) of every value :func:`paper_config` sets (dataset-specific entries are
#: filled in by :func:`paper_provenance`).
_PAPER_PROVENANCE: dict[str, tuple[str, str]] = {
    "dataset": (_PAPER, "§4: CIFAR-10 and CIFAR-100"),
    "width": (_PAPER, "§4: the standard ResNet (channel multiplier 1)"),
    "epochs": (_PAPER, "§4: CE pre-training 'for 200 epochs'"),
    "batch_size": (_CODE, f"{_REPO} autoencoder/train_ae.py: ce_trainloader batch_size=200"),
    "lr": (_CODE, "train_ae.py: CE pre-training SGD lr=0.1"),
    "optimizer": (_CODE, "train_ae.py: optim.SGD for every phase"),
    "momentum": (_CODE, "train_ae.py: --mom 0.9"),
    "weight_decay": (_CODE, "train_ae.py: --wd 5e-4"),
    "schedule": (_CODE, "train_ae.py: MultiStepLR"),
    "milestones": (_CODE, "train_ae.py: CE milestones at 50/75/90 % of the epochs"),
    "gamma": (_CODE, "train_ae.py: gamma=0.1"),
    "ldr_epochs": (_CODE, "train_ae.py --epo default 100 (the released model used 400: params.json)"),
    "ldr_batch_size": (_CODE, "train_ae.py --bs 1000 (also the released model)"),
    "ldr_lr": (_CODE, "released model params.json lr=1e-4 (script default 3e-4)"),
    "ldr_milestones": (_CODE, "train_ae.py: DuPHiL milestones at epo//4, epo//2, 3·epo//4"),
    "ce_weight": (_CODE, "released model params.json ce_lam=2.5 (script default 9)"),
    "eps_sq": (_CODE, "train_ae.py --eps 0.5 ('eps squared'); the paper writes ε, no value"),
    "rate_weight": (_PAPER, "eq. (1): -R + Rc with unit weights (released model gam1 = gam2 = 1)"),
    "duphil_mode": (_CODE, "train_ae.py: MCR² step then CE step on every mini-batch"),
    "finetune_lr": (_OURS, "§3.1 step 3 only says 'a smaller learning rate than Steps 1 and 2'"),
    "finetune_epochs": (_OURS, "None = epochs (200); the paper gives no number for step 3"),
    "ssl_views": (_OURS, "§3.1: n views per image, n not stated; no SSL code was released"),
    "dims": (_PAPER, "§4: d_y ∈ {32, 64, 128, 256, 512}"),
    "screen_rule": (_OURS, "§4 'compare the rate-accuracy performances'; the rule is ours"),
    "screen_budgets": (_OURS, "payload bits per image; the paper's Fig. 2 spans ~14-86 bits of "
                              "total entropy"),
    "side_input": (_CODE, "resnet_cifar_ae.py: side_branch(quantize(encoded))"),
    "side_quantizer": (_CODE, "resnet_cifar_ae.py Quantizer: x + 2·rand - 1 while training"),
    "side_step": (_CODE, "resnet_cifar_ae.py Quantizer: round(x) at test time, step 1"),
    "side_noise": (_CODE, "resnet_cifar_ae.py Quantizer: U(-1, 1), twice the rounding error "
                          "(model dir 'double_noise')"),
}

#: the paper's backbone per dataset (§4); ``imagefolder`` and ``synthetic`` are taken as CIFAR-10
_PAPER_BACKBONES = {"cifar10": "resnet18", "cifar100": "resnet34"}


def paper_backbone(dataset: str) -> str:
    """The backbone of Qi et al. §4 for ``dataset``: ResNet-34 for CIFAR-100, else ResNet-18."""
    return _PAPER_BACKBONES.get(dataset, "resnet18")


def paper_provenance(dataset: str = "cifar10") -> dict[str, tuple[str, str]]:
    """``field -> (tag, source)`` for every value :func:`paper_config` sets for ``dataset``."""
    prov = dict(_PAPER_PROVENANCE)
    if dataset == "cifar100":
        prov["backbone"] = (_PAPER, "§4: 'a ResNet-34 backbone' for CIFAR-100")
        prov["latent_dim"] = (_OURS, "the paper names no CIFAR-100 choice (its Figs. 2/4 show "
                                     "d_y = 64/128/256); run the screen")
    else:
        prov["backbone"] = (_PAPER, "§4: 'a ResNet-18' for CIFAR-10" + (
            "" if dataset == "cifar10" else f" (dataset {dataset!r} taken as CIFAR-10)"))
        prov["latent_dim"] = (_PAPER, "§4.1: d_y = 64 'the optimized latent dimension' (CIFAR-10)")
    return prov


def paper_config(**overrides: Any) -> TrainConfig:
    """The paper's / authors' settings (see the module table), with ``overrides`` applied.

    The backbone follows the dataset as in §4: ResNet-18 for CIFAR-10 (and any other dataset),
    ResNet-34 for CIFAR-100 (``overrides["dataset"]`` decides; an explicit ``backbone`` wins).
    The result's ``provenance`` tags every preset value (:func:`paper_provenance`) and marks
    the overridden ones ``user``.
    """
    base: dict[str, Any] = dict(
        dataset="cifar10",
        backbone="resnet18",
        width=1.0,
        latent_dim=64,
        epochs=200,
        batch_size=200,
        lr=0.1,
        optimizer="sgd",
        momentum=0.9,
        weight_decay=5e-4,
        schedule="multistep",
        milestones=[0.5, 0.75, 0.9],
        gamma=0.1,
        ldr_epochs=100,
        ldr_batch_size=1000,
        ldr_lr=1e-4,
        ldr_milestones=[0.25, 0.5, 0.75],
        ce_weight=2.5,
        eps_sq=0.5,
        rate_weight=1.0,
        finetune_lr=1e-5,
        dims=[32, 64, 128, 256, 512],
    )
    base.update(
        duphil_mode="alternate", finetune_epochs=None, ssl_views=2,
        screen_rule="rate-mean", screen_budgets=[16.0, 32.0, 64.0, 128.0],
        side_input="quantized", side_quantizer="noise", side_step=1.0, side_noise=1.0,
    )
    overrides = flat_settings(overrides)
    dataset = overrides.get("dataset", base["dataset"])
    base["backbone"] = paper_backbone(dataset)
    prov = paper_provenance(dataset)
    provenance = {k: prov[k][0] for k in base if k in prov}
    provenance.update(overrides.pop("provenance", None) or {})
    for k, v in overrides.items():
        if k in base and base[k] != v:
            provenance[k] = "user"
    base.update(overrides)
    return TrainConfig.from_dict({**base, "provenance": provenance})


#: The fast CIFAR recipe (``--fast``): airbench94's training hyperparameters (K. Jordan, 2024,
#: ``airbench94.py``) in PyTorch's mean-loss convention. airbench states its learning rate per
#: summed loss (11.5 / 7850 per example, 7850 = 1024·(1 + 1/(1 − 0.85))) and its weight decay
#: decoupled (0.0153 per 1024 examples); with a mean loss over a batch of 1024 that is
#: ``lr = 1.5`` and a PyTorch ``weight_decay`` of 0.0153 / 11.5 = 1.33e-3. BN biases train at 64×
#: the learning rate, the schedule is airbench's triangle (0.2 -> 1 at 23 % -> 0.07 of the peak),
#: label smoothing 0.2, Nesterov momentum 0.85, flip + 2-pixel translate, bfloat16 autocast and
#: channels-last on the CPU, airbench's lookahead weight averaging. 18 epochs instead of 9.9 (the
#: 64-entry bottleneck, bf16 and the JPEG-stored training images cost accuracy; measured on
#: CIFAR-10 at d_y = 64, seed 0, full test set: 10 epochs 88.25 %, 14 epochs 89.66 %, 18 epochs
#: 90.04 %), with a test evaluation every 6 epochs (and after the last). Not taken from airbench:
#: alternating flip, whitening-bias freezing after 3 epochs and test-time augmentation (reported
#: separately).
FAST_PRESET: dict[str, Any] = dict(
    backbone="airnet",
    width=1.0,
    latent_dim=64,
    epochs=18,
    eval_every=6,
    batch_size=1024,
    lr=11.5 / 7850 * 1024,
    optimizer="sgd",
    momentum=0.85,
    nesterov=True,
    weight_decay=0.0153 / 11.5,
    schedule="triangle",
    warmup=0.23,
    label_smoothing=0.2,
    bias_lr_scale=64.0,
    augment="light",
    amp=True,
    channels_last=True,
    lookahead=True,
)


def fast_config(**overrides: Any) -> TrainConfig:
    """The fast CIFAR recipe (:data:`FAST_PRESET`) with ``overrides`` applied."""
    return TrainConfig.from_dict({**FAST_PRESET, **flat_settings(overrides)})
