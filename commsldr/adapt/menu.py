"""The sender's menu of operating points and the link model a policy plans with.

A policy never sees the test images' correctness; it knows, per operating point, the
(table-measured) accuracy and the packet size, and it knows the PHY's rules (how many bits a frame
carries at an SNR, how likely a packet of L bits gets through).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from commsldr.scalars import as_integer, as_real, is_flag

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["PointMenu", "LinkModel"]


@runtime_checkable
class LinkModel(Protocol):
    """What a policy needs to know about the PHY (implemented by the PHYs of ``commsldr.link``).

    ``capacity_bits(snr_db)`` — the largest packet (bits) the PHY sends in one frame at this SNR
    (Shannon: ``B·T·log2(1 + SNR/Γ)``; NR: the transport block of the MCS that link adaptation picks).
    ``success_probability(packet_bits, snr_db)`` — P(delivered) of packets of these sizes [P]
    at this SNR (Shannon: 0/1; NR: 1 − BLER).
    """

    def capacity_bits(self, snr_db: float) -> float: ...

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray: ...


def _real_array(name: str, value: object) -> np.ndarray:
    """``value`` as a flat float64 array when it holds real numbers only, else a ``TypeError``
    naming ``name``: strings (``"0.5"`` is refused, not parsed), bools (also one among numbers:
    ``[0.5, True]``) and other objects."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    mixed = arr.dtype.kind in "iuf" and not isinstance(value, np.ndarray) and any(
        is_flag(v) for v in np.asarray(value, dtype=object).reshape(-1))
    if arr.dtype.kind not in "iuf" or mixed:
        what = ("strings" if arr.dtype.kind in "US" else "bool" if arr.dtype.kind == "b" or mixed
                else arr.dtype.name)
        raise TypeError(f"PointMenu: {name} must hold real numbers, got an array of {what}")
    return arr.astype(np.float64).reshape(-1)


@dataclass(frozen=True)
class PointMenu:
    """The operating points a sender can use, with what it knows about each.

    Attributes:
        points: the P operating points (``commsldr.link.OperatingPoint``: ``k``, ``scale_index``,
            ``scale``), in table order.
        accuracy: float array [P], accuracy in [0, 1] of each point when delivered.
        packet_bits: float array [P], the expected size in bits of one packet (all images of a frame,
            header and CRC included) at each point; used when the frame's exact sizes are unknown.
        fallback_accuracy: the accuracy of a lost packet's images (0 when they count as errors,
            ≈ the prior class frequency with a prior-class fallback).
    """

    points: tuple[Any, ...]
    accuracy: np.ndarray
    packet_bits: np.ndarray
    fallback_accuracy: float = 0.0
    _k: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        acc = _real_array("accuracy", self.accuracy)
        bits = _real_array("packet_bits", self.packet_bits)
        try:
            points = tuple(self.points)
        except TypeError:
            raise TypeError(f"PointMenu: points must be a sequence of operating points, got "
                            f"{type(self.points).__name__}") from None
        if not len(points):
            raise ValueError("PointMenu: no operating points")
        for i, p in enumerate(points):
            if not (hasattr(p, "k") and hasattr(p, "scale")):
                raise TypeError(f"PointMenu: points[{i}] must be an operating point "
                                f"(commsldr.link.OperatingPoint with k, scale_index, scale), got "
                                f"{type(p).__name__} {p!r}")
            k, scale = as_integer(p.k), as_real(p.scale)
            if k is None or k < 1 or scale is None or not (math.isfinite(scale) and scale > 0):
                raise ValueError(f"PointMenu: points[{i}] needs k an integer >= 1 and scale a "
                                 f"finite number > 0, got {p!r}")
        object.__setattr__(self, "points", points)
        if acc.shape != (len(self.points),) or bits.shape != (len(self.points),):
            raise ValueError(
                f"PointMenu: accuracy {acc.shape} and packet_bits {bits.shape} must both have "
                f"one entry per point ({len(self.points)})"
            )
        if np.any((acc < 0) | (acc > 1)) or not np.all(np.isfinite(acc)):
            raise ValueError("PointMenu: accuracy must lie in [0, 1]")
        if np.any(bits <= 0) or not np.all(np.isfinite(bits)):
            raise ValueError("PointMenu: packet_bits must be positive and finite")
        fb = as_real(self.fallback_accuracy)
        if fb is None or not 0 <= fb <= 1:
            raise ValueError(f"PointMenu: fallback_accuracy must be a number in [0, 1], got "
                             f"{self.fallback_accuracy!r}")
        object.__setattr__(self, "fallback_accuracy", fb)
        object.__setattr__(self, "accuracy", acc)
        object.__setattr__(self, "packet_bits", bits)
        object.__setattr__(self, "_k", np.array([int(p.k) for p in self.points]))

    def __len__(self) -> int:
        return len(self.points)

    @property
    def variants(self) -> list[int]:
        """The encoder variants (latent sizes k) on the menu, ascending."""
        return sorted(set(self._k.tolist()))

    def indices_of_variant(self, k: int) -> np.ndarray:
        """Indices of the points that use encoder variant ``k``."""
        idx = np.flatnonzero(self._k == k)
        if not len(idx):
            raise ValueError(f"encoder variant k={k} is not on the menu; available: {self.variants}")
        return idx

    def index_of(self, k: int, scale: float) -> int:
        """The index of point (k, scale); raises listing the available scales of k."""
        idx = self.indices_of_variant(k)
        for i in idx:
            if np.isclose(float(self.points[i].scale), float(scale), rtol=1e-9, atol=0.0):
                return int(i)
        scales = [float(self.points[i].scale) for i in idx]
        raise ValueError(f"scale {scale} is not on the menu for k={k}; available: {scales}")

    def variant_of(self, index: int) -> int:
        """The encoder variant k of point ``index`` (a menu index in ``[0, P)``; a negative
        index is refused, not counted from the end)."""
        i = index if type(index) is int else as_integer(index)
        if i is None or not 0 <= i < len(self._k):
            raise ValueError(f"index: must be a menu index, an integer in [0, {len(self._k)}), "
                             f"got {index!r}")
        return int(self._k[i])

    @classmethod
    def from_table(
        cls, table: Any, *, images_per_packet: int = 1, fallback: str = "error"
    ) -> PointMenu:
        """The menu of an operating-point table (``commsldr.link.OperatingPointTable``).

        Accuracy is ``table.accuracy()``; the expected packet size is the mean exact packet size
        for ``images_per_packet`` images (``table.mean_packet_bits(m)``, header and CRC included);
        with ``fallback="prior"`` a lost image is right when its label is the table's prior class.
        """
        if fallback not in ("error", "prior"):
            raise ValueError(f"fallback must be 'error' or 'prior', got {fallback!r}")
        fb = 0.0
        if fallback == "prior":
            if table.prior_class is None:
                raise ValueError("fallback 'prior' needs a table with a prior_class")
            fb = float(np.mean(np.asarray(table.labels) == table.prior_class))
        return cls(
            points=tuple(table.points),
            accuracy=np.asarray(table.accuracy(), dtype=np.float64),
            packet_bits=np.asarray(table.mean_packet_bits(images_per_packet), dtype=np.float64),
            fallback_accuracy=fb,
        )

