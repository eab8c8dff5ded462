"""The ``commsldr`` command line.

Subcommands are thin: each one parses arguments and calls the public API of a subpackage.

    commsldr train --recipe NAME ...        train a model with one of the recipes
    commsldr run SCENARIO [--set k=v ...]   run a scenario file
    commsldr plot RUN_DIR                   (re)draw the figures of a run
    commsldr list {channels,policies,models,recipes,scenarios,csi,pretrained,schemes}
"""

from __future__ import annotations

import argparse
import os
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
    if kind == "csi":
        from commsldr.adapt import list_csi_models

        return list(list_csi_models())
    if kind == "scenarios":
        from commsldr.scenario import list_scenarios

        return list(list_scenarios())
    if kind == "schemes":
        from commsldr.schemes import list_schemes

        return list(list_schemes())
    if kind == "pretrained":
        from commsldr.models.pretrained import list_pretrained

        return list_pretrained()
    raise ValueError(f"unknown kind {kind!r}")


def _cmd_run(args: argparse.Namespace) -> int:
    import yaml

    from commsldr.scenario import load_scenario

    loaded = load_scenario(args.scenario, args.overrides, max_sweep_points=args.max_sweep_points)
    if args.check:
        print(yaml.safe_dump(loaded.scenario.to_dict(), sort_keys=False), end="")
        print(f"# valid: {len(loaded.points)} sweep point(s)", file=sys.stderr)
        return 0
    from commsldr.scenario.runner import run_scenario

    out = run_scenario(loaded, out=args.out, progress=not args.quiet, plot=not args.no_plot,
                       overwrite=args.overwrite)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commsldr",
        description="Task-oriented communication: train split autoencoders, code latents, "
        "simulate wireless links, run scenario studies.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (may also follow COMMAND)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from commsldr.train import command as train_command

    p_train = sub.add_parser(
        "train", help="train a split autoencoder with a recipe", description=train_command.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train_command.add_arguments(p_train)
    p_train.set_defaults(func=train_command.main)

    p_run = sub.add_parser(
        "run", help="run a scenario file (YAML) and write results and figures",
        description="Validate SCENARIO (a YAML file or the name of a shipped scenario), then "
        "train or load the model, build its operating-point table, simulate every sweep point, "
        "channel, seed and policy, and write runs/<scenario>/<timestamp>/ (or --out): "
        "config.yaml, results.json, results.csv, per_seed.csv, timeline.json, figures/.",
        epilog="examples:\n  commsldr run scenarios/quickstart.yaml\n"
        "  commsldr run awgn_snr_sweep --set frames=200 --set 'seeds=[0]'\n"
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
    p_run.add_argument("--overwrite", action="store_true",
                       help="allow --out to name a directory that already holds files")
    p_run.add_argument("--max-sweep-points", type=int, default=1000, metavar="N",
                       help="refuse sweeps with more than N points (default 1000)")
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

    p_list = sub.add_parser("list", help="list registered names (channels, policies, ...)")
    p_list.add_argument("kind", choices=["channels", "policies", "models", "recipes", "scenarios",
                                         "csi", "pretrained", "schemes"])
    p_list.set_defaults(func=lambda a: print("\n".join(_list(a.kind))) or 0)
    return parser


def _raised_by_us(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc`` is in commsldr or channels (our own messages)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.abspath(tb.tb_frame.f_code.co_filename)
    return any(path.startswith(os.path.join(here, pkg) + os.sep) for pkg in ("commsldr", "channels"))


def _report(exc: BaseException, command: str) -> int:
    """One or two lines on stderr for an error; the exit code (2: the user's input)."""
    from commsldr.errors import UserError, cut

    prog = f"commsldr {command}" if command else "commsldr"
    if isinstance(exc, UserError):
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, KeyboardInterrupt):
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, MemoryError):
        print(f"{prog}: out of memory; reduce the sizes (frames, latent_dim, images, sweep) or "
              f"rerun with --debug", file=sys.stderr)
        return 2
    if isinstance(exc, OSError):
        what = f" {exc.filename}" if exc.filename else ""
        print(f"{prog}: cannot access{what}: {cut(exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    if isinstance(exc, ValueError) and _raised_by_us(exc):
        print(f"{prog}: {cut(str(exc), 400)}", file=sys.stderr)
        return 2
    print(f"{prog}: internal error ({type(exc).__name__}: {cut(str(exc))})\n"
          f"  please report it; rerun with --debug for the traceback", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user errors print one or two lines and return 2 (``--debug``: raise)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("COMMSLDR_DEBUG") == "1"
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if debug:
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one error path
        return _report(exc, args.command)


if __name__ == "__main__":
    sys.exit(main())
