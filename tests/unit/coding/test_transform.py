"""The KLT before quantization (commsldr.coding.transform): closed forms and the coder round trip."""

from __future__ import annotations

import math

import pytest
import torch

from commsldr.coding import (
    KLTransform,
    bits_increase_with_scale,
    decode_packet,
    encode_images,
    fit_klt,
    latent_stats_from_latents,
    make_source_coder,
    scale_for_budget,
    solve_scale_for_budget,
)


def _gaussian(cov: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    chol = torch.linalg.cholesky(cov)
    return torch.randn(n, cov.shape[0], generator=g, dtype=torch.float64) @ chol.T + 0.5


def _rotation(d: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return q


def test_fit_recovers_a_known_covariance():
    lam = torch.tensor([9.0, 4.0, 1.0, 0.25], dtype=torch.float64)
    rot = _rotation(4)
    klt = KLTransform.fit(_gaussian(rot @ torch.diag(lam) @ rot.T, 200_000))
    assert klt.variances == pytest.approx(lam.tolist(), rel=0.02)
    assert torch.allclose(klt.basis.T @ klt.basis, torch.eye(4, dtype=torch.float64), atol=1e-12)
    # each fitted axis is the true one up to sign (the eigenvalues are well separated)
    assert (klt.basis.T @ rot).abs().diagonal().min() > 0.99
    assert klt.mean == pytest.approx([0.5] * 4, abs=0.02)


def test_coefficients_are_uncorrelated_and_the_round_trip_is_exact():
    rot = _rotation(6)
    cov = rot @ torch.diag(torch.tensor([5.0, 3, 2, 1, 0.5, 0.1], dtype=torch.float64)) @ rot.T
    y = _gaussian(cov, 5000)
    klt = KLTransform.fit(y)
    c = klt.forward(y)
    c_cov = torch.cov(c.T)
    off = c_cov - torch.diag(c_cov.diagonal())
    assert off.abs().max() < 1e-10 * c_cov.diagonal().max()
    assert torch.allclose(c_cov.diagonal(), klt.variances, rtol=1e-10)
    assert torch.allclose(c.mean(0), torch.zeros(6, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(klt.inverse(c), y, atol=1e-12)
    assert klt.forward(y.float()).dtype == torch.float32


def test_the_transform_does_not_depend_on_sample_order_or_solver_signs():
    y = _gaussian(torch.tensor([[2.0, 1.2, 0.3], [1.2, 1.5, 0.2], [0.3, 0.2, 0.4]],
                               dtype=torch.float64), 3000)
    a = KLTransform.fit(y)
    b = KLTransform.fit(y[torch.randperm(len(y), generator=torch.Generator().manual_seed(3))])
    assert torch.allclose(a.basis, b.basis, atol=1e-9)
    # every column's largest entry is positive
    assert bool((a.basis.gather(0, a.basis.abs().argmax(0, keepdim=True)) > 0).all())


def test_to_dict_round_trip_and_bad_input():
    klt = KLTransform.fit(_gaussian(torch.eye(3, dtype=torch.float64), 100))
    back = KLTransform.from_dict(klt.to_dict())
    assert torch.equal(back.basis, klt.basis) and torch.equal(back.variances, klt.variances)
    with pytest.raises(ValueError, match="orthonormal"):
        KLTransform(klt.mean, 2 * klt.basis, klt.variances)
    with pytest.raises(ValueError, match="basis"):
        KLTransform(klt.mean, klt.basis[:2], klt.variances)
    with pytest.raises(KeyError, match="basis"):
        KLTransform.from_dict({"mean": [0.0], "variances": [1.0]})
    with pytest.raises(ValueError, match=r"\[m, 3\]"):
        klt.forward(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="N >= 2"):
        KLTransform.fit(torch.zeros(1, 3))


def test_a_coder_with_the_transform_hands_back_latents():
    rot = _rotation(5)
    y = _gaussian(rot @ torch.diag(torch.tensor([4.0, 2, 1, 0.5, 0.2], dtype=torch.float64))
                  @ rot.T, 4000).float()
    klt, cstats = fit_klt(y)
    coder = make_source_coder(cstats, 0.3, rule="waterfill", transform=klt, scale_index=2)
    part = y[:7]
    assert torch.allclose(coder.decode(coder.encode(part), 7), coder.reconstruct(part))
    assert torch.allclose(coder.reconstruct(part),
                          klt.inverse(coder.quantizer.dequantize(coder.quantizer.quantize(
                              klt.forward(part)))))
    bits = coder.image_bits(part)
    assert bits.tolist() == [8 * len(coder.encode(part[i:i + 1])) for i in range(7)]
    rx = decode_packet(encode_images(part, coder, model_id="ab12cd34", scale_index=2), coder,
                       model_id="ab12cd34")
    assert torch.allclose(rx.latents, coder.reconstruct(part))
    # the categorical codec is fitted on the coefficients of the training latents
    cat = make_source_coder(cstats, 0.3, rule="waterfill", transform=klt, codec="categorical",
                            train_latents=y)
    assert torch.allclose(cat.decode(cat.encode(part), 7), cat.reconstruct(part))
    with pytest.raises(ValueError, match="k must be"):
        make_source_coder(cstats, 0.3, transform=klt, k=3)
    with pytest.raises(ValueError, match="entries"):
        make_source_coder(latent_stats_from_latents(y[:, :4]), 0.3, transform=klt)


def test_coding_gain_at_high_rate_matches_the_closed_form():
    """At equal rate and high rate, reverse water-filling gives every entry the same step, and
    the KLT divides the distortion by (prod sigma_i^2 / prod lambda_i)^(1/d). The rate here is
    the codec's ideal code length (-log2 p of the symbols): real messages come in 32-bit words,
    whose rounding would blur a closed-form comparison."""
    rot = _rotation(4, seed=5)
    cov = rot @ torch.diag(torch.tensor([8.0, 2.0, 0.5, 0.125], dtype=torch.float64)) @ rot.T
    train, test = _gaussian(cov, 40_000, seed=1).float(), _gaussian(cov, 4000, seed=2).float()
    plain_stats = latent_stats_from_latents(train)
    klt, cstats = fit_klt(train)
    budget = 40.0  # 10 bits per entry: high rate
    mse = {}
    for name, st, tr in (("plain", plain_stats, None), ("klt", cstats, klt)):
        def bits_at(s: float, st=st, tr=tr) -> float:
            coder = make_source_coder(st, s, rule="waterfill", transform=tr)
            return float(coder.codec.information_bits(coder.symbols(test)).mean())

        sol = solve_scale_for_budget(bits_at, budget, scale_min=0.0, scale_max=256.0,
                                     increasing=bits_increase_with_scale("waterfill"),
                                     rel_tol=1e-6)
        assert sol.bits == pytest.approx(budget, abs=0.01)
        coder = make_source_coder(st, sol.scale, rule="waterfill", transform=tr)
        mse[name] = float((coder.reconstruct(test).double() - test.double()).pow(2).mean())
    var = cov.diagonal()
    gain = math.exp((var.log().sum() - klt.variances.log().sum()).item() / 4)
    assert gain > 2  # a strongly correlated latent
    assert mse["plain"] / mse["klt"] == pytest.approx(gain, rel=0.05)


def test_real_bits_budget_with_the_transform():
    """scale_for_budget with a transform meets the budget in real coded bits and, on a
    correlated latent, reconstructs better than the plain coder at the same budget."""
    rot = _rotation(4, seed=5)
    cov = rot @ torch.diag(torch.tensor([8.0, 2.0, 0.5, 0.125], dtype=torch.float64)) @ rot.T
    train, test = _gaussian(cov, 20_000, seed=1).float(), _gaussian(cov, 2000, seed=2).float()
    klt, cstats = fit_klt(train)
    err = {}
    for name, st, tr in (("plain", latent_stats_from_latents(train), None), ("klt", cstats, klt)):
        sol = scale_for_budget(st, test, 24.0, rule="waterfill", transform=tr)
        coder = make_source_coder(st, sol.scale, rule="waterfill", transform=tr)
        assert float(coder.image_bits(test).mean()) == pytest.approx(sol.bits) and sol.bits <= 24
        err[name] = float((coder.reconstruct(test) - test).pow(2).mean())
    assert err["klt"] < err["plain"]


def test_make_coders_with_the_transform_fit_one_klt_per_variant():
    from commsldr.link.table import make_coders

    rot = _rotation(4, seed=5)
    cov = rot @ torch.diag(torch.tensor([8.0, 2.0, 0.5, 0.125], dtype=torch.float64)) @ rot.T
    y4 = _gaussian(cov, 3000).float()
    lat = {4: y4, 2: y4[:, :2] * 3}
    coders = make_coders(None, [0.5, 1.0], [2, 4], rule="waterfill", transform="klt",
                         train_latents=lat)
    for k in (2, 4):
        klt, _ = fit_klt(lat[k])
        for si in (0, 1):
            c = coders[(k, si)]
            assert c.k == k and torch.allclose(c.transform.basis, klt.basis)
            assert torch.allclose(c.decode(c.encode(lat[k][:5]), 5), c.reconstruct(lat[k][:5]))
    with pytest.raises(ValueError, match="train_latents"):
        make_coders(None, [1.0], [4], transform="klt")
    with pytest.raises(ValueError, match="'none' or 'klt'"):
        make_coders(latent_stats_from_latents(y4), [1.0], [4], transform="pca")
