"""The ``commsldr`` command line.

Subcommands are thin: each one parses arguments and calls the public API of a subpackage.

    commsldr train --recipe NAME ...        train a model with one of the recipes
    commsldr run SCENARIO [--set k=v ...]   run a scenario file
    commsldr plot RUN_DIR                   (re)draw the figures of a run
    commsldr list KIND                      names with one-line descriptions
    commsldr describe KIND NAME             parameters, defaults and units of one name

Only what a command needs is imported (``--help``, ``--version`` and ``list`` import no torch).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _import_plugins(args: argparse.Namespace) -> int | None:
    """Import the ``--plugin`` modules; on failure print one line and return the exit code."""
    from commsldr.registry import import_plugins

    try:
        import_plugins(getattr(args, "plugins", None) or [])
    except ImportError as e:
        print(f"commsldr {args.command}: {e}", file=sys.stderr)
        return 2
    return None


def _cmd_list(args: argparse.Namespace) -> int:
    from commsldr.catalogue import catalogue

    rc = _import_plugins(args)
    if rc is not None:
        return rc
    entries = catalogue(args.kind)
    width = max((len(n) for n in entries), default=0)
    for name, text in entries.items():
        print(f"{name.ljust(width)}  {text}".rstrip())
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from commsldr.describe import describe

    rc = _import_plugins(args)
    if rc is not None:
        return rc
    try:
        print(describe(args.kind, args.name))
    except (KeyError, ValueError) as e:
        print(f"commsldr describe: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import yaml

    from commsldr.scenario import ScenarioError, load_scenario

    rc = _import_plugins(args)
    if rc is not None:
        return rc
    try:
        loaded = load_scenario(args.scenario, args.overrides)
    except ScenarioError as e:
        print(f"commsldr run: invalid scenario: {e}", file=sys.stderr)
        return 2
    if args.check:
        print(yaml.safe_dump(loaded.scenario.to_dict(), sort_keys=False), end="")
        print(f"# valid: {len(loaded.points)} sweep point(s)", file=sys.stderr)
        return 0
    from commsldr.scenario.runner import run_scenario

    out = run_scenario(loaded, out=args.out, progress=not args.quiet, plot=not args.no_plot)
    print(out.run_dir)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from commsldr.plots import plot_run

    try:
        paths = plot_run(args.run_dir, figures=args.figures, formats=args.formats,
                         out_dir=args.out)
    except (FileNotFoundError, ValueError) as e:
        print(f"commsldr plot: {e}", file=sys.stderr)
        return 2
    print("\n".join(str(p) for p in paths))
    return 0


def _add_plugin_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin", dest="plugins", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (a dotted module name or a .py file) so that the "
                   "policies, CSI models, PHYs or channels it registers can be used "
                   "(repeatable)")


def build_parser(*, train: bool = True) -> argparse.ArgumentParser:
    """The argument parser; ``train=False`` leaves out the ``train`` options (whose definition
    imports torch), which is what every other command uses."""
    from commsldr import __version__

    parser = argparse.ArgumentParser(
        prog="commsldr",
        description="Task-oriented communication: train split autoencoders, code latents, "
        "simulate wireless links, run scenario studies.",
    )
    parser.add_argument("--version", action="version", version=f"commsldr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    if train:
        from commsldr.train import command as train_command

        p_train = sub.add_parser(
            "train", help="train a split autoencoder with a recipe",
            description=train_command.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        train_command.add_arguments(p_train)
        p_train.set_defaults(func=train_command.main)
    else:
        sub.add_parser("train", help="train a split autoencoder with a recipe", add_help=False)

    p_run = sub.add_parser(
        "run", help="run a scenario file (YAML) and write results and figures",
        description="Validate SCENARIO (a YAML file or the name of a shipped scenario), then "
        "train or load the model, build its operating-point table, simulate every sweep point, "
        "channel, seed and policy, and write runs/<scenario>/<timestamp>/ (or --out): "
        "config.yaml, results.json, results.csv, per_seed.csv, timeline.json, run.log, figures/.",
        epilog="examples:\n  commsldr run scenarios/quickstart.yaml\n"
        "  commsldr run awgn_snr_sweep --set 'frames=200' --set 'seeds=[0]'\n"
        "  commsldr run quickstart --set 'sweep.channels.*.mean_snr_db=[0, 10, 20]' --out /tmp/r",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_run.add_argument("scenario", help="a scenario YAML path or a shipped scenario name")
    p_run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting by dotted key; VALUE is YAML (repeatable)")
    p_run.add_argument("--out", default=None, help="run directory (default: runs/<name>/<time>)")
    p_run.add_argument("--check", action="store_true",
                       help="only validate the scenario (and print the resolved config)")
    p_run.add_argument("--no-plot", action="store_true", help="do not draw the figures")
    p_run.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_plugin_option(p_run)
    p_run.set_defaults(func=_cmd_run)

    p_plot = sub.add_parser("plot", help="(re)draw the figures of a run directory",
                            description="Draw the figures of RUN_DIR from its result files.")
    p_plot.add_argument("run_dir")
    p_plot.add_argument("--figures", nargs="+", default=None,
                        help="figure names (default: all): accuracy_vs_snr accuracy_vs_capacity "
                        "accuracy_vs_rate timeline")
    p_plot.add_argument("--formats", nargs="+", default=None, help="png pdf svg (default png pdf)")
    p_plot.add_argument("--out", default=None, help="output directory (default RUN_DIR/figures)")
    p_plot.set_defaults(func=_cmd_plot)

    from commsldr.catalogue import KINDS

    p_list = sub.add_parser("list", help="list registered names with one-line descriptions",
                            description="List the registered names of KIND with a one-line "
                            "description (built-ins and plug-ins).")
    p_list.add_argument("kind", choices=KINDS)
    _add_plugin_option(p_list)
    p_list.set_defaults(func=_cmd_list)

    p_desc = sub.add_parser("describe", help="the parameters of one registered name",
                            description="Describe NAME of KIND: what it is, its parameters with "
                            "defaults and units (from the name's suffix: _db dB, _s seconds, "
                            "_hz Hz, _bits bits, ...).",
                            epilog="examples:\n  commsldr describe channels rayleigh-block\n"
                            "  commsldr describe policies outage-aware\n"
                            "  commsldr describe phys nr",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p_desc.add_argument("kind", choices=KINDS)
    p_desc.add_argument("name")
    _add_plugin_option(p_desc)
    p_desc.set_defaults(func=_cmd_describe)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # only `train` needs its options defined (importing torch); everything else answers at once
    parser = build_parser(train=bool(argv) and argv[0] == "train")
    args = parser.parse_args(argv)
    if args.command in ("train", "run"):
        from commsldr.logs import console_logging

        console_logging()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
