"""Trace-driven capacity: exact bit accounting, scaling, looping, resampling, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import commsldr_channels
from commsldr_channels import ChannelParameterError, create_channel

#: the Mahimahi traces shipped with the package (channels/data/)
PACKAGED_TRACES = sorted((Path(commsldr_channels.__file__).parent / "data").glob("*.up"))


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_a_trace_is_packaged() -> None:
    assert PACKAGED_TRACES


@pytest.mark.parametrize("path", PACKAGED_TRACES, ids=lambda p: p.name)
def test_packaged_trace_mean_rate(path: Path) -> None:
    lines = [int(x) for x in path.read_text().split()]
    duration_s = lines[-1] / 1000.0
    expected_rate = len(lines) * 1500 * 8 / duration_s
    ch = create_channel("trace-mahimahi", path=path, frame_s=duration_s / 500)
    assert ch.mean_rate_bps == pytest.approx(expected_rate, rel=1e-12)
    # three whole periods from a random offset: every opportunity counted exactly three times
    s = ch.states(1500, generator=_g(3))
    assert s.capacity_bits.double().sum().item() == pytest.approx(3 * len(lines) * 12000, rel=1e-6)
    scaled = create_channel(
        "trace-mahimahi", path=path, frame_s=duration_s / 500, mean_bits_per_frame=5000.0
    )
    assert scaled.states(
        1500, generator=_g(4)
    ).capacity_bits.double().mean().item() == pytest.approx(5000.0, rel=1e-6)


def test_small_mahimahi_trace_exact(tmp_path: Path) -> None:
    trace = tmp_path / "t.up"
    # 6 opportunities over a 10 ms period (two in the same ms)
    trace.write_text("1\n1\n3\n5\n8\n10\n")
    ch = create_channel("trace-mahimahi", path=trace, frame_s=0.002, random_offset=False)
    assert ch.period_s == 0.010 and ch.total_bits == 6 * 12000
    s = ch.states(10, generator=_g())
    # frames (0,2] (2,4] (4,6] (6,8] (8,10] ms, then the loop: the 1 ms events recur at 11 ms
    per_packet = s.capacity_bits.numpy() / 12000
    np.testing.assert_array_equal(per_packet, [2, 1, 1, 1, 1, 2, 1, 1, 1, 1])
    scaled = create_channel(
        "trace-mahimahi", path=trace, frame_s=0.002, mean_bits_per_frame=100.0, random_offset=False
    )
    assert scaled.states(5, generator=_g()).capacity_bits.double().mean().item() == pytest.approx(
        100.0, rel=1e-6
    )


def test_random_offset_is_a_cyclic_shift(tmp_path: Path) -> None:
    trace = tmp_path / "t.up"
    trace.write_text("\n".join(str(t) for t in range(0, 1001, 8)) + "\n")  # period 1 s
    ch = create_channel("trace-mahimahi", path=trace, frame_s=0.1)
    a = ch.states(30, generator=_g(1)).capacity_bits
    b = ch.states(30, generator=_g(2)).capacity_bits
    assert not torch.equal(a, b)
    # 10 frames = one period: the per-period totals are the same wherever we start
    assert (
        a.reshape(3, 10).sum(1).tolist() == b.reshape(3, 10).sum(1).tolist() == [ch.total_bits] * 3
    )


def test_csv_trace_interpolates_and_scales(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("time_s,bits\n0,1000\n1,3000\n2,0\n")
    ch = create_channel("trace-csv", path=trace, frame_s=0.5, random_offset=False)
    assert ch.period_s == 3.0 and ch.total_bits == 4000.0
    np.testing.assert_allclose(
        ch.states(8, generator=_g()).capacity_bits.numpy(), [500, 500, 1500, 1500, 0, 0, 500, 500]
    )
    scaled = create_channel("trace-csv", path=trace, frame_s=0.25, mean_bits_per_frame=42.0)
    assert scaled.states(
        120, generator=_g(5)
    ).capacity_bits.double().mean().item() == pytest.approx(42.0, rel=1e-6)
    explicit = create_channel(
        "trace-csv", path=trace, duration_s=4.0, frame_s=1.0, random_offset=False
    )
    assert explicit.states(4, generator=_g()).capacity_bits.tolist() == [1000, 3000, 0, 0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no lines"),
        ("1\n2\nx\n", ":3: expected a non-negative integer"),
        ("5\n3\n", "decrease at line 2"),
        ("-1\n4\n", ":1: expected a non-negative integer"),
        ("0\n0\n", "duration must be > 0"),
        ("1\n3\u00b2\n", ":2: expected a non-negative integer"),  # '3²'.isdigit() is True
        ("1\n\u0663\n", ":2: expected a non-negative integer"),  # Arabic-Indic 3
        ("1\n2\n\uff13\n", ":3: expected a non-negative integer"),  # fullwidth 3
    ],
)
def test_corrupt_mahimahi_files_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    trace = tmp_path / "bad.up"
    trace.write_text(content)
    with pytest.raises(ChannelParameterError, match=f"^path: .*{message}"):
        create_channel("trace-mahimahi", path=trace)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time_s,bits\n", "no rows"),
        ("0,1,2\n", "expected 2 columns"),
        ("0,1\n1,abc\n", "non-numeric"),
        ("0,1\n0,2\n", "increase strictly"),
        ("0,-5\n1,2\n", ">= 0"),
        ("0,0\n1,0\n", "delivers no bits"),
        ("0,1\n1,3\u00b2\n", ":2: non-numeric"),
        ("0,1\n\uff11,2\n", ":2: non-numeric"),  # float() takes fullwidth digits
        ("0,1\n1,nan\n", ":2: non-numeric"),
    ],
)
def test_corrupt_csv_files_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(content)
    with pytest.raises(ChannelParameterError, match=message):
        create_channel("trace-csv", path=trace)


@pytest.mark.parametrize("kind", ["trace-mahimahi", "trace-csv"])
def test_non_utf8_line_is_named(tmp_path: Path, kind: str) -> None:
    trace = tmp_path / "bad.txt"
    trace.write_bytes(b"0,1\n1,2\n\xff\xfe\n" if kind == "trace-csv" else b"1\n2\n\xff\n")
    with pytest.raises(ChannelParameterError, match=r"^path: .*:3: not UTF-8"):
        create_channel(kind, path=trace)


def test_missing_file_and_bad_numbers(tmp_path: Path) -> None:
    with pytest.raises(ChannelParameterError, match="^path: trace file"):
        create_channel("trace-mahimahi", path=tmp_path / "missing.up")
    with pytest.raises(ChannelParameterError, match="^path: trace file"):
        create_channel("trace-csv", path=tmp_path / "missing.csv")
    trace = tmp_path / "t.up"
    trace.write_text("1\n2\n")
    with pytest.raises(ChannelParameterError, match="^mean_bits_per_frame:"):
        create_channel("trace-mahimahi", path=trace, mean_bits_per_frame=-1.0)
    with pytest.raises(ChannelParameterError, match="^frame_s:"):
        create_channel("trace-mahimahi", path=trace, frame_s=0.0)
    csv = tmp_path / "t.csv"
    csv.write_text("0,5\n2,5\n")
    with pytest.raises(ChannelParameterError, match="^duration_s:"):
        create_channel("trace-csv", path=csv, duration_s=1.0)
