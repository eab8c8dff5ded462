"""Trust boundaries: a scenario (or a run directory's ``config.yaml``) is data, never code.

A scenario's ``plugins:`` list names Python modules; importing one runs its code. Loading,
checking (``--check``) or resuming (``--resume``) a scenario therefore imports a plug-in only when
the user allowed it:

1. ``--allow-plugins`` on the command line (``load_scenario(..., allow_plugins=True)``);
2. the plug-in is on the user's allow-list: the file named by ``COMMSLDR_TRUST_FILE`` (default
   ``$XDG_CONFIG_HOME/commsldr/trusted-plugins``, else ``~/.config/commsldr/trusted-plugins``),
   one entry per line (``#`` comments): a dotted module name, a ``.py`` file, or a directory
   whose ``.py`` files (at any depth) are trusted; ``COMMSLDR_TRUSTED_PLUGINS`` adds entries
   separated by ``os.pathsep``;
3. the plug-in is one of the examples shipped with commsldr (``examples/`` of a source tree, ``commsldr/shipped/examples``
   of an installed package), as
   trusted as commsldr itself.

Otherwise :func:`check_scenario_plugins` raises :class:`PluginNotAllowedError` naming the module
or file that would run, the scenario it came from and how to allow it. A module given with
``commsldr ... --plugin MODULE`` is the user's own command and is imported as asked.

**Checkpoints that are code.** A Stable-Baselines3 agent (``policies.<label>: {type: rl,
checkpoint: ...}``) is a zip whose settings are stored with ``cloudpickle``: loading one runs
code. :func:`check_code_file` lets such a file load only from a trusted directory (the shipped
``models/rl``, or ``$COMMSLDR_RL_DIR``, which only the user sets), from the allow-list, or after
``--allow-plugins`` (:func:`allow_code`, for the rest of the process).

Plug-ins are imported by path (:func:`importlib.util.spec_from_file_location`) or by their dotted
name on the unchanged ``sys.path``: the working directory is never put in front of it (a
``filelock.py`` lying there is never picked up in place of the real package).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from commsldr.errors import UserError, cut
from commsldr.resources import shipped_dir

__all__ = ["PluginNotAllowedError", "TrustList", "allow_code", "check_code_file",
           "check_scenario_plugins", "shipped_examples_dir", "trust_file", "trusted"]

ENV_FILE = "COMMSLDR_TRUST_FILE"
ENV_ENTRIES = "COMMSLDR_TRUSTED_PLUGINS"


class PluginNotAllowedError(UserError):
    """A scenario names a plug-in (or a code-carrying checkpoint) the user has not allowed."""


_CODE_ALLOWED = False


def allow_code(allowed: bool = True) -> None:
    """``--allow-plugins``: let this process import scenario plug-ins and load code-carrying
    checkpoints named by a scenario (inherited by forked workers)."""
    global _CODE_ALLOWED
    _CODE_ALLOWED = bool(allowed)


def check_code_file(path: str | os.PathLike[str], *, key: str, what: str,
                    trusted_dirs: Sequence[Path] = ()) -> None:
    """Raise :class:`PluginNotAllowedError` unless the file ``path``, which runs code when loaded,
    may be loaded: ``--allow-plugins`` (:func:`allow_code`), a file under ``trusted_dirs``, or on
    the allow-list.

    Input:
        path (path-like): the file.
        key (str): the scenario key or parameter named in the message.
        what (str): what the file is, e.g. ``"the RL checkpoint"``.
        trusted_dirs (list of Path): directories whose files are trusted.
    """
    if _CODE_ALLOWED:
        return
    p = Path(path).expanduser().resolve()
    if any(p.is_relative_to(Path(d).expanduser().resolve()) for d in trusted_dirs):
        return
    if TrustList.load().allows(str(p), p):
        return
    raise PluginNotAllowedError(
        key, f"{what} {cut(str(p))} stores objects with pickle, so loading it would run code; "
             f"nothing was loaded. Pass --allow-plugins if you trust it, add it to {trust_file()}, "
             f"or use a shipped checkpoint by name")


def trust_file() -> Path:
    """The per-user allow-list file (it need not exist)."""
    if os.environ.get(ENV_FILE):
        return Path(os.environ[ENV_FILE]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "commsldr" / "trusted-plugins"


def shipped_examples_dir() -> Path:
    """The example plug-ins shipped with commsldr, resolved: ``commsldr/shipped/examples`` (a
    link to ``examples/`` in a source checkout, a copy inside the installed package); may not
    exist. A stray ``site-packages/examples`` is never trusted."""
    return (shipped_dir() / "examples").resolve()


@dataclass(frozen=True)
class TrustList:
    """The trusted plug-ins: dotted module names, files and directories (resolved)."""

    modules: frozenset[str]
    files: frozenset[Path]
    dirs: tuple[Path, ...]

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> TrustList:
        """Sort entries into module names (no ``/``, not ending in ``.py``), files and dirs."""
        modules, files, dirs = set(), set(), []
        for raw in entries:
            entry = raw.split("#", 1)[0].strip()
            if not entry:
                continue
            if "/" in entry or os.sep in entry or entry.endswith(".py") or entry.startswith("~"):
                p = Path(entry).expanduser().resolve()
                (dirs.append(p) if p.is_dir() else files.add(p))
            else:
                modules.add(entry)
        return cls(frozenset(modules), frozenset(files), tuple(dirs))

    @classmethod
    def load(cls) -> TrustList:
        """The user's allow-list (file and environment) plus the shipped examples."""
        entries: list[str] = []
        path = trust_file()
        try:
            entries += path.read_text(encoding="utf-8", errors="replace").splitlines()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            raise UserError(str(path), f"cannot read the plug-in allow-list: "
                                       f"{exc.strerror or exc}") from None
        entries += [e for e in os.environ.get(ENV_ENTRIES, "").split(os.pathsep) if e]
        examples = shipped_examples_dir()
        if examples.is_dir():
            entries.append(str(examples))
        return cls.from_entries(entries)

    def allows(self, ref: str, path: Path | None) -> bool:
        """Whether the plug-in ``ref`` (resolved to ``path`` if it is a file) is trusted."""
        if path is None:
            return ref in self.modules or any(ref.startswith(m + ".") for m in self.modules)
        return path in self.files or any(path.is_relative_to(d) for d in self.dirs)


