"""A deep-RL policy: a Stable-Baselines3 agent trained on :mod:`commsldr.env`, loaded by name.

A checkpoint is two files in ``models/rl/`` (or any directory): ``<name>.zip``, the agent as
Stable-Baselines3 saves it, and ``<name>.json``, the sidecar with the observation spec
(:class:`~commsldr.adapt.features.ObservationSpec`), the menu it was trained on (packet sizes,
accuracies), the training configuration and the SHA-256 of the ``.zip``. Loading checks the hash
and that the menu it is bound to has the same number of points (the action space).

In the simulator the policy keeps a one-link :class:`~commsldr.adapt.features.FeatureState` fed
with every transmission's outcome (the HARQ feedback hook, :class:`~commsldr.adapt.learning.
FeedbackPolicy`) and the CSI (``snr_db`` / ``capacity_bits`` when its observation uses them), encodes it exactly as the environment did, and takes the agent's
deterministic action.

``stable-baselines3`` and ``gymnasium`` are the optional extra ``rl``
(``pip install commsldr[rl]``); they are imported only when a checkpoint is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from commsldr.adapt.csi import CSI
from commsldr.adapt.features import FeatureState, ObservationSpec
from commsldr.adapt.learning import FeedbackPolicy
from commsldr.errors import UserError
from commsldr.resources import shipped_models_dir
from commsldr.trust import check_code_file

__all__ = ["DeepRLPolicy", "RLDependencyError", "require_rl", "rl_checkpoint_paths",
           "read_rl_checkpoint_config"]

_ALGORITHMS = ("ppo", "dqn")


class RLDependencyError(UserError):
    """The optional ``rl`` extra (gymnasium, stable-baselines3) is not installed."""


def require_rl(what: str) -> Any:
    """Import and return ``stable_baselines3`` (and check ``gymnasium``), or raise a clear error."""
    try:
        import gymnasium  # noqa: F401
        import stable_baselines3
    except ImportError as err:  # pragma: no cover - the test environment has the extra
        raise RLDependencyError(
            what, f"needs the optional packages gymnasium and stable-baselines3 ({err.name} is "
            "missing): pip install commsldr[rl]") from err
    return stable_baselines3


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rl_dir() -> Path:
    """Where checkpoints are looked up by name: ``$COMMSLDR_RL_DIR``, else ``models/rl`` (package
    data: ``commsldr/shipped/models/rl``, the repository's ``models/rl`` in a clone)."""
    env = os.environ.get("COMMSLDR_RL_DIR")
    return Path(env).expanduser() if env else shipped_models_dir() / "rl"


def rl_checkpoint_paths(checkpoint: str) -> tuple[Path, Path]:
    """``(zip, json)`` of a checkpoint given by name (in :func:`rl_dir`) or by path.

    Raises:
        UserError: neither file exists (the message lists the checkpoints found by name).
    """
    p = Path(checkpoint)
    if p.suffix == ".zip" or p.suffix == ".json" or p.parent != Path("."):
        base = p.with_suffix("")
    else:
        base = rl_dir() / checkpoint
    zp, jp = base.with_suffix(".zip"), base.with_suffix(".json")
    if not zp.is_file() or not jp.is_file():
        names = sorted(q.stem for q in rl_dir().glob("*.json")) if rl_dir().is_dir() else []
        raise UserError("checkpoint", f"no RL checkpoint {checkpoint!r} ({zp.name} and "
                        f"{jp.name}); by name: {names or 'none'}; or give a path to a .zip")
    return zp, jp


def read_rl_checkpoint_config(checkpoint: str) -> dict[str, Any]:
    """The sidecar JSON of a checkpoint (name or path), its hash checked against the ``.zip``."""
    zp, jp = rl_checkpoint_paths(checkpoint)
    config = json.loads(jp.read_text())
    if config.get("sha256") != _sha256(zp):
        raise UserError("checkpoint", f"{zp.name} does not match the SHA-256 in {jp.name} "
                        "(a changed or truncated file); retrain or restore it")
    return config


class DeepRLPolicy(FeedbackPolicy):
    """A Stable-Baselines3 agent (PPO or DQN) trained on the link environment, loaded by name.

    Args:
        checkpoint: a name in ``models/rl`` (``commsldr.adapt.rl.rl_dir``) or a path to the
            ``.zip`` (its ``.json`` sidecar beside it).
        deterministic: take the agent's most likely action (else sample it).
    """

    name = "rl"

    def __init__(self, checkpoint: str = "ppo-quickstart-doppler", deterministic: bool = True) -> None:
        super().__init__()
        if not isinstance(checkpoint, str) or not checkpoint:
            raise ValueError(f"checkpoint must be a name or a path, got {checkpoint!r}")
        if not isinstance(deterministic, bool):
            raise ValueError(f"deterministic must be true or false, got {deterministic!r}")
        self.checkpoint = checkpoint
        self.deterministic = deterministic
        self.config = read_rl_checkpoint_config(checkpoint)
        self.spec = ObservationSpec.from_config(self.config["observation"])
        algo = str(self.config.get("algorithm", "ppo"))
        if algo not in _ALGORITHMS:
            raise UserError("checkpoint", f"algorithm {algo!r} is not one of {list(_ALGORITHMS)}")
        sb3 = require_rl("policy 'rl'")
        zp, _ = rl_checkpoint_paths(checkpoint)
        # an SB3 zip stores its settings with cloudpickle: loading it runs code (commsldr.trust)
        check_code_file(zp, key="checkpoint", what="the RL checkpoint",
                        trusted_dirs=(rl_dir(), shipped_models_dir() / "rl"))
        cls = sb3.PPO if algo == "ppo" else sb3.DQN
        self.agent = cls.load(str(zp), device="cpu")
        self._state = FeatureState.empty(1, self.spec.history)

    def _on_bind(self) -> None:
        if len(self.menu) != self.spec.num_points:
            raise UserError(
                "checkpoint", f"{self.checkpoint!r} was trained on a menu of "
                f"{self.spec.num_points} points; this table has {len(self.menu)} (retrain it on "
                "this table: python -m commsldr.env.train)")

    def reset(self) -> None:
        super().reset()
        self._state = FeatureState.empty(1, self.spec.history)

    def choose_index(self, csi: CSI) -> int:
        for point, delivered, _ in self.outcomes(csi):
            self._state.record(np.array([point]), np.array([delivered]))
        if csi is not None:
            self._state.snr_db[0] = np.nan if csi.snr_db is None else csi.snr_db
            if csi.capacity_bits is not None:
                self._state.capacity_bits[0] = csi.capacity_bits
            elif csi.snr_db is not None and self._link is not None:
                self._state.capacity_bits[0] = float(self._link.capacity_bits(csi.snr_db))
            else:
                self._state.capacity_bits[0] = np.nan
        obs = self.spec.encode(self._state)
        action, _ = self.agent.predict(obs, deterministic=self.deterministic)
        choice = int(np.asarray(action).reshape(-1)[0])
        self.remember(csi, choice, self.packet_bits(csi) if csi is not None else self.menu.packet_bits)
        return choice

    def params(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "deterministic": self.deterministic}
