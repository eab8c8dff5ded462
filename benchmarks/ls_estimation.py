"""LS channel estimation from DMRS against perfect CSI on the bit-true OFDM slot.

For one MCS (PUSCH table 1 with transform precoding, ``--k`` information bits per code block)
and each channel — flat (AWGN, :math:`h = 1`) and 3GPP TDL-A / TDL-C (``--delay-spread-ns``,
``--subcarriers`` at 30 kHz, Sionna's model through ``commsldr_channels``' ``tdl``, one
independent realisation per block) — code blocks are sent in one slot each
(:func:`commsldr.link.bittrue_ofdm.block_errors_ofdm`: comb-2 DMRS on OFDM symbol 2, data
frequency-first) with perfect CSI and with LS estimation + linear interpolation. The SNR at BLER
0.1 is a probit fit over ``--points`` SNRs 1 dB apart (``--blocks`` blocks each) around a
first guess; the same channel realisations and seeds serve both receivers.

Prints one JSON line per channel, then one object with ``ls_loss_db`` per channel.

Usage: ``python benchmarks/ls_estimation.py [--mcs 14] [--k 500] [--blocks 200]``
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from commsldr.link import BitTruePHY
from commsldr.link.bittrue_ofdm import DMRSGrid, block_errors_ofdm
from commsldr.link.bler import bler_model, probit_snr_at
from commsldr_channels import create_channel


def snr10(phy: BitTruePHY, h: np.ndarray, est: str, start_db: float, args: argparse.Namespace,
          seed: int) -> tuple[float, list[float], list[int]]:
    """BLER-0.1 SNR (probit over the points), the points and their error counts; points are added
    1 dB outward until the errors span both sides of 10 %."""
    grid = DMRSGrid(h.shape[1])
    pts: list[float] = []
    errs: list[int] = []

    def run(snr: float) -> None:
        e = block_errors_ofdm(phy, h, snr, torch.Generator().manual_seed(seed + len(pts)), grid, est)
        pts.append(round(snr, 2))
        errs.append(int(e.sum()))

    for d in range(args.points):
        run(start_db + d - args.points // 2)
    for _ in range(6):
        frac = np.asarray(errs) / args.blocks
        if (frac > 0.3).any() and (frac < 0.03).any():
            break
        run(min(pts) - 1.0 if not (frac > 0.3).any() else max(pts) + 1.0)
    return probit_snr_at(np.asarray(pts), np.asarray(errs), args.blocks, 0.1), pts, errs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcs", type=int, default=14)
    ap.add_argument("--k", type=int, default=500)
    ap.add_argument("--blocks", type=int, default=200)
    ap.add_argument("--points", type=int, default=4)
    ap.add_argument("--subcarriers", type=int, default=48)
    ap.add_argument("--delay-spread-ns", type=float, default=300.0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    phy = BitTruePHY(create_channel("awgn"), mcs_index=args.mcs, cb_info_bits=args.k,
                     symbols_per_frame=100_000)
    s1 = float(bler_model(0, 1).snr_at_bler(args.mcs, args.k, 0.1))
    out = {}
    for c, label in enumerate(("flat", "A", "C")):
        if label == "flat":
            h = np.ones((args.blocks, args.subcarriers), dtype=np.complex64)
        else:
            ch = create_channel("tdl", model=label, delay_spread_s=args.delay_spread_ns * 1e-9,
                                num_subcarriers=args.subcarriers, block_frames=1, speed_mps=0.0,
                                mean_snr_db=0.0)
            h = ch.frequency_response(args.blocks, torch.Generator().manual_seed(c)).numpy()
        row: dict = {"channel": label, "mcs": args.mcs, "k": args.k, "blocks": args.blocks}
        start = s1 if label == "flat" else s1 + 4.0
        for est in ("perfect", "ls"):
            s10, pts, errs = snr10(phy, h, est, start + (3.0 if est == "ls" else 0.0), args,
                                   seed=1000 * args.mcs + 100 * c)
            row[f"snr10_{est}_db"] = round(s10, 3)
            row[f"points_{est}"] = pts
            row[f"errors_{est}"] = errs
        row["ls_loss_db"] = round(row["snr10_ls_db"] - row["snr10_perfect_db"], 3)
        out[label] = row["ls_loss_db"]
        print(json.dumps(row), flush=True)
    print(json.dumps({"mcs": args.mcs, "k": args.k, "blocks": args.blocks,
                      "subcarriers": args.subcarriers, "delay_spread_ns": args.delay_spread_ns,
                      "ls_loss_db": out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
