"""Parameter checks shared by the models; each raises `ChannelParameterError` naming the parameter."""

from __future__ import annotations

import math
from typing import Any

import torch

from commsldr_channels.base import ChannelParameterError


def finite(name: str, value: Any) -> float:
    """A finite real number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ChannelParameterError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ChannelParameterError(f"{name}: must be finite, got {value!r}")
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
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ChannelParameterError(f"{name}: expected an integer, got {value!r}")
    if int(value) < minimum:
        raise ChannelParameterError(f"{name}: must be >= {minimum}, got {value!r}")
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
