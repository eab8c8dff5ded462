"""HARQ with copies at *different* SNRs: the abstraction against the bit-true chain.

The main HARQ benchmark (``benchmarks/harq_abstraction.py``) sends every copy at the same SNR.
Over a fading link the copies differ; here copy ``i`` is sent at ``x + offset_i`` (``--offsets``,
dB, default ``0,-3``: the retransmission 3 dB weaker), and the SNR ``x`` at which the loss after
all copies is 0.1 is found bit-true (:meth:`commsldr.link.BitTruePHY.harq_loss_after` with one
SNR per transmission, ``--packets`` per point, points 0.5 dB apart added until the loss spans
0.05-0.2, probit fit, bootstrap sd) and from the model
(:func:`commsldr.link.harq.combined_snr_db` on the first transmission's curve).

Prints one JSON line per (type, MCS), then one object with ``max_abs_err_db``.

Usage: ``python benchmarks/harq_unequal.py [--mcs 6,12,24] [--k 100] [--packets 200]``
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from scipy.optimize import brentq

from commsldr.link import BitTruePHY
from commsldr.link.bler import bler_model, mcs_parameters, probit_snr_at
from commsldr.link.harq import combined_snr_db
from commsldr_channels import create_channel


def model_x10(kind: str, mcs: int, k: int, offsets: np.ndarray) -> float:
    """``x`` (dB) where the model's loss after copies at ``x + offsets`` is 0.1."""
    qm, rate = mcs_parameters(0, 1)
    s1 = float(bler_model(0, 1).snr_at_bler(mcs, k, 0.1))
    return float(brentq(lambda x: combined_snr_db(kind, int(qm[mcs]), x + offsets, float(rate[mcs]), k)
                        - s1, s1 - 15.0, s1 + 15.0, xtol=1e-4))


def bittrue_point(phy: BitTruePHY, kind: str, mcs: int, x: float, offsets: np.ndarray,
                  packets: int, pts: list[float], lost: list[int]) -> None:
    """Bit-true losses after every copy at ``x + offsets``, appended to ``pts`` / ``lost``."""
    g = torch.Generator().manual_seed(1000 * mcs + 10 * len(pts) + (kind == "ir"))
    pts.append(round(x, 2))
    lost.append(int(phy.harq_loss_after(packets, x + offsets, g, offsets.size)[:, -1].sum()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcs", default="6,12,24")
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--packets", type=int, default=200)
    ap.add_argument("--offsets", default="0,-3")
    ap.add_argument("--types", default="chase,ir")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    offsets = np.array([float(v) for v in args.offsets.split(",")])
    n = offsets.size
    rows = []
    rng = np.random.default_rng(0)
    for kind in args.types.split(","):
        for mcs in (int(m) for m in args.mcs.split(",")):
            phy = BitTruePHY(create_channel("awgn"), mcs_index=mcs, cb_info_bits=args.k,
                             symbols_per_frame=100_000, harq={"type": kind, "max_transmissions": n})
            centre = model_x10(kind, mcs, args.k, offsets)
            pts: list[float] = []
            lost: list[int] = []
            for d in (-0.5, 0.0, 0.5):
                bittrue_point(phy, kind, mcs, centre + d, offsets, args.packets, pts, lost)
            for _ in range(6):
                frac = np.asarray(lost) / args.packets
                if (frac > 0.2).any() and (frac < 0.05).any():
                    break
                x = min(pts) - 0.5 if not (frac > 0.2).any() else max(pts) + 0.5
                bittrue_point(phy, kind, mcs, x, offsets, args.packets, pts, lost)
            x_bt = probit_snr_at(np.asarray(pts), np.asarray(lost), args.packets, 0.1)
            boot = [probit_snr_at(np.asarray(pts), rng.binomial(args.packets, np.asarray(lost) / args.packets),
                                  args.packets, 0.1) for _ in range(20)]
            row = {"type": kind, "mcs": mcs, "k": args.k, "offsets_db": offsets.tolist(),
                   "x10_model_db": round(centre, 3), "x10_bittrue_db": round(float(x_bt), 3),
                   "bittrue_sd_db": round(float(np.std(boot)), 3),
                   "err_db": round(centre - float(x_bt), 3), "snr_db": pts, "lost": lost,
                   "packets": args.packets}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"k": args.k, "offsets_db": offsets.tolist(), "rows": rows,
                      "max_abs_err_db": max(abs(r["err_db"]) for r in rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
