"""Every ``commsldr`` command line of the docs and READMEs is one the CLI takes, and every error
message they quote is the one it prints.

The command lines of the fenced blocks (backslash continuations joined, ``# comments`` dropped)
are parsed by the CLI's own parser. ``list`` and ``describe`` commands run; ``run`` commands run
with ``--check`` (the scenario is loaded and checked, nothing is simulated or written), and a
``train`` command quoted with its error with ``--print-config`` (checked, never trained). A command
followed by the message it prints (a ``commsldr run: ...`` line, as a ``# comment`` or as the
output of a ``$`` prompt) must fail with that message (up to a closing ``...``). The variables
a block assigns are put in (``$C``); a line with the reader's own values (``$DATA``,
``<timestamp>``) is parsed only; a line with a placeholder for an argument (``NAME``,
``[options]``) or a file the reader makes (``my_study.yaml``) is not checked.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PAGES = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md", REPO / "models" / "README.md"]
_FENCE = re.compile(r"```[\w-]*\n(.*?)```", re.S)
#: words of a command that the reader replaces: the line is not run
PLACEHOLDERS = re.compile(r"\bNAME\b|\bKIND\b|\bRUN_DIR\b|\[options\]|\.\.\.")
#: scenario files the pages name as the reader's own (not in the repository)
READERS_FILES = ("my_study.yaml", "shared/study.yaml", "downloads/s.yaml", "bad.yaml")


_ASSIGNMENT = re.compile(r'^([A-Z]\w*)=("[^"]*"|\S+)', re.M)


def _expand(cmd: str, variables: dict[str, str]) -> str:
    """The variables a block assigns (``C="--dataset ..."``) put in, as the shell splits them;
    any other ``$VAR`` (the reader's) becomes a dummy word: the line is then parsed, not run."""
    def value(m: re.Match) -> str:
        v = variables.get(m.group(1))
        return " ".join(v.strip('"').split()) if v is not None else "READERS_VALUE"

    for _ in range(3):  # a variable may name another (C holds $DATA)
        cmd = re.sub(r"\$\{?(\w+)\}?", value, cmd)
    return cmd


def _commands() -> list[tuple[str, str, str | None]]:
    """``(where, command line, expected error or None)`` of every documented command."""
    out = []
    for page in PAGES:
        text = page.read_text()
        for m in _FENCE.finditer(text):
            variables = dict(_ASSIGNMENT.findall(m.group(1)))
            lines = m.group(1).replace("\\\n", " ").splitlines()
            prompts = any(ln.lstrip().startswith("$ ") for ln in lines)
            for i, line in enumerate(lines):
                if prompts and not line.lstrip().startswith("$ "):
                    continue  # a line of output
                cmd = re.sub(r"^\s*\$\s+", "", line)
                if not re.match(r"\s*commsldr(\s|$)", cmd) or re.match(r"\s*commsldr \w+: ", cmd):
                    continue
                nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
                if nxt.startswith("# commsldr "):  # a comment quoting the output
                    nxt = nxt[2:]
                elif not line.lstrip().startswith("$"):  # else only a prompt's output line
                    nxt = ""
                error = nxt if re.match(r"commsldr \w+: ", nxt) else None
                line_no = text[: m.start()].count("\n") + 2 + i
                out.append((f"{page.relative_to(REPO).as_posix()}:{line_no}",
                            _expand(cmd.strip(), variables), error))
    return out


COMMANDS = _commands()


def test_the_pages_have_commands():
    assert len(COMMANDS) > 60
    assert sum(e is not None for _, _, e in COMMANDS) >= 4  # the quoted error messages


def _argv(cmd: str) -> list[str]:
    argv = shlex.split(cmd, comments=True)
    assert argv[0] == "commsldr"
    return argv[1:]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    from commsldr.cli import main

    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(("where", "cmd", "error"), COMMANDS, ids=[w for w, _, _ in COMMANDS])
def test_documented_command(where, cmd, error, capsys, tmp_path, monkeypatch):
    from commsldr.cli.main import build_parser

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COMMSLDR_CACHE", str(tmp_path / "cache"))
    argv = _argv(cmd.split(" > ", 1)[0])
    if PLACEHOLDERS.search(" ".join(argv)):
        pytest.skip("a placeholder the reader fills in")
    if any(f in argv for f in READERS_FILES):
        pytest.skip("a scenario file of the reader's own")
    readers_value = "READERS_VALUE" in cmd or "<timestamp>" in cmd  # parsed, not run
    if error is None:
        try:
            build_parser().parse_args(argv)
        except SystemExit as e:  # --help and --version exit 0
            assert e.code == 0, capsys.readouterr().err
    command = argv[0] if argv else ""
    if readers_value:
        return
    if "ray" in argv and "--backend" in argv:
        pytest.importorskip("ray")  # the optional extra
    if command == "run" and "--resume" not in argv:
        argv = [*argv, "--check"] if "--check" not in argv else argv
        if "--out" in argv:  # the probe of --out goes to the temporary folder
            i = argv.index("--out") + 1
            argv[i] = str(tmp_path / Path(argv[i]).name)
    elif command == "train" and error is not None:
        argv = [*argv, "--print-config"]  # checked as a run would be, never trained
    elif command not in ("list", "describe") and error is None:
        return  # train, evaluate, plot, schema: parsed above, not run
    rc, out, err = _run(argv, capsys)
    if error is None:
        assert rc == 0, err
    else:
        assert rc == 2, (out, err)
        want = error.split("...", 1)[0].rstrip().replace("~/", "")
        got = " ".join(err.split())
        assert " ".join(want.split()) in got, (want, got)


_SCRIPT = re.compile(r"python (?:-X \w+ )?((?:scripts|benchmarks)/\w+\.py)([^`\n|#]*)")


def _script_lines() -> list[tuple[str, str, list[str]]]:
    """``(where, script, --options)`` of every ``python scripts/...`` or ``benchmarks/...``
    line of the pages (fenced or inline, continuations joined)."""
    out = []
    for page in [*PAGES, REPO / "benchmarks" / "README.md"]:
        if not page.is_file():
            continue
        text = page.read_text().replace("\\\n", " ")
        for m in _SCRIPT.finditer(text):
            options = re.findall(r"(?<!\S)(--[a-z][\w-]*)", m.group(2))
            out.append((f"{page.relative_to(REPO).as_posix()}", m.group(1), options))
    return out


def test_documented_scripts_exist_and_take_their_options():
    """Each ``--option`` a page gives a script is one the script defines (its source, or that of
    a module of its folder it imports, names it)."""
    lines = _script_lines()
    assert len(lines) > 20
    wrong = []
    for where, script, options in lines:
        path = REPO / script
        if not path.is_file():
            wrong.append(f"{where}: {script} does not exist")
            continue
        source = path.read_text()
        for sibling in re.findall(r"^from (\w+) import", source, re.M):  # e.g. doc_numbers
            if (path.parent / f"{sibling}.py").is_file():
                source += (path.parent / f"{sibling}.py").read_text()
        wrong += [f"{where}: {script} has no {o}" for o in options
                  if f'"{o}"' not in source and f"'{o}'" not in source]
    assert not wrong, "\n".join(wrong)
