"""Trace files with values beyond the physical bounds, and trace paths that are not files:
refused with the file and line (never an OverflowError or NaN capacities)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch

from commsldr_channels import ChannelParameterError, create_channel
from commsldr_channels.trace import MAX_TRACE_RATE_BPS, MAX_TRACE_S
from commsldr_channels.trace_mahimahi import MAX_TIMESTAMP_MS


def test_the_bounds() -> None:
    assert MAX_TRACE_S == 1e9 and MAX_TIMESTAMP_MS == 10**12 and MAX_TRACE_RATE_BPS == 1e15


@pytest.mark.parametrize(("text", "line"), [
    ("0\n99999999999999999999\n", 2),  # beyond int64: was OverflowError
    ("0\n9000000000000000000\n", 2),  # 9e18 ms passed --check
    ("1\n\n1000000000001\n", 3),
    ("0\n" + "9" * 5000 + "\n", 2),  # beyond Python's int() digit limit
])
def test_a_mahimahi_timestamp_beyond_1e9_s_is_refused_with_its_line(text, line,
                                                                    tmp_path: Path) -> None:
    trace = tmp_path / "t.up"
    trace.write_text(text)
    with pytest.raises(ChannelParameterError, match=rf"^path: {trace}:{line}: timestamp .* ms "
                                                    r"is beyond the longest trace of 1e\+12 ms"):
        create_channel("trace-mahimahi", path=trace)


def test_a_mahimahi_timestamp_at_the_bound_is_accepted(tmp_path: Path) -> None:
    trace = tmp_path / "t.up"
    trace.write_text(f"0\n{MAX_TIMESTAMP_MS}\n")
    assert create_channel("trace-mahimahi", path=trace).period_s == MAX_TRACE_S


def test_a_decrease_after_a_blank_line_names_the_right_line(tmp_path: Path) -> None:
    trace = tmp_path / "t.up"
    trace.write_text("1\n\n5\n\n3\n")
    with pytest.raises(ChannelParameterError, match="decrease at line 5"):
        create_channel("trace-mahimahi", path=trace)


@pytest.mark.parametrize(("text", "words"), [
    ("0,1.7e308\n0.01,1.7e308\n0.02,1.7e308\n", [":1: 1.7e+308 bits in 0.01 s exceed", "1e+15"]),
    ("time_s,bits\n0,1\n1,2e15\n", [":3: 2e+15 bits in 1 s (the last row", "(2e+15 bit/s)"]),
    ("0,1\n1e300,2\n", [":2: time_s 1e+300 is beyond the longest trace of 1e+09 s"]),
    ("0,5e-324\n1,0\n", ["delivers 4.94066e-324 bits in all", "at least 1 bit"]),
])
def test_csv_values_beyond_the_bounds_are_refused(text, words, tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text(text)
    with pytest.raises(ChannelParameterError) as info:
        create_channel("trace-csv", path=trace, mean_bits_per_frame=300.0)
    msg = str(info.value)
    assert msg.startswith(f"path: {trace}"), msg
    for w in words:
        assert w in msg, (w, msg)


def test_csv_rates_up_to_the_bound_give_finite_capacities(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("0,1e13\n0.01,1e13\n0.02,1e13\n")  # 1e15 bit/s in every row
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for mean in (None, 300.0):
            ch = create_channel("trace-csv", path=trace, mean_bits_per_frame=mean)
            caps = ch.states(100, generator=torch.Generator().manual_seed(0)).capacity_bits
            assert torch.isfinite(caps).all()


def test_the_last_csv_row_is_bounded_by_duration_s(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("0,1\n1,1e14\n")
    create_channel("trace-csv", path=trace, duration_s=2.0)
    with pytest.raises(ChannelParameterError, match=r":2: 1e\+14 bits in 1e-06 s \(the last row, "
                                                    r"until duration_s = 1 s\)"):
        create_channel("trace-csv", path=trace, duration_s=1.000001)


@pytest.mark.parametrize("model", ["trace-mahimahi", "trace-csv"])
def test_a_trace_path_that_is_a_directory_says_so(model, tmp_path: Path) -> None:
    with pytest.raises(ChannelParameterError, match=rf"^path: '{tmp_path}' is a directory; give a "
                                                    r"trace file$"):
        create_channel(model, path=tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_trace_path_that_is_a_pipe_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "t.up"
    os.mkfifo(fifo)
    with pytest.raises(ChannelParameterError, match="is not a regular file"):
        create_channel("trace-mahimahi", path=fifo)


@pytest.mark.parametrize("model", ["trace-mahimahi", "trace-csv"])
def test_a_trace_file_too_large_to_read_whole_is_refused_by_size(model, tmp_path: Path) -> None:
    from commsldr_channels.trace import MAX_TRACE_BYTES

    trace = tmp_path / "big.trace"
    with open(trace, "wb") as fh:  # sparse: no disk used
        fh.truncate(MAX_TRACE_BYTES + 1)
    with pytest.raises(ChannelParameterError, match=r"at most 268,435,456"):
        create_channel(model, path=str(trace))
