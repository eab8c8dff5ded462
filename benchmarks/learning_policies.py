"""Goals of the learning policies, measured; prints one JSON object on its last line.

1. On the quickstart's Doppler channel with ACK/NACK only (csi ``ack-nack``): the accuracy of
   every learning policy (``olla``, ``thompson`` variants, the shipped PPO agent ``rl``) and of
   every rule-based policy given the same feedback, and the Oracle's (perfect CSI), at each SNR of
   the quickstart sweep, mean over seeds; the best learning policy's accuracy / the Oracle's
   (goal >= 0.95) and whether it beats every rule-based policy. For scale,
   ``bound-delayed-csi``: ``outage-aware`` given the *exact SNR of the previous frame* (delayed
   CSI, 1 frame; planning error std 2 dB) — strictly more than one ACK/NACK bit tells, so what
   an ACK/NACK-only policy can hope for is below it.
2. Environment steps per second, vectorised (:class:`commsldr.env.VecLinkEnv`, Shannon PHY,
   quickstart Doppler channel, random actions; goal >= 10,000 on 2 cores), with and without the
   episode resets (one channel realisation per episode).
3. Regret of Thompson sampling (stationary, ``discount`` 1; with and without the monotone
   ``share`` of outcomes, whose censoring biases it) against the best fixed point in
   hindsight on a stationary channel (i.i.d. Rayleigh block fading, 10 dB): ``R(t)/t`` at a
   quarter, half and all of the frames, and the exponent ``α`` of a least-squares fit
   ``log R(t) = α log t + c`` over the second half (``α < 1``: sublinear).

Usage: ``python benchmarks/learning_policies.py [--quick]`` (needs the quickstart model and
table; they are built and cached on first use, as ``commsldr run quickstart`` does).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from commsldr.adapt import PointMenu, create_csi_model, create_policy  # noqa: E402
from commsldr.adapt.hindsight import best_fixed_in_hindsight  # noqa: E402
from commsldr.adapt.regret import cumulative_regret  # noqa: E402
from commsldr.adapt.rl import rl_checkpoint_paths  # noqa: E402
from commsldr.env import VecLinkEnv  # noqa: E402
from commsldr.env.scenario_link import link_from_scenario  # noqa: E402
from commsldr.errors import UserError  # noqa: E402
from commsldr.link.simulator import simulate  # noqa: E402
from commsldr.scenario.load import channel_params  # noqa: E402
from commsldr_channels import create_channel  # noqa: E402

RULES = {
    "fixed": ("fixed", {"k": 32, "scale": 1.0}),
    "scale-only": ("scale-only", {"margin": 0.1}),
    "capacity-greedy": ("capacity-greedy", {"margin": 0.1}),
    "scale-and-truncation": ("scale-and-truncation", {"margin": 0.1}),
    "outage-aware": ("outage-aware", {}),
}
LEARNING = {
    "olla": ("olla", {"target": 0.3}),
    "thompson": ("thompson", {"discount": 0.95, "context": "none"}),
    "thompson-ctx": ("thompson", {}),
    "rl": ("rl", {"checkpoint": "ppo-quickstart-doppler"}),
}


def accuracy_goal(link, snrs, seeds, frames):
    """Mean accuracy over seeds of every policy at every SNR (ACK/NACK only; Oracle: perfect)."""
    table, phy = link.table, link.phy
    menu = PointMenu.from_table(table)
    learning = dict(LEARNING)
    try:
        rl_checkpoint_paths(learning["rl"][1]["checkpoint"])
    except UserError:
        learning.pop("rl")
    policies = {**RULES, **learning, "oracle": ("oracle", {}),
                "bound-delayed-csi": ("outage-aware", {"snr_std_db": 2.0})}
    out = {}
    for snr in snrs:
        ch = create_channel("doppler-fading", **{**_doppler_params(link), "mean_snr_db": snr})
        acc = {k: [] for k in policies}
        for seed in seeds:
            states = ch.states(frames, generator=torch.Generator().manual_seed(1000 + seed))
            for label, (name, p) in policies.items():
                pol = create_policy(name, **p).bind(menu, phy)
                csi = create_csi_model("perfect" if name == "oracle" else "ack-nack")
                if label == "bound-delayed-csi":  # exact SNR of the previous frame
                    csi = create_csi_model("delayed", delay_frames=1)
                acc[label].append(simulate(table, states, phy, pol, csi_model=csi,
                                           seed=seed).accuracy)
        out[snr] = {k: float(np.mean(v)) for k, v in acc.items()}
    return out, list(learning)


def _doppler_params(link):
    return channel_params(link.scenario, link.channel_label)


def steps_per_second(link, num_envs, steps):
    env = VecLinkEnv(link.table, link.channel, link.phy, num_envs=num_envs, frames=steps)
    t0 = time.perf_counter()
    env.reset(seed=0)
    t_reset = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.single_action_space.n, size=(steps, num_envs))
    t0 = time.perf_counter()
    for t in range(steps - 1):  # the last step would reset
        env.step(actions[t])
    t_steps = time.perf_counter() - t0
    n = num_envs * (steps - 1)
    return {"num_envs": num_envs, "episode_frames": steps,
            "steps_per_s": n / t_steps, "steps_per_s_with_reset": n / (t_steps + t_reset),
            "reset_s": t_reset}


def regret_stationary(link, frames, seeds, share):
    """Thompson (stationary) vs the best fixed point in hindsight on i.i.d. Rayleigh, 10 dB."""
    table, phy = link.table, link.phy
    menu = PointMenu.from_table(table)
    ch = create_channel("rayleigh-block", mean_snr_db=10.0, coherence_frames=1)
    regrets = []
    for seed in seeds:
        states = ch.states(frames, generator=torch.Generator().manual_seed(2000 + seed))

        def run(pol, seed=seed, states=states):
            return simulate(table, states, phy, pol, csi_model=create_csi_model("ack-nack"),
                            seed=seed)

        ref, _ = best_fixed_in_hindsight(create_policy("best-fixed-hindsight").bind(menu, phy), run)
        ts = run(create_policy("thompson", discount=1.0, context="none", share=share,
                               seed=seed).bind(menu))
        regrets.append(cumulative_regret(ref, ts))
    r = np.mean(regrets, axis=0)
    t = np.arange(1, frames + 1)
    half = slice(frames // 2, frames)
    pos = r[half] > 0
    alpha = float(np.polyfit(np.log(t[half][pos]), np.log(r[half][pos]), 1)[0]) if pos.sum() > 2 \
        else float("nan")
    marks = {f"R_over_t_at_{q}": float(r[int(frames * q) - 1] / int(frames * q))
             for q in (0.25, 0.5, 1.0)}
    return {"channel": "rayleigh-block 10 dB i.i.d.", "policy": f"thompson discount 1, share {share}",
            "frames": frames, "seeds": len(seeds),
            "final_regret_images": float(r[-1]), **marks, "fit_exponent_second_half": alpha}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer seeds, SNRs and frames")
    args = ap.parse_args()
    torch.set_num_threads(1)
    link = link_from_scenario("quickstart", "doppler", progress=False, log=lambda *_: None)
    snrs = [10.0] if args.quick else [-5.0, 0.0, 5.0, 10.0, 15.0, 20.0]
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]
    acc, learning = accuracy_goal(link, snrs, seeds, frames=link.scenario.frames)
    per_snr = {}
    for snr, a in acc.items():
        best = max(learning, key=lambda k: a[k])
        best_rule = max(RULES, key=lambda k: a[k])
        per_snr[str(snr)] = {
            "accuracy": {k: round(v, 4) for k, v in a.items()},
            "best_learning": best, "best_learning_over_oracle": round(a[best] / a["oracle"], 4),
            "best_rule": best_rule, "beats_every_rule": bool(a[best] > a[best_rule]),
            "bound_delayed_csi_over_oracle": round(a["bound-delayed-csi"] / a["oracle"], 4),
        }
    mean = {k: float(np.mean([acc[s][k] for s in acc])) for k in next(iter(acc.values()))}
    best = max(learning, key=lambda k: mean[k])
    speed = steps_per_second(link, num_envs=256, steps=200 if args.quick else 1000)
    regret = [regret_stationary(link, frames=5000 if args.quick else 20000,
                                seeds=[0] if args.quick else [0, 1, 2], share=share)
              for share in (True, False)]
    result = {
        "benchmark": "learning_policies", "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "python": platform.python_version()},
        "doppler_ack_nack": {
            "channel": "quickstart doppler (3 m/s, 3.5 GHz, 1 ms frames), Shannon PHY",
            "frames": link.scenario.frames, "seeds": len(seeds), "per_snr_db": per_snr,
            "mean_over_snr": {k: round(v, 4) for k, v in mean.items()},
            "best_learning": best,
            "best_learning_over_oracle_mean": round(mean[best] / mean["oracle"], 4),
            "goal_ratio": 0.95,
        },
        "env_steps": {**speed, "goal_steps_per_s": 10_000},
        "regret_stationary": regret,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
