"""Image codecs as schemes: JPEG and WebP (Pillow) at a ladder of qualities.

**Sensor.** The image is compressed with the codec at quality ``q`` (one of ``qualities``, the
ladder); only what the receiver cannot rebuild is sent:

- JPEG: an *abbreviated* baseline stream (``streamtype=2``: no quantisation / Huffman tables —
  they are the standard tables scaled by ``q``, known at both ends, and ``q`` is the packet
  header's scale index), without the JFIF ``APP0`` segment and without the ``SOI``/``EOI``
  markers; the bitstream sent is the frame and scan headers plus the entropy-coded data;
- WebP: the ``VP8 `` bitstream without its 20-byte RIFF/chunk header (rebuilt from the payload
  length).

``headers="full"`` sends the whole file instead. :func:`decode_image` rebuilds the full file and
decodes it with Pillow; a test checks that this gives exactly the pixels of decoding the file
Pillow wrote.

**Packets.** The payload of a packet of ``m`` images is their bitstreams, each but the last
preceded by its length (2 bytes, big-endian); the packet is
:func:`commsldr.coding.packets.build_packet` of it (header + CRC), and the table stores its
exact size. The operating points are ``(k=1, scale_index=j, scale=q_j)``: one encoder, the
quality is the knob a policy turns (``fixed: {k: 1, scale: 50}`` pins ``q = 50``).

**Server.** The decoded image is classified by a network of the split model's family:

- ``classifier: clean`` — the scenario's split model run whole (``decode(encode(x))``), i.e.
  trained on clean images;
- ``classifier: finetuned`` (the default) — the same network fine-tuned with cross-entropy (the
  CE-T phase of :mod:`commsldr.train`) on training images decoded at a quality drawn uniformly
  from the ladder for every image (one model for the whole ladder), cached under
  ``<cache_dir>/models/<codec>-ft-<hash>/``. It is the stronger baseline, hence the default.
"""

from __future__ import annotations

import copy
import functools
import io
from typing import Any, ClassVar

import numpy as np
import torch

from commsldr.data import ImageTensors, derive_seed
from commsldr.link.table import OperatingPoint
from commsldr.models import model_id
from commsldr.schemes._common import cache_key, cached_table, predict_images, table_from_payloads
from commsldr.schemes.base import DigitalProduct, Scheme, SchemeContext
from commsldr.schemes.cost import codec_macs
from commsldr.schemes.registry import register_scheme
from commsldr.train import TrainConfig, load_model, save_checkpoint
from commsldr.train.loop import train_phase
from commsldr.train.recipes import ce_phase
from commsldr.train.settings import MAX_EPOCHS

__all__ = ["encode_image", "decode_image", "ImageCodecScheme", "JPEGScheme", "WebPScheme",
           "CODECS"]

CODECS = ("jpeg", "webp")
_SOI, _EOI = b"\xff\xd8", b"\xff\xd9"


def _pil(image: torch.Tensor | np.ndarray) -> Any:
    from PIL import Image

    a = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[0] != 3:
        raise ValueError(f"image: expected uint8 [3, H, W], got {a.dtype} {a.shape}")
    return Image.fromarray(np.ascontiguousarray(a.transpose(1, 2, 0)), "RGB")


def _check(codec: str, quality: int) -> None:
    if codec not in CODECS:
        raise ValueError(f"codec: {codec!r} is not one of {', '.join(CODECS)}")
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) \
            or not 1 <= quality <= 100:
        raise ValueError(f"quality: must be an integer in [1, 100], got {quality!r}")


@functools.lru_cache(maxsize=128)
def _jpeg_tables(quality: int) -> bytes:
    """The tables-only JPEG stream (SOI, DQT, DHT, EOI) of ``quality`` (image independent)."""
    buf = io.BytesIO()
    _pil(np.zeros((3, 8, 8), np.uint8)).save(buf, "JPEG", quality=int(quality), streamtype=1)
    return buf.getvalue()


def encode_image(image: torch.Tensor | np.ndarray, codec: str, quality: int,
                 headers: str = "minimal") -> bytes:
    """Compress one ``uint8 [3, H, W]`` RGB image; returns the bytes the sensor sends.

    Args:
        codec: ``"jpeg"`` or ``"webp"``.
        quality: 1..100 (Pillow's ``quality``).
        headers: ``"minimal"`` (what the receiver cannot rebuild; module docstring) or
            ``"full"`` (the whole file).
    """
    _check(codec, quality)
    if headers not in ("minimal", "full"):
        raise ValueError(f"headers: must be 'minimal' or 'full', got {headers!r}")
    im, buf = _pil(image), io.BytesIO()
    if codec == "jpeg":
        if headers == "full":
            im.save(buf, "JPEG", quality=int(quality))
            return buf.getvalue()
        im.save(buf, "JPEG", quality=int(quality), streamtype=2)
        data = buf.getvalue()
        if data[:2] != _SOI or data[-2:] != _EOI:
            raise RuntimeError("Pillow wrote an unexpected JPEG stream")
        body = data[2:-2]
        if body[:2] == b"\xff\xe0":  # JFIF APP0: not needed to decode
            body = body[2 + int.from_bytes(body[2:4], "big"):]
        return body
    im.save(buf, "WEBP", quality=int(quality))
    data = buf.getvalue()
    if headers == "full":
        return data
    if data[:4] != b"RIFF" or data[8:16] != b"WEBPVP8 ":
        raise RuntimeError("Pillow wrote a WebP file that is not a simple lossy 'VP8 ' file")
    size = int.from_bytes(data[16:20], "little")
    return data[20:20 + size]


