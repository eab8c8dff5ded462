"""CSI models: exact shifts, error statistics with sample-size tolerances, the ACK/NACK loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr.adapt import create_csi_model, list_csi_models
from commsldr_channels import LinkState


def _state(n=20000, seed=0, cap=False):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, generator=g) * 30 - 5).float()
    return LinkState(capacity_bits=x.abs() * 100 + 1) if cap else LinkState(snr_db=x)


def _observe(model, state, seed=0):
    model.reset(state, np.random.default_rng(seed))
    return [model.observe(t) for t in range(len(state))]


def test_names():
    assert list_csi_models() == ["ack-nack", "delayed", "noisy", "perfect"]
    with pytest.raises(ValueError, match="unknown CSI model 'exact'.*perfect"):
        create_csi_model("exact")
    with pytest.raises(ValueError, match="unknown parameter 'delay'.*delay_frames"):
        create_csi_model("delayed", delay=2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="delay_frames"):
            create_csi_model("delayed", delay_frames=bad)
    with pytest.raises(ValueError, match="std_db"):
        create_csi_model("noisy", std_db=-1.0)
    with pytest.raises(ValueError, match="target_loss"):
        create_csi_model("ack-nack", target_loss=1.0)


def test_perfect_is_exact():
    s = _state(100)
    obs = _observe(create_csi_model("perfect"), s)
    assert [o.snr_db for o in obs] == s.snr_db.double().tolist()
    assert all(o.capacity_bits is None and o.snr_std_db == 0 for o in obs)


def test_delayed_is_an_exact_shift():
    s = _state(50)
    obs = _observe(create_csi_model("delayed", delay_frames=3), s)
    assert all(o.snr_db is None for o in obs[:3])
    assert [o.snr_db for o in obs[3:]] == s.snr_db[:-3].double().tolist()


def test_delayed_shifts_erasures_too():
    e = torch.zeros(10, dtype=torch.bool)
    e[4] = True
    m = create_csi_model("delayed", delay_frames=2)
    obs = _observe(m, LinkState(snr_db=torch.zeros(10), erased=e))
    assert [o.erased for o in obs] == [t == 6 for t in range(10)]


def test_noisy_error_statistics():
    """e = snr_hat − snr ~ N(0, σ²): sample mean within 5σ/√n, sample std within 5σ/√(2n)."""
    n, sigma = 20000, 2.0
    s = _state(n)
    obs = _observe(create_csi_model("noisy", std_db=sigma), s, seed=3)
    err = np.array([o.snr_db for o in obs]) - s.snr_db.double().numpy()
    assert abs(err.mean()) < 5 * sigma / math.sqrt(n)
    assert abs(err.std() - sigma) < 5 * sigma / math.sqrt(2 * n)
    assert all(o.snr_std_db == sigma for o in obs[:5])
    # the same generator seed gives the same estimates, another seed other ones
    again = _observe(create_csi_model("noisy", std_db=sigma), s, seed=3)
    other = _observe(create_csi_model("noisy", std_db=sigma), s, seed=4)
    assert [o.snr_db for o in again] == [o.snr_db for o in obs]
    assert [o.snr_db for o in other] != [o.snr_db for o in obs]


def test_noisy_capacity_only_is_a_db_error():
    n, sigma = 20000, 1.5
    s = _state(n, cap=True)
    obs = _observe(create_csi_model("noisy", std_db=sigma), s, seed=1)
    err_db = 10 * np.log10(np.array([o.capacity_bits for o in obs]) / s.capacity_bits.double().numpy())
    assert abs(err_db.std() - sigma) < 5 * sigma / math.sqrt(2 * n)


@pytest.mark.parametrize("target", [0.05, 0.1, 0.3])
def test_ack_nack_loop_settles_at_the_target_loss(target):
    """Sender transmits Ĉ bits over a constant capacity C: the loss fraction → target.

    Each NACK costs `step`, each ACK gains `step·t/(1−t)`; over N frames the net drift is bounded
    by one step, so |loss − t| ≤ (1/(1−t))/N + the start-up transient.
    """
    m = create_csi_model("ack-nack", step_db=0.5, target_loss=target)
    capacity = 5000.0
    m.reset(LinkState(capacity_bits=torch.full((1,), capacity)), np.random.default_rng(0))
    assert m.observe(0).capacity_bits is None and m.observe(0).ack is None
    sent, losses, n = 100.0, 0, 20000
    for t in range(n):
        c = m.observe(t).capacity_bits
        sent = sent if c is None else c
        ok = sent <= capacity
        losses += not ok
        m.feedback(ok, sent)
        assert m.observe(t + 1).ack is ok
    assert abs(losses / n - target) < 0.01


def test_state_without_fields_is_rejected():
    class Empty:
        snr_db = capacity_bits = erased = None

    with pytest.raises(ValueError, match="snr_db, capacity_bits, erased"):
        create_csi_model("perfect").reset(Empty(), np.random.default_rng(0))


def _long_term_mean_db(snr_db):
    return 10 * math.log10(float(np.mean(10 ** (np.asarray(snr_db, dtype=np.float64) / 10))))


def test_transmitter_snr_is_what_the_policy_sees_with_gaps_filled():
    """transmitter_snr_db(): the estimates observe() gives, each frame without one filled with the
    last known estimate, or the trace's long-term average SNR before any (closed form)."""
    s = _state(60)
    snr = s.snr_db.double().numpy()
    mean_db = _long_term_mean_db(snr)
    # perfect: the true SNR, bit for bit
    m = create_csi_model("perfect")
    m.reset(s, np.random.default_rng(0))
    assert np.array_equal(m.transmitter_snr_db(), snr)
    # noisy: exactly the estimates the policy sees
    m = create_csi_model("noisy", std_db=2.0)
    obs = _observe(m, s, seed=5)
    assert m.transmitter_snr_db().tolist() == [o.snr_db for o in obs]
    # delayed: the shift, and the long-term average before the first report
    m = create_csi_model("delayed", delay_frames=4)
    m.reset(s, np.random.default_rng(0))
    est = m.transmitter_snr_db()
    assert np.array_equal(est[4:], snr[:-4])
    assert np.allclose(est[:4], mean_db, rtol=0, atol=1e-12)
    # ACK/NACK only: no SNR report ever, so the long-term average in every frame
    m = create_csi_model("ack-nack")
    m.reset(s, np.random.default_rng(0))
    m.feedback(False, 1000.0)
    assert np.allclose(m.transmitter_snr_db(), mean_db, rtol=0, atol=1e-12)


