"""A copy of the repository with nothing beside it: every shipped scenario passes ``--check`` when
run from another directory, and no tracked text file refers to ``../shared`` or to an absolute path
of the machine it was written on (issue 14). These tests fail rather than skip."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f]


_CHECK_ALL = """
import sys
from pathlib import Path
from commsldr.cli import main
failed = []
names = sorted(p for p in (Path(sys.argv[1]) / "scenarios").glob("*.yaml"))
assert names, "no shipped scenarios"
for p in names:
    rc = main(["run", str(p), "--check"])
    print(f"{p.name}: rc={rc}", file=sys.stderr)
    if rc != 0:
        failed.append(p.name)
print("FAILED:" + ",".join(failed))
"""


def test_every_shipped_scenario_checks_in_a_lone_copy(tmp_path: Path, copy_checkout) -> None:
    # <tmp>/box/repo holds the tracked files only; nothing else lives in <tmp>/box
    copy = tmp_path / "box" / "repo"
    copy_checkout(copy)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "COMMSLDR_MODELS"}
    # the copy's channels/ under its import name, as `pip install -e .` maps it (setup.py)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "commsldr_channels").symlink_to(copy / "channels")
    env.update(PYTHONPATH=os.pathsep.join([str(copy), str(shim)]),
               COMMSLDR_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", _CHECK_ALL, str(copy)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "FAILED:" in proc.stdout
    failed = proc.stdout.strip().rsplit("FAILED:", 1)[1]
    assert failed == "", f"--check failed for {failed}:\n{proc.stderr[-3000:]}"
    assert not list(elsewhere.iterdir()), "--check wrote into the working directory"


# an absolute path of a machine: a home, a work area or a mount point of the kind that leaks from
# a developer's environment into sources
_ABSOLUTE = re.compile(r"(?<![\w.~])/(work|home|Users|mnt|scratch|data)/[\w.-]+")


def test_no_reference_outside_the_repository() -> None:
    offenders = []
    for rel in tracked_files():
        path = REPO / rel
        if (path.suffix in {".pt", ".png", ".pdf", ".jpg", ".gz", ".up", ".csv"} or path.is_symlink()
                or not path.is_file()):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for i, line in enumerate(text.splitlines(), 1):
            if "../shared" in line or _ABSOLUTE.search(line):
                offenders.append(f"{rel}:{i}: {line.strip()[:100]}")
    offenders = [o for o in offenders if not o.startswith("tests/integration/test_standalone_clone.py")]
    assert not offenders, "\n".join(offenders)