def _full_file(payload: bytes, codec: str, quality: int, headers: str) -> bytes:
    if headers == "full":
        return payload
    if codec == "jpeg":
        return _jpeg_tables(int(quality))[:-2] + payload + _EOI
    pad = len(payload) & 1
    return (b"RIFF" + (12 + len(payload) + pad).to_bytes(4, "little") + b"WEBPVP8 "
            + len(payload).to_bytes(4, "little") + payload + b"\x00" * pad)


def decode_image(payload: bytes, codec: str, quality: int, headers: str = "minimal") -> np.ndarray:
    """Inverse of :func:`encode_image`: ``uint8 [3, H, W]`` decoded pixels."""
    from PIL import Image

    _check(codec, quality)
    with Image.open(io.BytesIO(_full_file(payload, codec, quality, headers))) as im:
        return np.asarray(im.convert("RGB")).transpose(2, 0, 1).copy()


def codec_roundtrip(images: torch.Tensor, codec: str, qualities: np.ndarray,
                    headers: str = "minimal") -> tuple[torch.Tensor, np.ndarray]:
    """Encode + decode every image at its own quality: ``(decoded uint8 [N,3,H,W], bytes [N])``."""
    out = np.empty(tuple(images.shape), dtype=np.uint8)
    sizes = np.empty(images.shape[0], dtype=np.int64)
    for i in range(images.shape[0]):
        data = encode_image(images[i], codec, int(qualities[i]), headers)
        sizes[i] = len(data)
        out[i] = decode_image(data, codec, int(qualities[i]), headers)
    return torch.from_numpy(out), sizes


def _pack(streams: list[bytes]) -> bytes:
    """Payload of several images: each bitstream but the last prefixed by its 2-byte length."""
    parts = []
    for s in streams[:-1]:
        if len(s) >= 1 << 16:
            raise ValueError("an image bitstream longer than 65535 bytes cannot be packed")
        parts.append(len(s).to_bytes(2, "big") + s)
    return b"".join(parts) + streams[-1]


