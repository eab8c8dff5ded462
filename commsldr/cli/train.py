"""Train a split autoencoder with one of the recipes of Qi et al.

Recipes (``--recipe``):
  ce        CE-T: encoder + decoder with cross-entropy, side branch detached (§4)
  screen    CE-T for each d_y in --dims; accuracy at real coded bit budgets (--screen-budgets)
            and unquantized; writes screen.csv/.json/.md, keeps the --screen-rule pick (§3.2, §4)
  duphil    DuPHiL: encoder + side branch with L_LDR, decoder with CE (--duphil-mode)
  ldr-ft    three-step LDR-FT: DuPHiL L_LDR, DuPHiL L_LDR-SSL, end-to-end CE (§3.1)
  truncate  keep the first --keep latent entries, fine-tune with CE-T or LDR-FT (§3.4)

Defaults are CPU-sized (compact ResNet-8, a few epochs, the synthetic dataset); --paper switches
to the paper's settings (ResNet-18, 200 CE epochs, SGD lr 0.1 momentum 0.9 wd 5e-4, ...), and
explicit flags override both. Everything is written under --out (checkpoints per phase,
metrics.jsonl, config.json, model.pt); --resume continues an interrupted run exactly.

Examples:
  commsldr train --recipe ldr-ft --dataset synthetic
  commsldr train --recipe screen --dims 16,32,64 --out runs/screen
  commsldr train --recipe ce --dataset imagefolder --data-root PATH/TO/cifar10-jpeg
  commsldr train --recipe ldr-ft --paper --dataset cifar10 --download --out runs/paper
  commsldr train --paper --dataset cifar100 --print-config
  torchrun --nproc_per_node=2 -m commsldr.cli train --recipe ce
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from commsldr.registry import RECIPES

if TYPE_CHECKING:
    from commsldr.train.config import TrainConfig

__all__ = ["add_arguments", "config_from_args", "main"]



def _number_list(kind: type, what: str) -> Callable[[str], list]:
    """An argparse type: comma-separated ``kind`` values (at least one)."""

    def parse(text: str) -> list:
        try:
            values = [kind(v) for v in text.replace(" ", "").split(",") if v]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {what}s, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected at least one {what}")
        return values

    return parse


_int_list = _number_list(int, "integer")
_float_list = _number_list(float, "number")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` options to ``parser`` (every default is ``None``: unset)."""
    from commsldr.train.config import DATASETS, DUPHIL_MODES, OPTIMIZERS, SCHEDULES

    g = parser.add_argument_group("recipe")
    g.add_argument("--recipe", choices=RECIPES.names(), help="what to train (required unless --print-config)")
    g.add_argument("--paper", action="store_true",
                   help="start from the paper's settings (ResNet-18 for CIFAR-10, ResNet-34 for "
                        "CIFAR-100, 200 epochs, SGD 0.1, ...); every value is tagged paper / "
                        "authors' code / our choice (see --print-config)")
    g.add_argument("--print-config", action="store_true",
                   help="print the resolved config with each value's provenance tag and exit")
    g.add_argument("--fast", action="store_true",
                   help="start from the fast CIFAR recipe (airnet backbone, airbench94's "
                        "optimiser and schedule, 18 epochs; see fast_config)")
    g.add_argument("--from", dest="from_checkpoint", metavar="CKPT",
                   help="start duphil/ldr-ft/truncate from this CE-T checkpoint")
    g.add_argument("--dims", type=_int_list, metavar="D1,D2,..", help="screen: latent dims")
    g.add_argument("--screen-select", choices=["test", "val"],
                   help="screen: pick the best by test or held-out validation accuracy")
    g.add_argument("--screen-rule", choices=["rate-mean", "rate-at", "float"],
                   help="screen: pick d_y by mean accuracy over --screen-budgets (coded bits), "
                        "by accuracy at --screen-at-bits, or by float accuracy")
    g.add_argument("--screen-budgets", type=_float_list, metavar="B1,B2,..",
                   help="screen: payload bits per image at which accuracy is measured")
    g.add_argument("--screen-at-bits", type=float, metavar="B",
                   help="screen: the budget of --screen-rule rate-at (one of --screen-budgets)")
    g.add_argument("--keep", type=int, metavar="K", help="truncate: latent entries to keep")
    g.add_argument("--truncate-finetune", choices=["ce", "ldr-ft"],
                   help="truncate: fine-tune with CE-T or the three LDR-FT steps")
    g.add_argument("--duphil-mode", choices=list(DUPHIL_MODES),
                   help="DuPHiL: per-mini-batch alternation (authors' code) or two phases")
    g.add_argument("--side-input", choices=["clean", "quantized"],
                   help="what the side branch sees in the LDR phases: the float latent or the "
                        "quantized one (--side-quantizer; authors' code: quantized, noise)")
    g.add_argument("--side-quantizer", choices=["noise", "ste"],
                   help="side_input=quantized: additive uniform noise or straight-through rounding")

    g = parser.add_argument_group("data")
    g.add_argument("--dataset", choices=list(DATASETS))
    g.add_argument("--data-root", help="dataset directory (imagefolder: with train/ and test/)")
    g.add_argument("--download", action="store_true", default=None,
                   help="let torchvision download CIFAR")
    g.add_argument("--num-per-class", type=int, help="training images per class (subset)")
    g.add_argument("--test-num-per-class", type=int, help="test images per class (subset)")
    g.add_argument("--augment", choices=["light", "heavy", "none"],
                   help="training augmentation: light (flip + translate, default), heavy (the "
                        "family T), none; LDR-SSL views always use T")
    g.add_argument("--no-augment", dest="augment", action="store_const", const="none",
                   help="the same as --augment none")

    g = parser.add_argument_group("model")
    g.add_argument("--backbone", help="registered backbone (commsldr list models)")
    g.add_argument("--width", type=float, help="backbone channel multiplier")
    g.add_argument("--latent-dim", type=int, help="d_y, the bottleneck width")

    g = parser.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, help="epochs of CE-T (and of every phase by default)")
    g.add_argument("--ldr-epochs", type=int, help="epochs of each DuPHiL / LDR phase")
    g.add_argument("--finetune-epochs", type=int, help="epochs of LDR-FT step 3 / truncation")
    g.add_argument("--batch-size", type=int)
    g.add_argument("--ldr-batch-size", type=int, help="batch size of the LDR phases")
    g.add_argument("--lr", type=float, help="learning rate of CE-T")
    g.add_argument("--ldr-lr", type=float, help="learning rate of the DuPHiL / LDR phases")
    g.add_argument("--finetune-lr", type=float, help="learning rate of LDR-FT step 3")
    g.add_argument("--optimizer", choices=list(OPTIMIZERS))
    g.add_argument("--schedule", choices=list(SCHEDULES))
    g.add_argument("--ce-weight", type=float, help="weight of CE in the DuPHiL decoder step")
    g.add_argument("--eps-sq", type=float, help="ε² of the coding rate (official code's eps)")
    g.add_argument("--ssl-views", type=int, help="augmented views per image for L_LDR-SSL")
    g.add_argument("--amp", action="store_true", default=None, help="mixed precision (autocast)")

    g = parser.add_argument_group("run")
    g.add_argument("--seed", type=int)
    g.add_argument("--out", help="output directory (default runs/train/<recipe>)")
    g.add_argument("--resume", action="store_true", default=None,
                   help="continue from the checkpoints in --out")
    g.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda if available)")
    g.add_argument("--quiet", "--no-progress", dest="progress", action="store_false", default=None,
                   help="no progress bars (they are off anyway when stderr is not a terminal)")
    g.add_argument("--threads", type=int, metavar="N",
                   help="torch.set_num_threads(N) (e.g. 1 on a busy shared CPU)")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set any TrainConfig setting by its flat key or GROUP.FIELD; VALUE is YAML, "
                   "as in commsldr run, e.g. --set 'rate_weight=0.5' --set 'dims=[32, 64]' "
                   "--set 'optim.momentum=0.8' (repeatable)")


