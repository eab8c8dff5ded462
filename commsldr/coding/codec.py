"""Entropy coding of quantized latents with ``constriction``'s range coder.

:class:`LatentCodec` holds one entropy model per latent entry, fitted on the training set:

``gaussian``
    ``QuantizedGaussian`` with the entry's mean and std in symbol units (``(mu_i - c_i) /
    Delta_i``, ``sigma_i / Delta_i``), centred at ``m_i = round(mean_i)``. Coded values
    ``v = q - m_i`` in ``[-R, R]`` are coded directly, ``R = ceil(8 max_i std_i) + 1`` (capped at
    :data:`MAX_HALF_WIDTH`); anything else is coded as the escape value ``R + 1``.
``categorical``
    The empirical histogram of the training symbols on ``[lo_i, hi_i]`` with additive (Laplace)
    smoothing ``alpha`` on every value of the range and on an escape symbol.

An escaped symbol is followed, after all regular symbols, by its raw ``int32`` value as two
uniform 16-bit symbols, so no integer ever fails to encode.

**Message layout.** The symbols of ``m`` images are coded in one range-coder message, entry by
entry: entry 0 of every image, then entry 1 of every image, and so on (``[k, m]``, row-major; for
one image this is simply its ``k`` entries in order); the escapes' raw values follow, in the same
order. Entry by entry, ``constriction`` can reuse one fixed table per entry for all ``m`` symbols
(:meth:`LatentCodec.prepare`), which codes a packet of many images several times faster than a
model per symbol. The tables are built with ``constriction``'s own fixed-point arithmetic and
checked against its per-symbol models, so either way gives the same bytes.

**Sealing.** ``constriction`` emits 32-bit words and seals a message with one word holding
``ceil(lower / 2^32)``; any 64-bit point in the final interval ``[lower, lower + range)``
followed by zero words decodes identically (the words are the digits of one number in
``[0, 1)``; a point at ``2^64`` is a carry into the earlier words), and the decoder reads missing
words as zeros. We therefore replace the sealing word by the point of the final interval *above*
its lower end with the most trailing zero bits (the lower end itself would let a trailing run of
symbols with left cumulative 0 ride along for free, see :func:`_seal`), serialise the words
big-endian and strip trailing zero bytes; a message with no symbols is the empty payload. A
message then costs its information content plus at most ~1 bit plus byte rounding (measured: 3.0
bits on average for single images), instead of up to 32 bits more; a lucky interval can even give
fewer bits than ``-log2 p``. Decoding pads with zeros again. A payload that ends in a zero byte is
not canonical and is rejected (:class:`~commsldr.coding.PayloadError`).

``constriction``'s decoders do not detect corrupt data: most garbage decodes to *some* symbols
(range-coded data has almost no redundancy), a little makes constriction raise an
``AssertionError``, which we turn into :class:`~commsldr.coding.PayloadError`. With
``verify=True`` :meth:`decode` re-encodes the decoded symbols and requires the identical payload,
so an accepted payload is always the exact encoding of the returned symbols. Detecting
corruption is the job of the packet CRC (:mod:`commsldr.coding.packets`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import TYPE_CHECKING

import constriction
import numpy as np
import torch
from scipy.special import log_ndtr

from .errors import PayloadError

if TYPE_CHECKING:
    from .quantize import Quantizer
    from .stats import LatentStats

__all__ = ["CODEC_KINDS", "MAX_HALF_WIDTH", "PAYLOAD_SLACK_BITS", "LatentCodec"]

CODEC_KINDS = ("gaussian", "categorical")
#: largest half-width ``R`` of the Gaussian model's direct-coding window
MAX_HALF_WIDTH = 2**13
#: largest alphabet (values per entry, escape excluded) of the categorical model
MAX_ALPHABET = 2**12
_STD_MIN = 1e-3
_TAIL_SIGMAS = 8.0
_CACHE = 4
_TILE_FLOATS = 1 << 22  # categorical tables are repeated in chunks of at most this many floats
#: messages of at least this many images are coded with one reusable table per entry (below it,
#: one call with a model per symbol is faster)
_TABLE_MIN_IMAGES = 8
#: no per-entry tables are built when ``k`` times the alphabet exceeds this many values
_TABLE_MAX_VALUES = 1 << 21
_PRECISION = 24  # constriction's fixed-point precision for the models used here
#: bits a sealed message may fall short of its information content before :meth:`LatentCodec.decode`
#: calls the image count implausible (an honest message is that short with probability ~2^-64)
PAYLOAD_SLACK_BITS = 64
# tolerance on a coded probability vs. its float value (constriction quantizes to 24 bits)
_PROB_TOL = 2.0**-16

_model = constriction.stream.model
_queue = constriction.stream.queue
_UNIFORM16 = _model.Uniform(1 << 16)


def _as_int_array(symbols: torch.Tensor | np.ndarray, k: int) -> np.ndarray:
    if isinstance(symbols, torch.Tensor):
        symbols = symbols.detach().cpu().numpy()
    q = np.asarray(symbols)
    if q.ndim != 2 or q.shape[1] != k:
        raise ValueError(f"symbols must have shape [m, {k}], got {q.shape}")
    if q.dtype.kind not in "iu":
        raise TypeError(f"symbols must be integers, got dtype {q.dtype}")
    if q.size and (q.min() < -(2**31) or q.max() > 2**31 - 1):
        raise ValueError("symbols must fit in int32")
    return q.astype(np.int64, copy=False)


def _seal(words: np.ndarray, pos: int, lower: int, rng: int) -> bytes:
    """Shortest byte string that decodes like ``words`` (see module docstring).

    ``constriction`` seals with at most two words after position ``pos`` that form a 64-bit
    point inside ``[lower, lower + range)``. If that is what we see, we substitute the point of
    the interval *above* ``lower`` with the most trailing zero bits -- ``2^64`` (a carry into the
    words before ``pos``) when the interval contains it; otherwise we keep the words as they are.
    ``lower`` itself is never chosen: symbols with left cumulative 0 leave ``lower`` unchanged,
    so a message ending in a run of them would seal at ``lower`` and carry that run for free,
    and the decoder could no longer bound the images a payload holds (:meth:`LatentCodec.max_images`).
    """
    tail = [int(w) for w in words[pos:]] + [0, 0]
    hi = min(lower + rng, 1 << 64) - 1  # largest valid point below the carry
    if len(words) - pos <= 2 and lower <= (tail[0] << 32 | tail[1]) <= hi:
        if lower + rng > 1 << 64 and pos > 0:  # carry: prefix + 1, then all-zero point
            prefix = int.from_bytes(words[:pos].astype(">u4").tobytes(), "big") + 1
            if prefix < 1 << (32 * pos):
                return prefix.to_bytes(4 * pos, "big").rstrip(b"\x00")
        if hi > lower:
            top = (lower ^ hi).bit_length() - 1
            point = (hi >> top) << top
            data = words[:pos].astype(">u4").tobytes() + point.to_bytes(8, "big")
            return data.rstrip(b"\x00")
    return words.astype(">u4").tobytes().rstrip(b"\x00")


def _unseal(payload: bytes) -> np.ndarray:
    if payload and payload[-1] == 0:
        raise PayloadError("payload ends with a zero byte (not a canonical message)")
    pad = (-len(payload)) % 4
    return np.frombuffer(payload + b"\x00" * pad, dtype=">u4").astype(np.uint32)


def _log2_bin_prob(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``log2(Phi(hi) - Phi(lo))`` without cancellation, ``lo < hi`` elementwise."""
    upper = lo > 0  # both on the upper side: use the survival function
    a = np.where(upper, -hi, lo)
    b = np.where(upper, -lo, hi)
    la, lb = log_ndtr(a), log_ndtr(b)
    with np.errstate(divide="ignore"):
        return (lb + np.log1p(-np.exp(la - lb))) / math.log(2.0)


