"""How far the NR abstraction's BLER curves are from the bit-true Sionna chain between table points.

For each MCS (PUSCH MCS table 1 with transform precoding, QPSK/16-QAM/64-QAM) and code-block size
``k``, the bit-true PHY (:class:`commsldr.link.BitTruePHY` over AWGN) measures the block error
rate at (a) the midpoint of the two Sionna table SNRs that bracket the abstraction's BLER-0.1 point
(an off-grid SNR), and (b) five SNRs around that point, to which a probit line is fitted to
estimate the bit-true SNR at BLER 0.1. Compared with :mod:`commsldr.link.bler` (the probit fit used
by ``NRPHY``) and with Sionna's own spline-interpolated table (``PHYAbstraction``).

Prints one line per MCS and, last, one JSON object::

    {"k": ..., "blocks": ..., "rows": [{"mcs", "qm", "rate", "snr10_model_db",
     "snr10_bittrue_db", "snr10_sionna_spline_db", "error_db", "midpoint_db",
     "bler_midpoint_bittrue", "bler_midpoint_model", "bler_midpoint_sionna"}, ...],
     "max_abs_error_db": ..., "max_abs_error_sionna_spline_db": ...}

Usage: ``python benchmarks/bler_interpolation.py [--k 500] [--blocks 300] [--mcs 4 7 ...]``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from scipy.special import ndtri

from commsldr.link import BitTruePHY
from commsldr.link.bler import _raw_table, bler_model
from commsldr_channels import LinkState, create_channel


def _bittrue_bler(phy: BitTruePHY, snr_db: float, blocks: int, seed: int) -> float:
    state = LinkState(snr_db=torch.full((blocks,), float(snr_db), dtype=torch.float32))
    res = phy.deliver(np.full(blocks, phy.k), state, torch.Generator().manual_seed(seed))
    return float(1.0 - res.delivered.mean())


def _sionna_spline(mcs: int, k: int, snr_db: np.ndarray) -> np.ndarray:
    from commsldr.link.sionna_guard import sionna_phy

    sionna_phy()
    from sionna.sys import PHYAbstraction

    pa = PHYAbstraction()
    b = pa.get_bler(torch.full(snr_db.shape, mcs, dtype=torch.int32), 1, 0,
                    torch.full(snr_db.shape, k, dtype=torch.int32),
                    torch.as_tensor(10 ** (snr_db / 10), dtype=torch.float32))
    return b.double().numpy()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=500, help="code-block size (bits)")
    ap.add_argument("--blocks", type=int, default=300, help="blocks per SNR point")
    ap.add_argument("--mcs", type=int, nargs="+", default=[4, 7, 11, 14, 18, 22])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = bler_model(0, 1)
    raw = _raw_table(0, 1)
    rows = []
    for mcs in args.mcs:
        phy = BitTruePHY(create_channel("awgn"), mcs_index=mcs, cb_info_bits=args.k,
                         symbols_per_frame=100_000)
        s10 = float(model.snr_at_bler(mcs, args.k, 0.1))
        grid = raw[mcs][1]
        j = int(np.clip(np.searchsorted(grid, s10) - 1, 0, len(grid) - 2))
        mid = 0.5 * (grid[j] + grid[j + 1])
        offsets = np.array([-0.4, -0.2, 0.0, 0.2, 0.4])
        meas = np.array([_bittrue_bler(phy, s10 + d, args.blocks, 100 * mcs + i)
                         for i, d in enumerate(offsets)])
        # probit line through the informative points (clipped away from 0 and 1)
        p = np.clip(meas, 0.5 / args.blocks, 1 - 0.5 / args.blocks)
        slope, icpt = np.polyfit(s10 + offsets, ndtri(p), 1)
        s10_bt = float((ndtri(0.1) - icpt) / slope)
        grid_fine = np.arange(grid[0], grid[-1], 0.01)
        spline = _sionna_spline(mcs, args.k, grid_fine)
        s10_sp = float(grid_fine[np.argmax(spline <= 0.1)])
        b_mid = _bittrue_bler(phy, mid, args.blocks, 7 + mcs)
        row = {
            "mcs": mcs, "qm": phy.num_bits_per_symbol, "rate": round(phy.coderate, 4),
            "snr10_model_db": round(s10, 3), "snr10_bittrue_db": round(s10_bt, 3),
            "snr10_sionna_spline_db": round(s10_sp, 3), "error_db": round(s10 - s10_bt, 3),
            "midpoint_db": round(float(mid), 3), "bler_midpoint_bittrue": round(b_mid, 4),
            "bler_midpoint_model": round(float(model.bler(mcs, args.k, mid)), 4),
            "bler_midpoint_sionna": round(float(_sionna_spline(mcs, args.k, np.array([mid]))[0]), 4),
            "bittrue_points": [round(float(x), 4) for x in meas],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {
        "k": args.k, "blocks": args.blocks, "rows": rows,
        "max_abs_error_db": max(abs(r["error_db"]) for r in rows),
        "max_abs_error_sionna_spline_db": max(
            abs(r["snr10_sionna_spline_db"] - r["snr10_bittrue_db"]) for r in rows),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
