"""Environment settings and calls: non-integers, unbounded costs, a wrong number of actions or
seeds raise one EnvError naming the setting; NumPy integers and integral floats still work."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from commsldr.env import EnvError, LinkBatch, LinkEnv, VecLinkEnv  # noqa: E402
from commsldr.link.nr import NRPHY  # noqa: E402
from commsldr.link.phy import ShannonPHY  # noqa: E402
from commsldr.link.synthetic_table import synthetic_table  # noqa: E402
from commsldr_channels import create_channel  # noqa: E402

NAN, INF = float("nan"), float("inf")
PHY = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)


@pytest.fixture(scope="module")
def table():
    return synthetic_table(num_images=60)


def awgn():
    return create_channel("awgn", snr_db=10.0)


@pytest.mark.parametrize("name, value", [
    ("seed", 1.5), ("seed", NAN), ("seed", -1), ("seed", "0"), ("history", 2.5), ("history", -1),
    ("frames", 10.5), ("deadline_frames", INF), ("images_per_packet", 1.5),
    ("cost_per_kbit", INF), ("cost_per_kbit", NAN), ("cost_per_kbit", -1.0),
    ("cost_per_kbit", 1e300), ("cost_per_kbit", "1"),
])
def test_link_env_refuses_bad_settings(table, name, value):
    with pytest.raises(EnvError, match=f"^{name}: must be"):
        LinkEnv(table, awgn(), PHY, **{"frames": 5, name: value})


def test_settings_take_numpy_values_and_integral_floats(table):
    env = LinkEnv(table, awgn(), PHY, frames=5.0, history=np.int64(2), seed=np.int64(3),
                  cost_per_kbit=np.float32(0.5), deadline_frames=2.0)
    obs, _ = env.reset(seed=np.int64(1))
    assert obs.shape == env.observation_space.shape
    assert env.step(np.int64(1))[0].shape == obs.shape
    assert env.step(np.array([2]))[0].shape == obs.shape


@pytest.mark.parametrize("seed", [1.5, -2, NAN])
def test_reset_refuses_a_bad_seed(table, seed):
    env = LinkEnv(table, awgn(), PHY, frames=5)
    with pytest.raises(EnvError, match="^seed: must be an integer >= 0"):
        env.reset(seed=seed)
    with pytest.raises(EnvError, match="^seed: must be an integer >= 0"):
        LinkBatch(table, awgn(), PHY, frames=5).reset(seed)


@pytest.mark.parametrize("action", [[0, 1], np.zeros((2, 2), dtype=int), []])
def test_link_env_step_wants_one_action(table, action):
    env = LinkEnv(table, awgn(), PHY, frames=5)
    env.reset(seed=0)
    with pytest.raises(EnvError, match=r"^action: expected one menu index in \[0, 15\)"):
        env.step(action)


def test_link_env_is_one_link(table):
    with pytest.raises(EnvError, match="^num_links: LinkEnv is one link"):
        LinkEnv(table, awgn(), PHY, frames=5, num_links=3)
    assert LinkEnv(table, awgn(), PHY, frames=5, num_links=1).batch.num_links == 1


def test_vec_env_takes_num_envs_not_num_links(table):
    with pytest.raises(EnvError, match="^num_links: VecLinkEnv takes the number of links as "
                                       "num_envs"):
        VecLinkEnv(table, awgn(), PHY, num_envs=2, frames=5, num_links=3)


def test_vec_env_reset_takes_one_seed(table):
    env = VecLinkEnv(table, awgn(), PHY, num_envs=3, frames=5)
    with pytest.raises(EnvError, match="^seed: one seed for all 3 links"):
        env.reset(seed=[1, 2, 3])
    with pytest.raises(EnvError, match="^seed: must be an integer"):
        env.reset(seed=[1.5])
    a, _ = env.reset(seed=[7])
    b, _ = env.reset(seed=7)
    np.testing.assert_array_equal(a, b)


def test_nr_capacity_observation_is_unknown_before_the_first_estimate(table):
    """The NR link model is evaluated only where the CSI has an SNR estimate: a delayed CSI's
    first frame is unknown (as with Shannon), not a capacity of 0 bits."""
    for phy in (PHY, NRPHY(num_allocated_re=1500)):
        batch = LinkBatch(table, awgn(), phy, num_links=2, frames=6, csi="delayed",
                          observation=("capacity",))
        assert np.isnan(batch._est_cap[0, 0]) and np.isfinite(batch._est_cap[0, 1:]).all()
