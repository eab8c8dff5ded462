"""scripts/reproduce_cifar10.sh, run with a stand-in for ``commsldr`` that records each command.

What it checks is the study's design, not the training: every fine-tune starts from a model an
earlier stage of the same lane wrote, every control gets exactly as many epochs as the model it
controls, every stage writes under ``OUT`` with one seed, and a second run redoes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "reproduce_cifar10.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

FAKE = """#!/usr/bin/env bash
# stand-in for commsldr: one line per call (lane = parent pid, then the arguments)
printf '%s\\t%s\\n' "$PPID" "$*" >> "$FAKE_LOG"
out=""; prev=""
for a in "$@"; do [ "$prev" = "--out" ] && out=$a; prev=$a; done
mkdir -p "$out" && touch "$out/model.pt" "$out/result.json"
"""


def _run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[tuple[str, dict]]]:
    fake = tmp_path / "fake-commsldr"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    log = tmp_path / "calls.tsv"
    log.unlink(missing_ok=True)
    full = {**os.environ, "COMMSLDR": str(fake), "FAKE_LOG": str(log),
            "OUT": str(tmp_path / "out"), **env}
    proc = subprocess.run(["bash", str(SCRIPT)], env=full, capture_output=True, text=True,
                          timeout=60)
    calls = []
    for line in log.read_text().splitlines() if log.exists() else []:
        lane, args = line.split("\t", 1)
        calls.append((lane, _parse(args.split(" "))))
    return proc, calls


def _parse(tokens: list[str]) -> dict:
    """``--key value`` pairs (``--set`` values collected in a list; flags map to True)."""
    out: dict = {"_sets": []}
    i = 1  # tokens[0] is the subcommand
    while i < len(tokens):
        key = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and not nxt.startswith("--"):
            if key == "--set":
                # a --set value may contain spaces (screen_budgets=[10, 14, ...])
                j = i + 1
                while j + 1 < len(tokens) and not tokens[j + 1].startswith("--"):
                    j += 1
                out["_sets"].append(" ".join(tokens[i + 1:j + 1]))
                i = j + 1
                continue
            out[key] = nxt
            i += 2
        else:
            out[key] = True
            i += 1
    return out


def _epochs(call: dict) -> int:
    """Epochs of training a stage adds on top of the model it starts from."""
    recipe = call["--recipe"]
    if recipe in ("ce", "screen"):
        return int(call["--epochs"])
    if recipe == "ldr-ft" or (recipe == "truncate" and call["--truncate-finetune"] == "ldr-ft"):
        return 2 * int(call["--ldr-epochs"]) + int(call["--finetune-epochs"])
    if recipe == "duphil":
        return 2 * int(call["--ldr-epochs"])
    if recipe == "truncate":
        return int(call["--finetune-epochs"])
    raise AssertionError(recipe)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_stages_depend_on_earlier_stages_of_their_lane(tmp_path, jobs):
    proc, calls = _run(tmp_path, JOBS=jobs, THREADS="1")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    written: dict[str, str] = {}  # out dir -> lane
    for lane, c in calls:
        assert Path(c["--out"]).is_relative_to(out), c["--out"]
        assert "--seed" in c and c["--resume"] is True
        if "--from" in c:
            src = str(Path(c["--from"]).parent)
            assert written.get(src) == lane, f"{c['--out']} starts from {src}, not yet written"
        written[c["--out"]] = lane
    # 3 seeds x (CE-T 64, LDR-FT, control, trunc CE control, DuPHiL, CE-T 128, 3 truncations)
    # + per seed: the long-phase check (LDR-FT, control), d_y 32 and 256, the screen table
    assert len(calls) == 3 * 9 + 3 * (2 + 2 + 1)


def test_every_control_trains_as_long_as_its_model(tmp_path):
    proc, calls = _run(tmp_path, LDR_EPOCHS="3", FT_EPOCHS="5", EPOCHS="7", LONG_SEEDS="0 2",
                       LONG_LDR_EPOCHS="6", LONG_FT_EPOCHS="4")
    assert proc.returncode == 0, proc.stderr
    by_out = {Path(c["--out"]).relative_to(tmp_path / "out").as_posix(): c for _, c in calls}

    def total(name: str) -> int:  # epochs from scratch, following --from
        c = by_out[name]
        base = 0
        if "--from" in c:
            base = total(Path(c["--from"]).parent.relative_to(tmp_path / "out").as_posix())
        return base + _epochs(c)

    for s in (0, 1, 2):
        assert total(f"s{s}/ldr-ft-d64") == total(f"s{s}/ce-control-d64") == 7 + 2 * 3 + 5
        t = f"s{s}/trunc-d128-k64"
        assert total(f"{t}-ce") == total(f"{t}-ce-control") == 7 + 5
        assert total(f"{t}-ldr-ft") == total(f"{t}-ldr-ft-control") == 7 + 2 * 3 + 5
        # a control differs from its model only in what it compares
        ldr, ctl = by_out[f"s{s}/ldr-ft-d64"], by_out[f"s{s}/ce-control-d64"]
        assert ldr["--from"] == ctl["--from"] and ldr["--seed"] == ctl["--seed"] == str(s)
        assert ldr["_sets"] == ctl["_sets"]
        assert by_out[f"{t}-ce-control"]["--keep"] == "64"
    for s in (0, 2):  # the long-phase check
        assert total(f"s{s}/ldr-ft-long-d64") == total(f"s{s}/ce-control-long-d64") == 7 + 2 * 6 + 4
        assert by_out[f"s{s}/ldr-ft-long-d64"]["--from"] == by_out[f"s{s}/ldr-ft-d64"]["--from"]
    assert "s1/ldr-ft-long-d64" not in by_out


def test_second_run_redoes_nothing_and_subsets_work(tmp_path):
    proc, calls = _run(tmp_path, SEEDS="1", STAGES="ce-d64 ldr-ft")
    assert proc.returncode == 0, proc.stderr
    assert [c["--recipe"] for _, c in calls] == ["ce", "ldr-ft"]
    proc, calls = _run(tmp_path, SEEDS="1", STAGES="ce-d64 ldr-ft")
    assert proc.returncode == 0 and calls == []
    assert proc.stdout.count("[skip]") == 2


def test_unsupported_keep_stops_before_writing(tmp_path):
    proc, calls = _run(tmp_path, KEEP="32")
    assert proc.returncode == 2 and calls == []
    assert "KEEP" in proc.stderr and not (tmp_path / "out").exists()