def test_transmitter_snr_forward_fills_and_needs_an_snr():
    class Gappy(create_csi_model("perfect").__class__):
        def _estimate(self, snr, cap, generator):
            out = snr.copy()
            out[[0, 1, 5, 6, 9]] = np.nan
            return out, cap

    s = LinkState(snr_db=torch.arange(10, dtype=torch.float32))
    m = Gappy()
    m.reset(s, np.random.default_rng(0))
    mean_db = _long_term_mean_db(np.arange(10))
    assert np.allclose(m.transmitter_snr_db(),
                       [mean_db, mean_db, 2, 3, 4, 4, 4, 7, 8, 8], rtol=0, atol=1e-12)
    # a capacity trace has no SNR to adapt to
    for name in ("perfect", "noisy", "ack-nack"):
        m = create_csi_model(name)
        m.reset(_state(10, cap=True), np.random.default_rng(0))
        assert m.transmitter_snr_db() is None


@pytest.mark.parametrize(("name", "key", "bad"), [
    ("noisy", "std_db", 100.5), ("noisy", "std_db", 1e15), ("ack-nack", "step_db", 1e15),
    ("ack-nack", "step_db", 0.0)])
def test_db_spreads_are_bounded(name, key, bad):
    with pytest.raises(ValueError, match=rf"^{key} must be a number in .*100\] dB"):
        create_csi_model(name, **{key: bad})
    create_csi_model(name, **{key: 100.0})


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_ack_nack_estimate_stays_finite_on_a_link_that_always_acks():
    """target_loss near 1 makes every ACK raise the estimate by step * 0.999999 / 1e-6 dB."""
    m = create_csi_model("ack-nack", step_db=100.0, target_loss=0.999999)
    m.reset(LinkState(snr_db=torch.zeros(60)), np.random.default_rng(0))
    for t in range(60):
        cap = m.observe(t).capacity_bits
        assert cap is None or (math.isfinite(cap) and cap <= 1e300)
        m.feedback(True, 1000.0)
    assert m.observe(59).capacity_bits == 1e300
    m = create_csi_model("ack-nack", step_db=100.0, target_loss=0.5)  # and down: NACKs
    m.reset(LinkState(snr_db=torch.zeros(60)), np.random.default_rng(0))
    for _ in range(40):
        m.feedback(False, 1000.0)
    assert m.observe(59).capacity_bits == pytest.approx(1e-300, rel=1e-12)
