"""A custom adaptation policy: written, registered, compared in Python, and used from a scenario.

`HysteresisGreedy` is a capacity-greedy policy that only steps *up* to a more expensive point
after the estimated capacity has allowed it for `patience` consecutive frames (it steps down at
once). It is registered under the name `hysteresis-greedy`, so once this module is imported a
scenario can use it as `{type: hysteresis-greedy}`:

- from a scenario file: `plugins: [../examples/custom_policy.py]` (scenarios/custom_policy.yaml);
- from the command line: `commsldr run quickstart --plugin examples/custom_policy.py
  --set 'policies.hyst={type: hysteresis-greedy}'`.

Run as a script, it compares the policy with built-in ones directly through the link simulator on
a real operating-point table (tutorial: docs/tutorials/custom_policy.md).

Run:  python examples/custom_policy.py [--frames N] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse

import numpy as np

from commsldr.adapt import CSI, Policy, register_policy


@register_policy("hysteresis-greedy")
class HysteresisGreedy(Policy):
    """Capacity-greedy, but moves to a more expensive point only after `patience` frames.

    Args:
        margin: fraction of the estimated capacity held back, in [0, 1).
        patience: frames in a row in which a more expensive point must fit before stepping up.
    """

    def __init__(self, margin: float = 0.1, patience: int = 3) -> None:
        super().__init__()
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"margin must be in [0, 1), got {margin!r}")
        if int(patience) != patience or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        self.margin, self.patience = float(margin), int(patience)

    def reset(self) -> None:
        self._current: int | None = None
        self._streak = 0

    def choose_index(self, csi: CSI) -> int:
        bits = self.packet_bits(csi)
        cap = self.capacity_estimate(csi)
        fits = np.flatnonzero(bits <= (1 - self.margin) * cap) if cap is not None else []
        if len(fits) == 0:
            target = int(np.argmin(bits))
        else:
            target = int(fits[np.argmax(self.menu.accuracy[fits])])
        if self._current is None or bits[target] <= bits[self._current]:
            self._current, self._streak = target, 0  # step down (or stay) at once
        else:
            self._streak += 1
            if self._streak >= self.patience:
                self._current, self._streak = target, 0
        return self._current


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--cache-dir", default=None,
                    help="model cache (default: the user cache, as commsldr run and make demo)")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    help="overrides of the quickstart scenario used for the model and table")
    args = ap.parse_args(argv)
    import torch

    from commsldr.adapt import (
        CapacityGreedy,
        Oracle,
        PointMenu,
        create_csi_model,
        create_policy,
        list_policies,
        metrics_from_simulation,
    )
    from commsldr.link.phy import ShannonPHY
    from commsldr.link.simulator import simulate
    from commsldr.scenario import load_scenario
    from commsldr.scenario.runner import prepare_table
    from commsldr_channels import create_channel

    assert "hysteresis-greedy" in list_policies()

    # The quickstart scenario's model and operating-point table (trained/built once, cached).
    cache = [f"model.cache_dir={args.cache_dir}"] if args.cache_dir else []
    loaded = load_scenario("quickstart", [*cache, *args.overrides])
    table = prepare_table(loaded, progress=False)

    phy = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)
    menu = PointMenu.from_table(table, images_per_packet=1)
    states = create_channel("doppler-fading", mean_snr_db=10.0, speed_mps=3.0,
                            frame_s=1e-3).states(args.frames,
                                                 generator=torch.Generator().manual_seed(0))
    policies = {
        "hysteresis-greedy": create_policy("hysteresis-greedy", margin=0.1, patience=3),
        "capacity-greedy": CapacityGreedy(margin=0.1),
        "oracle": Oracle(),
    }
    out = {}
    for name, policy in policies.items():
        policy.bind(menu, phy)
        csi = create_csi_model("perfect" if name == "oracle" else "delayed", **(
            {} if name == "oracle" else {"delay_frames": 2}))
        result = simulate(table, states, phy, policy, csi_model=csi, seed=0)
        m = metrics_from_simulation(result)
        out[name] = m.accuracy
        print(f"{name:>18}: accuracy {m.accuracy:.3f} [{m.accuracy_low:.3f}, {m.accuracy_high:.3f}]"
              f"  delivered {m.delivered_rate:.3f}  switches/1000 {m.switches_per_1000:.0f}")
    return out


if __name__ == "__main__":
    main()
