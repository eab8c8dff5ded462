"""The `rl` policy: a checkpoint saved by train_agent loads by path, checks its hash and menu,
and in the simulator chooses exactly what the agent chooses on the environment's observation."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("stable_baselines3")

from commsldr.adapt import CSI, PointMenu, create_policy  # noqa: E402
from commsldr.env import LinkEnv  # noqa: E402
from commsldr.env.train import train_agent  # noqa: E402
from commsldr.errors import UserError  # noqa: E402
from commsldr.link.phy import ShannonPHY  # noqa: E402
from commsldr.link.synthetic_table import synthetic_table  # noqa: E402
from commsldr_channels import create_channel  # noqa: E402

PHY = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.set_num_threads(1)
    table = synthetic_table(num_images=100)
    ch = create_channel("rayleigh-block", mean_snr_db=10.0, coherence_frames=1)
    out = tmp_path_factory.mktemp("rl")
    zp, jp = train_agent(table, ch, PHY, name="tiny", total_steps=512, num_envs=8, frames=32,
                         history=3, out_dir=out,
                         hyperparameters={"n_steps": 32, "batch_size": 64, "n_epochs": 1})
    return table, ch, zp, jp


def test_sidecar_describes_the_agent(checkpoint):
    table, _, zp, jp = checkpoint
    cfg = json.loads(jp.read_text())
    assert cfg["observation"]["keys"] == ["ack", "action"] and cfg["observation"]["history"] == 3
    assert cfg["observation"]["num_points"] == len(table) == len(cfg["menu"]["points"])
    assert cfg["training"]["total_steps"] == 512 and len(cfg["sha256"]) == 64


def test_policy_acts_as_the_agent_on_the_environment(checkpoint, monkeypatch):
    table, ch, zp, _ = checkpoint
    # an SB3 zip runs pickled code when loaded: this test's own agent is on the allow-list
    monkeypatch.setenv("COMMSLDR_TRUSTED_PLUGINS", str(zp.parent))
    pol = create_policy("rl", checkpoint=str(zp)).bind(PointMenu.from_table(table))
    env = LinkEnv(table, ch, PHY, frames=60, history=3)
    obs, _ = env.reset(seed=1)
    ack = None
    for t in range(60):
        a_env, _ = pol.agent.predict(obs[None], deterministic=True)
        a_pol = pol.choose_index(CSI(frame=t, ack=ack))
        assert a_pol == int(a_env[0])
        obs, _, _, _, info = env.step(a_pol)
        ack = info["delivered"]


def test_hash_menu_and_name_errors(checkpoint, tmp_path, monkeypatch):
    table, _, zp, jp = checkpoint
    monkeypatch.setenv("COMMSLDR_TRUSTED_PLUGINS", str(zp.parent))
    small = synthetic_table(variants=(8,), scales=(1.0,), num_images=20)
    with pytest.raises(UserError, match="trained on a menu of 15 points; this table has 1"):
        create_policy("rl", checkpoint=str(zp)).bind(PointMenu.from_table(small))
    bad = tmp_path / "bad.zip"
    bad.write_bytes(zp.read_bytes()[:-10])
    (tmp_path / "bad.json").write_text(jp.read_text())
    with pytest.raises(UserError, match="does not match the SHA-256"):
        create_policy("rl", checkpoint=str(bad))
    with pytest.raises(UserError, match="no RL checkpoint 'nope'"):
        create_policy("rl", checkpoint="nope")
