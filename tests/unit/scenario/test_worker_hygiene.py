"""Workers die with their parent under ``kill -9`` and ``kill``: the real ``PoolBackend``, the
:class:`~commsldr.workers.TreeReaper` watchdog, and a local Ray instance of ``RayBackend``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

_PARENT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import commsldr.scenario.backends as b

    pids = Path(sys.argv[1])

    def slow_job(ctx, job):  # each worker records its pid, then works "forever"
        (pids / f"{os.getpid()}").write_text("")
        time.sleep(600)
        return {}

    class Ctx:
        def import_plugins(self):
            pass

    b.run_job = slow_job
    b.warm_up = lambda ctx: None
    b.PoolBackend(2).run(Ctx(), list(range(4)), lambda job, row: None)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_no_worker_outlives_its_parent(tmp_path: Path, sig: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(tmp_path)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.iterdir())) < 2:
            assert parent.poll() is None, parent.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.05)
        workers = [int(p.name) for p in tmp_path.iterdir()]
        assert all(_alive(w) for w in workers)
        parent.send_signal(sig)
        parent.wait(timeout=30)
        end = time.monotonic() + 5.0
        while any(_alive(w) for w in workers) and time.monotonic() < end:
            time.sleep(0.05)
        survivors = [w for w in workers if _alive(w)]
        assert survivors == [], f"workers alive 5 s after {signal.Signals(sig).name}: {survivors}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for p in tmp_path.iterdir():  # never leave a worker behind, even when the test fails
            try:
                os.kill(int(p.name), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


# --------------------------------------------------------------------------- TreeReaper, Ray
_REAPED = textwrap.dedent("""
    import os, subprocess, sys, time
    from pathlib import Path
    from commsldr.workers import TreeReaper

    out, mode = Path(sys.argv[1]), sys.argv[2]
    with TreeReaper():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        # a grandchild whose parent exits after 3 s (the watchdog reads the process table every
        # 0.2 s, so it has seen both): then re-parented away from this process
        sh = subprocess.run(["sh", "-c", "sleep 600 > /dev/null 2>&1 & echo $!; sleep 3"],
                            capture_output=True, text=True)
        (out / "pids").write_text(f"{child.pid} {sh.stdout.strip()}")
        if mode == "wait":
            time.sleep(600)
    (out / "left").write_text("")  # "done": nothing is killed
    time.sleep(600)
""")


def _descendants(root: int) -> list[int]:
    table = {}
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as fh:
                table[int(name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    out, todo = [], [root]
    while todo:
        ppid = todo.pop()
        kids = [p for p, pp in table.items() if pp == ppid]
        out += kids
        todo += kids
    return out


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, f"{path.name} did not appear"
        time.sleep(0.05)


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    end = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_tree_reaper_kills_children_and_orphans_of_a_dead_parent(tmp_path: Path, sig: int):
    parent = subprocess.Popen([sys.executable, "-c", _REAPED, str(tmp_path), "wait"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pids: list[int] = []
    try:
        _wait_for(tmp_path / "pids", parent)
        pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
        assert all(_alive(p) for p in pids)
        parent.send_signal(sig)
        parent.wait(timeout=30)
        assert _gone_within(pids, 5.0) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        _kill_all(pids)


def test_tree_reaper_kills_nothing_after_a_normal_exit(tmp_path: Path):
    parent = subprocess.Popen([sys.executable, "-c", _REAPED, str(tmp_path), "leave"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pids: list[int] = []
    try:
        _wait_for(tmp_path / "left", parent)
        pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
        parent.kill()  # after "done" the watchdog is gone: this kill reaps nothing
        parent.wait(timeout=30)
        time.sleep(1.0)
        assert all(_alive(p) for p in pids)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        _kill_all(pids)


_RAY_PARENT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import commsldr.scenario.backends as b

    PIDS = sys.argv[1]

    def slow_jobs(ctx_box, jobs):  # a Ray task (pickled by value): record the pid, work "forever"
        (Path(PIDS) / f"{os.getpid()}").write_text("")
        time.sleep(600)
        return [{} for _ in jobs]

    b._ray_jobs = slow_jobs
    b.RayBackend(None, num_cpus=2).run(object(), list(range(4)), lambda job, row: None)
""")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_no_process_of_a_local_ray_instance_outlives_its_driver(sig: int) -> None:
    """``--backend ray`` without an address: raylet, GCS, agents and workers all end within 5 s
    (without the watchdog, kill -9 left ray::DashboardAgent and ray::RuntimeEnvAgent running)."""
    pytest.importorskip("ray")
    work = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must be short
    pids_dir = work / "pids"
    pids_dir.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAY_TMPDIR": str(work)}
    parent = subprocess.Popen([sys.executable, "-c", _RAY_PARENT, str(pids_dir)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while len(list(pids_dir.iterdir())) < 2:
            assert parent.poll() is None, parent.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "Ray workers did not start"
            time.sleep(0.1)
        tree = _descendants(parent.pid)  # raylet, GCS, agents, workers, the watchdog
        workers = [int(p.name) for p in pids_dir.iterdir()]
        assert set(workers) <= set(tree) and len(tree) >= 5
        parent.send_signal(sig)
        parent.wait(timeout=30)
        survivors = _gone_within(tree, 5.0)
        names = {p: Path(f"/proc/{p}/cmdline").read_bytes()[:60] for p in survivors
                 if Path(f"/proc/{p}/cmdline").exists()}
        assert survivors == [], f"alive 5 s after {signal.Signals(sig).name}: {names}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        _kill_all(tree)
        shutil.rmtree(work, ignore_errors=True)
