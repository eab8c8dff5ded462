"""Train a deep-RL adaptation policy (Stable-Baselines3 PPO or DQN) on the link environment.

The agent learns on :func:`~commsldr.env.vector.sb3_vec_env` (``num_envs`` links stepped with
array operations) over one channel of a scenario, and is saved as the checkpoint pair that the
``rl`` policy loads by name (:mod:`commsldr.adapt.rl`): ``<name>.zip`` and ``<name>.json``
(observation spec, menu, training settings, measured training time, SHA-256 of the ``.zip``).

Command line (from the repository root; the model and table come from the scenario's caches)::

    python -m commsldr.env.train --scenario learning_policies --channel doppler \\
        --set 'channels.doppler.mean_snr_db=10.0' --steps 600000 --name ppo-quickstart-doppler

Training is seeded (``--seed``: the environment's draws and the agent's initialisation); with
one torch thread the result is reproducible on one machine.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from commsldr._atomic import atomic_write_text
from commsldr.adapt.rl import _sha256, require_rl, rl_dir
from commsldr.env.core import EnvError, LinkBatch
from commsldr.env.vector import sb3_vec_env

__all__ = ["PPO_DEFAULTS", "train_agent", "main"]

#: PPO settings for the link: short rollouts (128 frames × links), a short horizon (γ = 0.5: the
#: reward of a frame depends on the choices of the last few frames only), no entropy bonus. With
#: SB3's defaults (γ 0.99, lr 3e-4, 4 epochs, entropy 0.01) 1M steps ended on the cheapest point
#: (0.18 accuracy at 10 dB, quickstart Doppler); these reached 0.695 after 500k steps.
PPO_DEFAULTS: dict[str, Any] = {"n_steps": 128, "batch_size": 4096, "n_epochs": 10,
                                "learning_rate": 1e-3, "gamma": 0.5, "gae_lambda": 0.8,
                                "ent_coef": 0.0, "policy_kwargs": {"net_arch": [64, 64]}}


def train_agent(table: Any, channel: Any, phy: Any, *, name: str, total_steps: int = 1_000_000,
                algorithm: str = "ppo", num_envs: int = 64, frames: int = 1000,
                observation: Sequence[str] = ("ack", "action"), history: int = 8,
                csi: Any = None, seed: int = 0, out_dir: str | Path | None = None,
                env_kwargs: dict[str, Any] | None = None, info: dict[str, Any] | None = None,
                hyperparameters: dict[str, Any] | None = None,
                eval_every_steps: int = 100_000) -> tuple[Path, Path]:
    """Train and save an agent; returns the ``(zip, json)`` paths.

    Every ``eval_every_steps`` the deterministic agent is evaluated on held-out episodes
    (16 links × ``frames`` frames of the same link, its own seed): mean reward per frame. The
    saved agent is the best evaluated one (PPO's last iterate is not always its best); the
    sidecar records the evaluations and which one was kept.

    Args:
        table: the operating-point table of the link (:class:`~commsldr.env.core.LinkBatch`).
        channel: its channel.
        phy: its PHY.
        name: checkpoint name (files ``<name>.zip`` / ``<name>.json`` in ``out_dir``).
        total_steps: environment steps (frames summed over links).
        algorithm: ``ppo`` or ``dqn``.
        num_envs: links stepped together.
        frames: episode length in frames.
        observation: the observation's features (:mod:`commsldr.adapt.features`).
        history: frames of history in the observation.
        csi: the CSI model the observation uses.
        seed: seeds the environment and the agent.
        out_dir: where to save (default :func:`commsldr.adapt.rl.rl_dir`).
        env_kwargs: other :class:`LinkBatch` settings (``images_per_packet``, ``fallback``...).
        info: JSON-able provenance stored in the sidecar (scenario, channel...).
        hyperparameters: overrides of the algorithm's settings.
        eval_every_steps: environment steps between evaluations.
    """
    sb3 = require_rl("commsldr.env.train")
    if algorithm not in ("ppo", "dqn"):
        raise EnvError("algorithm", f"must be 'ppo' or 'dqn', got {algorithm!r}")
    kwargs = dict(env_kwargs or {})
    kwargs.update(frames=frames, observation=tuple(observation), history=history, csi=csi,
                  seed=seed)
    venv = sb3_vec_env(table, channel, phy, num_envs=num_envs, **kwargs)
    venv.seed(seed)
    torch.manual_seed(seed)
    if algorithm == "ppo":
        hp = {**PPO_DEFAULTS, **(hyperparameters or {})}
        agent = sb3.PPO("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **hp)
    else:
        hp = {"learning_rate": 1e-3, "buffer_size": 200_000, "learning_starts": 10_000,
              "train_freq": 4, "gamma": 0.9, "policy_kwargs": {"net_arch": [64, 64]},
              **(hyperparameters or {})}
        agent = sb3.DQN("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **hp)
    evaluate = _Evaluator(table, channel, phy, kwargs, seed)
    best: dict[str, Any] = {"reward": -np.inf, "steps": 0, "params": None, "history": []}
    rollout = int(getattr(agent, "n_steps", 1)) * num_envs
    every = max(int(eval_every_steps) // max(rollout, 1), 1)

    class _Keep(sb3.common.callbacks.BaseCallback):  # type: ignore[misc, name-defined]
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            self.rollouts = getattr(self, "rollouts", 0) + 1
            if self.rollouts % every:
                return
            r = evaluate(agent)
            best["history"].append([int(self.num_timesteps), round(r, 4)])
            if r > best["reward"]:
                best.update(reward=r, steps=int(self.num_timesteps),
                            params=copy.deepcopy(agent.policy.state_dict()))

    t0, c0 = time.perf_counter(), time.process_time()
    agent.learn(total_timesteps=int(total_steps), callback=_Keep())
    final = evaluate(agent)
    best["history"].append([int(agent.num_timesteps), round(final, 4)])
    if best["params"] is not None and best["reward"] > final:
        agent.policy.load_state_dict(best["params"])
    else:
        best.update(reward=final, steps=int(agent.num_timesteps))
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    out = Path(out_dir) if out_dir is not None else rl_dir()
    out.mkdir(parents=True, exist_ok=True)
    zp = out / f"{name}.zip"
    agent.save(str(zp))
    batch = venv.venv.batch
    config = {
        "name": name, "algorithm": algorithm, "sha256": _sha256(zp),
        "observation": batch.spec.to_config(),
        "menu": {"points": [[int(p.k), float(p.scale)] for p in table.points],
                 "accuracy": np.round(table.accuracy(), 6).tolist(),
                 "mean_packet_bits": np.round(table.mean_packet_bits(batch.m), 3).tolist(),
                 "model_id": table.model_id},
        "training": {"total_steps": int(total_steps), "num_envs": int(num_envs),
                     "frames": int(frames), "seed": int(seed), "seconds": round(seconds, 1),
                     "cpu_seconds": round(cpu_seconds, 1),
                     "kept_steps": best["steps"],
                     "eval_reward_per_frame": round(float(best["reward"]), 4),
                     "eval_history": best["history"],
                     "torch_threads": torch.get_num_threads(),
                     "csi": csi if csi is None or isinstance(csi, (str, dict)) else csi.name,
                     "hyperparameters": hp, "sb3_version": sb3.__version__},
        "info": info or {},
    }
    jp = out / f"{name}.json"
    atomic_write_text(jp, json.dumps(config, indent=1, default=str) + "\n")
    return zp, jp


class _Evaluator:
    """Mean reward per frame of the deterministic agent on fixed held-out episodes."""

    def __init__(self, table: Any, channel: Any, phy: Any, kwargs: dict[str, Any],
                 seed: int) -> None:
        kw = {**kwargs, "seed": int(seed) + 7919}
        self.batch = LinkBatch(table, channel, phy, num_links=16, **kw)

    def __call__(self, agent: Any) -> float:
        obs = self.batch.reset(self.batch._seed)
        total, truncated, n = 0.0, False, 0
        while not truncated:
            action, _ = agent.predict(obs, deterministic=True)
            obs, reward, truncated, _ = self.batch.step(action)
            total += float(reward.sum())
            n += reward.shape[0]
        return total / n


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m commsldr.env.train``: train on a scenario channel and save the checkpoint."""
    ap = argparse.ArgumentParser(prog="python -m commsldr.env.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="quickstart")
    ap.add_argument("--channel", default=None, help="channel label (default: the first)")
    ap.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    ap.add_argument("--name", required=True)
    ap.add_argument("--algorithm", choices=("ppo", "dqn"), default="ppo")
    ap.add_argument("--steps", type=float, default=1e6)
    ap.add_argument("--num-envs", type=int, default=64)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--observation", default="ack,action")
    ap.add_argument("--history", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--hyperparameters", default="{}", metavar="JSON",
                    help="overrides of the algorithm's settings, e.g. '{\"gamma\": 0.7}'")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from commsldr.env.scenario_link import link_from_scenario

    link = link_from_scenario(args.scenario, args.channel, args.overrides)
    kw = link.env_kwargs()
    kw.pop("frames")
    zp, jp = train_agent(
        link.table, link.channel, link.phy, name=args.name, total_steps=int(args.steps),
        algorithm=args.algorithm, num_envs=args.num_envs, frames=args.frames,
        observation=[k for k in args.observation.split(",") if k], history=args.history,
        seed=args.seed, out_dir=args.out, env_kwargs=kw,
        hyperparameters=json.loads(args.hyperparameters),
        info={"scenario": args.scenario, "channel": link.channel_label,
              "overrides": list(args.overrides), "table": link.table.meta.get("cache_key")})
    print(json.dumps({"checkpoint": str(zp), "config": str(jp),
                      "seconds": json.loads(jp.read_text())["training"]["seconds"]}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
