"""Trace-driven capacity from a plain CSV of (time_s, bits) rows."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from commsldr_channels import _validate as check
from commsldr_channels.base import ChannelParameterError
from commsldr_channels.registry import register_channel
from commsldr_channels.trace import (
    MAX_TRACE_RATE_BPS,
    MAX_TRACE_S,
    TraceCapacity,
    existing_file,
    read_lines,
)

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
"""A decimal number in ASCII (``float`` alone also takes '３', '٣', '1_0' and 'nan')."""

SAMPLE_CSV = Path(__file__).parent / "data" / "att-lte-driving-20s.csv"


def load_csv_trace(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(time_s, bits)`` float64 arrays from a CSV with an optional ``time_s,bits`` header.

    Raises:
        ChannelParameterError: wrong column count, non-numeric or negative values, a time beyond
            :data:`~commsldr_channels.trace.MAX_TRACE_S` (1e9 s), times not strictly increasing,
            a row delivering more than :data:`~commsldr_channels.trace.MAX_TRACE_RATE_BPS`
            (1e15 bit/s) until the next row, or no rows (the message gives the line number).
    """
    times, bits, _ = _read_rows(path)
    return times, bits


def _read_rows(path: Path) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """:func:`load_csv_trace` plus the line number of each row."""
    times: list[float] = []
    bits: list[float] = []
    numbers: list[int] = []
    for i, line in enumerate(read_lines(path), start=1):
        for row in csv.reader([line]):
            if not row or all(not c.strip() for c in row):
                continue
            if i == 1 and [c.strip() for c in row] == ["time_s", "bits"]:
                continue
            if len(row) != 2:
                raise ChannelParameterError(
                    f"path: {path}:{i}: expected 2 columns (time_s, bits), got {len(row)}"
                )
            if not all(_NUMBER.match(c.strip()) for c in row):
                raise ChannelParameterError(
                    f"path: {path}:{i}: non-numeric value in {_row(row)} (ASCII decimal numbers "
                    f"only)"
                )
            t, b = float(row[0]), float(row[1])
            if not (math.isfinite(t) and math.isfinite(b)) or t < 0 or b < 0:
                raise ChannelParameterError(
                    f"path: {path}:{i}: time_s and bits must be finite and >= 0, got {_row(row)}"
                )
            if t > MAX_TRACE_S:
                raise ChannelParameterError(
                    f"path: {path}:{i}: time_s {t:g} is beyond the longest trace of "
                    f"{MAX_TRACE_S:g} s"
                )
            if times and t <= times[-1]:
                raise ChannelParameterError(
                    f"path: {path}:{i}: time_s must increase strictly, got {t} after {times[-1]}"
                )
            if times:
                _check_rate(path, numbers[-1], bits[-1], t - times[-1])
            times.append(t)
            bits.append(b)
            numbers.append(i)
    if not times:
        raise ChannelParameterError(f"path: {path}: the trace has no rows")
    return np.asarray(times), np.asarray(bits), numbers


def _row(row: list[str]) -> str:
    text = repr(row)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_rate(path: Path, line: int, bits: float, seconds: float, until: str = "") -> None:
    """A row's ``bits`` delivered over ``seconds`` stay within ``MAX_TRACE_RATE_BPS``."""
    if bits > MAX_TRACE_RATE_BPS * seconds * (1 + 1e-9):  # times in decimal round a little
        rate = bits / seconds
        shown = f" ({rate:.3g} bit/s)" if math.isfinite(rate) else ""
        raise ChannelParameterError(
            f"path: {path}:{line}: {bits:g} bits in {seconds:g} s{until}{shown} exceed the "
            f"highest rate a trace row may deliver, {MAX_TRACE_RATE_BPS:g} bit/s"
        )


@register_channel("trace-csv")
class CSVTrace(TraceCapacity):
    """Capacity per frame from a CSV of (time_s, bits) rows, looped and scaled to a mean bit budget.

    Row :math:`i` says that ``bits`` :math:`b_i` are delivered uniformly over
    :math:`[t_i, t_{i+1})`; the last row lasts until the period end :math:`T` = ``duration_s``
    (default: :math:`t_{\\text{last}}` plus the previous row spacing, i.e. evenly spaced logs work
    as expected). The cumulative :math:`C(u)` is the piecewise-linear interpolation of
    :math:`\\sum_{j<i} b_j` at :math:`t_i`, with :math:`C(t_0) = 0` and nothing before
    :math:`t_0`. Looping, resampling and scaling as in :class:`~commsldr_channels.trace.TraceCapacity`.

    Args:
        path: CSV file, optional header ``time_s,bits``.
        frame_s: frame duration :math:`T_f` (s).
        mean_bits_per_frame: target mean capacity (bits/frame); ``None`` keeps the trace's rate.
        random_offset: start each realisation at a uniform random point of the trace (else at 0).
        duration_s: trace period :math:`T` (s), > last time.
    """

    def __init__(
        self,
        path: str | Path,
        frame_s: float = 0.01,
        mean_bits_per_frame: float | None = None,
        random_offset: bool = True,
        duration_s: float | None = None,
    ) -> None:
        self.path = existing_file("path", path)
        self._init_common(frame_s, mean_bits_per_frame, random_offset)
        times, bits, numbers = _read_rows(self.path)
        if duration_s is None:
            if times.size < 2:
                raise ChannelParameterError("duration_s: required when the trace has a single row")
            duration_s = float(times[-1] + (times[-1] - times[-2]))
        self.duration_s = check.positive("duration_s", duration_s)
        if self.duration_s <= times[-1]:
            raise ChannelParameterError(
                f"duration_s: must exceed the last time {times[-1]} s, got {duration_s!r}"
            )
        _check_rate(self.path, numbers[-1], float(bits[-1]), self.duration_s - float(times[-1]),
                    f" (the last row, until duration_s = {self.duration_s:g} s)")
        self.period_s = self.duration_s
        self.total_bits = float(bits.sum())
        self._check_trace("path")
        self._knots_s = np.append(times, self.duration_s)
        self._knots_bits = np.concatenate([[0.0], np.cumsum(bits)])

    @classmethod
    def example_params(cls) -> dict[str, Any]:
        """The bundled 20 s AT&T LTE excerpt aggregated per second, scaled to 20 kbit per frame."""
        return {"path": str(SAMPLE_CSV), "mean_bits_per_frame": 20_000.0}

    def cumulative_bits(self, u_s: np.ndarray) -> np.ndarray:
        return np.interp(u_s, self._knots_s, self._knots_bits, left=0.0)
