"""examples/custom_policy.py runs end to end (tiny model) and its policy is registered."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_policy.py"


def test_custom_policy_example_runs(tiny_overrides, capsys):
    module = runpy.run_path(str(EXAMPLE), run_name="custom_policy_example")
    argv = ["--frames", "400"]
    for s in tiny_overrides:
        if s.startswith("model.cache_dir="):
            argv += ["--cache-dir", s.split("=", 1)[1]]
        elif not s.startswith("outputs."):
            argv += ["--set", s]
    acc = module["main"](argv)
    out = capsys.readouterr().out
    assert set(acc) == {"hysteresis-greedy", "capacity-greedy", "oracle"}
    assert "hysteresis-greedy: accuracy" in out
    assert all(0.0 <= a <= 1.0 for a in acc.values())
    from commsldr.adapt import list_policies

    assert "hysteresis-greedy" in list_policies()
