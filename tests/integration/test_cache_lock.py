"""Two processes that need the same uncached model train it once (file lock on the cache entry)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from filelock import FileLock

from commsldr.scenario import load_scenario
from commsldr.scenario.load import train_config
from commsldr.scenario.runner import model_cache_entry

REPO = Path(__file__).resolve().parents[2]
OVERRIDES = [
    "data.train_per_class=8",
    "data.test_per_class=4",
    "model.recipe=ce",
    "model.train={backbone: resnet8, width: 0.25, latent_dim: 4, epochs: 1, batch_size: 40}",
    "model.truncations=[]",
    "policies={fixed: {type: fixed, k: 4, scale: 1.0}}",
    "coding.scales=[1.0]",
]
# obtain the model and the table, print the log lines as JSON
CHILD = """
import json, sys
from commsldr.scenario import load_scenario
from commsldr.scenario.runner import prepare_table
lines = []

def log(line):
    lines.append(line)
    print(line, file=sys.stderr, flush=True)

table = prepare_table(load_scenario("quickstart", json.loads(sys.argv[1])), log=log,
                      progress=False)
print(json.dumps({"lines": lines, "key": table.meta["cache_key"]}))
"""


def test_two_processes_needing_one_model_train_it_once(tmp_path):
    overrides = [*OVERRIDES, f"model.cache_dir={tmp_path / 'cache'}"]
    sc = load_scenario("quickstart", overrides).scenario
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the key covers the thread count; the children run with 1 thread
    try:
        entry = model_cache_entry("ce", train_config(sc), tmp_path / "cache")
    finally:
        torch.set_num_threads(threads)
    entry.parent.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    # Hold the model's lock while both start, so that both reach it before either has trained:
    # without the lock each would train its own copy.
    with FileLock(str(entry.parent / f"{entry.name}.lock")):
        errs = [tmp_path / f"child{i}.err" for i in range(2)]
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(overrides)],
                                  stdout=subprocess.PIPE, stderr=open(err, "w"), text=True,
                                  env=env) for err in errs]
        deadline = time.monotonic() + 180
        while not all("cache: waiting" in err.read_text() for err in errs):
            for p, err in zip(procs, errs, strict=True):
                assert p.poll() is None, err.read_text()[-2000:]
            assert time.monotonic() < deadline, "the processes never reached the lock"
            time.sleep(0.5)
    outs = []
    for p, err in zip(procs, errs, strict=True):
        stdout, _ = p.communicate(timeout=300)
        assert p.returncode == 0, err.read_text()[-2000:]
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    lines = [line for o in outs for line in o["lines"]]
    assert sum(line.startswith("model: training") for line in lines) == 1, lines
    assert sum(line.startswith("model: cached") for line in lines) == 1, lines
    assert sum(line.startswith("table: cached") for line in lines) == 1, lines
    assert outs[0]["key"] == outs[1]["key"]
    assert (entry / "model.pt").is_file()
