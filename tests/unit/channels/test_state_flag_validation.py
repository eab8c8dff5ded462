"""LinkState refuses values no channel produces (NaN/inf SNR, NaN or negative capacity), and
the boolean channel parameters refuse non-booleans instead of reading ``"false"`` as true."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from commsldr_channels import ChannelParameterError, LinkState, create_channel

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("field, values", [
    ("snr_db", [0.0, NAN]), ("snr_db", [INF]), ("snr_db", [-INF, 0.0]),
    ("capacity_bits", [NAN]), ("capacity_bits", [INF]), ("capacity_bits", [10.0, -1.0]),
])
def test_link_state_refuses_non_finite_values(field, values):
    with pytest.raises(ValueError, match=f"^{field}: must be"):
        LinkState(**{field: torch.tensor(values, dtype=torch.float32)})


def test_link_state_refuses_a_non_finite_gain():
    with pytest.raises(ValueError, match="^gain: must be finite"):
        LinkState(snr_db=torch.zeros(2), gain=torch.tensor([1 + 0j, complex(NAN, 0)],
                                                           dtype=torch.complex64))


def test_link_state_refuses_nan_in_a_long_state_and_names_the_frame():
    snr = torch.zeros(1000)
    snr[637] = NAN
    with pytest.raises(ValueError, match="frame 637"):
        LinkState(snr_db=snr)


def test_link_state_keeps_valid_states_and_slices():
    s = LinkState(snr_db=torch.tensor([-150.0, 0.0, 150.0]),
                  capacity_bits=torch.tensor([0.0, 1.0, 1e12]),
                  erased=torch.tensor([True, False, False]))
    assert len(s[1]) == 1 and len(s[torch.tensor([0, 2])]) == 2
    assert len(LinkState(snr_db=torch.zeros(0))) == 0


@pytest.mark.parametrize("value", ["false", "abc", 0, 1, None, 1.0])
def test_pathloss_moving_away_must_be_a_bool(value):
    with pytest.raises(ChannelParameterError, match="^moving_away: must be true or false"):
        create_channel("pathloss-shadowing", moving_away=value)


def test_pathloss_moving_away_takes_numpy_bools():
    assert create_channel("pathloss-shadowing", moving_away=np.bool_(False)).moving_away is False


@pytest.mark.parametrize("kind, text", [("trace-csv", "time_s,bits\n0,1000\n1,3000\n"),
                                        ("trace-mahimahi", "1\n3\n5\n")])
@pytest.mark.parametrize("value", ["abc", "false", 0, None])
def test_trace_random_offset_must_be_a_bool(tmp_path: Path, kind, text, value):
    trace = tmp_path / ("t.csv" if kind == "trace-csv" else "t.up")
    trace.write_text(text)
    with pytest.raises(ChannelParameterError, match="^random_offset: must be true or false"):
        create_channel(kind, path=trace, frame_s=0.5, random_offset=value)
    assert create_channel(kind, path=trace, frame_s=0.5,
                          random_offset=np.bool_(False)).random_offset is False


def test_a_slice_of_a_state_equals_the_checked_state_of_the_sliced_tensors():
    import torch

    from commsldr_channels import LinkState

    s = LinkState(snr_db=torch.arange(6, dtype=torch.float32),
                  erased=torch.tensor([0, 1, 0, 0, 1, 0], dtype=torch.bool))
    for index in (3, -1, slice(1, 4), slice(None, None, 2)):
        expect = slice(index, index + 1 if index != -1 else None) if isinstance(index, int) \
            else index
        got = s[index]
        assert type(got) is LinkState and got.defined() == ("snr_db", "erased")
        assert torch.equal(got.snr_db, s.snr_db[expect]) and torch.equal(got.erased, s.erased[expect])
    with pytest.raises(ValueError, match="1-D"):  # an index that is not a slice is checked
        s[torch.tensor(2)]
