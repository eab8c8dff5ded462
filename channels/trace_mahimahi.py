"""Trace-driven capacity from a Mahimahi packet-opportunity file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from commsldr_channels.base import ChannelParameterError
from commsldr_channels.registry import register_channel
from commsldr_channels.trace import (
    MAX_TRACE_S,
    TraceCapacity,
    cut,
    existing_file,
    read_lines,
)

MAHIMAHI_PACKET_BITS = 1500 * 8
#: latest timestamp (ms) a Mahimahi trace may hold: the longest trace period, 1e9 s
MAX_TIMESTAMP_MS = int(MAX_TRACE_S * 1000)
SAMPLE_TRACE = Path(__file__).parent / "data" / "att-lte-driving-20s.up"


def load_mahimahi(path: Path) -> np.ndarray:
    """Opportunity timestamps in ms, int64 ``[lines]``; validates every line.

    Raises:
        ChannelParameterError: empty file, a line that is not UTF-8 or not a non-negative
            integer in ASCII digits, a timestamp above :data:`MAX_TIMESTAMP_MS` (the longest
            trace, 1e9 s as ``duration_s`` of ``trace-csv``), or timestamps that decrease (the
            message gives the line number).
    """
    lines = read_lines(path)
    values: list[int] = []
    numbers: list[int] = []  # the line of each value (blank lines are skipped)
    for i, line in enumerate(lines, start=1):
        token = line.strip()
        if not token:
            continue
        if not (token.isascii() and token.isdigit()):  # '3²' and '٣' are isdigit() too
            raise ChannelParameterError(
                f"path: {path}:{i}: expected a non-negative integer (ms), got {cut(token, 60)!r}"
            )
        # compare the digits' length first: int() of a 10**6-digit line would take seconds
        if len(token.lstrip("0")) > len(str(MAX_TIMESTAMP_MS)) or int(token) > MAX_TIMESTAMP_MS:
            raise ChannelParameterError(
                f"path: {path}:{i}: timestamp {cut(token, 40)} ms is beyond the longest trace "
                f"of {MAX_TIMESTAMP_MS:.0e} ms ({MAX_TRACE_S:.0e} s, as trace-csv's duration_s)"
            )
        values.append(int(token))
        numbers.append(i)
    if not values:
        raise ChannelParameterError(f"path: {path}: the trace has no lines")
    ts = np.asarray(values, dtype=np.int64)
    bad = np.flatnonzero(np.diff(ts) < 0)
    if bad.size:
        raise ChannelParameterError(f"path: {path}: timestamps decrease at line "
                                    f"{numbers[int(bad[0]) + 1]}")
    return ts


@register_channel("trace-mahimahi")
class MahimahiTrace(TraceCapacity):
    """Capacity per frame from a Mahimahi packet-opportunity trace, looped and scaled to a mean bit budget.

    Each line of a Mahimahi trace is a time in ms at which one 1500-byte packet may be delivered
    (Netravali et al., "Mahimahi: Accurate Record-and-Replay for HTTP", USENIX ATC 2015; cellular
    traces of Winstein et al., NSDI 2013). The trace period is the last timestamp
    :math:`T` (Mahimahi's looping), so :math:`C(T) = \\text{lines} \\times 12000` bits and the
    mean rate is :math:`\\text{lines}\\times 12000 / T`. Opportunities are point events:
    :math:`C(u)` counts those with timestamp :math:`\\le u` (frames are half-open intervals
    :math:`(fT_f, (f+1)T_f]`; a sub-nanosecond tolerance absorbs float rounding of the edges). Resampling and scaling as in
    :class:`~commsldr_channels.trace.TraceCapacity`; the state defines ``capacity_bits`` only.

    Args:
        path: the trace file.
        frame_s: frame duration :math:`T_f` (s).
        mean_bits_per_frame: target mean capacity :math:`\\bar c` (bits/frame); ``None`` keeps
            the trace's absolute rate.
        random_offset: start each realisation at a uniform random point of the trace (else at 0).
    """

    def __init__(
        self,
        path: str | Path,
        frame_s: float = 0.01,
        mean_bits_per_frame: float | None = None,
        random_offset: bool = True,
    ) -> None:
        self.path = existing_file("path", path)
        self._init_common(frame_s, mean_bits_per_frame, random_offset)
        ts = load_mahimahi(self.path)
        self.num_opportunities = int(ts.size)
        self.period_s = float(ts[-1]) / 1000.0
        self.total_bits = float(ts.size * MAHIMAHI_PACKET_BITS)
        self._check_trace("path")
        self._times_ms = ts.astype(np.float64)

    @classmethod
    def example_params(cls) -> dict[str, Any]:
        """The bundled 20 s AT&T LTE uplink excerpt, scaled to 20 kbit per frame."""
        return {"path": str(SAMPLE_TRACE), "mean_bits_per_frame": 20_000.0}

    def cumulative_bits(self, u_s: np.ndarray) -> np.ndarray:
        u_ms = u_s * 1000.0 + 1e-6
        return (
            np.searchsorted(self._times_ms, u_ms, side="right").astype(np.float64)
            * MAHIMAHI_PACKET_BITS
        )
