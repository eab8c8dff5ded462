"""Pool workers die with their parent: the real ``PoolBackend`` under ``kill -9`` and ``kill``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
