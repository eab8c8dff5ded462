"""``N`` links as one Gymnasium vector environment, stepped with array operations.

:class:`VecLinkEnv` is a ``gymnasium.vector.VectorEnv`` over a :class:`~commsldr.env.core.LinkBatch`
of ``num_envs`` links: one ``step(actions [N])`` is one frame of every link, with no Python loop
over links (``benchmarks/learning_policies.py`` measures its steps per second). All links share
the episode length, so they truncate together; the vector env then resets them in the same step
(``autoreset_mode`` ``SAME_STEP``: the returned observation is the new episode's first, the last
one is in ``info["final_obs"]``).

:func:`sb3_vec_env` adapts it to Stable-Baselines3's ``VecEnv`` for training (no per-env loop
either).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from commsldr.adapt.rl import require_rl
from commsldr.env.core import EnvError, LinkBatch, check_seed

__all__ = ["VecLinkEnv", "sb3_vec_env"]


class VecLinkEnv(VectorEnv):
    """``num_envs`` independent links (own channel draws, CSI, schedule) stepped together.

    Args:
        table: as :class:`~commsldr.env.link_env.LinkEnv`.
        channel: as :class:`~commsldr.env.link_env.LinkEnv`.
        phy: as :class:`~commsldr.env.link_env.LinkEnv`.
        num_envs: ``N`` (>= 1), the number of links (``num_links`` of
            :class:`~commsldr.env.core.LinkBatch`, which is not taken besides it).
        **kwargs: the other settings of :class:`~commsldr.env.core.LinkBatch`.

    ``reset(seed=...)`` takes one seed (an int, or a list of one): the links share one seed
    stream (each gets its own channel stretch, CSI and schedule from it), so per-link seeds
    cannot be honoured and a longer list is refused.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, table: Any, channel: Any, phy: Any, num_envs: int = 16,
                 **kwargs: Any) -> None:
        if "num_links" in kwargs:
            raise EnvError("num_links", "VecLinkEnv takes the number of links as num_envs; "
                           "leave num_links out")
        self.batch = LinkBatch(table, channel, phy, num_links=num_envs, **kwargs)
        self.num_envs = self.batch.num_links
        low, high = self.batch.spec.bounds()
        self.single_observation_space = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(self.batch.num_points)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              self.num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        if isinstance(seed, list | tuple):
            if len(seed) != 1:
                raise EnvError("seed", f"one seed for all {self.num_envs} links (an int or a "
                               f"list of one; the links share one seed stream), got a list of "
                               f"{len(seed)}")
            seed = seed[0]
        if seed is not None:
            seed = check_seed(seed)
            self._np_random, _ = gym.utils.seeding.np_random(seed)
        return self.batch.reset(seed), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        obs, reward, truncated, info = self.batch.step(actions)
        n = self.num_envs
        infos: dict[str, Any] = dict(info)
        trunc = np.full(n, truncated)
        if truncated:
            infos["final_obs"] = obs
            infos["_final_obs"] = np.ones(n, dtype=bool)
            obs = self.batch.reset()
        return obs, reward, np.zeros(n, dtype=bool), trunc, infos


def sb3_vec_env(table: Any, channel: Any, phy: Any, num_envs: int = 16, **kwargs: Any) -> Any:
    """A Stable-Baselines3 ``VecEnv`` over ``num_envs`` links (same arguments as
    :class:`VecLinkEnv`); episodes end by time limit (``TimeLimit.truncated`` in the infos)."""
    sb3 = require_rl("commsldr.env.sb3_vec_env")
    base = sb3.common.vec_env.VecEnv

    class _SB3LinkVecEnv(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.venv = VecLinkEnv(table, channel, phy, num_envs=num_envs, **kwargs)
            super().__init__(num_envs, self.venv.single_observation_space,
                             self.venv.single_action_space)
            self._actions: np.ndarray | None = None
            self._seed: int | None = None

        def reset(self) -> np.ndarray:
            obs, _ = self.venv.reset(seed=self._seed)
            self._seed = None
            return obs

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self) -> Any:
            obs, rew, _, trunc, info = self.venv.step(self._actions)
            infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
            if trunc[0]:
                for i in range(self.num_envs):
                    infos[i] = {"terminal_observation": info["final_obs"][i],
                                "TimeLimit.truncated": True}
            return obs, rew.astype(np.float32), trunc.copy(), infos

        def close(self) -> None:
            pass

        def seed(self, seed: int | None = None) -> list[int | None]:
            self._seed = seed
            return [seed] * self.num_envs

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self.venv, attr_name)] * len(self._get_indices(indices))

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self.venv, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None,
                       **kwargs: Any) -> list[Any]:
            return [getattr(self.venv, method_name)(*args, **kwargs)]

        def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
            return [False] * len(self._get_indices(indices))

    return _SB3LinkVecEnv()
