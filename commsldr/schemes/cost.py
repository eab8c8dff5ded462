r"""Sensor compute per image, in multiply–accumulates (MACs).

**Networks** — :func:`count_macs` runs the sensor-side function once under
:class:`torch.utils.flop_counter.FlopCounterMode` and halves the FLOPs it counts: the counter
counts ``2·M·N·K`` FLOPs for every matrix product and convolution (one multiply and one add per
MAC) and nothing for element-wise layers (BatchNorm, ReLU, pooling, power normalisation), so
the result is exactly the MACs of the linear layers, the dominant cost.

**Codecs** — :func:`codec_macs` is a *stated estimate* (the codecs are C libraries; nothing
counts their operations), per pixel of an ``H×W`` RGB image:

JPEG (libjpeg baseline through Pillow, 4:2:0 chroma subsampling — Pillow's default):

- RGB → YCbCr: a 3×3 matrix, 9 MACs;
- 2×2 chroma averaging for two planes: 2 MACs;
- 8×8 forward DCT computed as two separable 8-point matrix passes: 16 MACs per coefficient,
  1.5 coefficients per pixel (Y + ¼ Cb + ¼ Cr): 24 MACs;
- quantisation: 1 multiply per coefficient: 1.5 MACs;

in all :math:`36.5` MACs per pixel. libjpeg's integer DCT needs fewer multiplies than the matrix
form, so this errs high; Huffman coding (table look-ups) is not counted.

WebP lossy (libwebp VP8 intra coding, default ``method=4``):

- RGB → YUV 4:2:0: 11 MACs (as for JPEG);
- intra mode decision: every candidate predictor is formed, its residual transformed with the
  4×4 DCT (two passes of 4 MACs per coefficient), quantised and its distortion summed — about
  11 MACs per pixel per candidate; luma tries the 4 16×16 and the 10 4×4 modes
  (:math:`14·11 = 154`), chroma its 4 modes on half as many samples (:math:`4·11·0.5 = 22`);

in all :math:`187` MACs per pixel. Arithmetic (boolean) coding is not counted. These are
estimates of the arithmetic, to place the codecs on the compute axis next to the networks; they
are not measurements.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["count_macs", "codec_macs", "CODEC_MACS_PER_PIXEL"]

#: the estimates of :func:`codec_macs` (MACs per pixel of an RGB image)
CODEC_MACS_PER_PIXEL: dict[str, float] = {
    "jpeg": 9.0 + 2.0 + 24.0 + 1.5,
    "webp": 11.0 + 154.0 + 22.0,
}


@torch.no_grad()
def count_macs(fn: Callable[[torch.Tensor], Any], example: torch.Tensor) -> float:
    """MACs per input of ``fn`` (e.g. ``model.encode``) counted on ``example`` ``[B, ...]``.

    Returns:
        FLOPs counted by :class:`~torch.utils.flop_counter.FlopCounterMode` / 2 / B.
    """
    from torch.utils.flop_counter import FlopCounterMode

    if example.shape[0] < 1:
        raise ValueError("example: need at least one input")
    counter = FlopCounterMode(display=False)
    with counter:
        fn(example)
    return counter.get_total_flops() / 2.0 / example.shape[0]


def codec_macs(codec: str, height: int, width: int) -> float:
    """The stated estimate of the MACs to encode one ``height × width`` RGB image (module
    docstring)."""
    if codec not in CODEC_MACS_PER_PIXEL:
        raise ValueError(f"codec: {codec!r} is not one of {', '.join(CODEC_MACS_PER_PIXEL)}")
    return CODEC_MACS_PER_PIXEL[codec] * int(height) * int(width)
