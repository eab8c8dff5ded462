"""Shared machinery of the trace-driven capacity models: loop a one-period cumulative bit count,
resample it to the frame duration and scale it to a target mean bit budget per frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import Channel, ChannelParameterError, LinkState


def existing_file(name: str, path: str | Path) -> Path:
    """``path`` as a ``Path``; raises :class:`ChannelParameterError` naming ``name`` if it is not a file."""
    if not isinstance(path, str | Path):
        raise ChannelParameterError(f"{name}: expected a file path, got {path!r}")
    p = Path(path).expanduser()
    if p.is_file():
        size = p.stat().st_size
        if size > MAX_TRACE_BYTES:
            raise ChannelParameterError(
                f"{name}: trace file {str(p)!r} has {size:,} bytes; at most {MAX_TRACE_BYTES:,} "
                f"(a trace is read whole; cut it to the period you simulate)")
        return p
    if p.is_dir():
        raise ChannelParameterError(f"{name}: {str(p)!r} is a directory; give a trace file")
    if p.exists():
        raise ChannelParameterError(f"{name}: {str(p)!r} is not a regular file (a device, pipe "
                                    f"or socket); give a trace file")
    raise ChannelParameterError(f"{name}: trace file {str(p)!r} does not exist")


#: largest trace file read (bytes): a trace is read whole into memory (a day of a Mahimahi
#: trace at 100 Mbit/s, one line per 1500-byte packet opportunity, is about 6 GB; an hour of a
#: 10 Mbit/s link about 25 MB)
MAX_TRACE_BYTES = 256 * 2**20
#: longest trace period (s) a trace may describe: ``duration_s`` of ``trace-csv``
#: (``_validate.BOUNDS``), also the bound on every time in a trace file (a Mahimahi timestamp
#: at most ``1e12`` ms)
MAX_TRACE_S = check.BOUNDS["duration_s"][1]
#: highest rate (bit/s) a trace may deliver in any row (1 Pbit/s, far above any measured link):
#: cumulative bits stay finite whatever the file holds (``1.7e308`` bits per row overflowed)
MAX_TRACE_RATE_BPS = 1e15


def cut(text: str, limit: int = 60) -> str:
    """``text`` cut to at most ``limit`` characters (``...`` marks the cut) for a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TraceCapacity(Channel):
    """Base of the trace-driven models (not registered itself).

    A trace defines the cumulative number of bits :math:`C(u)` delivered up to :math:`u` over
    one period :math:`u \\in [0, T]`; it is looped, :math:`C_\\infty(t) = \\lfloor t/T\\rfloor C(T)
    + C(t \\bmod T)`, and frame :math:`f` gets

    .. math::
        c_f = \\alpha\\,[C_\\infty(o + (f+1)T_f) - C_\\infty(o + f T_f)],\\qquad
        \\alpha = \\frac{\\bar c\\, T}{C(T)\\,T_f}

    with frame duration :math:`T_f`, start offset :math:`o \\sim U[0, T)` (or 0) and
    :math:`\\alpha = 1` when no target mean :math:`\\bar c` is given. Over any whole number of
    periods the mean is exactly :math:`\\bar c` bits per frame.
    Subclasses set ``period_s``, ``total_bits`` and implement :meth:`cumulative_bits`.
    """

    period_s: float
    total_bits: float

    def _init_common(
        self, frame_s: float, mean_bits_per_frame: float | None, random_offset: bool
    ) -> None:
        self.frame_s = check.positive("frame_s", frame_s)
        self.mean_bits_per_frame = (
            None
            if mean_bits_per_frame is None
            else check.positive("mean_bits_per_frame", mean_bits_per_frame)
        )
        if not isinstance(random_offset, bool | np.bool_):  # bool("false") would be True
            raise ChannelParameterError(
                f"random_offset: must be true or false, got {random_offset!r}")
        self.random_offset = bool(random_offset)

    def _check_trace(self, name: str) -> None:
        path = getattr(self, "path", None)
        where = f"{name}: {path}" if path is not None else name
        if not self.period_s > 0:
            raise ChannelParameterError(
                f"{where}: trace duration must be > 0 s, got {self.period_s} s"
            )
        if not self.total_bits > 0:
            raise ChannelParameterError(f"{where}: trace delivers no bits")
        if self.total_bits < 1:  # 5e-324 bits made the scale factor divide by zero
            raise ChannelParameterError(f"{where}: trace delivers {self.total_bits:g} bits in "
                                        f"all; a trace must deliver at least 1 bit per period")

    def cumulative_bits(self, u_s: np.ndarray) -> np.ndarray:
        """Bits delivered up to ``u`` within one period, for ``0 <= u < T``, float64."""
        raise NotImplementedError

    @property
    def mean_rate_bps(self) -> float:
        """Mean rate of the (unscaled) trace :math:`C(T)/T` in bit/s."""
        return self.total_bits / self.period_s

    @property
    def scale(self) -> float:
        """Scale factor :math:`\\alpha` applied to the trace's bits."""
        if self.mean_bits_per_frame is None:
            return 1.0
        return self.mean_bits_per_frame / (self.mean_rate_bps * self.frame_s)

    def looped_cumulative_bits(self, t_s: np.ndarray) -> np.ndarray:
        """:math:`C_\\infty(t)` for ``t >= 0``, float64."""
        periods = np.floor(t_s / self.period_s)
        u = t_s - periods * self.period_s
        u = np.minimum(u, np.nextafter(self.period_s, 0.0))  # guard rounding to u == T
        return periods * self.total_bits + self.cumulative_bits(u)

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        check.generator(generator)
        if self.random_offset:
            draw = torch.rand((), generator=generator, device=generator.device, dtype=torch.float64)
            offset = float(draw) * self.period_s
        else:
            offset = 0.0
        edges = offset + np.arange(n + 1, dtype=np.float64) * self.frame_s
        bits = np.diff(self.looped_cumulative_bits(edges)) * self.scale
        capacity = torch.from_numpy(np.maximum(bits, 0.0).astype(np.float32)).to(generator.device)
        return LinkState(capacity_bits=capacity)


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file (without line ends).

    Raises:
        ChannelParameterError: ``path: <file>:<line>: not UTF-8 text`` for the first line that
            does not decode.
    """
    lines = path.read_bytes().split(b"\n")
    out = []
    for i, raw in enumerate(lines, start=1):
        try:
            out.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError:
            raise ChannelParameterError(f"path: {path}:{i}: not UTF-8 text") from None
    return out
