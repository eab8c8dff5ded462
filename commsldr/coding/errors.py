"""Exceptions raised on bad packets and payloads.

Every way a received byte string can be wrong maps to one subclass of :class:`PacketError`, so
a receiver counts losses with a single ``except PacketError``; nothing corrupt is ever decoded
into a latent silently.
"""

from __future__ import annotations

__all__ = ["CRCError", "MalformedPacketError", "PacketError", "PayloadError"]


class PacketError(ValueError):
    """Base class: the received bytes are not a valid packet for this receiver."""


class CRCError(PacketError):
    """The CRC computed over header + payload differs from the CRC carried by the packet."""


class MalformedPacketError(PacketError):
    """The packet is structurally invalid: too short, wrong version or CRC width, bad field
    encoding, a length that does not match, or a header that names an unknown model/variant."""


class PayloadError(MalformedPacketError):
    """The payload is not the canonical entropy-coded message of any latent for this codec
    (a trailing zero byte, or re-encoding the decoded symbols does not give the same bytes)."""
