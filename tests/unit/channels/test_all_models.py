"""Contract tests run on every registered model (built-ins and any installed plug-in)."""

from __future__ import annotations

import pytest
import torch

from commsldr_channels import LinkState, create_channel, get_channel_class, list_channels

NUM_FRAMES = 257

DTYPES = {
    "snr_db": torch.float32,
    "gain": torch.complex64,
    "capacity_bits": torch.float32,
    "erased": torch.bool,
}


def _make(name: str):
    return create_channel(name, **get_channel_class(name).example_params())


def _states(name: str, seed: int) -> LinkState:
    return _make(name).states(NUM_FRAMES, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", list_channels())
def test_shapes_dtypes_finite(name: str) -> None:
    s = _states(name, 0)
    assert len(s) == NUM_FRAMES and s.defined()
    for field in s.defined():
        value = getattr(s, field)
        assert value.shape == (NUM_FRAMES,)
        assert value.dtype == DTYPES[field]
        if value.dtype != torch.bool:
            assert torch.isfinite(value).all(), f"{field} has NaN/inf"
    if s.capacity_bits is not None:
        assert (s.capacity_bits >= 0).all()


@pytest.mark.parametrize("name", list_channels())
def test_seeding(name: str) -> None:
    a, b, c = _states(name, 1), _states(name, 1), _states(name, 2)
    differs = False
    for field in a.defined():
        assert torch.equal(getattr(a, field), getattr(b, field)), (
            f"{field}: same seed, different states"
        )
        differs |= not torch.equal(getattr(a, field), getattr(c, field))
    if get_channel_class(name).deterministic:
        assert not differs, "a model declared deterministic must not depend on the seed"
    else:
        assert differs, "different seeds gave identical states"


@pytest.mark.parametrize("name", list_channels())
def test_one_frame_and_description(name: str) -> None:
    assert len(_make(name).states(1, generator=torch.Generator().manual_seed(0))) == 1
    assert (get_channel_class(name).__doc__ or "").strip(), (
        "a model needs a docstring (its description)"
    )


@pytest.mark.parametrize("name", list_channels())
def test_forward_where_symbol_level(name: str) -> None:
    ch = _make(name)
    g = torch.Generator().manual_seed(0)
    s = ch.states(8, generator=g)
    x = torch.ones(8, 16, dtype=torch.complex64)
    if s.snr_db is None:
        with pytest.raises(NotImplementedError):
            ch.forward(x, s, generator=g)
    else:
        y = ch.forward(x, s, generator=g)
        assert (
            y.shape == x.shape
            and y.dtype == torch.complex64
            and torch.isfinite(torch.view_as_real(y)).all()
        )
