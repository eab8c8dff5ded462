"""Quantizer, allocation rules (both readings of q_i = s H(y_i)), water-filling, budget solver."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from commsldr.coding import (
    ALLOCATION_RULES,
    LatentStats,
    Quantizer,
    allocate_steps,
    binned_gaussian_entropy_bits,
    bits_increase_with_scale,
    latent_stats_from_latents,
    make_source_coder,
    scale_for_budget,
    solve_scale_for_budget,
    waterfill_level,
)

SCALES = {
    "precision": np.geomspace(0.01, 10, 13),
    "step": np.geomspace(0.01, 10, 13),
    "uniform": np.geomspace(0.001, 3, 13),
    "waterfill": np.linspace(0, 150, 13),
}


def test_quantizer_roundtrip_error_bounded():
    g = torch.Generator().manual_seed(0)
    step = torch.tensor([0.1, 1.0, 3.0, math.inf])
    off = torch.tensor([0.5, -1.0, 0.0, 2.0])
    qz = Quantizer(step, off)
    y = torch.randn(500, 4, generator=g) * 4
    q = qz.quantize(y)
    assert q.dtype == torch.int32
    yh = qz.dequantize(q)
    err = (yh - y).abs()
    assert (err[:, :3] <= step[:3] / 2 + 1e-5).all()
    assert (q[:, 3] == 0).all() and (yh[:, 3] == 2.0).all()  # dropped entry -> offset
    # symbols are exact integers of (y - c) / Delta
    assert torch.equal(q[:, 1], torch.round(y[:, 1].double() + 1.0).to(torch.int32))


def test_quantizer_saturates_and_validates():
    qz = Quantizer(torch.tensor([1e-9]))
    assert qz.quantize(torch.tensor([[1e6], [-1e6]])).tolist() == [[2**31 - 1], [-(2**31 - 1)]]
    with pytest.raises(ValueError, match="step_sizes"):
        Quantizer(torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="offsets"):
        Quantizer(torch.tensor([1.0]), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"y must have shape \[B, 1\]"):
        qz.quantize(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="NaN"):
        qz.quantize(torch.tensor([[float("nan")]]))


@pytest.mark.parametrize("rule", sorted(ALLOCATION_RULES))
def test_steps_monotone_in_scale(rule, gaussian_stats):
    steps = torch.stack([allocate_steps(gaussian_stats, float(s), rule) for s in SCALES[rule]])
    diff = steps[1:] - steps[:-1]
    diff = torch.nan_to_num(diff, nan=0.0)  # inf - inf for entries dropped at both scales
    if bits_increase_with_scale(rule):
        assert (diff <= 0).all()
    else:
        assert (diff >= 0).all()
    # the exact entropy of the binned latent follows the declared direction too
    st = gaussian_stats
    bits = [binned_gaussian_entropy_bits(st.mean, st.std, s.numpy(), st.mean).sum() for s in steps]
    d = np.diff(bits)
    assert (d >= -1e-9).all() if bits_increase_with_scale(rule) else (d <= 1e-9).all()


def test_two_readings_of_the_paper_rule(gaussian_stats):
    """precision: higher H -> finer step, smaller s -> fewer bits; step: the opposite."""
    h = gaussian_stats.entropy_bits
    st = gaussian_stats
    for rule, sign in (("precision", -1), ("step", 1)):
        steps = allocate_steps(st, 1.0, rule)
        rho = spearmanr(h.numpy(), steps.numpy()).statistic
        assert sign * rho == pytest.approx(1.0)
        small = binned_gaussian_entropy_bits(st.mean, st.std, allocate_steps(st, 0.5, rule), st.mean)
        large = binned_gaussian_entropy_bits(st.mean, st.std, allocate_steps(st, 2.0, rule), st.mean)
        assert (small.sum() < large.sum()) == (rule == "precision")


def test_allocate_steps_errors(gaussian_stats):
    with pytest.raises(ValueError, match="unknown rule 'nope'"):
        allocate_steps(gaussian_stats, 1.0, "nope")
    with pytest.raises(ValueError, match="scale"):
        allocate_steps(gaussian_stats, 0.0, "precision")
    assert torch.isinf(allocate_steps(gaussian_stats, 0.0, "waterfill")).all()


def test_waterfill_level_solves_rate_equation():
    rng = np.random.default_rng(0)
    var = rng.uniform(0.01, 9.0, size=30)
    for rate in [0.5, 3.0, 20.0, 200.0]:
        theta = waterfill_level(var, rate)
        achieved = np.maximum(0.0, 0.5 * np.log2(var / theta)).sum()
        assert achieved == pytest.approx(rate, rel=1e-10)
    assert waterfill_level(var, 0.0) == pytest.approx(var.max())
    with pytest.raises(ValueError, match="rate_bits"):
        waterfill_level(var, -1.0)


def test_waterfill_steps_equalise_distortion(gaussian_stats):
    steps = allocate_steps(gaussian_stats, 40.0, "waterfill")
    theta = waterfill_level(gaussian_stats.std.pow(2).numpy(), 40.0)
    active = gaussian_stats.std.pow(2) > theta
    assert torch.allclose(steps[active], torch.full_like(steps[active], math.sqrt(12 * theta)))
    assert torch.isinf(steps[~active]).all() and 0 < int(active.sum()) < gaussian_stats.dim


def test_solver_meets_budget_synthetic():
    # a noisy, non-monotone-by-a-little staircase: the solver must still meet the budget
    def bits_at(s):
        return 100.0 * math.log2(1 + s) + 3 * math.sin(40 * s)

    for budget in [50.0, 200.0, 500.0]:
        sol = solve_scale_for_budget(bits_at, budget, scale_min=1e-3, scale_max=1e3,
                                     increasing=True)
        assert sol.bits <= budget and bits_at(sol.scale) == sol.bits
        assert sol.bits > budget - 20  # close to the budget
    with pytest.raises(ValueError, match="infeasible"):
        solve_scale_for_budget(bits_at, -10.0, scale_min=1e-3, scale_max=1e3, increasing=True)
    assert solve_scale_for_budget(bits_at, 1e9, scale_min=1e-3, scale_max=1e3,
                                  increasing=True).scale == 1e3


@pytest.mark.parametrize("rule", ["precision", "uniform", "waterfill"])
def test_scale_for_budget_meets_coded_budget(rule, gaussian_stats, gaussian_latents):
    test = gaussian_latents[1][:200]
    for budget in [40.0, 120.0]:
        sol = scale_for_budget(gaussian_stats, test, budget, rule=rule, rel_tol=1e-2)
        coder = make_source_coder(gaussian_stats, sol.scale, rule=rule)
        measured = float(coder.image_bits(test).mean())
        assert measured == sol.bits and measured <= budget
        assert measured > 0.8 * budget  # and it does not waste the budget


@pytest.mark.parametrize("rule", ["precision", "waterfill"])
def test_scale_for_budget_in_messages_meets_the_share(rule, gaussian_stats, gaussian_latents):
    """With several images to a message the budget bounds each image's share of its message;
    a share is cheaper than a whole message per image, so the same budget buys a finer scale
    (precision: larger s; water-filling: a larger target rate) and a budget below one byte
    becomes feasible."""
    test = gaussian_latents[1][:160]
    alone = scale_for_budget(gaussian_stats, test, 40.0, rule=rule, rel_tol=1e-2)
    shared = scale_for_budget(gaussian_stats, test, 40.0, rule=rule, rel_tol=1e-2,
                              images_per_message=16)
    coder = make_source_coder(gaussian_stats, shared.scale, rule=rule)
    assert float(coder.message_bits(test, 16).mean()) == shared.bits <= 40.0
    assert shared.scale > alone.scale
    low = scale_for_budget(gaussian_stats, test, 6.0, rule=rule, rel_tol=1e-2,
                           images_per_message=16)
    assert low.bits <= 6.0


def test_stats_roundtrip_through_checkpoint(tmp_path, gaussian_stats, gaussian_latents):
    from commsldr.coding import attach_latent_stats, load_latent_stats

    st = gaussian_stats
    assert st.dim == 24 and st.num_samples == 4000
    assert torch.allclose(st.mean, gaussian_latents[0].double().mean(0))
    # H_i is the binned-Gaussian entropy at the reference step
    ref = binned_gaussian_entropy_bits(st.mean, st.std, st.ref_step, st.mean)
    assert np.allclose(st.entropy_bits.numpy(), ref)
    # empirical entropy of the training symbols agrees with the Gaussian value (n = 4000)
    assert np.abs(st.empirical_entropy_bits.numpy() - ref).max() < 0.15
    path = tmp_path / "ckpt.pt"
    torch.save({"format": "x", "model_state": {}}, path)
    attach_latent_stats(path, st)
    back = load_latent_stats(path)
    assert torch.equal(back.std, st.std) and back.ref_step == st.ref_step
    assert isinstance(torch.load(path, weights_only=True)["latent_stats"]["mean"], torch.Tensor)
    with pytest.raises(KeyError, match="ref_step"):
        LatentStats.from_dict({k: v for k, v in st.to_dict().items() if k != "ref_step"})
    t = st.truncate(5)
    assert t.dim == 5 and torch.equal(t.std, st.std[:5])
    with pytest.raises(ValueError, match="shape"):
        latent_stats_from_latents(torch.zeros(1, 3))


@pytest.mark.parametrize("center", [True, False])
def test_scale_for_budget_builds_the_coder_it_is_told(center, gaussian_stats, gaussian_latents):
    """``center`` reaches the coders the bisection measures: the solution's bits are exactly the
    bits of the coder built with the same ``center`` (and differ from the other choice's, since
    the latents have non-zero means, so the quantization grid moves)."""
    test = gaussian_latents[1][:200]
    sol = scale_for_budget(gaussian_stats, test, 80.0, rel_tol=1e-2, center=center)
    same = make_source_coder(gaussian_stats, sol.scale, center=center)
    other = make_source_coder(gaussian_stats, sol.scale, center=not center)
    assert float(same.image_bits(test).mean()) == sol.bits <= 80.0
    assert float(other.image_bits(test).mean()) != sol.bits


@pytest.mark.parametrize("rule", ["precision", "waterfill"])
@pytest.mark.parametrize("c", [0.25, 3.0])
def test_a_uniform_rescaling_of_the_latent_is_absorbed_by_the_scale(rule, c):
    """Scaling the latent by c (statistics recomputed) gives the same symbols at scale s / c
    (precision) or the same scale (water-filling: a target rate): the rate-accuracy curve of a
    model does not depend on the overall scale of its latent, only on its shape."""
    from commsldr.coding import latent_stats_from_latents
    from commsldr.coding.quantize import Quantizer, allocate_steps

    g = torch.Generator().manual_seed(0)
    y = torch.randn(4000, 12, generator=g, dtype=torch.float64) * torch.linspace(0.2, 2.0, 12)
    y = y + torch.linspace(-1.0, 1.0, 12)
    st, st_c = latent_stats_from_latents(y), latent_stats_from_latents(c * y)
    s = 1.5 if rule == "precision" else 6.0
    s_c = s / c if rule == "precision" else s
    q = Quantizer(allocate_steps(st, s, rule), st.mean).quantize(y)
    q_c = Quantizer(allocate_steps(st_c, s_c, rule), st_c.mean).quantize(c * y)
    assert (q == q_c).double().mean() > 0.999  # equal up to rounding at the .5 boundaries


def test_latent_stats_survive_a_json_round_trip_exactly():
    import json

    from commsldr.coding import LatentStats, latent_stats_from_latents

    g = torch.Generator().manual_seed(1)
    st = latent_stats_from_latents(torch.randn(500, 6, generator=g, dtype=torch.float64) / 3)
    text = json.dumps({k: v.tolist() if isinstance(v, torch.Tensor) else v
                       for k, v in st.to_dict().items()})
    back = LatentStats.from_dict(json.loads(text))
    for k, v in st.to_dict().items():
        assert torch.equal(torch.as_tensor(back.to_dict()[k]), torch.as_tensor(v)), k
