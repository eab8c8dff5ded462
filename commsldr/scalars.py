"""Reading user-supplied scalars without truncating or guessing: whole numbers (a count, an index,
a seed), real numbers and flags, and the checks that name the parameter when one is not what is
allowed. One home for the PHYs, the simulators, the CSI models, the menu and the environments.

Whole numbers are Python and NumPy integers, 0-d integer tensors and arrays, and integral finite
floats such as ``2.0`` (a YAML ``2.0``); ``bool``, strings, ``1.5``, NaN and inf are not.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from commsldr.errors import show

__all__ = ["as_integer", "as_real", "check_flag", "check_integer", "check_real", "is_flag"]


def _scalar(value: Any) -> Any:
    """A 0-d tensor or array as its Python scalar; anything else unchanged (no torch import:
    any object with ``ndim == 0`` and ``item()``)."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def as_integer(value: Any) -> int | None:
    """``value`` as an ``int`` when it is a whole number, else ``None``.

    Whole numbers are Python and NumPy integers, 0-d integer tensors and arrays, and integral
    finite floats such as ``2.0`` (a YAML ``2.0``); ``bool``, strings, ``1.5``, NaN and inf are
    not (they are never truncated).
    """
    value = _scalar(value)
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return int(v) if math.isfinite(v) and v.is_integer() else None
    return None


def as_real(value: Any) -> float | None:
    """``value`` as a ``float`` when it is a real number (NaN and inf included: the caller
    checks the range), else ``None`` (``bool``, strings, containers)."""
    value = _scalar(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        return math.inf if value > 0 else -math.inf


def is_flag(value: Any) -> bool:
    """``True`` for a boolean: ``bool``, ``numpy.bool_`` or a 0-d bool tensor/array."""
    return isinstance(_scalar(value), bool | np.bool_)


def check_integer(name: str, value: Any, *, low: int | None = None,
                  high: int | None = None) -> int:
    """``value`` as an ``int`` (:func:`as_integer`) in ``[low, high]``, else a ``ValueError``
    naming ``name`` and what is allowed."""
    v = as_integer(value)
    if v is None or (low is not None and v < low) or (high is not None and v > high):
        allowed = ("" if low is None and high is None else f" >= {low}" if high is None
                   else f" <= {high}" if low is None else f" in [{low}, {high}]")
        raise ValueError(f"{name}: must be an integer{allowed}, got {show(value)}")
    return v


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (an open end with ``low_open`` /
    ``high_open``), else a ``ValueError`` naming ``name`` and what is allowed."""
    v = as_real(value)
    ok = v is not None and math.isfinite(v)
    if ok and low is not None:
        ok = v > low if low_open else v >= low  # type: ignore[operator]
    if ok and high is not None:
        ok = v < high if high_open else v <= high  # type: ignore[operator]
    if not ok:
        if low is not None and high is not None:
            allowed = (f" in {'(' if low_open else '['}{low:g}, {high:g}"
                       f"{')' if high_open else ']'}")
        elif low is not None:
            allowed = f" {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            allowed = f" {'<' if high_open else '<='} {high:g}"
        else:
            allowed = ""
        raise ValueError(f"{name}: must be a finite number{allowed}, got {show(value)}")
    return v  # type: ignore[return-value]


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` when it is one (:func:`is_flag`), else a ``ValueError`` naming
    ``name`` (a string such as ``"no"`` is not read as a truth value)."""
    if not is_flag(value):
        raise ValueError(f"{name}: must be true or false, got {show(value)}")
    return bool(value)
