"""learning_policies runs end to end with learning policies and the regret figure; the stored
regret equals the paired differences of the per-seed correct counts."""

from __future__ import annotations

import json

import numpy as np

from commsldr.cli import main as cli_main


def test_learning_policies_scenario_with_regret(tiny_overrides, tmp_path):
    sets = [s for s in tiny_overrides if not s.startswith(("policies=", "seeds="))] + [
        "policies={olla: {type: olla, target: 0.3}, ts: {type: thompson},"
        " greedy: {type: capacity-greedy}, hindsight: {type: best-fixed-hindsight},"
        " oracle: {type: oracle}}",
        "seeds=[0, 1, 2]",
        "sweep.channels.*.mean_snr_db=[5.0, 15.0]",
    ]
    argv = ["run", "learning_policies", "--quiet", "--out", str(tmp_path / "run")]
    for s in sets:
        argv += ["--set", s]
    assert cli_main(argv) == 0
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    reg = res["regret"]
    assert reg["references"] == {"oracle": "oracle", "hindsight": "hindsight"}
    assert (tmp_path / "run" / "figures" / "regret.png").is_file()
    seeds = res["seeds"]
    correct = {(r["point"], r["channel"], r["policy"], r["seed"]): r["correct"]
               for r in res["per_seed"]}
    checked = 0
    for e in reg["curves"]:
        ref = reg["references"][e["reference"]]
        assert e["policy"] != ref and e["frames"][-1] == res["frames"]
        diffs = [correct[(e["point"], e["channel"], ref, s)]
                 - correct[(e["point"], e["channel"], e["policy"], s)] for s in seeds]
        assert np.isclose(e["regret"][-1], np.mean(diffs))
        sd = np.std(diffs, ddof=1)
        assert np.isclose(e["regret_high"][-1] - e["regret"][-1], 4.302652729911275 * sd / 3**0.5)
        checked += 1
    assert checked == 2 * 2 * 4 * 2  # points x channels x policies x references
