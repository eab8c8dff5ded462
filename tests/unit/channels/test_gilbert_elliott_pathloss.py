"""Gilbert–Elliott stationary statistics; path loss / shadowing along a trajectory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr_channels import ChannelParameterError, create_channel


def runs(bad: np.ndarray) -> np.ndarray:
    """Lengths of the maximal runs of True."""
    padded = np.concatenate([[False], bad, [False]]).astype(np.int8)
    d = np.diff(padded)
    return np.flatnonzero(d == -1) - np.flatnonzero(d == 1)


@pytest.mark.parametrize(("p_gb", "p_bg"), [(0.01, 0.1), (0.2, 0.5), (0.05, 0.02)])
def test_stationary_bad_probability_and_burst_length(p_gb: float, p_bg: float) -> None:
    n = 1_000_000
    ch = create_channel("gilbert-elliott", p_gb=p_gb, p_bg=p_bg, snr_good_db=12.0, snr_bad_db=-3.0)
    s = ch.states(n, generator=torch.Generator().manual_seed(int(p_gb * 1000 + p_bg * 10)))
    bad = (s.snr_db == -3.0).numpy()
    assert set(np.unique(s.snr_db.numpy())) <= {12.0, -3.0}
    pi_b = p_gb / (p_gb + p_bg)
    # variance of the mean of a two-state chain: pi(1-pi)/n * (1+lam)/(1-lam), lam = 1-p_gb-p_bg
    lam = 1 - p_gb - p_bg
    sd = math.sqrt(pi_b * (1 - pi_b) / n * (1 + lam) / (1 - lam))
    assert abs(bad.mean() - pi_b) < 5 * sd
    bursts = runs(bad)
    # burst lengths ~ Geom(p_bg): mean 1/p_bg, sd sqrt(1-p_bg)/p_bg
    assert abs(bursts.mean() - 1 / p_bg) < 5 * math.sqrt(1 - p_bg) / p_bg / math.sqrt(bursts.size)
    # good runs ~ Geom(p_gb)
    goods = runs(~bad)
    assert abs(goods.mean() - 1 / p_gb) < 5 * math.sqrt(1 - p_gb) / p_gb / math.sqrt(goods.size)
    # Markov transition frequencies: P(bad_{t+1} | good_t) = p_gb
    good_now = ~bad[:-1]
    p_hat = bad[1:][good_now].mean()
    assert abs(p_hat - p_gb) < 5 * math.sqrt(p_gb * (1 - p_gb) / good_now.sum())


def test_erasure_probabilities_per_state() -> None:
    n = 400_000
    ch = create_channel(
        "gilbert-elliott",
        p_gb=0.1,
        mean_burst_frames=4.0,
        erasure_prob_good=0.05,
        erasure_prob_bad=0.7,
    )
    assert ch.p_bg == 0.25
    s = ch.states(n, generator=torch.Generator().manual_seed(4))
    bad = s.snr_db == ch.snr_bad_db
    for mask, p in ((bad, 0.7), (~bad, 0.05)):
        m = int(mask.sum())
        assert abs(s.erased[mask].double().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / m)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"p_gb": 1.5}, "p_gb"),
        ({"p_bg": -0.1}, "p_bg"),
        ({"erasure_prob_bad": 2.0}, "erasure_prob_bad"),
        ({"mean_burst_frames": 0.5}, "mean_burst_frames"),
        ({"p_bg": 0.1, "mean_burst_frames": 3.0}, "mean_burst_frames"),
    ],
)
def test_gilbert_elliott_bad_parameters(params: dict, parameter: str) -> None:
    with pytest.raises(ChannelParameterError, match=f"^{parameter}:"):
        create_channel("gilbert-elliott", **params)


def test_gilbert_elliott_degenerate_chains() -> None:
    g = torch.Generator().manual_seed(0)
    always_good = create_channel(
        "gilbert-elliott", p_gb=0.0, p_bg=0.3, erasure_prob_bad=1.0
    ).states(1000, generator=g)
    assert not always_good.erased.any() and (always_good.snr_db == 15.0).all()
    alternating = create_channel("gilbert-elliott", p_gb=1.0, p_bg=1.0).states(1000, generator=g)
    assert (alternating.snr_db[1:] != alternating.snr_db[:-1]).all()


def test_pathloss_follows_log_distance_without_shadowing() -> None:
    ch = create_channel(
        "pathloss-shadowing",
        snr_at_ref_db=25.0,
        ref_distance_m=50.0,
        pathloss_exponent=3.0,
        shadowing_std_db=0.0,
        small_scale=None,
        speed_mps=10.0,
        frame_s=0.1,
        start_distance_m=50.0,
        min_distance_m=50.0,
        max_distance_m=100.0,
    )
    s = ch.states(120, generator=torch.Generator().manual_seed(0))
    d = ch.distances(120).numpy()
    # 1 m per frame, bouncing at 100 m back towards 50 m
    assert d[0] == 50.0 and d[50] == 100.0 and d[60] == 90.0 and d[100] == 50.0 and d[110] == 60.0
    np.testing.assert_allclose(s.snr_db.numpy(), 25.0 - 30.0 * np.log10(d / 50.0), atol=1e-4)
    np.testing.assert_allclose(
        s.noise_var.numpy(), 10 ** (-2.5), rtol=1e-4
    )  # N0 fixed; gain carries the loss


def test_shadowing_is_gudmundson_correlated() -> None:
    n, sigma = 400_000, 8.0
    ch = create_channel(
        "pathloss-shadowing",
        pathloss_exponent=0.0,
        shadowing_std_db=sigma,
        decorrelation_m=20.0,
        speed_mps=10.0,
        frame_s=0.1,
        small_scale=None,
    )
    rho1 = math.exp(-1.0 / 20.0)
    assert ch.shadowing_correlation == pytest.approx(rho1)
    x = (
        ch.states(n, generator=torch.Generator().manual_seed(1)).snr_db.double().numpy()
        - ch.snr_at_ref_db
    )
    # AR(1): var of the sample mean ~ sigma^2/n (1+rho)/(1-rho)
    assert abs(x.mean()) < 5 * sigma * math.sqrt((1 + rho1) / (1 - rho1) / n)
    assert abs(x.std() / sigma - 1) < 0.02
    for lag in (1, 10, 40):
        r = np.corrcoef(x[lag:], x[:-lag])[0, 1]
        assert abs(r - rho1**lag) < 5 * math.sqrt((1 + rho1) / (1 - rho1) / n) + 0.01


def test_composition_with_small_scale_fading() -> None:
    n = 200_000
    common = {"pathloss_exponent": 0.0, "shadowing_std_db": 0.0, "snr_at_ref_db": 10.0}
    s = create_channel("pathloss-shadowing", small_scale="rayleigh-block", **common).states(
        n, generator=torch.Generator().manual_seed(2)
    )
    p = s.snr_linear.double().numpy() / 10.0
    assert abs(p.mean() - 1.0) < 5 / math.sqrt(n)  # exponential(1) fading on top
    assert abs((p < 0.1).mean() - (1 - math.exp(-0.1))) < 5 * math.sqrt(0.1 / n)
    with pytest.raises(ChannelParameterError, match="^small_scale:"):
        create_channel("pathloss-shadowing", small_scale="awgn")
    with pytest.raises(ChannelParameterError, match="^small_scale:"):
        create_channel("pathloss-shadowing", small_scale="nope")
    with pytest.raises(ChannelParameterError, match="^small_scale_params:"):
        create_channel("pathloss-shadowing", small_scale_params={"k_factor": 1.0})


def test_explicit_trajectory_and_bad_parameters() -> None:
    ch = create_channel(
        "pathloss-shadowing", distances_m=[100.0, 200.0], shadowing_std_db=0.0, small_scale=None
    )
    s = ch.states(5, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(
        s.snr_db.numpy(), [20.0, 20 - 35 * math.log10(2)] * 2 + [20.0], atol=1e-4
    )
    for params, name in [
        ({"shadowing_std_db": -1.0}, "shadowing_std_db"),
        ({"distances_m": [10.0, -1.0]}, r"distances_m\[1\]"),
        ({"start_distance_m": 1000.0}, "start_distance_m"),
        ({"max_distance_m": 5.0}, "max_distance_m"),
    ]:
        with pytest.raises(ChannelParameterError, match=f"^{name}:"):
            create_channel("pathloss-shadowing", **params)


@pytest.mark.parametrize("frame_s", [0.001, 0.02])
def test_pathloss_passes_its_clock_to_doppler_fading(frame_s: float) -> None:
    """Path loss + Doppler: the lag-1 correlation of the gain is J0(2 pi f_d T_f) at the *outer*
    frame_s (before, the wrapped model kept its own 10 ms frames: 0.11 instead of 0.99 at 1 ms)."""
    from scipy.special import j0

    doppler_hz, n = 30.0, 400_000
    ch = create_channel(
        "pathloss-shadowing",
        frame_s=frame_s,
        pathloss_exponent=0.0,
        shadowing_std_db=0.0,
        small_scale="doppler-fading",
        small_scale_params={"doppler_hz": doppler_hz},
    )
    assert ch._fading.frame_s == frame_s
    h = ch.states(n, generator=torch.Generator().manual_seed(5)).gain.to(torch.complex128).numpy()
    rho1 = float(np.mean(h[1:] * np.conj(h[:-1])).real / np.mean(np.abs(h) ** 2))
    expected = float(j0(2 * math.pi * doppler_hz * frame_s))
    assert abs(rho1 - expected) < 0.02
    with pytest.raises(ChannelParameterError, match="^small_scale_params: frame_s"):
        create_channel(
            "pathloss-shadowing",
            frame_s=frame_s,
            small_scale="doppler-fading",
            small_scale_params={"frame_s": 0.5},
        )
    # the terminal speed is passed on too (Doppler from v f_c / c)
    moving = create_channel("pathloss-shadowing", speed_mps=20.0, small_scale="doppler-fading")
    assert moving._fading.speed_mps == 20.0
