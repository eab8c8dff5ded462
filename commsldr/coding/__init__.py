"""commsldr.coding: latent statistics, quantization, rate measures, entropy coding, packets.

The sensor side turns a latent ``y [m, k]`` into a packet::

    coder = make_source_coder(stats, scale, rule="precision", scale_index=3)  # Quantizer + codec
    packet = encode_images(y, coder, model_id=mid, scale_index=3)   # header + payload + CRC
    rx = decode_packet(packet, coder, model_id=mid)                 # or raises PacketError

See the guide page "Source coding" for the allocation rules (and which reading of the paper's
``q_i = s H(y_i)`` is the default, with the measurement), the four rate measures and the packet
format, and "Transform coding" for the KLT (``fit_klt``; ``make_source_coder(...,
transform=klt)``).
"""

from .bottleneck import EB_RULE, EntropyBottleneck, FactorizedPrior
from .codec import CODEC_KINDS, MAX_HALF_WIDTH, LatentCodec
from .entropy import (
    HIGHRES_MIN_RATIO,
    binned_gaussian_entropy_bits,
    empirical_entropy_bits,
    gaussian_differential_entropy_bits,
    highres_entropy_bits,
)
from .errors import CoderMismatchError, CRCError, MalformedPacketError, PacketError, PayloadError
from .evaluate import (
    RATE_MEASURES,
    RateAccuracyResult,
    rate_accuracy_curve,
    rate_accuracy_from_latents,
)
from .packets import (
    CRC_WIDTHS,
    FORMAT_VERSION,
    MAX_IMAGES_PER_PACKET,
    MAX_SYMBOLS_PER_PACKET,
    DecodedPacket,
    PacketHeader,
    build_packet,
    compute_crc,
    decode_packet,
    encode_images,
    header_bytes,
    packet_bits,
    packet_model_id,
    parse_packet,
)
from .quantize import (
    ALLOCATION_RULES,
    DEFAULT_RULE,
    Quantizer,
    ScaleSolution,
    allocate_steps,
    bits_increase_with_scale,
    solve_scale_for_budget,
    waterfill_level,
)
from .scheme import SourceCoder, make_source_coder, scale_for_budget
from .stats import (
    LatentStats,
    attach_latent_stats,
    compute_latent_stats,
    encode_dataset,
    latent_stats_from_latents,
    load_latent_stats,
)
from .transform import KLTransform, fit_klt

__all__ = [
    "ALLOCATION_RULES",
    "CODEC_KINDS",
    "CRC_WIDTHS",
    "DEFAULT_RULE",
    "EB_RULE",
    "EntropyBottleneck",
    "FactorizedPrior",
    "FORMAT_VERSION",
    "HIGHRES_MIN_RATIO",
    "KLTransform",
    "MAX_HALF_WIDTH",
    "CRCError",
    "CoderMismatchError",
    "DecodedPacket",
    "LatentCodec",
    "LatentStats",
    "MalformedPacketError",
    "PacketError",
    "PacketHeader",
    "PayloadError",
    "RATE_MEASURES",
    "RateAccuracyResult",
    "Quantizer",
    "ScaleSolution",
    "SourceCoder",
    "allocate_steps",
    "attach_latent_stats",
    "binned_gaussian_entropy_bits",
    "bits_increase_with_scale",
    "build_packet",
    "compute_crc",
    "compute_latent_stats",
    "decode_packet",
    "empirical_entropy_bits",
    "encode_dataset",
    "encode_images",
    "fit_klt",
    "gaussian_differential_entropy_bits",
    "header_bytes",
    "highres_entropy_bits",
    "latent_stats_from_latents",
    "load_latent_stats",
    "make_source_coder",
    "packet_bits",
    "packet_model_id",
    "parse_packet",
    "MAX_IMAGES_PER_PACKET",
    "MAX_SYMBOLS_PER_PACKET",
    "rate_accuracy_curve",
    "rate_accuracy_from_latents",
    "scale_for_budget",
    "solve_scale_for_budget",
    "waterfill_level",
]
