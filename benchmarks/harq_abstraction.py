"""HARQ: the NR abstraction's SNR for BLER 0.1 after n transmissions against the bit-true chain.

For every case (MCS of PUSCH table 1, HARQ type Chase or IR) a :class:`commsldr.link.BitTruePHY`
(transform precoding, AWGN, the same SNR for every copy, ``--k`` information bits per code block,
Sionna's 5G LDPC with LLR combining / RV decoding) sends ``--packets`` packets at the
``--offsets`` (dB; default -0.5, 0, +0.5) around the abstraction's BLER-0.1 SNR after
``n = 2, 3, 4`` transmissions
(:func:`commsldr.link.harq.combined_snr_db` on the first transmission's curve). A probit curve
fitted by maximum likelihood to the bit-true losses after ``n`` transmissions over all points of
the case gives the bit-true BLER-0.1 SNR (``snr10_bittrue_db``; a parametric bootstrap of the
counts gives its standard deviation).

Points are added 0.6 dB outward until the bit-true loss after every ``n`` spans 0.05-0.2
(:func:`bracket_case`). The bit-true counts are cached in ``--cache`` (JSON; a case already there is not simulated
again), so the comparison can be redone for a changed model with ``--analyse-only``.

Prints one JSON line per case and n, then one JSON object with ``max_abs_err_db`` (over every
case and n), ``ir_below_chase_cases`` (MCS and n where the model gives IR less gain than Chase
while the bit-true chain gives it more; goal 0) and ``ir_ahead_bittrue`` (MCS and n where the
bit-true IR is ahead of Chase).

Usage: ``python benchmarks/harq_abstraction.py [--mcs 4,6,12,16,19,24] [--k 100]
[--packets 200] [--cache benchmarks/results/harq_bittrue.json] [--analyse-only]``
(about 40 minutes on one loaded core for the six default MCS; IR decoding dominates).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import brentq

from commsldr.link import BitTruePHY
from commsldr.link.bler import bler_model, mcs_parameters, probit_snr_at
from commsldr.link.harq import combined_snr_db
from commsldr_channels import create_channel

KINDS = ("chase", "ir")
OFFSETS_DB = (-0.5, 0.0, 0.5)


def model_snr10_db(kind: str, mcs: int, k: int, n: int) -> float:
    """SNR (same for every copy) where the abstraction's loss after ``n`` transmissions is 0.1."""
    qm, rate = mcs_parameters(0, 1)
    s1 = float(bler_model(0, 1).snr_at_bler(mcs, k, 0.1))
    if n == 1:
        return s1
    return float(brentq(lambda x: combined_snr_db(kind, int(qm[mcs]), [x] * n, float(rate[mcs]), k)
                        - s1, s1 - 15.0, s1 + 1.0, xtol=1e-4))


def simulate_case(kind: str, mcs: int, k: int, packets: int,
                  offsets: tuple[float, ...] = OFFSETS_DB) -> dict:
    """Bit-true losses after 1..4 transmissions at the points around the model's SNRs."""
    phy = BitTruePHY(create_channel("awgn"), mcs_index=mcs, cb_info_bits=k,
                     symbols_per_frame=100_000, harq={"type": kind, "max_transmissions": 4})
    centres = [model_snr10_db(kind, mcs, k, n) for n in (2, 3, 4)]
    points = sorted({round(c + d, 2) for c in centres for d in offsets})
    lost = []
    for j, snr in enumerate(points):
        g = torch.Generator().manual_seed(1000 * mcs + 100 * KINDS.index(kind) + j)
        lost.append(phy.harq_loss_after(packets, snr, g, 4).sum(axis=0).astype(int).tolist())
    return {"type": kind, "mcs": mcs, "k": k, "packets": packets, "snr_db": points,
            "lost_after_n": lost}


def bracket_case(case: dict, max_extra: int = 3) -> bool:
    """Add points (0.6 dB steps outward) until the bit-true loss after every n = 2, 3, 4 is
    above 0.2 at one point and below 0.05 at another, so its BLER-0.1 SNR is interpolated inside
    the measured waterfall, not extrapolated. Returns whether points were added."""
    phy = None
    added = False
    for n in (2, 3, 4):
        for _ in range(max_extra):
            frac = np.asarray(case["lost_after_n"])[:, n - 1] / case["packets"]
            if (frac > 0.2).any() and (frac < 0.05).any():
                break
            snr = round(min(case["snr_db"]) - 0.6 if not (frac > 0.2).any() else max(case["snr_db"]) + 0.6, 2)
            if phy is None:
                phy = BitTruePHY(create_channel("awgn"), mcs_index=case["mcs"], cb_info_bits=case["k"],
                                 symbols_per_frame=100_000,
                                 harq={"type": case["type"], "max_transmissions": 4})
            seed = 1000 * case["mcs"] + 100 * KINDS.index(case["type"]) + 50 + len(case["snr_db"])
            lost = phy.harq_loss_after(case["packets"], snr, torch.Generator().manual_seed(seed), 4)
            order = np.argsort(case["snr_db"] + [snr], kind="stable")
            pts = case["snr_db"] + [snr]
            counts = case["lost_after_n"] + [lost.sum(axis=0).astype(int).tolist()]
            case["snr_db"] = [pts[i] for i in order]
            case["lost_after_n"] = [counts[i] for i in order]
            added = True
    return added


