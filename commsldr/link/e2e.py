"""The full chain, run for real: images -> encoder -> quantizer -> entropy coder -> packet ->
PHY -> packet parser (CRC) -> entropy decoder -> dequantizer -> decoder + classifier.

This is what an operating-point table replaces by a lookup; it is used to prove the lookup exact
(tests), as the naive baseline of ``benchmarks/link_sweep.py``, and — with a
:class:`~commsldr.link.bittrue.BitTruePHY` — to send the real packet bytes through LDPC + QAM +
the channel, where a corrupted packet is caught by the packet CRC (or the payload's canonical-form
check) and counted as lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from commsldr.coding.errors import PacketError
from commsldr.coding.packets import parse_packet
from commsldr.data.tensors import INFERENCE_BATCH_SIZE
from commsldr.link.bittrue import BitTruePHY
from commsldr.link.frame_record import check_phy_result
from commsldr.link.phy import PHY
from commsldr.link.table import OperatingPoint, classify_latents, encode_latents
from commsldr.models.coded import CodedModel
from commsldr_channels import LinkState

__all__ = ["EndToEndResult", "transmit_end_to_end"]


@dataclass(frozen=True)
class EndToEndResult:
    """Outcome per frame (arrays ``[F]``).

    Attributes:
        packet_bits: size of the real packet sent.
        delivered: the receiver accepted the packet (CRC and payload checks passed).
        num_correct: correctly classified images of the accepted packet (0 if lost).
        predictions: ``int64 [F, m]`` server decisions (``-1`` for lost packets).
    """

    packet_bits: np.ndarray
    delivered: np.ndarray
    num_correct: np.ndarray
    predictions: np.ndarray


def transmit_end_to_end(
    models: Mapping[int, torch.nn.Module],
    coders: Mapping[tuple[int, int], Any],
    data: Any,
    points: Sequence[OperatingPoint],
    images: np.ndarray,
    *,
    phy: PHY | None = None,
    states: LinkState | None = None,
    generator: torch.Generator | None = None,
    crc_bits: int = 16,
    batch_size: int = INFERENCE_BATCH_SIZE,
) -> EndToEndResult:
    """Send frame ``t``'s images ``images[t]`` at operating point ``points[t]`` through the chain.

    Args:
        models: ``{k: variant}`` (sensor encoder and server decoder of each variant).
        coders: ``{(k, scale_index): SourceCoder}`` (:func:`commsldr.link.table.make_coders`).
        data: the :class:`~commsldr.data.ImageTensors` the indices refer to.
        points: ``F`` operating points.
        images: ``int64 [F, m]`` image indices per frame.
        phy: ``None`` (ideal link: every packet arrives), a PHY deciding delivery from the
            packet size, or a :class:`BitTruePHY` (the bytes themselves are sent).
        states: link states of the ``F`` frames (needed with ``phy``).
        generator: the PHY's random stream.
        crc_bits: the packets' CRC width.
        batch_size: images per forward pass.
    """
    images = np.asarray(images, dtype=np.int64)
    f = len(points)
    if images.ndim != 2 or images.shape[0] != f:
        raise ValueError(f"images: expected shape [F={f}, m], got {images.shape}")
    if phy is not None and (states is None or generator is None):
        raise ValueError("states, generator: a PHY needs the link states and a generator")
    coded = {k: CodedModel(m, coders, crc_bits=crc_bits) for k, m in models.items()}
    labels = data.labels.cpu().numpy()
    # Sensor: one packet per frame.
    packets: list[bytes] = []
    for pt, idx in zip(points, images, strict=True):
        if pt.k not in models:
            raise KeyError(f"models: no variant k={pt.k}")
        y = encode_latents(models[pt.k], data.images[torch.as_tensor(idx)], batch_size)
        packets.append(coded[pt.k].pack(y, scale_index=pt.scale_index))
    bits = np.array([8 * len(p) for p in packets], dtype=np.int64)
    # Link.
    received: list[bytes | None]
    if phy is None:
        received = list(packets)
    elif isinstance(phy, BitTruePHY):
        received = phy.transmit_bytes(packets, states, generator)
    else:
        ok = check_phy_result(phy, phy.deliver(bits, states, generator), len(bits)).delivered
        received = [p if d else None for p, d in zip(packets, ok, strict=True)]
    # Server.
    m = images.shape[1]
    delivered = np.zeros(f, dtype=bool)
    num_correct = np.zeros(f, dtype=np.int64)
    predictions = np.full((f, m), -1, dtype=np.int64)
    for t, rx in enumerate(received):
        if rx is None:
            continue
        try:
            header, _ = parse_packet(rx, crc_bits, max_images=m)
            if header.k not in models:
                continue
            dec = coded[header.k].unpack(rx, max_images=m, max_symbols=m * max(models))
        except PacketError:
            continue
        if dec.latents.shape[0] != m:
            continue
        pred = classify_latents(models[header.k], dec.latents, batch_size)
        delivered[t] = True
        predictions[t] = pred
        num_correct[t] = int(np.count_nonzero(pred == labels[images[t]]))
    return EndToEndResult(bits, delivered, num_correct, predictions)
