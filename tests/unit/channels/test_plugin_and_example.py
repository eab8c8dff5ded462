"""The plug-in example really registers through the entry point; the custom-channel example runs;
``python -m commsldr_channels`` lists the models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "examples" / "channel_plugin"

CHECK = """
import json, torch, commsldr_channels
names = commsldr_channels.list_channels()
ch = commsldr_channels.create_channel("lognormal-block", mean_snr_db=5.0, sigma_db=2.0)
s = ch.states(50_000, generator=torch.Generator().manual_seed(0))
import contextlib, io
from commsldr_channels.__main__ import main
listing = io.StringIO()
with contextlib.redirect_stdout(listing):
    main([])
print(json.dumps({"names": names, "cls": type(ch).__module__, "mean": s.snr_db.mean().item(),
                  "std": s.snr_db.std().item(), "listing": listing.getvalue()}))
"""


def _env(extra_path: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(extra_path)] if extra_path else []
    env["PYTHONPATH"] = os.pathsep.join(
        paths + [str(ROOT)] + env.get("PYTHONPATH", "").split(os.pathsep)
    )
    return env


def test_plugin_installs_and_registers_through_entry_point(tmp_path: Path) -> None:
    target = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    if build.returncode != 0 and "No module named pip" in build.stderr:
        pytest.skip("pip is not available in this interpreter")
    assert build.returncode == 0, build.stderr
    assert list(target.glob("lognormal_channel-*.dist-info/entry_points.txt")), (
        "no entry-point metadata installed"
    )
    # without the plug-in on the path the name is unknown ...
    before = subprocess.run(
        [sys.executable, "-c", "import commsldr_channels; print(commsldr_channels.list_channels())"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
    )
    assert before.returncode == 0, before.stderr
    assert "lognormal-block" not in before.stdout
    # ... with it, the registry finds it lazily through importlib.metadata entry points
    after = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        env=_env(target),
        cwd=tmp_path,
        timeout=120,
    )
    assert after.returncode == 0, after.stderr
    out = json.loads(after.stdout.strip().splitlines()[-1])
    assert "lognormal-block" in out["names"] and "awgn" in out["names"]
    assert out["cls"] == "lognormal_channel"
    assert abs(out["mean"] - 5.0) < 5 * 2.0 / 50_000**0.5
    assert abs(out["std"] - 2.0) < 0.05
    assert "Log-normal block fading (plug-in)" in out["listing"]  # `python -m commsldr_channels` lists it


def test_custom_channel_example_runs() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "custom_channel.py")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "lognormal-example" in run.stdout
    assert "sigma_db: must be >= 0" in run.stdout


def test_python_m_channels_lists_every_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    import commsldr_channels
    from commsldr_channels.__main__ import main

    assert main([]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    for name in commsldr_channels.list_channels():
        assert any(line.split()[0] == name and len(line.split()) > 1 for line in lines), name