def fit_snr10(snr: np.ndarray, errors: np.ndarray, total: int) -> float:
    """BLER-0.1 SNR of the probit curve fitted by maximum likelihood to the counts."""
    return probit_snr_at(snr, errors, total, 0.1)


def analyse(cache: list[dict], seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    rows = []
    for case in cache:
        snr = np.asarray(case["snr_db"])
        lost = np.asarray(case["lost_after_n"])  # [points, 4]
        p = case["packets"]
        qm, rate = mcs_parameters(0, 1)
        for n in (2, 3, 4):
            e = lost[:, n - 1]
            bt = fit_snr10(snr, e, p)
            boot = [fit_snr10(snr, rng.binomial(p, np.clip(e / p, 0, 1)), p) for _ in range(20)]
            model = model_snr10_db(case["type"], case["mcs"], case["k"], n)
            rows.append({"type": case["type"], "mcs": case["mcs"], "qm": int(qm[case["mcs"]]),
                         "rate": round(float(rate[case["mcs"]]), 3), "k": case["k"], "n": n,
                         "snr10_model_db": round(model, 3), "snr10_bittrue_db": round(bt, 3),
                         "bittrue_sd_db": round(float(np.std(boot)), 3),
                         "err_db": round(model - bt, 3)})
    by = {(r["type"], r["mcs"], r["n"]): r for r in rows}
    below, ahead = [], []
    for (kind, mcs, n), r in by.items():
        if kind != "ir" or ("chase", mcs, n) not in by:
            continue
        c = by[("chase", mcs, n)]
        if r["snr10_bittrue_db"] < c["snr10_bittrue_db"]:
            ahead.append([mcs, n])
            if r["snr10_model_db"] > c["snr10_model_db"]:
                below.append([mcs, n])
    return {"rows": rows,
            "max_abs_err_db": max((abs(r["err_db"]) for r in rows), default=float("nan")),
            "ir_below_chase_cases": len(below), "ir_below_chase": below,
            "ir_ahead_bittrue": ahead}


def markdown_table(rows: list[dict]) -> str:
    """Chase and IR side by side per (MCS, n): model, bit-true (+- sd) and error, in dB."""
    by = {(r["type"], r["mcs"], r["n"]): r for r in rows}
    keys = sorted({(r["mcs"], r["n"]) for r in rows})
    lines = ["| MCS | Q_m | R | n | Chase: model / bit-true (dB) | err | IR: model / bit-true (dB) | err |",
             "|---|---|---|---|---|---|---|---|"]
    for mcs, n in keys:
        cells = []
        for kind in KINDS:
            r = by.get((kind, mcs, n))
            cells += (["—", "—"] if r is None else [
                f"{r['snr10_model_db']:.2f} / {r['snr10_bittrue_db']:.2f} ± {min(r['bittrue_sd_db'], 9.99):.2f}",
                f"{r['err_db']:+.2f}"])
        ref = next(r for r in rows if r["mcs"] == mcs)
        lines.append(f"| {mcs} | {ref['qm']} | {ref['rate']:.2f} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mcs", default="4,6,12,16,19,24")
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--packets", type=int, default=200)
    ap.add_argument("--types", default="chase,ir")
    ap.add_argument("--cache", default=str(Path(__file__).parent / "results" / "harq_bittrue.json"),
                    help="JSON cache of bit-true counts; several comma-separated: new cases go "
                         "to the first, all are read")
    ap.add_argument("--offsets", default="-0.5,0,0.5",
                    help="dB around the model's BLER-0.1 SNR of n = 2, 3, 4 where bit-true runs")
    ap.add_argument("--analyse-only", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="also print the rows as a Markdown table")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    paths = [Path(c) for c in args.cache.split(",")]
    path = paths[0]  # new cases are written here; the others are read (parallel runs)
    cache: list[dict] = json.loads(path.read_text()) if path.exists() else []
    extra = [c for q in paths[1:] if q.exists() for c in json.loads(q.read_text())]
    mcs_list = [int(m) for m in args.mcs.split(",")]
    kinds = [t for t in args.types.split(",") if t]
    for kind in kinds:
        if kind not in KINDS:
            raise SystemExit(f"--types: {kind!r} is not one of {KINDS}")
    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1))
        os.replace(tmp, path)

    if not args.analyse_only:
        for mcs in mcs_list:
            for kind in kinds:
                case = next((c for c in cache if c["type"] == kind and c["mcs"] == mcs
                             and c["k"] == args.k), None)
                if case is None:
                    offsets = tuple(float(x) for x in args.offsets.split(","))
                    case = simulate_case(kind, mcs, args.k, args.packets, offsets)
                    cache.append(case)
                    save()
                    print(json.dumps({"simulated": kind, "mcs": mcs}), flush=True)
                if bracket_case(case):
                    save()
                    print(json.dumps({"bracketed": kind, "mcs": mcs}), flush=True)
    chosen = [c for c in cache + extra
              if c["mcs"] in mcs_list and c["k"] == args.k and c["type"] in kinds]
    out = analyse(chosen)
    for r in out["rows"]:
        print(json.dumps(r))
    if args.markdown:
        print(markdown_table(out["rows"]))
    print(json.dumps({"k": args.k, "packets_per_point": sorted({c["packets"] for c in chosen}),
                      "mcs": mcs_list, **out}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
