"""The link simulator as a Gymnasium environment (optional extra ``rl``).

- :class:`LinkEnv` — one link, ``gymnasium.Env`` (passes ``gymnasium.utils.env_checker.check_env``);
- :class:`VecLinkEnv` — ``N`` links stepped with array operations (``gymnasium.vector.VectorEnv``);
- :func:`sb3_vec_env` — the same for Stable-Baselines3;
- :class:`LinkBatch` — the NumPy core both wrap (no Gymnasium needed).

``gymnasium`` and ``stable-baselines3`` come with ``pip install commsldr[rl]``; without them,
importing this package raises one clear error naming that command.
"""

from commsldr.adapt.rl import require_rl

require_rl("commsldr.env")

from commsldr.env.core import EnvError, LinkBatch  # noqa: E402
from commsldr.env.link_env import LinkEnv  # noqa: E402
from commsldr.env.vector import VecLinkEnv, sb3_vec_env  # noqa: E402

__all__ = ["EnvError", "LinkBatch", "LinkEnv", "VecLinkEnv", "sb3_vec_env"]
