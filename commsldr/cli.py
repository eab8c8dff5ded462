"""The ``commsldr`` command line.

Subcommands are thin: each one parses arguments and calls the public API of a subpackage.

    commsldr train --recipe NAME ...        train a model with one of the recipes
    commsldr run SCENARIO [--set k=v ...]   run a scenario file (--jobs N, --backend ray)
    commsldr run --resume RUN_DIR           finish an interrupted run
    commsldr plot RUN_DIR                   (re)draw the figures of a run
    commsldr list {channels,policies,models,recipes,scenarios,csi,pretrained,schemes}
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


def _run_env_problem(args: argparse.Namespace) -> str | None:
    """What stops ``--device`` / ``--backend`` from working here, or None."""
    import importlib.util

    import torch

    try:
        device = torch.device(args.device)
    except RuntimeError:
        return f"--device {args.device!r}: not a device; allowed: cpu, cuda, cuda:N"
    if device.type not in ("cpu", "cuda"):
        return f"--device {args.device!r}: allowed: cpu, cuda, cuda:N"
    if device.type == "cuda" and not torch.cuda.is_available():
        return f"--device {args.device}: no CUDA device is available (use --device cpu)"
    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        return "--backend ray needs Ray: pip install 'commsldr[ray]'"
    if args.address is not None and args.backend != "ray":
        return "--address is for --backend ray"
    return None


def _cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from commsldr.scenario import ScenarioError, load_scenario

    if (args.scenario is None) == (args.resume is None):
        print("commsldr run: give either SCENARIO or --resume RUN_DIR", file=sys.stderr)
        return 2
    if args.resume is not None:
        config = Path(args.resume) / "config.yaml"
        if args.overrides or args.out or not config.is_file():
            print(f"commsldr run: --resume {args.resume}: " + (
                "takes no --set/--out (the run's config.yaml is used)" if config.is_file()
                else "not a run directory (no config.yaml)"), file=sys.stderr)
            return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"commsldr run: --jobs must be >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    try:
        loaded = load_scenario(config if args.resume else args.scenario, args.overrides)
    except ScenarioError as e:
        print(f"commsldr run: invalid scenario: {e}", file=sys.stderr)
        return 2
    if args.check:
        print(yaml.safe_dump(loaded.scenario.to_dict(), sort_keys=False), end="")
        print(f"# valid: {len(loaded.points)} sweep point(s)", file=sys.stderr)
        return 0
    from commsldr.scenario.runner import run_scenario

    problem = _run_env_problem(args)
    if problem:
        print(f"commsldr run: {problem}", file=sys.stderr)
        return 2
    try:
        out = run_scenario(loaded, out=args.resume or args.out, progress=not args.quiet,
                           plot=not args.no_plot, jobs=args.jobs, backend=args.backend,
                           address=args.address, resume=args.resume is not None,
                           device=args.device)
    except KeyboardInterrupt:
        return 130
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
    p_run.add_argument("scenario", nargs="?", default=None,
                       help="a scenario YAML path or a shipped scenario name")
    p_run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a setting by dotted key; VALUE is YAML (repeatable)")
    p_run.add_argument("--out", default=None, help="run directory (default: runs/<name>/<time>)")
    p_run.add_argument("--check", action="store_true",
                       help="only validate the scenario (and print the resolved config)")
    p_run.add_argument("--no-plot", action="store_true", help="do not draw the figures")
    p_run.add_argument("--quiet", action="store_true", help="no progress bars")
    p_run.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="worker processes for the simulations (default: all cores; 1: in "
                       "this process); results do not depend on N")
    p_run.add_argument("--resume", default=None, metavar="RUN_DIR",
                       help="finish an interrupted run: only the jobs without a row in "
                       "RUN_DIR/jobs.jsonl run")
    p_run.add_argument("--backend", choices=["local", "ray"], default="local",
                       help="local processes (default) or Ray tasks (pip install 'commsldr[ray]')")
    p_run.add_argument("--address", default=None, metavar="auto|HOST:PORT",
                       help="the Ray cluster for --backend ray (default: a local Ray instance)")
    p_run.add_argument("--device", default="cpu",
                       help="where the operating-point table's network inference runs: cpu "
                       "(default) or cuda")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