def _resolve(ref: str, base_dir: Path | None) -> Path | None:
    """The file a ``.py``/path plug-in names (``None`` for a dotted module name)."""
    if not (ref.endswith(".py") or "/" in ref):
        return None
    p = Path(ref).expanduser()
    if not p.is_absolute():
        p = (base_dir or Path.cwd()) / p
    return p.resolve()


def trusted(ref: str, base_dir: Path | None = None) -> bool:
    """Whether the plug-in ``ref`` may be imported without ``--allow-plugins``."""
    return TrustList.load().allows(ref, _resolve(ref, base_dir))


def check_scenario_plugins(plugins: Sequence[str], *, source: Path | None,
                           base_dir: Path | None, allow: bool) -> None:
    """Raise :class:`PluginNotAllowedError` unless every plug-in of a scenario may be imported.

    Input:
        plugins (list of str): the scenario's ``plugins`` (dotted names or ``.py`` paths).
        source (Path | None): the scenario file (named in the message), ``None`` for a mapping.
        base_dir (Path | None): where relative plug-in paths start (the scenario's directory).
        allow (bool): ``--allow-plugins`` was given: everything is allowed.
    """
    if allow or _CODE_ALLOWED or not plugins:
        return
    trust = TrustList.load()
    for i, ref in enumerate(plugins):
        path = _resolve(ref, base_dir)
        if trust.allows(ref, path):
            continue
        what = f"the file {path}" if path is not None else f"the module {ref!r}"
        where = f"{source}" if source is not None else "the scenario"
        raise PluginNotAllowedError(
            f"plugins[{i}]",
            f"{where} would import and run {cut(what)} (a plug-in is code; scenarios and run "
            f"directories are data). Nothing was imported. Pass --allow-plugins if you trust it, "
            f"or add it to {trust_file()}")
