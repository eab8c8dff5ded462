"""The ``commsldr`` command line.

Subcommands are thin: each one parses arguments and calls the public API of a subpackage.

    commsldr train --recipe NAME ...        train a model with one of the recipes
    commsldr run SCENARIO [--set k=v ...]   run a scenario file
    commsldr plot RUN_DIR                   (re)draw the figures of a run
    commsldr list {channels,policies,models,recipes,scenarios}
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _list(kind: str) -> list[str]:
    if kind == "channels":
        from channels import list_channels

        return list(list_channels())
    if kind == "models":
        from commsldr.models import list_models

        return list(list_models())
    if kind == "recipes":
        from commsldr.train import list_recipes

        return list(list_recipes())
    if kind == "policies":
        from commsldr.adapt import list_policies

        return list(list_policies())
    if kind == "scenarios":
        from commsldr.scenario import list_scenarios

        return list(list_scenarios())
    raise ValueError(f"unknown kind {kind!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commsldr",
        description="Task-oriented communication: train split autoencoders, code latents, "
        "simulate wireless links, run scenario studies.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from commsldr.train import command as train_command

    p_train = sub.add_parser(
        "train", help="train a split autoencoder with a recipe", description=train_command.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train_command.add_arguments(p_train)
    p_train.set_defaults(func=train_command.main)

    try:
        from commsldr import scenario_command
    except ImportError:  # the scenario runner is optional until it lands
        scenario_command = None
    if scenario_command is not None:
        scenario_command.add_subcommands(sub)

    p_list = sub.add_parser("list", help="list registered names")
    p_list.add_argument("kind", choices=["channels", "policies", "models", "recipes", "scenarios"])
    p_list.set_defaults(func=lambda a: print("\n".join(_list(a.kind))) or 0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
