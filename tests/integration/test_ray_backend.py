"""``--backend ray`` on a two-node Ray cluster on this machine, started and stopped by the test.

The cluster is as small as Ray allows: one CPU and an 80 MiB object store per node, no dashboard.
Both nodes run ``ray start --block`` in their own session; the fixture stops them with SIGTERM
(Ray drains and stops the processes it started) and, if one outlives the grace period, kills its
process group; only processes the fixture started are touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the Ray test needs the 'ray' extra (make test installs it)")

from commsldr.scenario import load_scenario  # noqa: E402
from commsldr.scenario.runner import run_scenario  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "name": "tiny-ray",
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0},
                 "dop": {"type": "doppler-fading", "mean_snr_db": 5.0, "speed_mps": 3.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 60000.0, "images_per_packet": 2},
    "csi": {"type": "noisy", "std_db": 1.0},
    "sweep": {"channels.*.mean_snr_db": [0.0, 10.0]},
}
QUIET = {"progress": False, "plot": False, "log": lambda *_: None}
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_ports() -> list[str]:
    return ["--dashboard-agent-listen-port", str(_free_port()),
            "--dashboard-agent-grpc-port", str(_free_port()),
            "--runtime-env-agent-port", str(_free_port()),
            "--metrics-export-port", str(_free_port())]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def ray_cluster():
    """``HOST:PORT`` of a running head node plus one worker node (two nodes, one CPU each)."""
    ray_bin = str(Path(sys.executable).parent / "ray")
    tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths have a limit
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # a throwaway cluster on the loopback address: no token authentication (the driver below,
    # like Ray's CLI, connects without a token unless RAY_AUTH_MODE says otherwise)
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    common = ["--num-cpus", "1", "--object-store-memory", str(80 * 2**20), "--block",
              "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> None:
        with open(Path(tmp) / log, "w") as out:
            procs.append(subprocess.Popen([ray_bin, "start", *args, *common, *_node_ports()],
                                          stdout=out, stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True))

    try:
        start(["--head", "--port", str(port), "--include-dashboard", "false",
               "--temp-dir", tmp], "head.log")
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Ray runtime started" not in (Path(tmp) / "head.log").read_text():
            assert procs[0].poll() is None, (Path(tmp) / "head.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the Ray head did not start"
            time.sleep(0.5)
        start(["--address", address], "worker.log")
        ray.init(address=address, log_to_driver=False)
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert procs[1].poll() is None, (Path(tmp) / "worker.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the second Ray node did not join"
            time.sleep(1)
        ray.shutdown()
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for proc in reversed(procs):
            _stop(proc)


def test_ray_backend_on_a_two_node_cluster_gives_identical_results(ray_cluster, tiny_overrides,
                                                                   tmp_path):
    loaded = load_scenario(TINY, [*tiny_overrides, "seeds=[0, 1]"])
    serial = run_scenario(loaded, out=tmp_path / "serial", jobs=1, **QUIET)
    on_ray = run_scenario(loaded, out=tmp_path / "ray", backend="ray", address=ray_cluster,
                          **QUIET)
    assert on_ray.results["jobs"]["backend"] == "ray"
    assert on_ray.results["jobs"]["ran"] == serial.results["jobs"]["unique"]
    for name in ("results.csv", "per_seed.csv", "timeline.json"):
        assert (serial.run_dir / name).read_bytes() == (on_ray.run_dir / name).read_bytes(), name
    assert not ray.is_initialized()  # the backend disconnects what it connected
