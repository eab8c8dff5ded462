"""Speed of the cell simulator: sensor-slots per second for 16, 64 and 256 sensors.

For each N, :func:`commsldr.cell.simulate_cell` runs a 20 MHz UMi cell (51 PRBs at 30 kHz, six
interfering neighbour cells, TDL-A fading, 2 receive antennas with MRC, Sionna's
proportional-fair scheduler, ILLA, 10 slots per frame) with every sensor's ``capacity-greedy``
policy on a synthetic operating-point table, and the radio layer's own time is also reported.
The *per-sensor loop* is the core of the radio work (fading update, frequency response,
post-MRC SINR, EESM sums) written with a Python loop over sensors inside the slot loop, timed on
a few slots; it leaves out the scheduler call, power control and link adaptation, so it does
less than the vectorised layer it is compared with. ``ratio_to_loop`` is the vectorised radio
layer's sensor-slots/s over the loop's.

The goal: 64 sensors x 10,000 slots in under a minute on 2 cores (``goal``: the
whole ``simulate_cell``, radio and task layers; ``--quick`` skips it).

Prints progress lines and, on the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from commsldr.cell import CellConfig, simulate_cell
from commsldr.cell.channel import ChannelStream
from commsldr.cell.linkabs import CellLinkAbstraction
from commsldr.cell.topology import drop
from commsldr.link.table import OperatingPoint, OperatingPointTable


def synthetic_table(num_images: int = 500, seed: int = 0) -> OperatingPointTable:
    """A table of 6 points (150..4800 bits, accuracy 0.45..0.9) without any model."""
    rng = np.random.default_rng(seed)
    points, bits, correct = [], [], []
    for j, (k, mean_bits, acc) in enumerate([(4, 150, 0.45), (4, 300, 0.6), (8, 600, 0.72),
                                              (8, 1200, 0.8), (16, 2400, 0.86), (16, 4800, 0.9)]):
        points.append(OperatingPoint(k=k, scale_index=j % 2, scale=1.0 + j))
        bits.append(rng.integers(int(0.8 * mean_bits), int(1.2 * mean_bits), num_images))
        correct.append(rng.random(num_images) < acc)
    b = np.array(bits, dtype=np.int64)
    return OperatingPointTable(points, b, np.array(correct), rng.integers(0, 10, num_images),
                               {1: np.arange(num_images)[:, None]}, {1: b + 64},
                               {"model_id": "synthetic"}, prior_class=0)


def per_sensor_loop(config: CellConfig, slots: int) -> float:
    """Sensor-slots per second of the radio work with a Python loop over sensors per slot."""
    topo = drop(config, 0)
    stream = ChannelStream(config, topo, torch.Generator().manual_seed(0))
    link = CellLinkAbstraction(config, config.prbs * config.slots_per_frame)
    n = config.num_sensors
    taps = stream.taps.numpy().copy()  # [N, M, L]
    rho = stream.rho.numpy()[:, 0, 0]
    innov = stream.innov.numpy()[:, 0, 0]
    steer = stream.steer.numpy()
    rng = np.random.default_rng(0)
    sum_exp = np.zeros((n, link.betas.size))
    t0 = time.perf_counter()
    for _ in range(slots):
        g = stream._interference(1)[0].numpy()  # [P, M, C], shared by all sensors
        sinr = np.empty((n, config.prbs))
        for s in range(n):  # the loop the vectorised layer avoids
            w = (rng.standard_normal(taps[s].shape) + 1j * rng.standard_normal(taps[s].shape)) * 0.7071
            taps[s] = rho[s] * taps[s] + innov[s] * w
            h = taps[s] @ steer  # [M, P]
            hh = np.sum(np.abs(h) ** 2, axis=0)
            proj = np.einsum("mp,pmc->pc", h.conj(), g)
            sinr[s] = stream.gain[s] / stream.noise_w * hh**2 / (np.sum(np.abs(proj) ** 2, 1) + hh)
        owner = np.argmax(sinr, axis=0)
        for s in range(n):
            mine = sinr[s, owner == s]
            sum_exp[s] += np.exp(-mine[:, None] / link.betas[None, :]).sum(0)
    return n * slots / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer slots, no goal run")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    table = synthetic_table()
    frames = 50 if args.quick else 200
    out: dict[str, object] = {"threads": args.threads, "cpu_count": os.cpu_count(),
                              "slots_per_run": frames * 10, "sensor_slots_per_s": {},
                              "radio_sensor_slots_per_s": {}, "loop_sensor_slots_per_s": {},
                              "ratio_to_loop": {}}
    simulate_cell(CellConfig(num_sensors=2, num_frames=2), table, seed=0)  # imports, caches
    for n in (16, 64, 256):
        cfg = CellConfig(num_sensors=n, num_frames=frames, scheduler="proportional-fair")
        t0 = time.perf_counter()
        res = simulate_cell(cfg, table, "capacity-greedy", seed=0)
        dt = time.perf_counter() - t0
        total = n * cfg.num_slots / dt
        radio = n * cfg.num_slots / res.radio.seconds
        loop = per_sensor_loop(cfg, 60 if n <= 64 else 15)
        out["sensor_slots_per_s"][str(n)] = round(total)  # type: ignore[index]
        out["radio_sensor_slots_per_s"][str(n)] = round(radio)  # type: ignore[index]
        out["loop_sensor_slots_per_s"][str(n)] = round(loop)  # type: ignore[index]
        out["ratio_to_loop"][str(n)] = round(radio / loop, 1)  # type: ignore[index]
        print(f"N={n}: {total:,.0f} sensor-slots/s (radio {radio:,.0f}; per-sensor loop "
              f"{loop:,.0f}; x{radio / loop:.1f})", flush=True)
    if not args.quick:
        cfg = CellConfig(num_sensors=64, num_frames=1000, scheduler="proportional-fair")
        t0 = time.perf_counter()
        simulate_cell(cfg, table, "capacity-greedy", seed=1)
        dt = time.perf_counter() - t0
        out["goal"] = {"num_sensors": 64, "slots": cfg.num_slots, "seconds": round(dt, 1),
                       "limit_s": 60, "met": dt < 60}
        print(f"goal: 64 sensors x {cfg.num_slots} slots in {dt:.1f} s", flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
