"""Coding-rate terms against closed forms and against the official per-class loop."""

from __future__ import annotations

import math

import pytest
import torch

from commsldr.losses import class_coding_rate, coding_rate, ldr_loss, ldr_ssl_loss, logdet_spd


def _orthonormal_columns(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, d, generator=g, dtype=torch.float64))
    return q  # [n, d], qᵀq = I_d


def _reference_rates(z: torch.Tensor, labels: torch.Tensor, k: int, eps_sq: float):
    """The official MCR² code (Yu et al. 2020), W = Zᵀ, with Π matrices and a loop over classes."""
    w = z.double().T
    p, m = w.shape
    eye = torch.eye(p, dtype=torch.float64)
    rate = torch.logdet(eye + p / (m * eps_sq) * w @ w.T) / 2.0
    pi = torch.zeros(k, m, m, dtype=torch.float64)
    pi[labels, torch.arange(m), torch.arange(m)] = 1.0
    rc = torch.zeros((), dtype=torch.float64)
    for j in range(k):
        tr = torch.trace(pi[j]) + 1e-8
        rc = rc + torch.logdet(eye + p / (tr * eps_sq) * w @ pi[j] @ w.T) * tr / m
    return rate, rc / 2.0


@pytest.mark.parametrize("n,d", [(64, 8), (200, 32)])
@pytest.mark.parametrize("eps_sq", [0.5, 0.01])
def test_rate_orthonormal_columns_closed_form(n, d, eps_sq):
    # ZᵀZ = I_d  =>  R = ½ d log(1 + d/(ε² N)); exercises the d×d form (N ≥ d)
    z = _orthonormal_columns(n, d, seed=1)
    expected = 0.5 * d * math.log1p(d / (eps_sq * n))
    assert float(coding_rate(z, eps_sq)) == pytest.approx(expected, rel=1e-12)
    assert float(coding_rate(z.float(), eps_sq)) == pytest.approx(expected, rel=1e-5)


def test_rate_orthonormal_rows_closed_form_uses_small_gram():
    # N < d: Z Zᵀ = I_N  =>  R = ½ N log(1 + d/(ε² N)); exercises the n×n (Sylvester) form
    n, d, eps_sq = 6, 40, 0.5
    z = _orthonormal_columns(d, n, seed=2).T.contiguous()  # [n, d] with orthonormal rows
    expected = 0.5 * n * math.log1p(d / (eps_sq * n))
    assert float(coding_rate(z, eps_sq)) == pytest.approx(expected, rel=1e-12)


def test_identical_features_closed_form_and_zero_loss_for_one_class():
    d, n, eps_sq = 16, 50, 0.5
    u = torch.nn.functional.normalize(torch.arange(1.0, d + 1), dim=0)
    z = u.expand(n, d).clone()
    expected = 0.5 * math.log1p(d / eps_sq)  # logdet(I + d/(ε²N) · N uuᵀ) = log(1 + d/ε²)
    assert float(coding_rate(z, eps_sq)) == pytest.approx(expected, rel=1e-5)
    terms = ldr_loss(z, torch.zeros(n, dtype=torch.long), num_classes=1, eps_sq=eps_sq)
    assert float(terms.class_rate) == pytest.approx(expected, rel=1e-5)
    assert abs(float(terms.loss)) < 1e-5


@pytest.mark.parametrize("n,d,k", [(120, 16, 10), (40, 64, 5), (300, 128, 10)])
def test_batched_class_rate_equals_per_class_loop(n, d, k):
    g = torch.Generator().manual_seed(n + d)
    z = torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)
    labels = torch.randint(0, k - 1, (n,), generator=g)  # class k-1 absent
    labels[0] = k - 2  # make sure class k-2 exists …
    labels[labels == k - 2] = 0
    labels[0] = k - 2  # … with exactly one sample
    rate_ref, rc_ref = _reference_rates(z, labels, k, eps_sq=0.5)
    assert float(coding_rate(z, 0.5)) == pytest.approx(float(rate_ref), rel=1e-10)
    assert float(class_coding_rate(z, labels, k, 0.5)) == pytest.approx(float(rc_ref), rel=1e-7)
    # float32 path agrees to float32 accuracy
    rc32 = class_coding_rate(z.float(), labels, k, 0.5)
    assert rc32.dtype == torch.float32
    assert float(rc32) == pytest.approx(float(rc_ref), rel=1e-4)


