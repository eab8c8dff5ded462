"""Former private name of :mod:`commsldr.link.sionna_guard` (kept for code written against it)."""

from commsldr.link.sionna_guard import sionna_phy

__all__ = ["sionna_phy"]
