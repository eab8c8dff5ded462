"""EntropyBottleneck: closed forms (logistic prior), CDF monotonicity, rate estimate vs real
coded bits (within the range coder's overhead), round trips through the source coder."""

import math

import numpy as np
import pytest
import torch

from commsldr.coding.bottleneck import EB_RULE, EntropyBottleneck, FactorizedPrior


def _random_prior(seed: int, channels: int = 5, spread: float = 3.0) -> FactorizedPrior:
    g = torch.Generator().manual_seed(seed)
    prior = FactorizedPrior(channels)
    with torch.no_grad():
        for p in prior.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * spread)
    return prior


def _logistic(channels: int, loc: list[float], scale: list[float]) -> EntropyBottleneck:
    """A bottleneck whose prior has no hidden layers: c(x) = sigmoid((x - loc) / scale)."""
    eb = EntropyBottleneck(channels, [0.1], filters=())
    prior = eb.priors[0]
    with torch.no_grad():
        inv = torch.tensor([1.0 / s for s in scale])
        prior.matrices[0].copy_(torch.log(torch.expm1(inv)).view(channels, 1, 1))
        prior.biases[0].copy_((-torch.tensor(loc) * inv).view(channels, 1, 1))
    return eb.eval()


@pytest.mark.parametrize("seed", range(6))
def test_cdf_is_monotone_and_a_distribution(seed):
    prior = _random_prior(seed).double()
    x = torch.linspace(-200, 200, 4001, dtype=torch.float64)[:, None].expand(-1, 5).contiguous()
    with torch.no_grad():
        c = torch.sigmoid(prior.cdf_logits(x))
        p = prior.likelihood(torch.arange(-400, 401, dtype=torch.float64)[:, None]
                             .expand(-1, 5).contiguous())
    assert (c.diff(dim=0) >= 0).all()
    assert (c >= 0).all() and (c <= 1).all()
    # the bin masses of all integers add up to the mass inside [-400.5, 400.5]
    edges = torch.tensor([[-400.5], [400.5]], dtype=torch.float64).expand(-1, 5).contiguous()
    with torch.no_grad():
        inside = torch.sigmoid(prior.cdf_logits(edges)).diff(dim=0)[0]
    torch.testing.assert_close(p.sum(0), inside, rtol=1e-9, atol=1e-9)


def test_logistic_prior_closed_form():
    loc, scale = [0.3, -2.0, 5.0], [0.7, 2.0, 10.0]
    eb = _logistic(3, loc, scale)
    x = torch.arange(-30, 31, dtype=torch.float32)[:, None].expand(-1, 3).contiguous()
    with torch.no_grad():
        p = eb.priors[0].likelihood(x).double()
    sig = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    xs = x.double().numpy()
    want = sig((xs + 0.5 - np.array(loc)) / np.array(scale)) - sig((xs - 0.5 - np.array(loc)) / np.array(scale))
    np.testing.assert_allclose(p.numpy(), want, rtol=1e-4, atol=1e-7)


def test_eval_rate_equals_codec_information_and_coded_bits_within_overhead():
    eb = _logistic(4, [0.0, 1.5, -3.0, 0.2], [0.4, 3.0, 12.0, 1.0])
    with torch.no_grad():
        eb.log_gains.copy_(torch.log(torch.tensor([[2.0, 1.0, 0.5, 4.0]])))
    g = torch.Generator().manual_seed(1)
    y = torch.randn(400, 4, generator=g) * torch.tensor([1.0, 4.0, 20.0, 0.3])
    coder = eb.source_coder(0)
    q = coder.symbols(y)
    with torch.no_grad():
        y_hat, est = eb(y, torch.zeros(400, dtype=torch.int64))
    # what the server gets is the coder's reconstruction q / g
    torch.testing.assert_close(y_hat, coder.latents(q), rtol=0, atol=1e-6)
    info = coder.codec.information_bits(q.numpy())
    np.testing.assert_allclose(est.double().numpy(), info, rtol=1e-5, atol=1e-4)
    coded = coder.image_bits(y).astype(np.float64)
    over = coded - info
    # a message costs its information content + at most ~1 bit + byte rounding (codec docs),
    # the 24-bit fixed-point probabilities add well under a bit here
    assert over.max() <= 1.0 + 8.0 + 0.5
    assert 0.0 <= over.mean() <= 8.0