class ImageCodecScheme(Scheme):
    """An image codec at a ladder of qualities; the server classifies the decoded image.

    Args:
        qualities: the quality ladder (integers in [1, 100], distinct).
        classifier: ``"finetuned"`` (default) or ``"clean"`` (module docstring).
        finetune_epochs: epochs of the fine-tuning on decoded images, in [1, 10000].
        finetune_lr: its learning rate (SGD, cosine schedule, as CE-T).
        headers: ``"minimal"`` or ``"full"`` (see :func:`encode_image`).
    """

    codec: ClassVar[str] = ""

    def __init__(self, qualities: list[int] | tuple[int, ...] = (5, 10, 20, 40, 70, 90),
                 classifier: str = "finetuned", finetune_epochs: int = 1,
                 finetune_lr: float = 0.01, headers: str = "minimal") -> None:
        qs = list(qualities)
        if not qs:
            raise ValueError("qualities: need at least one quality")
        for q in qs:
            if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or not 1 <= q <= 100:
                raise ValueError(f"qualities: each must be an integer in [1, 100], got {q!r}")
        if len(set(qs)) != len(qs):
            raise ValueError(f"qualities: duplicate entries in {qs}")
        if classifier not in ("finetuned", "clean"):
            raise ValueError(f"classifier: must be 'finetuned' or 'clean', got {classifier!r}")
        if isinstance(finetune_epochs, bool) or not isinstance(finetune_epochs, int) \
                or not 1 <= finetune_epochs <= MAX_EPOCHS:
            raise ValueError(f"finetune_epochs: must be an integer in [1, {MAX_EPOCHS}], got "
                             f"{finetune_epochs!r}")
        if isinstance(finetune_lr, bool) or not isinstance(finetune_lr, (int, float)) \
                or not finetune_lr > 0:
            raise ValueError(f"finetune_lr: must be a number > 0, got {finetune_lr!r}")
        if headers not in ("minimal", "full"):
            raise ValueError(f"headers: must be 'minimal' or 'full', got {headers!r}")
        self.qualities = sorted(int(q) for q in qs)
        self.classifier = classifier
        self.finetune_epochs = int(finetune_epochs)
        self.finetune_lr = float(finetune_lr)
        self.headers = headers

    def params(self) -> dict[str, Any]:
        return {"qualities": self.qualities, "classifier": self.classifier,
                "finetune_epochs": self.finetune_epochs, "finetune_lr": self.finetune_lr,
                "headers": self.headers}

    def menu_points(self) -> list[tuple[int, float]]:
        return [(1, float(q)) for q in self.qualities]

    # ------------------------------------------------------------------ the server's classifier
    def server_model(self, ctx: SchemeContext) -> torch.nn.Module:
        """The classifier of decoded images (trained once and cached for ``finetuned``)."""
        base = ctx.model()
        if self.classifier == "clean":
            return base
        cfg = ctx.train_config if ctx.train_config is not None else TrainConfig()
        cfg = cfg.replace(seed=ctx.seed)
        key = cache_key({"base": model_id(base), "codec": self.codec, "q": self.qualities,
                         "epochs": self.finetune_epochs, "lr": self.finetune_lr,
                         "headers": self.headers, "seed": ctx.seed, "dataset": ctx.dataset,
                         "batch_size": cfg.ce.batch_size, "augment": cfg.data.augment, "format": 1})
        out = ctx.cache_dir / "models" / f"{self.codec}-ft-{key}"
        if (out / "model.pt").is_file():
            ctx.log(f"{self.codec}: cached classifier {out / 'model.pt'}")
            return load_model(out / "model.pt")
        train, test = ctx.data()
        ctx.log(f"{self.codec}: fine-tuning the classifier on {len(train)} decoded images "
                f"({self.finetune_epochs} epoch(s)) → {out} (cached for later runs)")

        rng = np.random.default_rng(derive_seed(ctx.seed, f"{self.codec}/finetune-qualities"))
        q_train = rng.choice(self.qualities, size=len(train))
        q_test = rng.choice(self.qualities, size=len(test))
        dec_train = ImageTensors(codec_roundtrip(train.images, self.codec, q_train,
                                                 self.headers)[0], train.labels, train.classes)
        dec_test = ImageTensors(codec_roundtrip(test.images, self.codec, q_test,
                                                self.headers)[0], test.labels, test.classes)
        model = copy.deepcopy(base).train()
        phase = ce_phase(cfg, f"{self.codec}-ft", lr=self.finetune_lr,
                         epochs=self.finetune_epochs)
        train_phase(model, phase, dec_train, dec_test, out / phase.name, progress=ctx.progress)
        save_checkpoint(out / "model.pt", model, base_model_id=model_id(base),
                        scheme=self.name, scheme_params=self.params())
        return load_model(out / "model.pt")

    # ------------------------------------------------------------------ the table
    def prepare(self, ctx: SchemeContext) -> DigitalProduct:
        server = self.server_model(ctx)
        mid = model_id(server)
        ms = sorted({int(m) for m in ctx.images_per_packet})
        key = cache_key({"scheme": self.name, "params": self.params(), "server": mid,
                         "crc_bits": ctx.crc_bits, "m": ms, "seed": ctx.seed,
                         "dataset": ctx.dataset, "format": 1})

        def build() -> Any:
            train, test = ctx.data()
            labels = test.labels.numpy().astype(np.int64)
            streams: list[list[bytes]] = []
            correct = []
            for q in self.qualities:
                data = [encode_image(img, self.codec, q, self.headers) for img in test.images]
                dec = torch.from_numpy(np.stack([decode_image(d, self.codec, q, self.headers)
                                                 for d in data]))
                streams.append(data)
                correct.append(predict_images(server, dec) == labels)
            points = [OperatingPoint(1, j, float(q)) for j, q in enumerate(self.qualities)]
            bits = np.array([[8 * len(s) for s in row] for row in streams], dtype=np.int64)
            prior = int(np.bincount(train.labels.numpy()).argmax())
            return table_from_payloads(
                points, bits, np.stack(correct), labels,
                lambda p, g: _pack([streams[p][i] for i in g]),
                images_per_packet=ms, crc_bits=ctx.crc_bits, model_id=mid, seed=ctx.seed,
                meta={"scheme": self.name, "codec": self.codec, "qualities": self.qualities,
                      "classifier": self.classifier, "headers": self.headers,
                      "crc_bits": ctx.crc_bits, "dataset": ctx.dataset},
                prior_class=prior)

        table = cached_table(ctx.cache_dir / "tables" / f"{self.name}-{key}", build, ctx.log)
        _, test = ctx.data()
        h, w = (int(s) for s in test.images.shape[2:])
        macs = np.full(len(table), codec_macs(self.codec, h, w))
        return DigitalProduct(table, macs, [f"q={q}" for q in self.qualities],
                              info={"classifier": self.classifier, "server_model_id": mid,
                                    "sensor_macs": "estimate (commsldr.schemes.cost)"})


@register_scheme("jpeg")
class JPEGScheme(ImageCodecScheme):
    """JPEG (Pillow/libjpeg) at a quality ladder; the server classifies the decoded image."""

    codec = "jpeg"


@register_scheme("webp")
class WebPScheme(ImageCodecScheme):
    """WebP lossy (Pillow/libwebp) at a quality ladder; the server classifies the decoded image."""

    codec = "webp"
