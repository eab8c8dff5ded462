"""Channel state information (CSI) models: what the sender may know when it picks a frame's point.

A CSI model turns the true per-frame link state (from a ``channels`` model) into the estimate the
transmitter sees. It is used in a frame loop::

    csi_model.reset(state, generator)          # once per simulated trace
    for t in range(num_frames):
        csi = csi_model.observe(t, packet_bits=bits_t)   # what the policy sees before frame t
        point = policy.choose(csi)
        delivered = ...                                   # the PHY decides
        csi_model.feedback(delivered, sent_bits)          # ACK/NACK back to the sender

Models:

- ``perfect``: the current frame's SNR / capacity, exactly.
- ``delayed``: the SNR / capacity of frame ``t - delay_frames`` (nothing for the first frames) —
  the feedback delay of a real link.
- ``noisy``: the current SNR plus a Gaussian error of ``std_db`` dB,
  ``snr_hat = snr + e, e ~ N(0, std_db^2)``; for capacity-only channels (traces) the same dB error
  multiplies the capacity, ``C_hat = C * 10^(e/10)``.
- ``ack-nack``: no channel measurement at all; the sender keeps a capacity estimate in dB that
  moves down by ``step_db`` after a NACK and up by ``step_db * target_loss / (1 - target_loss)``
  after an ACK (the outer-loop link adaptation rule that settles at a loss rate of
  ``target_loss``; Pedersen et al., "Frequency domain scheduling for OFDMA with limited and noisy
  channel feedback", VTC 2007).

The transmitter's own link adaptation (the PHY's MCS choice, e.g. :class:`commsldr.link.NRPHY`)


from commsldr.registry import CSI_MODELS
sees the same CSI as the policy: :meth:`CSIModel.transmitter_snr_db` gives the SNR estimate the
transmitter holds in every frame, and :func:`commsldr.link.simulate` passes it to the PHY as
``csi_state``. A frame without an estimate uses the **last estimate known** before it; frames
before any estimate (the first ``delay_frames`` of ``delayed``; every frame of ``ack-nack``, which
never measures the channel) use the trace's **long-term average SNR**
``10 log10(mean_t 10^(snr_t/10))`` — the large-scale level a real transmitter learns from slow
measurements (path loss, RSRP), which reveals no frame's fading. With ``ack-nack`` and an
outer-loop PHY (``NRPHY(link_adaptation="olla")``) the ACK/NACK outer loop then corrects that
average, as in 5G NR; with inner-loop or fixed link adaptation the MCS stays the average's.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from commsldr.registry import CSI_MODELS
from commsldr.scalars import as_integer, as_real, is_flag

#: largest CSI error std (``noisy.std_db``) and ACK/NACK step (``ack-nack.step_db``), in dB: far
#: beyond any estimator; a ``noisy`` capacity estimate ``C·10^(e/10)`` (``C <= 1e15`` bits) then
#: leaves the float range only for an error beyond 29 standard deviations (probability < 1e-180)
MAX_ERROR_DB = 100.0
#: ``ack-nack`` turns its dB estimate into bits within +-3000 dB (10^300 bits at most)
MAX_ESTIMATE_DB = 3000.0

__all__ = [
    "MAX_ERROR_DB",
    "MAX_ESTIMATE_DB",
    "CSI",
    "CSIModel",
    "PerfectCSI",
    "DelayedCSI",
    "NoisyCSI",
    "AckNackCSI",
    "create_csi_model",
    "list_csi_models",
    "register_csi_model",
]


@dataclass(frozen=True)
class CSI:
    """What the sender knows when it chooses the operating point of frame ``frame``.

    Attributes:
        frame: frame index t.
        snr_db: estimated SNR of frame t in dB, or None when the sender has no SNR estimate.
        capacity_bits: estimated payload capacity of frame t in bits, when the channel (a trace)
            or the CSI model (ACK/NACK) gives one directly; None otherwise.
        ack: outcome of the previous frame (True = ACK, False = NACK), None before the first frame.
        packet_bits: float array [P] — the exact packet size (payload + header + CRC) of frame t's
            images at each of the P operating points. The sender holds its own images, so it can
            know these before choosing; None means "use the menu's expected sizes".
        snr_std_db: the standard deviation (dB) of the estimate's error, known to the sender
            (0 for perfect CSI).
        erased: the sender knows the frame is erased (e.g. the bad state of a Gilbert–Elliott
            channel): nothing it sends will arrive.
        attempt: 1 when the frame sends a new packet; ``k > 1`` when the policy is asked for
            the ``k``-th transmission of a packet (HARQ re-pick, :mod:`commsldr.link.harq_loop`).
        harq_process: the HARQ process that will carry the transmission.

    Every field is checked at construction (a ``ValueError`` names the field): ``frame`` and
    ``harq_process`` integers ``>= 0``, ``attempt`` ``>= 1``; ``snr_db`` finite, ``capacity_bits``
    finite and ``>= 0`` (or ``None``); ``snr_std_db`` in ``[0, MAX_ERROR_DB]`` (the bound of
    ``noisy``'s ``std_db``); ``ack`` ``None`` or a bool, ``erased`` a bool.
    """

    frame: int
    snr_db: float | None = None
    capacity_bits: float | None = None
    ack: bool | None = None
    packet_bits: np.ndarray | None = None
    snr_std_db: float = 0.0
    erased: bool = False
    attempt: int = 1
    harq_process: int = 0

    def __post_init__(self) -> None:
        for name, low in (("frame", 0), ("attempt", 1), ("harq_process", 0)):
            value = getattr(self, name)
            if type(value) is not int or value < low:  # fast path: a plain int in range
                v = as_integer(value)
                if v is None or v < low:
                    raise ValueError(f"CSI.{name}: must be an integer >= {low}, got {value!r}")
        for name in ("snr_db", "capacity_bits"):
            value = getattr(self, name)
            if value is None or (type(value) is float and -math.inf < value < math.inf
                                 and (name == "snr_db" or value >= 0)):
                continue  # fast path: no estimate, or a plain finite float
            v = as_real(value)
            if v is None or not math.isfinite(v) or (name == "capacity_bits" and v < 0):
                allowed = "finite and >= 0 (bits)" if name == "capacity_bits" else "finite (dB)"
                raise ValueError(f"CSI.{name}: must be None or a number, {allowed}, got "
                                 f"{value!r}")
        std = self.snr_std_db if type(self.snr_std_db) is float else as_real(self.snr_std_db)
        if std is None or not 0.0 <= std <= MAX_ERROR_DB:
            raise ValueError(f"CSI.snr_std_db: must be a number in [0, {MAX_ERROR_DB:g}] dB, got "
                             f"{self.snr_std_db!r}")
        if self.ack is not None and type(self.ack) is not bool and not is_flag(self.ack):
            raise ValueError(f"CSI.ack: must be None or true/false, got {self.ack!r}")
        if type(self.erased) is not bool and not is_flag(self.erased):
            raise ValueError(f"CSI.erased: must be true or false, got {self.erased!r}")

    @property
    def has_estimate(self) -> bool:
        """True when the sender has an SNR or a capacity estimate for this frame."""
        return self.snr_db is not None or self.capacity_bits is not None


def _as_array(x: Any) -> np.ndarray | None:
    if x is None:
        return None
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64).reshape(-1)


class CSIModel(ABC):
    """Base class of CSI models. Subclasses set ``name`` and implement :meth:`_estimate`."""

    name: ClassVar[str] = ""
    #: True when the model gives the current state exactly (the Oracle requires it).
    perfect: ClassVar[bool] = False

    def __init__(self) -> None:
        self._snr: np.ndarray | None = None
        self._cap: np.ndarray | None = None
        self._last_ack: bool | None = None
        self._erased: np.ndarray | None = None
        self._num_frames = 0
        self._mean_snr_db: float | None = None
        self._has_trace = False  # reset() has been called

    def reset(self, state: Any, generator: np.random.Generator) -> None:
        """Start a new trace.

        Args:
            state: the true link state, anything with ``snr_db`` and ``capacity_bits`` attributes
                (a ``commsldr_channels.LinkState``: tensors or arrays of shape [T], either may be None).
            generator: the source of every random draw of the CSI error.
        """
        snr = _as_array(getattr(state, "snr_db", None))
        cap = _as_array(getattr(state, "capacity_bits", None))
        if snr is None and cap is None and getattr(state, "erased", None) is None:
            raise ValueError("CSI model: the link state has none of snr_db, capacity_bits, erased")
        self._set_reference(state)
        self._snr, self._cap = self._estimate(snr, cap, generator)
        erased = getattr(state, "erased", None)
        if erased is not None:
            if hasattr(erased, "detach"):
                erased = erased.detach().cpu().numpy()
            erased = self._erased_estimate(np.asarray(erased, dtype=bool).reshape(-1))
        self._erased = erased
        self._last_ack = None

    def _erased_estimate(self, erased: np.ndarray) -> np.ndarray:
        """Which frames the sender believes erased (default: the true flags)."""
        return erased

    def _set_reference(self, state: Any) -> None:
        """Remember the trace length and its long-term average SNR (the no-estimate fallback)."""
        snr = _as_array(getattr(state, "snr_db", None))
        cap = _as_array(getattr(state, "capacity_bits", None))
        erased = _as_array(getattr(state, "erased", None))
        n = next((len(x) for x in (snr, cap, erased) if x is not None), 0)
        self._num_frames = n
        self._has_trace = True
        self._mean_snr_db = None
        if snr is not None and np.isfinite(snr).any():
            linear = 10.0 ** (snr[np.isfinite(snr)] / 10.0)
            self._mean_snr_db = float(10.0 * np.log10(np.mean(linear)))

    def transmitter_snr_db(self) -> np.ndarray | None:
        """The SNR estimate (dB) the transmitter holds in every frame of the trace, ``float64 [T]``.

        This is what the transmitter's own link adaptation (the PHY's MCS choice) may use: the
        same estimates the policy sees in :meth:`observe`, with every gap filled (module
        docstring): a frame without an estimate takes the last estimate known before it, and
        frames before any estimate take the trace's long-term average SNR
        ``10 log10(mean_t 10^(snr_t/10))``. ``perfect`` gives the true SNR exactly.

        Call after :meth:`reset`. Returns ``None`` when the link state has no ``snr_db`` (a
        capacity trace: there is no SNR to adapt to).
        """
        if self._mean_snr_db is None:
            return None
        n = self._num_frames
        est = np.full(n, np.nan) if self._snr is None else np.asarray(self._snr, np.float64).copy()
        known = np.isfinite(est)
        last = np.maximum.accumulate(np.where(known, np.arange(n), -1)) if n else np.zeros(0, int)
        return np.where(last >= 0, est[np.maximum(last, 0)], self._mean_snr_db)

    @abstractmethod
    def _estimate(
        self, snr: np.ndarray | None, cap: np.ndarray | None, generator: np.random.Generator
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per-frame estimates [T] (NaN where the sender knows nothing)."""

    @property
    def std_db(self) -> float:
        """Standard deviation of the estimate's error in dB (0 unless the model adds noise)."""
        return 0.0

    def _frame(self, t: Any, *, bounded: bool = True) -> int:
        """Check ``t``: an integer in ``[0, T)`` of the trace of the last :meth:`reset` (any
        integer ``>= 0`` when not ``bounded``: a model that never reads the trace)."""
        if not self._has_trace:
            raise RuntimeError(f"CSI model {self.name!r}: call reset(state, generator) with the "
                               f"trace before observe()")
        frame = t if type(t) is int else as_integer(t)
        if frame is None or frame < 0 or (bounded and frame >= self._num_frames):
            allowed = f"in [0, {self._num_frames}) (the trace of the last reset)" if bounded \
                else ">= 0"
            raise ValueError(f"t: must be a frame index, an integer {allowed}, got {t!r}")
        return frame

    def observe(self, t: int, packet_bits: np.ndarray | None = None) -> CSI:
        """The CSI the sender holds before frame ``t``.

        Input:
            t (int): frame index, in ``[0, T)`` of the trace given to :meth:`reset` (called
                first; ``RuntimeError`` otherwise).
            packet_bits (``float64 [P]`` | None, bits): the frame's exact packet sizes per point.

        Output:
            :class:`CSI`: the delayed / noisy / ACK-driven estimate (``snr_db`` dB, ``capacity_bits``
            bits, ``snr_std_db`` dB) of the model.
        """
        t = self._frame(t)
        snr = None if self._snr is None else float(self._snr[t])
        cap = None if self._cap is None else float(self._cap[t])
        snr = None if snr is None or math.isnan(snr) else snr
        cap = None if cap is None or math.isnan(cap) else cap
        erased = False if self._erased is None else bool(self._erased[t])
        return CSI(
            frame=t, snr_db=snr, capacity_bits=cap, ack=self._last_ack,
            packet_bits=packet_bits, snr_std_db=self.std_db, erased=erased,
        )

    def feedback(self, delivered: bool, packet_bits: float) -> None:
        """Tell the model the outcome (ACK/NACK) of the frame just sent and its size in bits."""
        self._last_ack = bool(delivered)