class LatentCodec:
    """Per-entry entropy models over ``constriction``: integer symbols ``[m, k]`` <-> bytes.

    Build one with :meth:`gaussian`, :meth:`from_stats` or :meth:`fit_categorical`.

    Example:
        >>> codec = LatentCodec.gaussian(np.zeros(4), np.full(4, 3.0))
        >>> q = np.array([[1, -2, 0, 5]], dtype=np.int32)
        >>> codec.decode(codec.encode(q), 1).tolist()
        [[1, -2, 0, 5]]
    """

    def __init__(self, kind: str, k: int, **params: np.ndarray) -> None:
        if kind not in CODEC_KINDS:
            raise ValueError(f"unknown codec kind {kind!r}; valid kinds: {list(CODEC_KINDS)}")
        self.kind = kind
        self.k = int(k)
        if kind == "gaussian":
            self.mean = np.asarray(params["mean"], dtype=np.float64)
            self.std = np.asarray(params["std"], dtype=np.float64)
            self.center = np.round(self.mean).astype(np.int64)
            smax = float(self.std.max()) if self.k else 0.0
            self.half_width = int(min(max(math.ceil(_TAIL_SIGMAS * smax) + 1, 1), MAX_HALF_WIDTH))
            self.escape = self.half_width + 1
            self._mu = self.mean - self.center
            self._sd = np.maximum(self.std, _STD_MIN)
        else:
            self.lo = np.asarray(params["lo"], dtype=np.int64)
            self.size = np.asarray(params["size"], dtype=np.int64)
            table = np.asarray(params["table"], dtype=np.float32)
            self.escape = table.shape[1] - 1
            self.table = np.ascontiguousarray(table)
            with np.errstate(divide="ignore"):
                self._log2p = np.log2(table / table.sum(1, keepdims=True))
        self._start_models()

    def _start_models(self) -> None:
        """The ``constriction`` model family with per-symbol parameters and an empty cache of
        its repeated parameters (built at construction and again after unpickling)."""
        self._tiles: OrderedDict[int, tuple[np.ndarray, ...]] = OrderedDict()
        self._family = (_model.QuantizedGaussian(-self.half_width, self.escape)
                        if self.kind == "gaussian" else _model.Categorical(perfect=False))

    def __getstate__(self) -> dict:
        """Pickle the parameters only: ``constriction`` models are rebuilt on load."""
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_family", "_models_cache", "_tiles")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._start_models()

    # ------------------------------------------------------------------ construction
    @classmethod
    def gaussian(cls, mean: np.ndarray | torch.Tensor, std: np.ndarray | torch.Tensor
                 ) -> LatentCodec:
        """Quantized-Gaussian models with per-entry ``mean``/``std`` in **symbol units**.

        Args:
            mean: ``[k]`` mean of ``(y_i - c_i) / Delta_i``.
            std: ``[k]`` std of ``y_i / Delta_i`` (``>= 0``; floored at 1e-3).
        """
        mu = np.asarray(torch.as_tensor(mean).double().numpy()).reshape(-1)
        sd = np.asarray(torch.as_tensor(std).double().numpy()).reshape(-1)
        if mu.shape != sd.shape:
            raise ValueError(f"mean has shape {mu.shape}, std {sd.shape}")
        if not (np.isfinite(mu).all() and np.isfinite(sd).all()) or (sd < 0).any():
            raise ValueError("mean and std must be finite, std >= 0")
        return cls("gaussian", mu.size, mean=mu, std=sd)

    @classmethod
    def from_stats(cls, stats: LatentStats, quantizer: Quantizer) -> LatentCodec:
        """Gaussian models from :class:`LatentStats` for a :class:`Quantizer`'s symbols.

        Uses ``mean = (mu_i - c_i) / Delta_i``, ``std = sigma_i / Delta_i`` (0 for dropped entries)
        of the first ``quantizer.k`` entries of ``stats``.
        """
        k = quantizer.k
        if k > stats.dim:
            raise ValueError(f"quantizer has k={k} entries, stats only {stats.dim}")
        step = quantizer.step_sizes.numpy()
        finite = np.isfinite(step)
        safe = np.where(finite, step, 1.0)
        mu = np.where(finite, (stats.mean[:k].numpy() - quantizer.offsets.numpy()) / safe, 0.0)
        sd = np.where(finite, stats.std[:k].numpy() / safe, 0.0)
        return cls.gaussian(mu, sd)

    @classmethod
    def fit_categorical(cls, symbols: np.ndarray | torch.Tensor, *, alpha: float = 0.5,
                        max_alphabet: int = MAX_ALPHABET) -> LatentCodec:
        """Empirical categorical models fitted on training symbols ``[n, k]``.

        Each entry's alphabet is its observed range ``[lo_i, hi_i]`` (the central
        ``max_alphabet`` values around the median if wider); every value gets count
        ``+ alpha`` (Laplace/Krichevsky-Trofimov smoothing), and so does the escape symbol, which
        codes everything outside the range.
        """
        if isinstance(symbols, torch.Tensor):
            symbols = symbols.detach().cpu().numpy()
        q = np.asarray(symbols)
        if q.ndim != 2:
            raise ValueError(f"symbols must have shape [n, k], got {q.shape}")
        if q.dtype.kind == "f":
            # integral floats (a rounded latent kept as float) are symbols; 0.4 or NaN is not
            if q.size and not (np.all(np.isfinite(q)) and np.all(q == np.round(q))
                               and np.all(np.abs(q) <= 2**53)):
                raise ValueError("symbols must be whole numbers, got non-integral or "
                                 "non-finite values (e.g. 0.4, NaN, inf)")
        elif q.dtype.kind not in "iu":
            raise TypeError(f"symbols must be integers, got dtype {q.dtype}")
        if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating
                                                     | np.integer) or not 0 < alpha < math.inf:
            raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
        if (isinstance(max_alphabet, bool) or not isinstance(max_alphabet, int | np.integer)
                or max_alphabet < 1):
            raise ValueError(f"max_alphabet must be an integer >= 1, got {max_alphabet!r}")
        q = q.astype(np.int64)
        n, k = q.shape
        if n == 0:
            lo, hi = np.zeros(k, np.int64), np.zeros(k, np.int64)
        else:
            lo, hi = q.min(0), q.max(0)
            wide = hi - lo + 1 > max_alphabet
            med = np.median(q, axis=0).astype(np.int64)
            lo = np.where(wide, med - max_alphabet // 2, lo)
            hi = np.where(wide, lo + max_alphabet - 1, hi)
        size = hi - lo + 1
        width = int(size.max()) + 1 if k else 2
        table = np.zeros((k, width), dtype=np.float64)
        for i in range(k):
            table[i, : size[i]] = alpha
            if n:
                idx = q[:, i] - lo[i]
                idx = idx[(idx >= 0) & (idx < size[i])]
                table[i, : size[i]] += np.bincount(idx, minlength=size[i])
            table[i, -1] = alpha
        return cls("categorical", k, lo=lo, size=size, table=table)

    # ------------------------------------------------------------------ symbol <-> code mapping
    # ------------------------------------------------------------------ decoder bounds
    def min_image_bits(self) -> float:
        """A lower bound on the information content ``-log2 p`` of any one image, in bits.

        Each entry contributes ``-log2`` of its most probable symbol: for ``gaussian`` the mass
        of the central bin, ``2 Phi(0.5 / sigma_i) - 1`` (no unit bin of a unimodal density holds
        more), for ``categorical`` the largest normalised count; both are raised by ``2^-16`` to
        cover the fixed-point probabilities of ``constriction``. An ``m``-image message therefore
        carries at least ``m * min_image_bits()`` bits of information.
        """
        cached = getattr(self, "_min_bits", None)
        if cached is not None:
            return cached
        if self.k == 0:
            pmax = np.ones(0)
        elif self.kind == "gaussian":
            from scipy.special import erf

            pmax = erf(0.5 / (self._sd * math.sqrt(2.0)))
        else:
            pmax = self.table.max(1) / self.table.sum(1)
        pmax = np.minimum(1.0, np.asarray(pmax, dtype=np.float64) + _PROB_TOL)
        self._min_bits = float(-np.log2(pmax).sum())
        return self._min_bits

    def max_images(self, payload_bytes: int) -> int | None:
        """Most images a payload of ``payload_bytes`` bytes can plausibly hold, or ``None`` when
        the model gives no bound (every entry nearly deterministic).

        ``floor((8 L + PAYLOAD_SLACK_BITS) / min_image_bits())``: a sealed message is at least its
        information content minus about 1 bit, except when its final interval happens to contain
        a point with many trailing zero bits; falling short by more than
        :data:`PAYLOAD_SLACK_BITS` has probability about ``2^-64``.
        """
        bits = self.min_image_bits()
        if bits < 1e-9:
            return None
        return int((8 * int(payload_bytes) + PAYLOAD_SLACK_BITS) // bits)

    def _codes(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Symbols ``[m, k]`` -> (codes ``int32 [k, m]`` in message order, raw escaped values
        ``int64 [e]`` in the same order)."""
        qt = q.T
        if self.kind == "gaussian":
            v = qt - self.center[:, None]
            esc = (v < -self.half_width) | (v > self.half_width)
        else:
            v = qt - self.lo[:, None]
            esc = (v < 0) | (v >= self.size[:, None])
        codes = np.ascontiguousarray(np.where(esc, self.escape, v).astype(np.int32))
        return codes, qt[esc]

    def _params(self, m: int, start: int = 0, stop: int | None = None
                ) -> tuple[np.ndarray, ...]:
        """Per-symbol model parameters of entries ``start:stop`` for ``m`` images, in message
        order (each entry's parameters repeated ``m`` times; the full range is cached for the
        last few ``m``)."""
        stop = self.k if stop is None else stop
        whole = start == 0 and stop == self.k
        hit = self._tiles.get(m) if whole else None
        if hit is not None:
            self._tiles.move_to_end(m)
            return hit
        if self.kind == "gaussian":
            val: tuple[np.ndarray, ...] = (np.repeat(self._mu[start:stop], m),
                                           np.repeat(self._sd[start:stop], m))
        else:
            val = (np.repeat(self.table[start:stop], m, axis=0),)
        if whole:
            self._tiles[m] = val
            if len(self._tiles) > _CACHE:
                self._tiles.popitem(last=False)
        return val

    def _entry_step(self, m: int) -> int:
        """Entries per call on the per-symbol path (bounds the repeated categorical tables)."""
        if self.kind == "gaussian":
            return max(1, self.k)
        return max(1, _TILE_FLOATS // max(1, m * self.table.shape[1]))

    # ------------------------------------------------------------------ per-entry tables
    def prepare(self) -> LatentCodec:
        """Build the per-entry tables that code messages of many images fast, now rather than
        at the first such message (a receiver calls this at set-up). Returns ``self``.

        One ``constriction`` model per entry with exactly the fixed-point probabilities of the
        per-symbol model: the categorical table as it is, the quantized Gaussian as integer
        weights computed with ``constriction``'s own arithmetic (``LeakyQuantizer``: each
        cumulative ``floor((2^24 - n) * Phi(x))`` plus one unit per symbol). A Gaussian table set
        is used only after a message covering every value of every entry codes to the same
        bytes both ways; otherwise (and when ``k`` times the alphabet exceeds
        :data:`_TABLE_MAX_VALUES`) every message uses the per-symbol models.
        """
        self._entry_models()
        return self

    def _entry_models(self) -> list | None:
        cached = getattr(self, "_models_cache", False)
        if cached is not False:
            return cached
        models = None
        width = (2 * self.half_width + 2) if self.kind == "gaussian" else self.table.shape[1]
        if 0 < self.k and self.k * width <= _TABLE_MAX_VALUES:
            try:
                models = (self._gaussian_tables(width) if self.kind == "gaussian"
                          else [_model.Categorical(row, perfect=False) for row in self.table])
            except (ValueError, RuntimeError, AssertionError):  # constriction refused a table
                models = None
        self._models_cache: list | None = models
        return models

    def _gaussian_tables(self, width: int) -> list | None:
        """Per-entry categorical models equal to the per-symbol ``QuantizedGaussian`` (or
        ``None`` when the check message differs)."""
        from scipy.special import erf

        r = self.half_width
        fw = float((1 << _PRECISION) - width)
        x = np.arange(-r + 1, r + 2, dtype=np.float64) - 0.5  # inner bin edges
        z = (x[None, :] - self._mu[:, None]) / (self._sd[:, None] * math.sqrt(2.0))
        inner = np.floor(fw * ((1.0 + erf(z)) / 2.0))
        cum = np.concatenate([np.zeros((self.k, 1)), inner, np.full((self.k, 1), fw)], axis=1)
        weights = np.diff(cum, axis=1)
        if (weights < 0).any():
            return None
        models = [_model.Categorical(np.ascontiguousarray(w), perfect=False) for w in weights]
        # the check: every value of every entry, coded both ways
        every = np.tile(np.arange(width, dtype=np.int32), (self.k, 1))
        a = _queue.RangeEncoder()
        a.encode((every - r).reshape(-1), self._family, np.repeat(self._mu, width),
                 np.repeat(self._sd, width))
        b = _queue.RangeEncoder()
        for i, model in enumerate(models):
            b.encode(every[i], model)
        same = a.pos() == b.pos() and np.array_equal(a.get_compressed(), b.get_compressed())
        return models if same else None

    def _encode_symbols(self, enc: object, codes: np.ndarray) -> None:
        """Code ``codes`` (``int32 [k, m]``, message order) into the range encoder ``enc``."""
        k, m = codes.shape
        models = self._entry_models() if m >= _TABLE_MIN_IMAGES else None
        if models is not None:
            idx = codes + self.half_width if self.kind == "gaussian" else codes
            for row, model in zip(idx, models, strict=True):
                enc.encode(row, model)
            return
        step = self._entry_step(m)
        for s in range(0, k, step):
            e = min(k, s + step)
            enc.encode(codes[s:e].reshape(-1), self._family, *self._params(m, s, e))

    def _decode_symbols(self, dec: object, m: int) -> np.ndarray:
        """Decode ``int32 [k, m]`` codes (message order) from the range decoder ``dec``."""
        out = np.empty((self.k, m), dtype=np.int32)
        if m == 0 or self.k == 0:
            return out
        models = self._entry_models() if m >= _TABLE_MIN_IMAGES else None
        if models is not None:
            shift = -self.half_width if self.kind == "gaussian" else 0
            for i, model in enumerate(models):
                out[i] = dec.decode(model, m)
            if shift:
                out += shift
            return out
        step = self._entry_step(m)
        for s in range(0, self.k, step):
            e = min(self.k, s + step)
            out[s:e] = dec.decode(self._family, *self._params(m, s, e)).reshape(e - s, m)
        return out

    # ------------------------------------------------------------------ coding
    def encode(self, symbols: np.ndarray | torch.Tensor) -> bytes:
        """Code ``symbols`` (``int [m, k]``) as one message.

        Returns:
            The payload bytes (canonical: no trailing zero byte).

        Input:
            symbols (``int [m, k]``): quantized latents of ``m`` images.

        Output:
            bytes: one range-coder message (constriction's ``RangeEncoder``; Duda 2013 /
            Martin 1979), ``≈ ceil((Σ −log2 p(q_ij) + 2) / 8)`` bytes under the per-dimension models.
        """
        q = _as_int_array(symbols, self.k)
        codes, raw = self._codes(q)
        u = raw.astype(np.int64) & 0xFFFFFFFF
        halves = np.stack([u >> 16, u & 0xFFFF], axis=1).reshape(-1).astype(np.int32)
        return self._encode_codes(codes, halves)

    def decode(self, payload: bytes, num_images: int, *, verify: bool = False) -> torch.Tensor:
        """Decode ``num_images`` images from ``payload``.

        Args:
            payload: bytes from :meth:`encode`.
            num_images: ``m``.
            verify: re-encode the result and require the identical payload.

        Returns:
            ``int32 [m, k]`` symbols.

        Raises:
            PayloadError: invalid or non-canonical payload (more images than the payload can
                hold, see :meth:`max_images`; trailing zero byte, data the range decoder rejects,
                or a ``verify`` mismatch).

        Input:
            payload (bytes): one message from :meth:`encode`.
            num_images (int): ``m``.

        Output:
            ``int32 [m, k]``: the symbols (exactly those encoded).
        """
        if (isinstance(num_images, bool)
                or not isinstance(num_images, int | np.integer | float | np.floating)
                or not math.isfinite(num_images) or num_images != int(num_images)
                or num_images < 0):
            raise ValueError(f"num_images must be an integer >= 0, got {num_images!r}")
        payload = bytes(payload)
        cap = self.max_images(len(payload))
        if cap is not None and num_images > cap:
            raise PayloadError(f"a payload of {len(payload)} bytes cannot hold {num_images} "
                               f"images (each carries >= {self.min_image_bits():.2f} bits; at "
                               f"most {cap})")
        dec = _queue.RangeDecoder(_unseal(payload))
        m = int(num_images)
        try:
            codes = self._decode_symbols(dec, m)
            n_esc = int(np.count_nonzero(codes == self.escape))
            h = dec.decode(_UNIFORM16, 2 * n_esc) if n_esc else np.zeros(0, np.int32)
        except Exception as exc:  # constriction raises AssertionError on some invalid data
            raise PayloadError(f"payload is not a valid message for this codec ({exc})") from exc
        sym, canonical_codes = self._decoded_symbols(codes, h, m)
        if verify and not (canonical_codes and self._encode_codes(codes, h) == payload):
            raise PayloadError("payload is not the canonical encoding of the symbols it decodes to")
        return torch.from_numpy(sym)

    def _decoded_symbols(self, codes: np.ndarray, h: np.ndarray, m: int
                         ) -> tuple[np.ndarray, bool]:
        """Decoded codes ``int32 [k, m]`` (message order) and escape halves ``int32 [2e]`` ->
        (symbols ``int32 [m, k]``, whether :meth:`_codes` of those symbols gives back ``codes`` and the
        escaped values, i.e. whether re-encoding the codes equals :meth:`encode` of the symbols).

        A code maps back to itself unless its symbol leaves int32, an escaped value lies inside
        the direct-coding window (it would be coded directly), or -- categorical -- a code lies
        in ``[size_i, escape)`` (it would be escaped).
        """
        c = codes
        base64 = (self.center if self.kind == "gaussian" else self.lo)[:, None]
        base32 = self._base32()
        base32 = None if base32 is None else base32[:, None]
        # int32 when no code of any entry can leave int32, else int64 and a range check below
        out = c + base32 if base32 is not None else c + base64
        ok = True
        if h.size:
            esc = c == self.escape
            hh = h.astype(np.int64).reshape(-1, 2)
            raw = ((hh[:, 0] << 16) | hh[:, 1]).astype(np.uint32).view(np.int32)
            v = raw - np.broadcast_to(base64, c.shape)[esc]
            inside = ((v >= -self.half_width) & (v <= self.half_width) if self.kind == "gaussian"
                      else (v >= 0) & (v < np.broadcast_to(self.size[:, None], c.shape)[esc]))
            ok = not inside.any()
            out[esc] = raw
        if base32 is None and out.size:
            ok = ok and -(2**31) <= int(out.min()) and int(out.max()) <= 2**31 - 1
        if self.kind == "categorical" and ok:
            ok = not ((c >= self.size[:, None]) & (c != self.escape)).any()
        return np.ascontiguousarray(out.T).astype(np.int32, copy=False), bool(ok)

    def _base32(self) -> np.ndarray | None:
        """The per-entry symbol offsets as int32 when every code ``[0, escape]`` (categorical)
        or ``[-R, R + 1]`` (Gaussian) plus its entry's offset stays in int32, else ``None``."""
        cached = getattr(self, "_base32_cache", False)
        if cached is not False:
            return cached
        base = self.center if self.kind == "gaussian" else self.lo
        lo_code, hi_code = ((-self.half_width, self.escape) if self.kind == "gaussian"
                            else (0, self.escape))
        fits = base.size == 0 or (int(base.min()) + lo_code >= -(2**31)
                                  and int(base.max()) + hi_code <= 2**31 - 1)
        self._base32_cache: np.ndarray | None = base.astype(np.int32) if fits else None
        return self._base32_cache

    def _encode_codes(self, codes: np.ndarray, h: np.ndarray) -> bytes:
        """The sealed message of model codes ``int32 [k, m]`` (message order) and escape halves
        ``int32 [2e]`` (the coding half of :meth:`encode`)."""
        if codes.size == 0 and h.size == 0:
            return b""  # nothing to code: the empty payload
        enc = _queue.RangeEncoder()
        if codes.size:
            self._encode_symbols(enc, codes)
        if h.size:
            enc.encode(h, _UNIFORM16)
        pos, (lower, rng) = enc.pos()
        return _seal(enc.get_compressed(), pos, lower, rng)

    # ------------------------------------------------------------------ sizes
    def bits(self, symbols: np.ndarray | torch.Tensor) -> int:
        """Exact size in bits of :meth:`encode` ``(symbols)`` (one message, multiple of 8)."""
        return 8 * len(self.encode(symbols))

    def image_bits(self, symbols: np.ndarray | torch.Tensor) -> np.ndarray:
        """Exact coded bits of each image as its own message: ``int64 [m]``."""
        return self.message_bits(symbols, 1).astype(np.int64)

    def message_bits(self, symbols: np.ndarray | torch.Tensor, images_per_message: int) -> np.ndarray:
        """Each image's share of the payload when consecutive images are coded
        ``images_per_message`` to a message (the last message may hold fewer): the message's
        bits over its images, ``float64 [m]``. With one image per message it equals
        :meth:`image_bits`; with more, the byte rounding and the range coder's final bits are
        spread over the message's images (a multi-image packet codes its images this way)."""
        n = int(images_per_message)
        if isinstance(images_per_message, bool) or n != images_per_message or n < 1:
            raise ValueError(f"images_per_message must be an integer >= 1, got {images_per_message!r}")
        q = _as_int_array(symbols, self.k)
        out = np.empty(q.shape[0], dtype=np.float64)
        for i in range(0, q.shape[0], n):
            chunk = q[i: i + n]
            out[i: i + n] = 8 * len(self.encode(chunk)) / chunk.shape[0]
        return out

    def information_bits(self, symbols: np.ndarray | torch.Tensor) -> np.ndarray:
        """Ideal code length ``-log2 p(symbols)`` of each image under the fitted model.

        Includes ``-log2 p(escape) + 32`` for each escaped symbol. ``float64 [m]``.
        """
        q = _as_int_array(symbols, self.k)
        codes, raw = self._codes(q)
        c = codes.T.astype(np.float64)
        if self.kind == "gaussian":
            mu, sd, r = self._mu[None, :], self._sd[None, :], self.half_width
            lz = _log2_bin_prob((-r - 0.5 - mu) / sd, (r + 1.5 - mu) / sd)
            lp = _log2_bin_prob((c - 0.5 - mu) / sd, (c + 0.5 - mu) / sd) - lz
        else:
            lp = self._log2p[np.arange(self.k)[None, :], c.astype(np.int64)]
        bits = -lp + 32.0 * (c == self.escape)
        return bits.sum(axis=1)

    def __repr__(self) -> str:
        return f"LatentCodec(kind={self.kind!r}, k={self.k})"
