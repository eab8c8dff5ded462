"""EESM over TDL: the abstraction's effective SINR against a frequency-selective bit-true link.

For each MCS (PUSCH table 1 with transform precoding, ``--k`` information bits per code block)
and TDL profile (3GPP TR 38.901 TDL-A / TDL-C, ``--delay-spread-ns``, ``--subcarriers`` at 30 kHz;
Sionna's model through ``commsldr_channels``' ``tdl`` channel, one independent realisation per
code block), the code block's symbols are mapped frequency-first onto the subcarriers (symbol
``j`` on subcarrier ``j mod K``, the channel static over the slot) and sent bit-true with per-RE
SNRs :math:`\\bar\\rho |H_k|^2` and per-RE LLRs (:meth:`commsldr.link.BitTruePHY.block_errors_per_re`).
The same realisations feed the abstraction: per realisation the EESM SINR
(:func:`commsldr.link.eesm.effective_sinr_db`) read on the AWGN curve of the MCS
(:mod:`commsldr.link.bler`), averaged over realisations. Compared: the mean SNR
:math:`\\bar\\rho` at which the average BLER is 0.1, bit-true (probit fit over ``--points`` SNRs
with ``--blocks`` blocks each) against the model with Sionna's :math:`\\beta`, with a
:math:`\\beta` calibrated here (the one of a log grid minimising the largest error over the TDL
profiles of the MCS: fitted on these runs, so in-sample), and with the capacity-equivalent
reduction (the ``tdl`` channel's default).

Prints one JSON line per (MCS, profile), then one object with ``max_abs_err_db`` (calibrated
:math:`\\beta`), ``max_abs_err_sionna_beta_db``, ``max_abs_err_capacity_db`` and the betas.

Usage: ``python benchmarks/eesm_tdl.py [--mcs 14,22] [--models A,C] [--k 500] [--blocks 300]``
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from commsldr.link import BitTruePHY
from commsldr.link.bler import bler_model, probit_snr_at
from commsldr.link.eesm import eesm_beta, effective_sinr_db
from commsldr_channels import create_channel
from commsldr_channels.tdl import effective_snr

BETA_GRID = np.exp(np.linspace(np.log(0.5), np.log(50.0), 25))


def model_snr10(gain_db: np.ndarray, mcs: int, k: int, reduce, centre_db: float,
                half_width_db: float = 8.0) -> float:
    """Mean SNR (dB) where the abstraction's BLER averaged over the realisations is 0.1, searched
    within ``half_width_db`` of ``centre_db`` (0.1 dB grid, linear interpolation).

    ``gain_db [R, S]``: per-RE channel power gains (dB) of the ``R`` realisations; ``reduce``
    maps per-RE SNRs ``[..., S]`` (dB) to effective SNRs ``[...]`` (dB)."""
    model = bler_model(0, 1)
    grid = centre_db + np.arange(-half_width_db, half_width_db + 1e-4, 0.1)
    avg = np.empty(grid.shape)
    for i, s in enumerate(grid):
        avg[i] = float(np.mean(model.bler(mcs, k, reduce(s + gain_db))))
    idx = np.flatnonzero(avg <= 0.1)
    if idx.size == 0 or idx[0] == 0:
        return float("nan")
    i = idx[0]
    return float(np.interp(0.1, [avg[i], avg[i - 1]], [grid[i], grid[i - 1]]))


def run_case(mcs: int, tdl: str, args: argparse.Namespace) -> dict:
    phy = BitTruePHY(create_channel("awgn"), mcs_index=mcs, cb_info_bits=args.k,
                     symbols_per_frame=100_000)
    ch = create_channel("tdl", model=tdl, delay_spread_s=args.delay_spread_ns * 1e-9,
                        num_subcarriers=args.subcarriers, block_frames=1, speed_mps=0.0,
                        mean_snr_db=0.0)
    g = torch.Generator().manual_seed(100 * mcs + ord(tdl))
    s = phy.symbols_per_block
    beta_s = float(eesm_beta(1)[mcs])

    def eesm(beta: float):
        return lambda snr_re: effective_sinr_db(snr_re, beta)

    def capacity(snr_re: np.ndarray) -> np.ndarray:
        rho = torch.as_tensor(10.0 ** (snr_re / 10.0))
        return 10.0 * np.log10(effective_snr(rho, "capacity").numpy())

    points = []
    centre = None
    for j in range(args.points):
        h = ch.frequency_response(args.blocks, g).numpy()  # [R, K], independent realisations
        gain_db = 10.0 * np.log10(np.abs(h[:, np.arange(s) % args.subcarriers]) ** 2)
        if centre is None:
            centre = model_snr10(gain_db, mcs, args.k, eesm(beta_s), 15.0, 20.0)
        snr = round(centre + args.span_db * (2.0 * j / (args.points - 1) - 1.0), 3)
        err = phy.block_errors_per_re(snr + gain_db, g)
        points.append((snr, int(err.sum()), gain_db))
    snrs = np.array([p[0] for p in points])
    errors = np.array([p[1] for p in points])
    bit_true = probit_snr_at(snrs, errors, args.blocks, 0.1)
    gains = np.concatenate([p[2] for p in points])  # every realisation sent
    by_beta = np.array([model_snr10(gains, mcs, args.k, eesm(b), bit_true) for b in BETA_GRID])
    return {"mcs": mcs, "tdl": tdl, "delay_spread_ns": args.delay_spread_ns, "k": args.k,
            "blocks_per_point": args.blocks, "snr_db": snrs.tolist(), "errors": errors.tolist(),
            "snr10_bittrue_db": round(bit_true, 3),
            "snr10_eesm_sionna_beta_db": round(model_snr10(gains, mcs, args.k, eesm(beta_s), bit_true), 3),
            "sionna_beta": beta_s,
            "snr10_capacity_db": round(model_snr10(gains, mcs, args.k, capacity, bit_true), 3),
            "_by_beta": by_beta}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcs", default="14,22")
    ap.add_argument("--models", default="A,C")
    ap.add_argument("--k", type=int, default=500)
    ap.add_argument("--blocks", type=int, default=300)
    ap.add_argument("--points", type=int, default=5)
    ap.add_argument("--span-db", type=float, default=2.5)
    ap.add_argument("--delay-spread-ns", type=float, default=300.0)
    ap.add_argument("--subcarriers", type=int, default=144)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows, betas = [], {}
    for mcs in [int(m) for m in args.mcs.split(",")]:
        cases = [run_case(mcs, t, args) for t in args.models.split(",")]
        worst = np.max([np.abs(c["_by_beta"] - c["snr10_bittrue_db"]) for c in cases], axis=0)
        b = int(np.nanargmin(worst))
        betas[mcs] = round(float(BETA_GRID[b]), 3)
        for c in cases:
            by_beta = c.pop("_by_beta")
            c["beta_calibrated"] = betas[mcs]
            c["snr10_eesm_calibrated_db"] = round(float(by_beta[b]), 3)
            for key in ("eesm_calibrated", "eesm_sionna_beta", "capacity"):
                c[f"err_{key}_db"] = round(c[f"snr10_{key}_db"] - c["snr10_bittrue_db"], 3)
            rows.append(c)
            print(json.dumps(c), flush=True)
    print(json.dumps({
        "max_abs_err_db": max(abs(r["err_eesm_calibrated_db"]) for r in rows),
        "max_abs_err_sionna_beta_db": max(abs(r["err_eesm_sionna_beta_db"]) for r in rows),
        "max_abs_err_capacity_db": max(abs(r["err_capacity_db"]) for r in rows),
        "beta_calibrated": betas, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
