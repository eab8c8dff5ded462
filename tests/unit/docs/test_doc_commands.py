"""Every ``commsldr`` command line of the docs and READMEs is one the CLI takes, and every error
message they quote is the one it prints.

The command lines of the fenced blocks (backslash continuations joined, ``# comments`` dropped)
are parsed by the CLI's own parser. ``list`` and ``describe`` commands run; ``run`` commands run
with ``--check`` (the scenario is loaded and checked, nothing is simulated or written), and a
``train`` command quoted with its error with ``--print-config`` (checked, never trained). A command
followed by the message it prints (``commsldr run: ...``, as ``# comment`` lines or as the output
of a ``$`` prompt) must fail with that message (up to a closing ``...``; the home folder written
as ``~``). The variables a block assigns are put in (``$C``); a line with the reader's own values
(``$DATA``, ``<timestamp>``) is parsed only; a line with a placeholder for an argument (``NAME``,
``[options]``) or a file the reader makes (``my_study.yaml``) is not checked. The files the
quoted errors are about (a scenario with a plug-in, a file that is not UTF-8) are made here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
PAGES = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md", REPO / "models" / "README.md"]
_FENCE = re.compile(r"```[\w-]*\n(.*?)```", re.S)
#: words of a command that the reader replaces: the line is not checked
PLACEHOLDERS = re.compile(r"\bNAME\b|\bKIND\b|\bRUN_DIR\b|\[options\]|\.\.\.")
#: scenario files the pages name as the reader's own (not in the repository)
READERS_FILES = ("my_study.yaml", "shared/study.yaml")
_ASSIGNMENT = re.compile(r'^([A-Z]\w*)=("[^"]*"|\S+)', re.M)
_ERROR = re.compile(r"commsldr \w+: ")


def _downloaded_scenario(folder: Path) -> None:
    """``downloads/s.yaml``: a scenario someone sent, with a plug-in beside it."""
    (folder / "downloads").mkdir()
    (folder / "downloads" / "evil.py").write_text("raise SystemExit('imported')\n")
    scenario = {"name": "s", "extends": "quickstart", "plugins": ["evil.py"]}
    (folder / "downloads" / "s.yaml").write_text(yaml.safe_dump(scenario))


def _not_utf8(folder: Path) -> None:
    """``bad.yaml``: byte 0xff at line 3, byte offset 47."""
    head = b"name: bad\nframes: 50\n"
    line3 = b"description: " + b"x" * (47 - len(head) - len(b"description: "))
    (folder / "bad.yaml").write_bytes(head + line3 + b"\xff\n")


#: files a quoted error is about, made in the test's folder (the working directory)
MADE_FILES = {"downloads/s.yaml": _downloaded_scenario, "bad.yaml": _not_utf8}


def _expand(cmd: str, variables: dict[str, str]) -> str:
    """The variables a block assigns (``C="--dataset ..."``) put in, as the shell splits them;
    any other ``$VAR`` (the reader's) becomes a dummy word: the line is then parsed, not run."""
    def value(m: re.Match) -> str:
        v = variables.get(m.group(1))
        return " ".join(v.strip('"').split()) if v is not None else "READERS_VALUE"

    for _ in range(3):  # a variable may name another (C holds $DATA)
        cmd = re.sub(r"\$\{?(\w+)\}?", value, cmd)
    return cmd


def _logical_lines(block: str, first_line: int) -> list[tuple[int, str]]:
    """``(line number, text)`` of a block's lines, a backslash continuation joined to its
    first line."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for n, raw in enumerate(block.splitlines(), first_line):
        start, text = pending if pending else (n, "")
        text += raw
        if raw.endswith("\\"):
            pending = (start, text[:-1] + " ")
            continue
        pending = None
        out.append((start, text))
    return out


def _quoted_error(lines: list[tuple[int, str]], i: int, prompt: bool) -> str | None:
    """The message quoted after command line ``i``: the output lines after a ``$`` prompt, or
    ``# commsldr ...:`` and the comment lines that continue it."""
    after = [t.strip() for _, t in lines[i + 1:]]
    if prompt:
        quoted = []
        for t in after:
            if not t or t.startswith("$ "):
                break
            quoted.append(t)
    elif after and after[0].startswith("# commsldr "):
        quoted = [after[0][2:]]
        for t in after[1:]:
            if not t.startswith("# ") or t.startswith("# commsldr"):
                break
            quoted.append(t[2:])
    else:
        return None
    message = " ".join(quoted)
    return message if _ERROR.match(message) else None


def _commands() -> list[tuple[str, str, str | None]]:
    """``(where, command line, expected error or None)`` of every documented command."""
    out = []
    for page in PAGES:
        text = page.read_text()
        for m in _FENCE.finditer(text):
            variables = dict(_ASSIGNMENT.findall(m.group(1)))
            lines = _logical_lines(m.group(1), text[: m.start(1)].count("\n") + 1)
            prompts = any(t.lstrip().startswith("$ ") for _, t in lines)
            for i, (line_no, line) in enumerate(lines):
                if prompts and not line.lstrip().startswith("$ "):
                    continue  # a line of output
                cmd = re.sub(r"^\s*\$\s+", "", line).strip()
                if not re.match(r"commsldr(\s|$)", cmd) or _ERROR.match(cmd):
                    continue
                out.append((f"{page.relative_to(REPO).as_posix()}:{line_no}",
                            _expand(cmd, variables), _quoted_error(lines, i, prompts)))
    return out


COMMANDS = _commands()


def _argv(cmd: str) -> list[str]:
    argv = shlex.split(cmd.split(" > ", 1)[0], comments=True)
    assert argv[0] == "commsldr"
    return argv[1:]


def _unchecked(cmd: str) -> str | None:
    """Why a command line is not checked at all (else ``None``)."""
    argv = _argv(cmd)
    if PLACEHOLDERS.search(" ".join(argv)):
        return "a placeholder the reader fills in"
    if any(f in argv for f in READERS_FILES):
        return "a scenario file of the reader's own"
    return None


def test_the_pages_have_commands_and_every_quoted_error_is_compared():
    assert len(COMMANDS) > 60
    quoted = [(w, c) for w, c, e in COMMANDS if e is not None]
    assert len(quoted) >= 6
    assert not [w for w, c in quoted if _unchecked(c) or "READERS_VALUE" in c or "<" in c]


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

    monkeypatch.setenv("COMMSLDR_CACHE", str(tmp_path / "cache"))
    if _unchecked(cmd):
        pytest.skip(_unchecked(cmd))
    argv = _argv(cmd)
    made = [f for f in MADE_FILES if f in argv]
    if made:  # the file the message is about, in a folder of its own as the reader's home
        home = tmp_path / "home"
        home.mkdir()
        for f in made:
            MADE_FILES[f](home)
        monkeypatch.chdir(home)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        monkeypatch.delenv("COMMSLDR_TRUST_FILE", raising=False)
        monkeypatch.delenv("COMMSLDR_TRUSTED_PLUGINS", raising=False)
    else:
        monkeypatch.chdir(REPO)
    try:
        parsed = build_parser().parse_args(argv)
    except SystemExit as e:  # --help and --version exit 0
        assert e.code == 0, capsys.readouterr().err
        return
    if getattr(parsed, "models", None) and argv[0] == "evaluate":  # shipped names and files
        from commsldr.cli.evaluate import _resolve

        for model in parsed.models:
            _resolve(model)
    start = getattr(parsed, "from_checkpoint", None)
    if isinstance(start, str) and start.startswith("models/"):  # a checkpoint of the repository
        assert (REPO / start).is_file(), start
    if "READERS_VALUE" in cmd or "<timestamp>" in cmd:
        return  # parsed only
    if "ray" in argv and "--backend" in argv:
        pytest.importorskip("ray")  # the optional extra
    command = argv[0] if argv else ""
    if command == "run" and "--resume" not in argv:
        argv = [*argv, "--check"] if "--check" not in argv else argv
        if "--out" in argv:  # the probe of --out goes to the temporary folder
            i = argv.index("--out") + 1
            argv[i] = str(tmp_path / Path(argv[i]).name)
    elif command == "train" and error is not None:
        argv = [*argv, "--print-config"]  # checked as a run would be, never trained
    elif command not in ("list", "describe"):
        assert error is None
        return  # train, evaluate, plot, schema: parsed above, not run
    rc, out, err = _run(argv, capsys)
    if error is None:
        assert rc == 0, err
        return
    assert rc == 2, (out, err)
    want = " ".join(error.split("...", 1)[0].split())
    got = " ".join(err.replace(str(tmp_path / "home"), "~").split())
    assert want in got, (want, got)


_SCRIPT = re.compile(r"python (?:-X \w+ )?((?:scripts|benchmarks)/\w+\.py)([^`\n|#]*)")


def _script_lines() -> list[tuple[str, str, list[str]]]:
    """``(where, script, --options)`` of every ``python scripts/...`` or ``benchmarks/...``
    line of the pages (fenced or inline, continuations joined)."""
    out = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for m in _SCRIPT.finditer(text):
            options = re.findall(r"(?<!\S)(--[a-z][\w-]*)", m.group(2))
            out.append((f"{page.relative_to(REPO).as_posix()}", m.group(1), options))
    return out


def test_documented_scripts_exist_and_take_their_options():
    """Each ``--option`` a page gives a script is one the script defines (an ``add_argument`` of
    its source, or of a module of its folder that it imports)."""
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
        defined = set(re.findall(r"add_argument\(\s*(?:[\"'][^\"']*[\"']\s*,\s*)*[\"'](--[\w-]+)[\"']",
                                 source))
        wrong += [f"{where}: {script} has no {o}" for o in options if o not in defined]
    assert not wrong, "\n".join(wrong)
