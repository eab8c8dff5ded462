"""The ``commsldr`` command line: the parser and the thin commands.

Subcommands are thin: each one parses arguments and calls the public API of a subpackage.

    commsldr train --recipe NAME ...        train a model with one of the recipes
    commsldr run SCENARIO [--set k=v ...]   run a scenario file (--jobs N, --backend ray)
    commsldr run --resume RUN_DIR           finish an interrupted run
    commsldr plot RUN_DIR                   (re)draw the figures of a run
    commsldr evaluate MODEL ...             test accuracy of shipped models or checkpoints
    commsldr list KIND                      names with one-line descriptions
    commsldr describe KIND NAME             parameters, defaults and units of one name

Only what a command needs is imported (``--help``, ``--version`` and ``list`` import no torch).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


#: the subcommands, in the order of ``--help``
COMMANDS = ("train", "evaluate", "run", "plot", "list", "describe", "schema")
#: the options that may come before COMMAND
_GLOBAL_OPTIONS = ("-h", "--help", "--version")


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
    from commsldr.cli.catalogue import catalogue

    rc = _import_plugins(args)
    if rc is not None:
        return rc
    entries = catalogue(args.kind)
    width = max((len(n) for n in entries), default=0)
    for name, text in entries.items():
        print(f"{name.ljust(width)}  {text}".rstrip())
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from commsldr.cli.describe import describe

    rc = _import_plugins(args)
    if rc is not None:
        return rc
    try:
        print(describe(args.kind, args.name))
    except (KeyError, ValueError) as e:
        from commsldr.cli.catalogue import catalogue
        from commsldr.errors import did_you_mean

        text = str(e.args[0] if e.args else e)
        hint = did_you_mean(args.name, catalogue(args.kind))
        if hint and hint.strip() not in text:
            text = text.replace(f"{args.name!r}", f"{args.name!r}{hint}", 1) \
                if f"{args.name!r}" in text else f"{text}{hint}"
        print(f"commsldr describe: {text}", file=sys.stderr)
        return 2
    return 0


def _kind(text: str) -> str:
    """A KIND argument: the plural (``channels``) or the singular (``channel``, ``policy``,
    ``phy``, ``scheme``, ``model``, ``recipe``, ``scenario``); other words pass through to the
    choices check."""
    from commsldr.cli.catalogue import KINDS

    if text in KINDS:
        return text
    for kind in KINDS:
        if text in (kind[:-1], kind[:-3] + "y"):  # channels → channel, policies → policy
            return kind
    return text


def _run_env_problem(args: argparse.Namespace) -> str | None:
    """What stops ``--device`` / ``--backend`` from working here, or None."""
    import importlib.util

    from commsldr.cli.device import device_problem

    if (problem := device_problem(args.device)) is not None:
        return problem
    if args.backend == "ray" and importlib.util.find_spec("ray") is None:
        return "--backend ray needs Ray: pip install 'commsldr[ray]'"
    if args.address is not None and args.backend != "ray":
        return "--address is for --backend ray"
    return None


def _cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from commsldr.scenario import load_scenario

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
    if args.max_sweep_points < 1:
        print(f"commsldr run: --max-sweep-points must be >= 1, got {args.max_sweep_points}",
              file=sys.stderr)
        return 2
    rc = _import_plugins(args)
    if rc is not None:
        return rc
    if args.allow_plugins:
        from commsldr.trust import allow_code

        allow_code()
    loaded = load_scenario(config if args.resume else args.scenario, args.overrides,
                           max_sweep_points=args.max_sweep_points,
                           allow_plugins=args.allow_plugins)
    # --plugin modules travel with the scenario (config.yaml, and every worker imports them:
    # processes started with spawn and Ray tasks import the scenario's plugins before a job)
    for ref in getattr(args, "plugins", None) or []:
        entry = str(Path(ref).resolve()) if ref.endswith(".py") or "/" in ref else ref
        if entry not in loaded.scenario.plugins:
            loaded.scenario.plugins.append(entry)
    problem = _run_env_problem(args)
    if problem:
        print(f"commsldr run: {problem}", file=sys.stderr)
        return 2
    if args.check:
        from commsldr.cache import resolve_cache_dir
        from commsldr.rundir import check_run_dir, probe_creatable

        # the directories the run would create or refuse, without creating anything
        # (a probe folder is made and removed at once: os.access says yes to root everywhere)
        probe_creatable(resolve_cache_dir(loaded.scenario.model.cache_dir), "model.cache_dir")
        if args.out is not None:  # what the run would refuse (commsldr.rundir.claim_run_dir)
            check_run_dir(args.out, key="--out", overwrite=args.overwrite)
        else:
            probe_creatable(loaded.scenario.outputs.dir, "outputs.dir")
        print(yaml.safe_dump(loaded.scenario.to_dict(), sort_keys=False), end="")
        print(f"# valid: {len(loaded.points)} sweep point(s)", file=sys.stderr)
        return 0
    from commsldr.scenario.runner import run_scenario

    try:
        out = run_scenario(loaded, out=args.resume or args.out, progress=not args.quiet,
                           plot=not args.no_plot, jobs=args.jobs, backend=args.backend,
                           address=args.address, resume=args.resume is not None,
                           device=args.device, overwrite=args.overwrite)
    except KeyboardInterrupt:  # one line even with --quiet (training, tables or simulations)
        where = args.resume or args.out or "RUN_DIR (the directory of the 'run:' line)"
        print(f"commsldr run: interrupted; finished work is kept, continue with: "
              f"commsldr run --resume {where}", file=sys.stderr)
        return 130
    print(out.run_dir)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from commsldr.report.plots import plot_run

    try:
        from commsldr.scenario.backends import default_jobs

        paths = plot_run(args.run_dir, figures=args.figures, formats=args.formats,
                         out_dir=args.out, jobs=default_jobs())
    except (FileNotFoundError, ValueError) as e:
        print(f"commsldr plot: {e}", file=sys.stderr)
        return 2
    print("\n".join(str(p) for p in paths))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from commsldr.scenario.json_schema import scenario_json_schema

    if (rc := _import_plugins(args)) is not None:
        return rc
    print(json.dumps(scenario_json_schema(), indent=1, ensure_ascii=False))
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

    parser = _Parser(
        prog="commsldr",
        description="Task-oriented communication: train split autoencoders, code latents, "
        "simulate wireless links, run scenario studies.",
    )
    parser.add_argument("--version", action="version", version=f"commsldr {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (may also follow COMMAND)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars and no status lines, only results and errors (may "
                        "also follow COMMAND; bars are off anyway when stderr is not a terminal)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    if train:
        from commsldr.cli import train as train_command

        p_train = sub.add_parser(
            "train", help="train a split autoencoder with a recipe",
            description=train_command.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        train_command.add_arguments(p_train)
        p_train.set_defaults(func=train_command.main)
    else:
        sub.add_parser("train", help="train a split autoencoder with a recipe", add_help=False)

    from commsldr.cli import evaluate as eval_command

    p_eval = sub.add_parser(
        "evaluate", help="test accuracy of shipped models or checkpoints (float, at real bits)",
        description=eval_command.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    eval_command.add_arguments(p_eval)
    p_eval.set_defaults(func=eval_command.main)

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
    p_run.add_argument("--overwrite", action="store_true",
                       help="allow --out to name a directory that already holds files")
    p_run.add_argument("--max-sweep-points", type=int, default=1000, metavar="N",
                       help="refuse sweeps with more than N points (default 1000)")
    _add_plugin_option(p_run)
    p_run.add_argument("--allow-plugins", action="store_true",
                       help="let the scenario (or the run directory's config.yaml) import the "
                       "modules under its plugins: key; without it only plug-ins on your "
                       "allow-list run (see 'Trust model' in the robustness guide)")
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

    from commsldr.cli.catalogue import KINDS

    p_list = sub.add_parser("list", help="list registered names with one-line descriptions",
                            description="List the registered names of KIND with a one-line "
                            "description (built-ins and plug-ins).")
    p_list.add_argument("kind", type=_kind, choices=KINDS)
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
    p_desc.add_argument("kind", type=_kind, choices=KINDS)
    p_desc.add_argument("name")
    _add_plugin_option(p_desc)
    p_desc.set_defaults(func=_cmd_describe)

    p_schema = sub.add_parser("schema", help="print the JSON Schema of scenario files",
                              description="Print a JSON Schema (draft 2020-12) of scenario "
                              "files for editors: commsldr schema > scenario.schema.json "
                              "(with --plugin, the plug-ins' types are included).")
    _add_plugin_option(p_schema)
    p_schema.set_defaults(func=_cmd_schema)
    return parser


def _raised_by_us(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc`` is in commsldr or channels (our own messages)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    # the folder holding commsldr/ and channels/ (this file is commsldr/cli/main.py)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
    if isinstance(exc, BrokenPipeError):  # the reader went away (`commsldr list ... | head`)
        try:  # no "Exception ignored" when the interpreter flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141  # what a shell reports for a process ended by SIGPIPE
    if isinstance(exc, MemoryError):
        print(f"{prog}: out of memory; reduce the sizes (frames, latent_dim, images, sweep) or "
              f"rerun with --debug", file=sys.stderr)
        return 2
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        what = f" {exc.filename}" if exc.filename else ""
        print(f"{prog}: cannot write{what}: no space left on the device (or over quota); free "
              f"some space, then rerun (commsldr run --resume RUN_DIR keeps finished jobs)",
              file=sys.stderr)
        return 2
    if isinstance(exc, OSError) and not exc.filename and _raised_by_us(exc):
        print(f"{prog}: {exc}", file=sys.stderr)  # our own message: in full, remedy included
        return 2
    if isinstance(exc, OSError):
        what = f" {exc.filename}" if exc.filename else ""
        print(f"{prog}: cannot access{what}: {cut(exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    if isinstance(exc, ValueError) and _raised_by_us(exc):
        print(f"{prog}: {exc}", file=sys.stderr)  # our own message: in full
        return 2
    print(f"{prog}: internal error ({type(exc).__name__}: {cut(str(exc))})\n"
          f"  please report it; rerun with --debug for the traceback", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user errors print one or two lines and return 2 (``--debug``: raise).

    As the program (``argv`` None), the objects alive at the end are frozen out of the garbage
    collector first: the interpreter then exits without a last full collection over torch's
    hundreds of thousands of objects (about 0.4 s of every command that imported it).
    """
    if argv is None:
        try:
            return _main(sys.argv[1:])
        except KeyboardInterrupt:  # Ctrl-C while the command's modules were still importing
            print("commsldr: interrupted", file=sys.stderr)
            return 130
        finally:
            import gc

            gc.freeze()
    return _main(argv)


def _main(argv: Sequence[str]) -> int:
    argv = list(argv)
    debug = "--debug" in argv or os.environ.get("COMMSLDR_DEBUG") == "1"
    quiet = "--quiet" in argv  # one --quiet for every command, before or after it
    argv = [a for a in argv if a not in ("--debug", "--quiet")]
    # only `train` needs its options defined (importing torch); everything else answers at once
    parser = build_parser(train=bool(argv) and argv[0] == "train")
    if argv and argv[0].startswith("-") and argv[0].split("=")[0] not in _GLOBAL_OPTIONS:
        print(f"commsldr: unknown option {argv[0]!r}; COMMAND comes first, one of "
              f"{', '.join(COMMANDS)} "
              f"(see commsldr --help)", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    args.quiet = quiet
    if quiet and args.command == "train":
        args.progress = False
    if args.command in ("train", "run"):
        import logging

        from commsldr.logs import console_logging

        console_logging(logging.WARNING if quiet else logging.INFO)
    if debug:
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one error path
        return _report(exc, args.command)


if __name__ == "__main__":
    sys.exit(main())