class PerfectCSI(CSIModel):
    """The current frame's SNR / capacity, exactly."""

    name = "perfect"
    perfect = True

    def _estimate(self, snr: np.ndarray | None, cap: np.ndarray | None,
                  generator: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
        return snr, cap


class DelayedCSI(CSIModel):
    """The state of frame ``t - delay_frames``; nothing is known for the first ``delay_frames``.

    Args:
        delay_frames: feedback delay in frames (>= 1).
    """

    name = "delayed"

    def __init__(self, delay_frames: int = 1) -> None:
        super().__init__()
        if isinstance(delay_frames, bool) or not isinstance(delay_frames, int) or delay_frames < 1:
            raise ValueError(f"delay_frames must be an integer >= 1, got {delay_frames!r}")
        self.delay_frames = delay_frames

    def _delay(self, x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        out = np.full_like(x, np.nan)
        out[self.delay_frames:] = x[: max(len(x) - self.delay_frames, 0)]
        return out

    def _estimate(self, snr: np.ndarray | None, cap: np.ndarray | None,
                  generator: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
        return self._delay(snr), self._delay(cap)

    def _erased_estimate(self, erased: np.ndarray) -> np.ndarray:
        out = np.zeros_like(erased)
        out[self.delay_frames:] = erased[: max(len(erased) - self.delay_frames, 0)]
        return out


class NoisyCSI(CSIModel):
    """The current state with a Gaussian error of ``std_db`` dB (SNR, or capacity as a power ratio).

    Args:
        std_db: standard deviation of the estimation error in dB, in ``[0, MAX_ERROR_DB]``.
    """

    name = "noisy"

    def __init__(self, std_db: float = 1.0) -> None:
        super().__init__()
        if (isinstance(std_db, bool) or not isinstance(std_db, (int, float))
                or not 0 <= std_db <= MAX_ERROR_DB):
            raise ValueError(f"std_db must be a number in [0, {MAX_ERROR_DB:g}] dB, got {std_db!r}")
        self._std = float(std_db)

    @property
    def std_db(self) -> float:
        return self._std

    def _estimate(self, snr: np.ndarray | None, cap: np.ndarray | None,
                  generator: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
        if snr is None and cap is None:
            return None, None
        n = len(snr) if snr is not None else len(cap)
        err_db = generator.normal(0.0, self._std, size=n)
        snr_hat = None if snr is None else snr + err_db
        cap_hat = None
        if cap is not None:
            cap_hat = cap * 10.0 ** (err_db / 10.0)
        return snr_hat, cap_hat


class AckNackCSI(CSIModel):
    """ACK/NACK feedback only: an outer-loop capacity estimate driven by delivery outcomes.

    After a NACK the estimate drops by ``step_db`` dB; after an ACK it rises by
    ``step_db * target_loss / (1 - target_loss)`` dB, so it settles where a fraction
    ``target_loss`` of frames is lost. Before any feedback the sender has no estimate (policies
    then send their cheapest point); the first outcome anchors the estimate at the size of the
    packet just sent.

    Args:
        step_db: the down-step after a NACK, in dB, in ``(0, MAX_ERROR_DB]``.
        target_loss: the loss rate the loop converges to, in (0, 1).
    """

    name = "ack-nack"

    def __init__(self, step_db: float = 1.0, target_loss: float = 0.1) -> None:
        super().__init__()
        if (isinstance(step_db, bool) or not isinstance(step_db, (int, float))
                or not 0 < step_db <= MAX_ERROR_DB):
            raise ValueError(f"step_db must be a number in (0, {MAX_ERROR_DB:g}] dB, got "
                             f"{step_db!r}")
        if (
            isinstance(target_loss, bool)
            or not isinstance(target_loss, (int, float))
            or not 0 < target_loss < 1
        ):
            raise ValueError(f"target_loss must be a number in (0, 1), got {target_loss!r}")
        self.step_db = float(step_db)
        self.target_loss = float(target_loss)
        self._est_db: float | None = None
        self._t = 0

    def reset(self, state: Any, generator: np.random.Generator) -> None:
        self._est_db = None
        self._last_ack = None
        self._set_reference(state)

    def _estimate(self, snr: np.ndarray | None, cap: np.ndarray | None,
                  generator: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:  # pragma: no cover - reset() is overridden
        return None, None

    def observe(self, t: int, packet_bits: np.ndarray | None = None) -> CSI:
        t = self._frame(t, bounded=False)  # feedback only: the trace is never indexed
        # the estimate drifts without bound on a link that always ACKs (or NACKs): 10^(x/10)
        # is taken within [-MAX_ESTIMATE_DB, MAX_ESTIMATE_DB] so that it stays a finite float
        est = None if self._est_db is None else min(max(self._est_db, -MAX_ESTIMATE_DB),
                                                    MAX_ESTIMATE_DB)
        cap = None if est is None else 10.0 ** (est / 10.0)
        return CSI(frame=t, capacity_bits=cap, ack=self._last_ack, packet_bits=packet_bits)

    def feedback(self, delivered: bool, packet_bits: float) -> None:
        super().feedback(delivered, packet_bits)
        if self._est_db is None:
            self._est_db = 10.0 * math.log10(max(float(packet_bits), 1.0))
        up_db = self.step_db * self.target_loss / (1.0 - self.target_loss)
        self._est_db += up_db if delivered else -self.step_db


def register_csi_model(name: str) -> Any:
    """Class decorator registering a :class:`CSIModel` subclass under ``name`` (plug-in
    packages may use the ``commsldr.csi`` entry-point group instead)."""
    return CSI_MODELS.register(name)


def list_csi_models() -> list[str]:
    """Names of the CSI models (built-ins and plug-ins), sorted."""
    return CSI_MODELS.names()


def create_csi_model(name: str, **params: Any) -> CSIModel:
    """Create a CSI model by name (``perfect``, ``delayed``, ``noisy``, ``ack-nack``, plug-ins).

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a bad parameter.
    """
    return CSI_MODELS.create(name, **params)
