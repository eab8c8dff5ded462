"""LinkState validation, the registry and the Sionna RNG isolation."""

from __future__ import annotations

import pytest
import torch

import commsldr_channels
from commsldr_channels import (
    Channel,
    ChannelParameterError,
    LinkState,
    create_channel,
    register_channel,
)


def test_linkstate_validates_fields() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LinkState()
    with pytest.raises(TypeError, match="snr_db"):
        LinkState(snr_db=torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="gain"):
        LinkState(gain=torch.zeros(3))
    with pytest.raises(ValueError, match="capacity_bits"):
        LinkState(snr_db=torch.zeros(3), capacity_bits=torch.zeros(4))
    with pytest.raises(ValueError, match="erased"):
        LinkState(erased=torch.zeros(2, 2, dtype=torch.bool))


def test_linkstate_helpers() -> None:
    s = LinkState(
        snr_db=torch.tensor([0.0, 10.0, 20.0]),
        gain=torch.tensor([1, 2j, 0.5], dtype=torch.complex64),
    )
    assert len(s) == s.num_frames == 3
    assert s.defined() == ("snr_db", "gain")
    torch.testing.assert_close(s.snr_linear, torch.tensor([1.0, 10.0, 100.0]))
    # N0 = |h|^2 / rho
    torch.testing.assert_close(s.noise_var, torch.tensor([1.0, 0.4, 0.0025]))
    assert len(s[1:]) == 2 and len(s[0]) == 1 and len(s[-1]) == 1
    assert s[torch.tensor([True, False, True])].snr_db.tolist() == [0.0, 20.0]
    both = LinkState.cat([s, s[:1]])
    assert both.snr_db.tolist() == [0.0, 10.0, 20.0, 0.0]
    with pytest.raises(ValueError, match=r"states\[1\]"):
        LinkState.cat([s, LinkState(snr_db=torch.zeros(1))])
    assert s.to("cpu").device.type == "cpu"
    with pytest.raises(AttributeError, match="snr_db"):
        _ = LinkState(capacity_bits=torch.ones(2)).snr_linear


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(KeyError, match="valid names: .*awgn.*rayleigh-block"):
        create_channel("no-such-channel")


def test_duplicate_and_malformed_names_raise() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @register_channel("awgn")
        class Other(Channel):
            pass

    with pytest.raises(ValueError, match="name"):
        register_channel("Bad Name")
    with pytest.raises(TypeError, match="Channel subclass"):
        register_channel("not-a-channel")(int)  # type: ignore[arg-type]


def test_unknown_parameter_names_the_channel() -> None:
    with pytest.raises(TypeError, match="awgn"):
        create_channel("awgn", snr=3.0)


@pytest.mark.parametrize(
    ("name", "params", "parameter"),
    [
        ("awgn", {"snr_db": float("nan")}, "snr_db"),
        ("awgn", {"snr_db": "x"}, "snr_db"),
        ("rayleigh-block", {"coherence_frames": 0}, "coherence_frames"),
        ("rayleigh-block", {"coherence_frames": 1.5}, "coherence_frames"),
    ],
)
def test_bad_parameters_name_the_parameter(name: str, params: dict, parameter: str) -> None:
    with pytest.raises(ChannelParameterError, match=f"^{parameter}:"):
        create_channel(name, **params)


def test_states_argument_checks() -> None:
    ch = create_channel("awgn")
    with pytest.raises(ValueError, match="num_frames"):
        ch.states(0, generator=torch.Generator())
    with pytest.raises(TypeError, match="generator"):
        ch.states(3, generator=None)  # type: ignore[arg-type]


def test_sionna_draws_leave_global_rng_alone() -> None:
    """Using the Sionna-backed models neither reads nor re-seeds torch's global generator."""
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    g = torch.Generator().manual_seed(0)
    s = create_channel("rayleigh-block").states(10, generator=g)
    create_channel("awgn").forward(torch.ones(10, 4, dtype=torch.complex64), s, generator=g)
    torch.testing.assert_close(torch.rand(3), expected)


def test_forward_checks_inputs() -> None:
    ch = create_channel("awgn")
    g = torch.Generator().manual_seed(0)
    s = ch.states(4, generator=g)
    with pytest.raises(TypeError, match="complex64"):
        ch.forward(torch.ones(4, 2), s, generator=g)
    with pytest.raises(ValueError, match="num_frames=4"):
        ch.forward(torch.ones(3, 2, dtype=torch.complex64), s, generator=g)
    with pytest.raises(NotImplementedError, match="snr_db"):
        ch.forward(
            torch.ones(4, 2, dtype=torch.complex64),
            LinkState(capacity_bits=torch.ones(4)),
            generator=g,
        )


def test_forward_applies_gain_and_noise_variance() -> None:
    """y = h x + n with E|n|^2 = |h|^2 / rho, checked on many symbols per frame."""
    g = torch.Generator().manual_seed(3)
    ch = create_channel("rayleigh-block", mean_snr_db=5.0)
    s = ch.states(4, generator=g)
    n = 200_000
    x = torch.ones(4, n, dtype=torch.complex64)
    y = ch.forward(x, s, generator=g)
    noise = y - s.gain[:, None] * x
    var = noise.abs().square().mean(dim=1)
    # relative sd of a mean of n exponentials is 1/sqrt(n); 5 sigma
    torch.testing.assert_close(var, s.noise_var, rtol=5 / n**0.5, atol=0)
    assert y.dtype == torch.complex64


def test_package_exports() -> None:
    for name in ["LinkState", "Channel", "register_channel", "create_channel", "list_channels"]:
        assert hasattr(commsldr_channels, name)
    assert commsldr_channels.ENTRY_POINT_GROUP == "commsldr.channels"
