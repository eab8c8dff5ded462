"""3GPP TDL via Sionna: power normalisation, frequency correlation vs the PDP, SNR reductions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from commsldr_channels import ChannelParameterError, create_channel
from commsldr_channels.tdl import effective_snr


def test_effective_snr_reductions() -> None:
    rho = torch.tensor([[1.0, 3.0, 15.0, 0.5], [4.0, 4.0, 4.0, 4.0]], dtype=torch.float64)
    cap = effective_snr(rho, "capacity")
    # capacity-equivalent: log2(1+rho_eff) equals the mean capacity over subcarriers
    torch.testing.assert_close(torch.log2(1 + cap), torch.log2(1 + rho).mean(-1))
    assert cap[1].item() == pytest.approx(4.0)  # flat channel: unchanged
    # EESM: flat -> unchanged; beta -> inf -> arithmetic mean; beta -> 0 -> minimum
    assert effective_snr(rho, "eesm", 2.0)[1].item() == pytest.approx(4.0)
    assert effective_snr(rho, "eesm", 1e6)[0].item() == pytest.approx(
        rho[0].mean().item(), rel=1e-4
    )
    assert effective_snr(rho, "eesm", 1e-3)[0].item() == pytest.approx(0.5, rel=1e-2)
    with pytest.raises(ChannelParameterError, match="^reduction:"):
        effective_snr(rho, "median")


@pytest.mark.parametrize("model", ["A", "C300"])
def test_tdl_frequency_correlation_matches_power_delay_profile(model: str) -> None:
    """E[H_{k+d} H_k^*] = sum_m P_m exp(-j 2 pi d df tau_m) for a Rayleigh TDL profile."""
    n, df = 3000, 30e3
    # frames 1 s apart at 3 m/s, 3.5 GHz (coherence ~12 ms): independent snapshots
    ch = create_channel(
        "tdl",
        model=model,
        frame_s=1.0,
        subcarrier_spacing_hz=df,
        num_subcarriers=48,
        delay_spread_s=300e-9,
    )
    h = ch.frequency_response(n, torch.Generator().manual_seed(0)).to(torch.complex128).numpy()
    from commsldr_channels._sionna import make_block

    tdl = make_block(
        "channel.tr38901",
        "TDL",
        torch.Generator(),
        model=model,
        delay_spread=None if model == "C300" else 300e-9,
        carrier_frequency=3.5e9,
    )
    powers = tdl.mean_powers.double().numpy()
    delays = tdl.delays.double().numpy()
    assert powers.sum() == pytest.approx(1.0, rel=1e-5)
    for d in (0, 1, 4, 12):
        emp = np.mean(h[:, d:] * np.conj(h[:, : h.shape[1] - d]))
        theory = np.sum(powers * np.exp(-2j * math.pi * d * df * delays))
        # per-frame products have variance <= E|H|^4 = 2; subcarriers of one frame are correlated,
        # so use the frame count as the sample size
        assert abs(emp - theory) < 5 * math.sqrt(2.0 / n), (d, emp, theory)


def test_tdl_effective_snr_below_mean_and_time_correlated() -> None:
    ch = create_channel("tdl", mean_snr_db=10.0, speed_mps=3.0, frame_s=0.001, block_frames=500)
    s = ch.states(1000, generator=torch.Generator().manual_seed(1))
    rho = s.snr_linear.double()
    # the same seed reproduces the subcarrier responses behind each frame's effective SNR;
    # Jensen: min_k rho_k <= rho_eff <= mean_k rho_k, frame by frame
    rho_k = (
        10.0 * ch.frequency_response(1000, torch.Generator().manual_seed(1)).abs().double().square()
    )
    torch.testing.assert_close(rho, effective_snr(rho_k, "capacity"), rtol=1e-5, atol=0)
    assert (rho <= rho_k.mean(-1) * (1 + 1e-5)).all() and (
        rho >= rho_k.min(-1).values * (1 - 1e-5)
    ).all()
    # 1 ms frames at f_d = 35 Hz: consecutive frames are strongly correlated
    x = s.snr_db.double().numpy()
    assert np.corrcoef(x[1:], x[:-1])[0, 1] > 0.8
    eesm = create_channel("tdl", reduction="eesm", eesm_beta=3.0, block_frames=500).states(
        200, generator=torch.Generator().manual_seed(1)
    )
    assert torch.isfinite(eesm.snr_db).all()


def test_tdl_bad_parameters() -> None:
    for params, name in [
        ({"model": "Z"}, "model"),
        ({"delay_spread_s": 0.0}, "delay_spread_s"),
        ({"reduction": "max"}, "reduction"),
        ({"eesm_beta": -1.0}, "eesm_beta"),
        ({"num_subcarriers": 0}, "num_subcarriers"),
        ({"speed_mps": -3.0}, "speed_mps"),
    ]:
        with pytest.raises(ChannelParameterError, match=f"^{name}:"):
            create_channel("tdl", **params)
