"""Parameter checks shared by the models; each raises `ChannelParameterError` naming the parameter.

Numbers must be real numbers (``int``/``float``, NumPy scalars; never ``bool`` or a numeric
string such as ``"10"``), finite, and inside the documented physical range of their name
(:data:`BOUNDS`, looked up by the name without an index suffix ``[i]``), so that every accepted
parameter set simulates without overflow: e.g. an SNR of ``1e308`` dB would make the capacity
infinite and the results NaN.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import torch

from commsldr_channels.base import ChannelParameterError

_SNR = (-200.0, 200.0)
#: documented range ``(low, high)`` of each parameter, by name (inclusive)
BOUNDS: dict[str, tuple[float, float]] = {
    "snr_db": _SNR, "mean_snr_db": _SNR, "snr_at_ref_db": _SNR, "snr_good_db": _SNR,
    "snr_bad_db": _SNR,
    "shadowing_std_db": (0.0, 100.0),
    "speed_mps": (0.0, 1e4),  # 10 km/s
    "carrier_hz": (1.0, 1e12),  # up to 1 THz
    "doppler_hz": (0.0, 1e9),
    "subcarrier_spacing_hz": (1.0, 1e9),
    "frame_s": (1e-9, 1e3),
    "duration_s": (1e-9, 1e9),
    "delay_spread_s": (1e-12, 1e-2),
    "k_factor": (0.0, 1e9),
    "los_angle_rad": (-1e3, 1e3),
    "ref_distance_m": (1e-3, 1e8), "min_distance_m": (1e-3, 1e8), "max_distance_m": (1e-3, 1e8),
    "start_distance_m": (1e-3, 1e8), "decorrelation_m": (1e-3, 1e8), "distances_m": (1e-3, 1e8),
    "pathloss_exponent": (0.0, 20.0),
    "eesm_beta": (1e-6, 1e6),
    "mean_burst_frames": (1.0, 1e12),
    "mean_bits_per_frame": (1e-9, 1e15),
    "coherence_frames": (1, 10**12),
    "block_frames": (1, 10**12),
    "num_sinusoids": (1, 4096),
    "num_subcarriers": (1, 65536),
    "num_frames": (1, 10**10),
}
_INDEX = re.compile(r"\[\d+\]$")


def _in_bounds(name: str, v: float, value: Any) -> None:
    lo_hi = BOUNDS.get(_INDEX.sub("", name))
    if lo_hi is not None and not lo_hi[0] <= v <= lo_hi[1]:
        raise ChannelParameterError(f"{name}: must be in [{lo_hi[0]:g}, {lo_hi[1]:g}], "
                                    f"got {value!r}")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ChannelParameterError(f"{name}: expected a number, got {value!r}"
                                    + (" (a string; write the number without quotes)"
                                       if isinstance(value, str) else ""))
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        raise ChannelParameterError(f"{name}: must be finite, got an integer of "
                                    f"{len(str(abs(int(value))))} digits") from None


def finite(name: str, value: Any) -> float:
    """A finite real number (not a string, not a bool) inside ``BOUNDS[name]`` if listed."""
    v = _number(name, value)
    if not math.isfinite(v):
        raise ChannelParameterError(f"{name}: must be finite, got {value!r}")
    _in_bounds(name, v, value)
    return v


def positive(name: str, value: Any) -> float:
    """A finite number > 0."""
    v = finite(name, value)
    if v <= 0:
        raise ChannelParameterError(f"{name}: must be > 0, got {value!r}")
    return v


def non_negative(name: str, value: Any) -> float:
    """A finite number >= 0."""
    v = finite(name, value)
    if v < 0:
        raise ChannelParameterError(f"{name}: must be >= 0, got {value!r}")
    return v


def probability(name: str, value: Any) -> float:
    """A number in [0, 1]."""
    v = finite(name, value)
    if not 0.0 <= v <= 1.0:
        raise ChannelParameterError(f"{name}: must be a probability in [0, 1], got {value!r}")
    return v


def integer(name: str, value: Any, minimum: int = 1) -> int:
    """An int >= ``minimum`` (bools rejected)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or (isinstance(value, float) and not math.isfinite(value)) or int(value) != value):
        raise ChannelParameterError(f"{name}: expected an integer, got {value!r}")
    if int(value) < minimum:
        raise ChannelParameterError(f"{name}: must be >= {minimum}, got {value!r}")
    _in_bounds(name, int(value), value)
    return int(value)


def choice(name: str, value: Any, options: list[str] | tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ChannelParameterError(f"{name}: must be one of {list(options)}, got {value!r}")
    return str(value)


def num_frames(value: Any) -> int:
    """Argument check for ``states(num_frames, ...)``."""
    return integer("num_frames", value, minimum=1)


def generator(value: Any) -> torch.Generator:
    """Argument check for ``states(..., generator=...)``."""
    if not isinstance(value, torch.Generator):
        raise TypeError(
            f"generator: expected a torch.Generator (every draw is explicit), got {type(value).__name__}"
        )
    return value
