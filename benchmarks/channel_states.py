"""Throughput of `Channel.states` for every registered channel model.

Prints progress lines and, on the last line, one JSON object:
``{"frames_per_s": {name: value}, "num_frames": {name: frames timed}, "threads": n, "device": "cpu"}``.
10^6 frames per model; TDL (Sionna, per-subcarrier responses) 5*10^3 frames with ``--quick``
(< 60 s in all), 10^5 otherwise. ``num_frames`` in the JSON says how many were timed.
Each model is warmed up once (imports, Sionna, trace parsing) and then timed on one call.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

import commsldr_channels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer TDL frames (< 60 s)")
    parser.add_argument(
        "--frames", type=int, default=None, help="frames per model (overrides the default)"
    )
    parser.add_argument("--tdl-frames", type=int, default=None, help="frames for the TDL model")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu", help="generator device (cpu or cuda)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frames = args.frames or 1_000_000
    tdl_frames = args.tdl_frames or (5_000 if args.quick else 100_000)

    rates: dict[str, float] = {}
    counts: dict[str, int] = {}
    for name in commsldr_channels.list_channels():
        ch = commsldr_channels.create_channel(name, **commsldr_channels.get_channel_class(name).example_params())
        n = tdl_frames if name == "tdl" else frames
        g = torch.Generator(device=args.device).manual_seed(0)
        ch.states(min(n, 1000), generator=g)  # warm-up
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        state = ch.states(n, generator=g)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        assert len(state) == n
        rates[name] = round(n / dt, 1)
        counts[name] = n
        print(f"{name:20s} {n:>9d} frames  {dt:8.3f} s  {n / dt:14.0f} frames/s", flush=True)
    print(
        json.dumps(
            {
                "frames_per_s": rates,
                "num_frames": counts,
                "threads": args.threads,
                "device": args.device,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