@pytest.mark.parametrize("scale", [15.0, 40.0])
def test_training_rate_estimate_matches_real_coded_bits(scale):
    """Latents drawn from the prior itself (logistic, wide): the training estimate (noisy latent)
    and the test-time information of the rounded latent agree in expectation up to
    O(1 / scale^2); the real coded bits exceed them by the codec's overhead only."""
    k, n = 3, 3000
    eb = _logistic(k, [0.0, 4.0, -7.0], [scale] * k)
    g = torch.Generator().manual_seed(7)
    u = torch.rand(n, k, generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    y = (torch.tensor([0.0, 4.0, -7.0]) + scale * torch.log(u / (1 - u))).float()
    idx = torch.zeros(n, dtype=torch.int64)
    eb.train()
    with torch.no_grad():
        _, noisy = eb(y, idx, generator=torch.Generator().manual_seed(3))
    eb.eval()
    with torch.no_grad():
        _, rounded = eb(y, idx)
    coded = eb.source_coder(0).image_bits(y).astype(np.float64)
    se = float(noisy.double().std()) / math.sqrt(n)
    assert abs(float(noisy.double().mean()) - float(rounded.double().mean())) < 5 * se + 0.01
    over = coded.mean() - float(noisy.double().mean())
    assert -5 * se <= over <= 8.0 + 5 * se


def test_source_coder_round_trip_and_escape():
    eb = _logistic(3, [0.0, 0.0, 0.0], [0.5, 2.0, 5.0])
    with torch.no_grad():
        eb.log_gains.copy_(torch.log(torch.tensor([[3.0, 1.0, 0.25]])))
    coder = eb.source_coder(0)
    assert coder.rule == EB_RULE and coder.scale_index == 0 and coder.scale == 0.1
    torch.testing.assert_close(coder.quantizer.step_sizes,
                               torch.tensor([1 / 3.0, 1.0, 4.0], dtype=torch.float64))
    y = torch.tensor([[0.1, -1.7, 9.0], [1e4, 0.0, -3.0], [-2.0, 3.3, 0.0]])  # 1e4: escape
    q = coder.symbols(y)
    payload = coder.encode(y)
    back = coder.codec.decode(payload, 3, verify=True)
    assert torch.equal(back, q)
    torch.testing.assert_close(coder.decode(payload, 3), coder.latents(q))


def test_support_holds_all_but_the_tail_mass():
    eb = _logistic(2, [0.0, 10.0], [1.0, 30.0])
    lo, size, table = eb.discretised(0)
    mass = table[np.arange(2)[:, None], np.arange(table.shape[1] - 1)[None, :]]
    inside = [mass[i, : size[i]].sum() for i in range(2)]
    np.testing.assert_allclose(inside, 1.0, atol=3e-9)
    assert (table[:, -1] >= 1e-9).all()
    # the support is not wider than needed: 1e-9 tails of a logistic sit at |x| ~ 20.7 s
    assert size[0] <= 2 * 21 + 3 and size[1] <= 2 * 21 * 30 + 3


def test_bad_index_and_shapes_are_rejected():
    eb = EntropyBottleneck(4, [0.1, 0.2])
    with pytest.raises(ValueError, match="index"):
        eb(torch.zeros(2, 4), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="shape"):
        eb(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="lambdas"):
        EntropyBottleneck(4, [])
    with pytest.raises(ValueError, match="rate"):
        eb.source_coder(5)