_OPTION_KEYS = (
    "from_checkpoint", "dims", "screen_select", "keep", "truncate_finetune", "duphil_mode",
    "dataset", "data_root", "download", "num_per_class", "test_num_per_class", "augment",
    "backbone", "width", "latent_dim", "epochs", "ldr_epochs", "finetune_epochs", "batch_size",
    "ldr_batch_size", "lr", "ldr_lr", "finetune_lr", "optimizer", "schedule", "ce_weight",
    "eps_sq", "ssl_views", "amp", "seed", "out", "resume", "device", "progress",
    "side_input", "side_quantizer", "screen_rule", "screen_budgets", "screen_at_bits",
)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The resolved :class:`~commsldr.train.config.TrainConfig`: defaults, then ``--paper``,
    then ``--set KEY=VALUE``, then the explicit flags."""
    from commsldr.errors import UserError, show
    from commsldr.scenario.load import parse_yaml
    from commsldr.train.config import TrainConfig, TrainConfigError, fast_config, paper_config
    from commsldr.train.settings import flat_settings

    given: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError("--set", f"expected KEY=VALUE, got {show(item)}")
        given[key.strip()] = parse_yaml(value, f"--set {key.strip()}")  # YAML, as in run
    try:  # flat keys (rate_weight) or dotted group keys (ldr.rate_weight), as in model.train
        overrides = flat_settings(given)
    except TrainConfigError as exc:
        raise UserError(f"--set {exc.key}", exc.message) from None
    for key in _OPTION_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    recipe = args.recipe or "ce"  # --print-config without --recipe shows the CE-T settings
    overrides["recipe"] = recipe
    overrides.setdefault("out", f"runs/train/{recipe}")
    if args.paper and getattr(args, "fast", False):
        raise UserError("--fast", "--paper and --fast are two presets; choose one")
    try:
        if args.paper:
            return paper_config(**overrides)
        if getattr(args, "fast", False):
            return fast_config(**overrides)
        return TrainConfig.from_dict(overrides)
    except TrainConfigError as exc:
        raise UserError(_flag(exc.key, args), exc.message) from None


def _flag(field: str, args: argparse.Namespace) -> str:
    """The command-line spelling of a TrainConfig field: ``--lr`` or ``--set rate_weight``."""
    base = field.split("[")[0]
    via_set = set(_set_keys(args))
    if base in _OPTION_KEYS and (getattr(args, base, None) is not None or base not in via_set):
        return "--" + {"from_checkpoint": "from"}.get(base, base.replace("_", "-"))
    return f"--set {field}"


def _set_keys(args: argparse.Namespace) -> set[str]:
    """The flat keys that ``--set`` names (``optim.momentum`` is ``momentum``)."""
    from commsldr.train.settings import FLAT_PATHS

    by_path = {f"{group}.{name}": flat for flat, (group, name) in FLAT_PATHS.items()}
    keys = {item.partition("=")[0].strip() for item in args.set}
    return {by_path.get(k, k) for k in keys}


def format_config(config: Any, *, paper: bool, given: set[str] | frozenset[str] = frozenset()) -> str:
    """The resolved config as a table: field, value, provenance tag, source.

    Fields the ``--paper`` preset does not set show ``default``, or ``user`` when in ``given``."""
    from commsldr.train.config import paper_provenance

    sources = paper_provenance(config.data.dataset) if paper else {}
    d = config.to_dict()
    d.pop("provenance", None)
    rows = []
    for key in sorted(d):
        value = json.dumps(d[key])
        tag = config.provenance.get(key) or ("user" if key in given else "default")
        source = sources[key][1] if key in sources and tag != "user" else ""
        rows.append((key, value, tag, source))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    head = ["resolved training config" + (
        f" (--paper preset for {config.data.dataset})" if paper else ""),
        f"{'field':<{w[0]}}  {'value':<{w[1]}}  {'tag':<{w[2]}}  source"]
    body = [f"{k:<{w[0]}}  {v:<{w[1]}}  {t:<{w[2]}}  {src}".rstrip() for k, v, t, src in rows]
    return "\n".join(head + body)


def main(args: argparse.Namespace) -> int:
    """Run the recipe; print the test accuracy and the checkpoint path."""
    import torch

    from commsldr.errors import UserError
    from commsldr.train.checks import check_data_available, check_model_fits
    from commsldr.train.config import TrainConfigError
    from commsldr.train.recipes import run_recipe

    config = config_from_args(args)
    if getattr(args, "print_config", False):
        given = {k for k in _OPTION_KEYS if getattr(args, k, None) is not None}
        given |= _set_keys(args)
        print(format_config(config, paper=args.paper, given=given))
        return 0
    if args.recipe is None:
        raise UserError("--recipe", f"is required (one of {', '.join(RECIPES.names())})")
    if args.paper:
        from commsldr.train.config import paper_provenance

        tag, source = config.provenance.get("backbone", "user"), ""
        if tag != "user":
            source = f" ({tag}, {paper_provenance(config.data.dataset)['backbone'][1]})"
        print(f"--paper: dataset {config.data.dataset}, backbone {config.model.backbone}{source}; "
              f"--print-config lists every value with its source")
    if config.run.device is not None:
        from commsldr.cli.device import device_problem

        if (problem := device_problem(config.run.device)) is not None:
            raise UserError("", problem)
    if getattr(args, "threads", None) is not None:
        if args.threads < 1:
            raise UserError("--threads", f"must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    try:  # before any data is loaded or model trained
        check_data_available(config)
        check_model_fits(config, num_classes=100 if config.data.dataset == "cifar100" else 10)
    except TrainConfigError as exc:
        raise UserError(_flag(exc.key, args), exc.message) from None
    start_dim = config.model.latent_dim
    if config.run.from_checkpoint is not None:
        from commsldr.train.checkpoint import load_checkpoint

        # CheckpointError: missing or unreadable
        start = load_checkpoint(config.run.from_checkpoint)
        start_dim = (start.get("config") or {}).get("latent_dim", start_dim)
    keep = config.truncate.keep
    if config.recipe == "truncate" and keep is not None and isinstance(start_dim, int) \
            and keep > start_dim:
        where = f"the latent_dim of {config.run.from_checkpoint}" \
            if config.run.from_checkpoint is not None else "--latent-dim"
        raise UserError(_flag("keep", args), f"{keep} exceeds {where}, {start_dim}")
    from pathlib import Path

    try:
        Path(config.run.out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError("--out", f"cannot create the output directory {config.run.out}: "
                                 f"{exc.strerror or exc}") from None
    try:
        result = run_recipe(config.recipe, config)
    except KeyboardInterrupt:
        import sys

        print(f"commsldr train: interrupted; every finished epoch is saved under {config.run.out} "
              f"(continue with the same command and --resume)", file=sys.stderr)
        return 130
    import torch.distributed as dist

    if not dist.is_initialized() or dist.get_rank() == 0:
        metrics = result.metrics
        if "best_latent_dim" in metrics:
            print(f"best latent dim: {metrics['best_latent_dim']} (by {metrics['selected_by']})")
        print(f"test accuracy: {metrics['test_acc']:.4f}")
        print(f"checkpoint: {result.checkpoint_path}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0
