"""The link as a Gymnasium environment: one step = one frame of one link.

:class:`LinkEnv` wraps a one-link :class:`~commsldr.env.core.LinkBatch` (the model of a step, the
reward and the retransmission rule are documented there).

Spaces:

- action: ``Discrete(P)``, the menu index of the operating point ``(k, s)`` (table order);
- observation: ``Box(low, high, (D,), float32)`` from
  :class:`~commsldr.adapt.features.ObservationSpec` (default keys ``ack`` and ``action``: the last
  ``H`` ACK/NACK outcomes and the last point, what a transmitter without CSI knows);
- reward: correctly classified images of the frame's packet (``0..m``) minus ``λ`` per kbit sent;
- episode: ``frames`` frames, then ``truncated`` (a time limit: there is no terminal state).

Example:
    >>> env = LinkEnv(table, create_channel("doppler-fading", mean_snr_db=10.0),
    ...               ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3), frames=500)
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from commsldr.env.core import EnvError, LinkBatch, check_seed

__all__ = ["LinkEnv"]


class LinkEnv(gym.Env):
    """One link of the simulator as a ``gymnasium.Env`` (module docstring).

    Args:
        table: the operating-point table.
        channel: a ``commsldr_channels`` channel model.
        phy: a PHY without memory across frames.
        **kwargs: the settings of :class:`~commsldr.env.core.LinkBatch` (``frames``,
            ``observation``, ``history``, ``csi``, ``images_per_packet``, ``deadline_frames``,
            ``fallback``, ``cost_per_kbit``, ``seed``); ``num_links`` is 1 (another value
            is refused: use :class:`~commsldr.env.vector.VecLinkEnv` for several links).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, table: Any, channel: Any, phy: Any, **kwargs: Any) -> None:
        super().__init__()
        if "num_links" in kwargs and kwargs.pop("num_links") != 1:
            raise EnvError("num_links", "LinkEnv is one link; use VecLinkEnv(..., num_envs=N) "
                           "for N links")
        self.batch = LinkBatch(table, channel, phy, num_links=1, **kwargs)
        low, high = self.batch.spec.bounds()
        self.observation_space = gym.spaces.Box(low=low, high=high, dtype=np.float32)
        self.action_space = gym.spaces.Discrete(self.batch.num_points)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        seed = None if seed is None else check_seed(seed)
        super().reset(seed=seed)
        obs = self.batch.reset(seed)
        return obs[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = np.asarray(action)
        if a.size != 1:
            raise EnvError("action", f"expected one menu index in [0, {self.batch.num_points}), "
                           f"got an array of shape {a.shape}")
        obs, reward, truncated, info = self.batch.step(a.reshape(1))
        return (obs[0], float(reward[0]), False, bool(truncated),
                {k: v[0].item() for k, v in info.items()})
