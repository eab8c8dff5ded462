"""The package as a user installs it: ``pip wheel .`` ships the scenarios and the checkpoint index
(not the checkpoints, not a top-level ``channels``), and an installed wheel runs a shipped scenario
by name from any directory, the ones that read a shipped trace or a shipped example plug-in included. Built offline (``--no-build-isolation``) from a copy of
the tracked files."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, copy_checkout) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    src, out = root / "src", root / "dist"
    copy_checkout(src)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(src)], check=True, capture_output=True, timeout=300)
    (whl,) = out.glob("commsldr-*.whl")
    return whl


def test_the_wheel_holds_the_shipped_scenarios_and_the_index_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"commsldr", "commsldr_channels"}
    prefix = "commsldr/shipped/scenarios/"
    scenarios = {n[len(prefix):] for n in names if n.startswith(prefix)}
    shipped = REPO / "scenarios"
    assert scenarios == {p.relative_to(shipped).as_posix() for p in shipped.rglob("*.yaml")}
    assert "commsldr/shipped/models/index.json" in names
    assert not [n for n in names if n.endswith(".pt")]
    # what shipped scenarios reference by relative path: the trace and the example plug-ins
    assert "commsldr/shipped/channels/data/att-lte-driving-20s.up" in names
    assert "commsldr/shipped/examples/custom_policy.py" in names
    index = zipfile.ZipFile(wheel).read("commsldr/shipped/models/index.json")
    assert index == (REPO / "models" / "index.json").read_bytes()


def test_an_installed_wheel_checks_quickstart_from_any_directory(wheel: Path, tmp_path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # the dependencies (torch, sionna, ...) come from this interpreter's site-packages, appended
    # after the venv's own, so the installed commsldr comes first
    Path(purelib, "zz_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "COMMSLDR_MODELS"}}
    env.update(COMMSLDR_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    where = subprocess.run([str(py), "-c", "import commsldr; print(commsldr.__file__)"], cwd=elsewhere,
                           env=env, check=True, capture_output=True, text=True).stdout
    assert where.startswith(purelib), where
    run = subprocess.run([str(env_dir / "bin" / "commsldr"), "run", "quickstart", "--check"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "# valid: 6 sweep point(s)" in run.stderr
    for name, extra in [("cellular_trace_uplink", []), ("learning_policies_trace", []),
                        ("custom_policy", [])]:
        run = subprocess.run([str(env_dir / "bin" / "commsldr"), "run", name, "--check", *extra],
                             cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (name, run.stderr[-2000:])
    listed = subprocess.run([str(env_dir / "bin" / "commsldr"), "list", "pretrained"], cwd=elsewhere,
                            env=env, check=True, capture_output=True, text=True).stdout
    assert "cifar10-ce-d64" in listed
    missing = subprocess.run(
        [str(py), "-c", "from commsldr.models.pretrained import get_pretrained_path as g\n"
                        "try:\n    g('cifar10-ce-d64')\nexcept Exception as e:\n    print(e)"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True).stdout
    assert "not part of the installed package" in missing and "COMMSLDR_MODELS" in missing
    assert not list(elsewhere.iterdir())
