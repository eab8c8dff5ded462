"""Exceptions raised on bad packets and payloads.

Every way a received byte string can be wrong maps to one subclass of :class:`PacketError`, so
a receiver counts losses with a single ``except PacketError``; nothing corrupt is ever decoded
into a latent silently.
"""

from __future__ import annotations

__all__ = ["CRCError", "CoderMismatchError", "MalformedPacketError", "PacketError", "PayloadError"]


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


class CoderMismatchError(MalformedPacketError):
    """The packet's header names an operating point the receiver's coder was not built for: its
    ``k`` (encoder variant) or ``scale_index`` (quantizer) differs from the single coder the
    receiver was given. Decoding would use the wrong quantizer, so the packet is rejected.

    Attributes:
        field: ``"k"`` or ``"scale_index"``.
        packet_value: the value in the packet's header.
        coder_value: the value the coder was built for.
    """

    def __init__(self, field: str, packet_value: int, coder_value: int) -> None:
        super().__init__(f"packet {field}={packet_value}, but the receiver's coder has "
                         f"{field}={coder_value}")
        self.field = field
        self.packet_value = packet_value
        self.coder_value = coder_value
