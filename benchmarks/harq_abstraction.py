"""HARQ: the NR abstraction's BLER after n transmissions against the bit-true Sionna chain.

For Chase and IR, a :class:`commsldr.link.BitTruePHY` (PUSCH table 1 with transform precoding,
AWGN, the same SNR for every copy) sends ``--packets`` single-code-block packets at the SNR where
the abstraction (:func:`commsldr.link.harq.combined_snr_db` on the first transmission's curve)
puts the loss after ``n`` transmissions at 0.1, and 0.5 dB below and above it.

Prints one line per (type, n) and, last, one JSON object
``{"mcs", "k", "packets", "rows": [{"type", "n", "snr10_model_db", "loss_minus_0p5",
"loss_at", "loss_plus_0p5"}, ...]}``.

Usage: ``python benchmarks/harq_abstraction.py [--mcs 9] [--k 100] [--packets 150]``
(about 1 minute on one core).
"""

from __future__ import annotations

import argparse
import json

import torch
from scipy.optimize import brentq

from commsldr_channels import create_channel
from commsldr.link import BitTruePHY
from commsldr.link.harq import combined_snr_db


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcs", type=int, default=9)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--packets", type=int, default=150)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for kind in ("chase", "ir"):
        phy = BitTruePHY(create_channel("awgn"), mcs_index=args.mcs, cb_info_bits=args.k,
                         symbols_per_frame=100_000, harq={"type": kind, "max_transmissions": 4})
        qm, rate = phy.num_bits_per_symbol, phy.coderate
        s1 = float(phy._bler.snr_at_bler(args.mcs, args.k, 0.1))
        for n in range(1, 5):
            def gap(x: float, n: int = n, kind: str = kind, qm: int = qm, rate: float = rate,
                    s1: float = s1) -> float:
                return combined_snr_db(kind, qm, [x] * n, rate, args.k, s1) - s1

            s10 = brentq(gap, -25, 25)
            loss = []
            for i, d in enumerate((-0.5, 0.0, 0.5)):
                lost = phy.harq_loss_after(args.packets, s10 + d,
                                           torch.Generator().manual_seed(10 * n + i), n)
                loss.append(round(float(lost[:, n - 1].mean()), 4))
            row = {"type": kind, "n": n, "snr10_model_db": round(s10, 3),
                   "loss_minus_0p5": loss[0], "loss_at": loss[1], "loss_plus_0p5": loss[2]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"mcs": args.mcs, "k": args.k, "packets": args.packets, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
