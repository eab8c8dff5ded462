"""A model paired with its source coders: ``compress(x) -> packets``, ``decompress(packets) ->
logits`` (the model-level API of CompressAI's ``CompressionModel``).

The split autoencoder is differentiable and knows nothing of bits; the source coders of
:mod:`commsldr.coding` (quantizer + entropy codec, one per scale) know nothing of networks.
:class:`CodedModel` joins one (truncated) model variant with the coders of its scales: the sensor
side runs the encoder, quantizes, entropy-codes and frames each group of images into a packet
with a CRC and the model's id; the server side checks the packet, decodes the latents and runs
the decoder + classifier. The operating-point table (:func:`commsldr.link.build_table`) and the
end-to-end link (:func:`commsldr.link.transmit_end_to_end`) go through it.

Reference: J. Bégaint et al., "CompressAI: a PyTorch library and evaluation platform for
end-to-end compression research", arXiv:2011.03029, 2020 (``compress``/``decompress``).

Example:
    >>> coded = CodedModel(model, coders)                       # doctest: +SKIP
    >>> packets = coded.compress(images, scale_index=2)          # doctest: +SKIP
    >>> logits = coded.decompress(packets)                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from commsldr.coding.packets import (
    MAX_IMAGES_PER_PACKET,
    MAX_SYMBOLS_PER_PACKET,
    DecodedPacket,
    decode_packet,
    encode_images,
)
from commsldr.coding.scheme import SourceCoder
from commsldr.coding.stats import encode_dataset
from commsldr.data.tensors import INFERENCE_BATCH_SIZE
from commsldr.models.functional import device_of
from commsldr.models.functional import model_id as compute_model_id

__all__ = ["CodedModel"]


class CodedModel:
    r"""One model variant (latent size ``k``) and the source coders of its scales.

    Args:
        model: the variant (a :class:`~commsldr.models.SplitAutoencoder`); its ``latent_dim``
            is ``k``.
        coders: the receiver's coders, ``{(k, scale_index): SourceCoder}`` (entries of other
            ``k`` are ignored, so the whole :func:`~commsldr.link.make_coders` mapping may be
            passed), or one :class:`~commsldr.coding.SourceCoder` that knows its ``scale_index``.
        crc_bits: the packets' CRC width (8, 16 or 32).
        model_id: the model's :func:`~commsldr.models.functional.model_id`, when the caller
            already has it (computed otherwise).

    Packet of ``m`` images at scale index ``j``:
    ``header(model_id, k, j, m) || entropy_code(Q_j(E(x_1..m))) || CRC``, where ``E`` is the
    encoder and ``Q_j`` the quantizer of scale ``j``; the server computes
    ``D(Q_j^{-1}(symbols))`` with the decoder + classifier ``D``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        coders: Mapping[tuple[int, int], SourceCoder] | SourceCoder,
        *,
        crc_bits: int = 16,
        model_id: str | None = None,
    ) -> None:
        self.model = model
        self.k = int(model.latent_dim)
        if isinstance(coders, SourceCoder):
            if coders.scale_index is None:
                raise ValueError("coders: a single coder must know its scale_index "
                                 "(make_source_coder(..., scale_index=i))")
            coders = {(coders.k, int(coders.scale_index)): coders}
        self.coders: dict[tuple[int, int], SourceCoder] = {
            (int(k), int(j)): c for (k, j), c in coders.items() if int(k) == self.k
        }
        if not self.coders:
            raise ValueError(f"coders: none for k={self.k} (keys: {sorted(coders)})")
        self.crc_bits = int(crc_bits)
        self.model_id = compute_model_id(model) if model_id is None else str(model_id)

    def encode(self, images: torch.Tensor,
               batch_size: int = INFERENCE_BATCH_SIZE) -> torch.Tensor:
        """Sensor side, eval mode.

        Input:
            images (``uint8 [N, 3, H, W]``): images (normalised as in training).

        Output:
            ``float32 [N, k]``: latents ``y`` on the CPU.
        """
        return encode_dataset(self.model, images, batch_size=batch_size)

    def coder(self, scale_index: int) -> SourceCoder:
        """The coder of ``scale_index`` (``KeyError`` naming the known ones)."""
        try:
            return self.coders[(self.k, int(scale_index))]
        except KeyError:
            raise KeyError(f"scale_index {scale_index}: this model's coders have "
                           f"{sorted(j for _, j in self.coders)}") from None

    def pack(self, y: torch.Tensor, *, scale_index: int) -> bytes:
        """Latents of one group of images -> one packet.

        Input:
            y (``float [m, k]``): latents.
            scale_index (int): the operating point's scale index.

        Output:
            bytes: the packet (header, entropy-coded payload, CRC).
        """
        return encode_images(y, self.coder(scale_index), model_id=self.model_id,
                             scale_index=int(scale_index), crc_bits=self.crc_bits)

    def unpack(self, packet: bytes, *, max_images: int = MAX_IMAGES_PER_PACKET,
               max_symbols: int = MAX_SYMBOLS_PER_PACKET, verify: bool = True) -> DecodedPacket:
        """One packet -> its header, symbols and dequantized latents ``float32 [m, k]``.

        Raises:
            commsldr.coding.PacketError: the bytes are not a valid packet of this model (bad CRC,
                another model id, an unknown ``(k, scale_index)``, a malformed payload).
        """
        return decode_packet(packet, self.coders, model_id=self.model_id, crc_bits=self.crc_bits,
                             verify=verify, max_images=max_images, max_symbols=max_symbols)

    def compress(self, images: torch.Tensor, *, scale_index: int,
                 images_per_packet: int | None = None,
                 batch_size: int = INFERENCE_BATCH_SIZE) -> list[bytes]:
        """Sensor side: images -> packets.

        Input:
            images (``uint8 [N, 3, H, W]``): the images, in order.
            scale_index (int): which of the model's coders quantizes.
            images_per_packet (int | None): ``m``; consecutive groups of ``m`` images share a
                packet (the last one may hold fewer). ``None``: all ``N`` in one packet.

        Output:
            ``list[bytes]``: ``ceil(N / m)`` packets.
        """
        y = self.encode(images, batch_size)
        m = y.shape[0] if images_per_packet is None else int(images_per_packet)
        if m < 1:
            raise ValueError(f"images_per_packet must be >= 1, got {images_per_packet}")
        return [self.pack(y[i : i + m], scale_index=scale_index)
                for i in range(0, y.shape[0], m)]

    @torch.no_grad()
    def decompress(self, packets: Sequence[bytes], *,
                   max_images: int = MAX_IMAGES_PER_PACKET) -> torch.Tensor:
        """Server side: packets -> class logits, in eval mode.

        Input:
            packets (``Sequence[bytes]``): packets made by :meth:`compress` (any scales).

        Output:
            ``float32 [N, C]``: logits of the images of all packets, in order (on the CPU).

        Raises:
            commsldr.coding.PacketError: a packet is not valid for this model.
        """
        latents = [self.unpack(p, max_images=max_images).latents for p in packets]
        if not latents:
            return torch.empty(0, int(self.model.num_classes))
        was_training = self.model.training
        self.model.eval()
        try:
            y = torch.cat(latents).to(device=device_of(self.model), dtype=torch.float32)
            return self.model.decode(y).float().cpu()
        finally:
            self.model.train(was_training)

