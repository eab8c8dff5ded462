"""The link as a Gymnasium environment: API conformance, seeding, rewards against the table,
vectorised = one-by-one, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from commsldr.adapt.features import ObservationError  # noqa: E402
from commsldr.env import EnvError, LinkBatch, LinkEnv, VecLinkEnv  # noqa: E402
from commsldr.link.nr import NRPHY  # noqa: E402
from commsldr.link.phy import ShannonPHY  # noqa: E402
from commsldr.link.synthetic_table import synthetic_table  # noqa: E402
from commsldr_channels import LinkState, create_channel, get_channel_class  # noqa: E402

PHY = ShannonPHY(bandwidth_hz=1e5, frame_s=1e-3)


@pytest.fixture(scope="module")
def table():
    return synthetic_table(num_images=200, images_per_packet=(1, 2))


def doppler():
    return create_channel("doppler-fading", mean_snr_db=10.0, speed_mps=3.0, carrier_hz=3.5e9,
                          frame_s=1e-3)


@pytest.mark.parametrize("observation", [("ack", "action"), ("ack", "snr_db", "capacity", "queue")])
def test_check_env_passes(table, observation):
    env = LinkEnv(table, doppler(), PHY, frames=50, observation=observation, csi="noisy",
                  deadline_frames=2)
    check_env(env, skip_render_check=True)


def test_same_seed_same_episode_and_other_seed_differs(table):
    def episode(seed):
        env = LinkEnv(table, doppler(), PHY, frames=100)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        rng = np.random.default_rng(1)
        for _ in range(100):
            obs, r, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
            out.append(np.append(obs, r))
        assert trunc and not term
        return np.concatenate(out)

    assert np.array_equal(episode(3), episode(3))
    assert not np.array_equal(episode(3), episode(4))


class _Constant:
    """A channel with a known constant SNR (its frame capacity follows from Shannon)."""

    def __init__(self, snr_db):
        self.snr_db = snr_db

    def states(self, num_frames, *, generator):
        return LinkState(snr_db=torch.full((num_frames,), float(self.snr_db)))


@pytest.mark.parametrize("snr_db", [-5.0, 3.0, 8.0, 30.0])
def test_reward_is_the_tables_correct_count_when_the_packet_fits(table, snr_db):
    """Shannon: delivered iff bits <= B·T·log2(1 + SNR); the reward is the group's correct count."""
    batch = LinkBatch(table, _Constant(snr_db), PHY, num_links=3, frames=60, seed=2)
    cap = PHY.capacity_bits(snr_db)
    groups, pbits = table.packets(1)
    rng = np.random.default_rng(0)
    for _ in range(60):
        a = rng.integers(0, len(table), size=3)
        g = batch.current_groups.copy()
        _, reward, _, info = batch.step(a)
        bits = pbits[a, g]
        assert np.array_equal(info["delivered"], bits <= cap)
        expect = np.where(bits <= cap, table.correct[a, groups[g, 0]], 0)
        assert np.array_equal(reward, expect.astype(float))


def test_vectorised_equals_its_links_stepped_alone(table):
    """Link i of a batch sees frames [i·F, (i+1)·F) of one realisation: stepping the batch gives
    the same outcomes as delivering those frames one link at a time."""
    batch = LinkBatch(table, doppler(), PHY, num_links=4, frames=30, seed=5)
    cap = PHY.frame_capacity_bits(batch.states).reshape(4, 30)
    _, pbits = table.packets(1)
    rng = np.random.default_rng(1)
    for t in range(30):
        a = rng.integers(0, len(table), size=4)
        g = batch.current_groups.copy()
        _, _, _, info = batch.step(a)
        for i in range(4):
            assert info["delivered"][i] == (pbits[a[i], g[i]] <= cap[i, t])


def test_retransmission_until_deadline_then_fallback(table):
    """deadline_frames=3: a packet that never fits is sent 3 times, then dropped with the prior
    class as its fallback decision."""
    batch = LinkBatch(table, _Constant(-30.0), PHY, frames=9, deadline_frames=3, fallback="prior",
                      observation=("queue", "ack"), history=3)
    groups, _ = table.packets(1)
    for t in range(9):
        g = int(batch.current_groups[0])
        obs, reward, _, info = batch.step([0])
        assert not info["delivered"][0]
        assert info["dropped"][0] == (t % 3 == 2)
        prior = float(table.labels[groups[g, 0]] == table.prior_class)
        assert reward[0] == (prior if t % 3 == 2 else 0.0)
        assert obs[0, -1] == pytest.approx(((t + 1) % 3) / 3)  # queue: tries / deadline
        assert list(obs[0, :3]) == [-1.0] * min(t + 1, 3) + [0.0] * (3 - min(t + 1, 3))


def test_cost_per_kbit(table):
    batch = LinkBatch(table, _Constant(40.0), PHY, num_links=2, frames=5, cost_per_kbit=2.0)
    _, pbits = table.packets(1)
    g = batch.current_groups.copy()
    _, reward, _, info = batch.step([1, 2])
    corr = table.correct[[1, 2], table.packets(1)[0][g, 0]].astype(float)
    assert np.allclose(reward, corr - 2.0 * pbits[[1, 2], g] / 1000.0)


def test_vector_env_autoresets_and_keeps_bounds(table):
    env = VecLinkEnv(table, doppler(), PHY, num_envs=8, frames=5)
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
    assert trunc.all() and not term.any() and "final_obs" in info


def test_other_phys_back_it(table):
    nr = NRPHY(num_allocated_re=100, link_adaptation="illa")
    batch = LinkBatch(table, doppler(), nr, num_links=4, frames=20, csi="delayed")
    for _ in range(20):
        _, r, _, info = batch.step(np.zeros(4, dtype=int))
        assert r.shape == (4,)


def test_bad_action_and_unavailable_observation_give_clear_errors(table):
    env = LinkEnv(table, doppler(), PHY, frames=10)
    env.reset(seed=0)
    with pytest.raises(EnvError, match=r"action: menu index 15 is out of range.*indices 0\.\.14"):
        env.step(15)
    with pytest.raises(EnvError, match="action"):
        env.step(1.5)
    with pytest.raises(ObservationError, match="unknown key 'snr'.*did you mean 'snr_db'"):
        LinkEnv(table, doppler(), PHY, observation=("snr",))
    with pytest.raises(ObservationError, match="'snr_db' needs an SNR estimate"):
        LinkEnv(table, doppler(), PHY, observation=("snr_db",))  # no CSI model
    params = {**get_channel_class("trace-csv").example_params(), "mean_bits_per_frame": 300.0}
    trace = create_channel("trace-csv", **params)
    with pytest.raises(ObservationError, match="'snr_db' needs an SNR estimate"):
        LinkEnv(table, trace, PHY, observation=("snr_db",), csi="perfect")
    LinkEnv(table, trace, PHY, observation=("capacity",), csi="perfect")  # a trace gives capacity
    with pytest.raises(EnvError, match="csi: 'ack-nack' is the environment's own feedback"):
        LinkEnv(table, doppler(), PHY, csi="ack-nack")
    olla_nr = NRPHY(num_allocated_re=100, link_adaptation="olla")
    with pytest.raises(EnvError, match="phy: NRPHY keeps memory"):
        LinkEnv(table, doppler(), olla_nr)