def test_permutation_invariance():
    g = torch.Generator().manual_seed(3)
    z = torch.nn.functional.normalize(torch.randn(90, 12, generator=g, dtype=torch.float64), dim=1)
    labels = torch.randint(0, 7, (90,), generator=g)
    perm = torch.randperm(90, generator=g)
    a = ldr_loss(z, labels, 7)
    b = ldr_loss(z[perm], labels[perm], 7)
    assert float(a.loss) == pytest.approx(float(b.loss), rel=1e-12)


def test_degenerate_batches_give_finite_values_and_gradients():
    d = 8
    cases = {
        "one sample per class": (torch.randn(5, d), torch.arange(5), 10),
        "single sample": (torch.randn(1, d), torch.tensor([3]), 10),
        "identical features": (torch.ones(20, d), torch.arange(20) % 4, 4),
        "all zero features": (torch.zeros(10, d), torch.arange(10) % 2, 2),
    }
    for name, (z, labels, k) in cases.items():
        z = z.clone().requires_grad_(True)
        terms = ldr_loss(z, labels, k)
        assert torch.isfinite(terms.loss), name
        terms.loss.backward()
        assert torch.isfinite(z.grad).all(), name


def test_gradcheck_rates():
    g = torch.Generator().manual_seed(4)
    z = torch.randn(12, 5, generator=g, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 4, 4])  # class 3 absent
    assert torch.autograd.gradcheck(lambda t: coding_rate(t, 0.5), (z,))
    assert torch.autograd.gradcheck(lambda t: class_coding_rate(t, labels, 5, 0.5), (z,))
    assert torch.autograd.gradcheck(lambda t: ldr_loss(t, labels, 5).loss, (z,))
    zs = torch.randn(6, 9, generator=g, dtype=torch.float64, requires_grad=True)  # n < d form
    assert torch.autograd.gradcheck(lambda t: class_coding_rate(t, torch.tensor([0, 1] * 3), 2), (zs,))


def test_logdet_spd_matches_slogdet_and_falls_back():
    g = torch.Generator().manual_seed(5)
    a = torch.randn(3, 6, 6, generator=g, dtype=torch.float64)
    spd = torch.eye(6, dtype=torch.float64) + a @ a.transpose(1, 2)
    torch.testing.assert_close(logdet_spd(spd), torch.linalg.slogdet(spd).logabsdet)
    # not positive definite (Cholesky fails) but det = 4 > 0: the slogdet fallback answers log 4
    bad = torch.diag(torch.tensor([-1.0, -4.0], dtype=torch.float64)).unsqueeze(0)
    assert float(logdet_spd(bad)[0]) == pytest.approx(math.log(4.0))


def test_half_precision_input_computed_in_float32():
    z = torch.nn.functional.normalize(torch.randn(64, 16), dim=1)
    labels = torch.arange(64) % 4
    ref = ldr_loss(z, labels, 4)
    half = ldr_loss(z.to(torch.bfloat16), labels, 4)
    assert half.loss.dtype == torch.float32
    assert float(half.loss) == pytest.approx(float(ref.loss), abs=0.05)


def test_ssl_loss_with_perfectly_invariant_views():
    # n identical views per image: every group has Rc-term log(1 + d/ε²), so Rc = ½ log(1 + d/ε²)
    b, n_views, d, eps_sq = 8, 3, 16, 0.5
    base = _orthonormal_columns(d, b, seed=6).T.float()  # B orthonormal unit vectors
    z = base.repeat(n_views, 1)  # view-major like make_views: [n·B, d]
    view_labels = torch.arange(b).repeat(n_views)
    terms = ldr_ssl_loss(z, view_labels, eps_sq=eps_sq)
    assert float(terms.class_rate) == pytest.approx(0.5 * math.log1p(d / eps_sq), rel=1e-5)
    # ZᵀZ = n·Σ u_i u_iᵀ (rank B projector times n): R = ½ B log(1 + d n/(ε² n B))
    expected_rate = 0.5 * b * math.log1p(d / (eps_sq * b))
    assert float(terms.rate) == pytest.approx(expected_rate, rel=1e-5)


def test_bad_inputs_name_the_parameter():
    z = torch.randn(10, 4)
    with pytest.raises(ValueError, match="eps_sq"):
        coding_rate(z, eps_sq=0.0)
    with pytest.raises(ValueError, match="labels"):
        class_coding_rate(z, torch.zeros(9, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="num_classes"):
        class_coding_rate(z, torch.full((10,), 5), 3)
    with pytest.raises(TypeError, match="labels"):
        class_coding_rate(z, torch.zeros(10), 3)
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        coding_rate(torch.randn(3, 4, 5))
