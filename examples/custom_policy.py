"""A custom adaptation policy, registered and used from Python.

`HysteresisGreedy` is a capacity-greedy policy that only steps *up* to a more expensive point
after the estimated capacity has allowed it for `patience` consecutive frames (it steps down at
once). It is registered under a name, so scenarios can use it as `{type: hysteresis-greedy}`
once this module is imported; here it is compared with the built-in policies directly through
the link simulator on a real operating-point table.

Run:  python examples/custom_policy.py [--frames N] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from channels import create_channel
from commsldr.adapt import (
    CSI,
    CapacityGreedy,
    Oracle,
    PointMenu,
    Policy,
    create_csi_model,
    create_policy,
    list_policies,
    metrics_from_simulation,
    register_policy,
)
from commsldr.link.phy import ShannonPHY
from commsldr.link.simulator import simulate
from commsldr.scenario import load_scenario
from commsldr.scenario.runner import prepare_table


@register_policy("hysteresis-greedy")
class HysteresisGreedy(Policy):
    """Capacity-greedy, but moves to a more expensive point only after `patience` frames."""

    def __init__(self, margin: float = 0.1, patience: int = 3) -> None:
        super().__init__()
        self.margin, self.patience = margin, patience

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
    ap.add_argument("--cache-dir", default=".cache/commsldr")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    help="overrides of the quickstart scenario used for the model and table")
    args = ap.parse_args(argv)
    assert "hysteresis-greedy" in list_policies()

    # The quickstart scenario's model and operating-point table (trained/built once, cached).
    loaded = load_scenario("quickstart", [f"model.cache_dir={args.cache_dir}", *args.overrides])
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
