"""Coverage of the nominal 95 % accuracy intervals on time-correlated channels.

Many independent runs (``--reps``) of a Gilbert–Elliott channel (bad bursts of 10 frames, good
runs of 50, bad frames lost) and of Doppler fading (Rayleigh, 10 dB mean SNR, delivered above
5 dB, normalised Doppler 0.04: coherence of about 10 frames). Each frame carries 4 images; a
delivered frame classifies each right with probability 0.8, a lost one's fallback with 0.1, so
the true accuracy is known in closed form (and checked against the grand mean of all runs).
Reports, per channel and seed count, how often each interval (``auto``, ``t``,
``block-bootstrap``, ``wilson``) holds the truth, and the mean half-width of each.

    python benchmarks/interval_coverage.py [--reps 1000]

The last line is JSON. ``tests/unit/adapt/test_intervals.py`` checks the same construction.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import torch

from commsldr.adapt import aggregate, policy_metrics
from commsldr_channels import create_channel

M, P_DELIVERED, P_FALLBACK = 4, 0.8, 0.1


def _run(channel, frames: int, seed: int, threshold_db: float):
    states = channel.states(frames, generator=torch.Generator().manual_seed(seed))
    ok = states.snr_db.numpy() > threshold_db
    if states.erased is not None:
        ok &= ~states.erased.numpy()
    rng = np.random.default_rng(seed)
    correct = np.where(ok, rng.binomial(M, P_DELIVERED, frames), rng.binomial(M, P_FALLBACK, frames))
    return policy_metrics(point_index=np.zeros(frames), delivered=ok, correct=correct,
                          packet_bits=np.ones(frames), images_per_frame=M)


def coverage(channel, truth: float, frames: int, seeds: int, reps: int, threshold_db: float,
             ) -> dict[str, object]:
    methods = ["auto", "wilson", "block-bootstrap"] + (["t"] if seeds >= 2 else [])
    hits = dict.fromkeys(methods, 0)
    width = dict.fromkeys(methods, 0.0)
    means = []
    auto_method = ""
    for r in range(reps):
        per_seed = [_run(channel, frames, 1000 * r + s, threshold_db) for s in range(seeds)]
        for ci in methods:
            a = aggregate(per_seed, ci=ci)
            hits[ci] += a.accuracy_low <= truth <= a.accuracy_high
            width[ci] += (a.accuracy_high - a.accuracy_low) / 2 / reps
            if ci == "auto":
                auto_method = a.ci_method
        means.append(per_seed[0].accuracy)
    return {"frames": frames, "seeds": seeds, "reps": reps, "truth": truth,
            "grand_mean": float(np.mean(means)), "auto_is": auto_method,
            "coverage": {k: v / reps for k, v in hits.items()},
            "mean_half_width": width,
            "seed_sd": float(np.std(means, ddof=1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ge = create_channel("gilbert-elliott", p_gb=0.02, p_bg=0.1, erasure_prob_good=0.0,
                        erasure_prob_bad=1.0)
    pi_bad = 0.02 / 0.12
    truth_ge = (1 - pi_bad) * P_DELIVERED + pi_bad * P_FALLBACK
    dp = create_channel("doppler-fading", mean_snr_db=10.0, doppler_hz=4.0, frame_s=0.01,
                        num_sinusoids=32)
    p_ok = math.exp(-(10 ** ((5.0 - 10.0) / 10)))
    truth_dp = p_ok * P_DELIVERED + (1 - p_ok) * P_FALLBACK
    out = {"gilbert_elliott": [coverage(ge, truth_ge, 2000, s, args.reps, -math.inf)
                               for s in (1, 2, 8)],
           "doppler": [coverage(dp, truth_dp, 1000, s, args.reps, 5.0) for s in (1, 2, 8)]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
