"""The PHY interface and the ideal-capacity (Shannon) PHY.

A PHY decides, frame by frame, whether a packet of ``L`` bits sent in frame ``t`` over a channel in
link state ``s_t`` is delivered, and reports what the frame could carry and what it cost. Every PHY
is vectorised over frames: ``bits`` is an integer array ``[F]`` and ``state`` is a
:class:`commsldr_channels.LinkState` holding ``F`` frames.

Three implementations share the interface:

* :class:`ShannonPHY` (here): deterministic, a packet is delivered iff it fits into the frame's
  capacity ``B·T·log2(1 + SNR/Γ)``.
* :class:`commsldr.link.nr.NRPHY`: the 5G NR abstraction of Sionna SYS (MCS, TBS, BLER tables).
* :class:`commsldr.link.bittrue.BitTruePHY`: 5G LDPC + QAM + the channel model's ``forward``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from commsldr.errors import show
from commsldr.scalars import check_flag, check_real
from commsldr_channels import LinkState

__all__ = ["MAX_DECADES", "PHY", "PHYResult", "ShannonPHY", "state_array", "check_bits",
           "check_snr_db", "check_packet_bits"]

#: above this many decades (``(snr_db - gap) / 10``) :meth:`ShannonPHY.capacity_bits` uses the
#: asymptote ``x·log2(10)`` instead of ``log2(1 + 10^x)``, whose ``10^x`` would overflow
_LINEAR_DECADES = 300.0
_LOG2_10 = math.log2(10.0)
#: the largest SNR in decades that :meth:`ShannonPHY.capacity_bits` tells apart (1e250 decades):
#: beyond it the capacity stays at its value there, so that ``B·T`` times it stays finite
MAX_DECADES = 1e250


@dataclass(frozen=True)
class PHYResult:
    """What a PHY did in ``F`` frames (all arrays have shape ``[F]``).

    Attributes:
        delivered: ``bool`` — the packet reached the receiver intact (CRC passed).
        capacity_bits: ``float64`` — the payload the frame could carry with the PHY's choice
            (Shannon capacity, the NR transport block size, or the bit-true PHY's information
            bits per frame).
        channel_uses: ``int64`` — complex channel symbols (resource elements) the frame spent.
        mcs_index: ``int64`` — the 5G NR MCS index used, ``-1`` where not applicable.
        error_prob: ``float64`` — the modelled probability of losing the packet (0/1 for Shannon,
            the TBLER for NR, ``nan`` for the bit-true PHY, whose losses are simulated).
    """

    delivered: np.ndarray
    capacity_bits: np.ndarray
    channel_uses: np.ndarray
    mcs_index: np.ndarray
    error_prob: np.ndarray

    def __len__(self) -> int:
        return int(self.delivered.shape[0])


@runtime_checkable
class PHY(Protocol):
    """The interface every PHY implements.

    * ``deliver(bits, state, generator, csi_state=None)`` sends one packet per frame and returns
      a :class:`PHYResult`;
    * ``frame_capacity_bits(state)`` — what each of the ``F`` frames would carry;
    * ``capacity_bits(snr_db)`` and ``success_probability(packet_bits, snr_db)`` — the link model
      a policy plans with (:class:`commsldr.adapt.menu.LinkModel`), evaluated at the SNR the
      sender believes.
    """

    def deliver(
        self,
        bits: np.ndarray,
        state: LinkState,
        generator: torch.Generator,
        *,
        csi_state: LinkState | None = None,
    ) -> PHYResult: ...

    def frame_capacity_bits(self, state: LinkState) -> np.ndarray: ...

    def capacity_bits(self, snr_db: float | np.ndarray) -> float | np.ndarray: ...

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray: ...


def state_array(state: LinkState, field: str) -> np.ndarray | None:
    """Return one per-frame field of a :class:`commsldr_channels.LinkState` as a numpy array (or ``None``).

    Args:
        state: the link state of ``F`` frames.
        field: ``"snr_db"``, ``"capacity_bits"``, ``"erased"`` or ``"gain"``.

    Returns:
        ``float64 [F]`` (``bool [F]`` for ``erased``, ``complex128 [F]`` for ``gain``) or ``None``.
    """
    value = getattr(state, field, None)
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if field == "erased":
        return arr.astype(bool).reshape(-1)
    if field == "gain":
        return arr.astype(np.complex128).reshape(-1)
    return arr.astype(np.float64).reshape(-1)


def check_bits(bits: np.ndarray | torch.Tensor | int, num_frames: int) -> np.ndarray:
    """Validate packet sizes: non-negative integers, one per frame (a scalar is broadcast).

    Returns:
        ``int64 [num_frames]``.
    """
    if isinstance(bits, torch.Tensor):
        bits = bits.detach().cpu().numpy()
    arr = np.asarray(bits)
    if arr.ndim == 0:
        arr = np.full(num_frames, arr)
    if arr.shape != (num_frames,):
        raise ValueError(f"bits: expected shape ({num_frames},) (one packet per frame), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("bits: packet sizes must be integers")
    arr = arr.astype(np.int64)
    if np.any(arr < 0):
        raise ValueError("bits: packet sizes must be >= 0")
    return arr


def check_snr_db(snr_db: Any, name: str = "snr_db") -> np.ndarray:
    """An SNR (scalar or array, dB) as ``float64``: real numbers, never NaN (``±inf`` are the
    limits no signal / noise-free and allowed), else a ``ValueError`` naming ``name``."""
    if type(snr_db) is float:  # fast path: a policy's scalar query, once per frame
        if snr_db == snr_db:
            return np.asarray(snr_db, dtype=np.float64)
        arr = np.asarray(snr_db)
    else:
        try:
            arr = np.asarray(snr_db, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected an SNR in dB (a number or an array of numbers), "
                             f"got {show(snr_db)}") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name}: NaN is not an SNR; expected dB values (-inf and +inf "
                         f"allowed)")
    return arr


def _snr_scalar(snr_db: Any) -> float:
    """One SNR (dB) of a link-model query as a float; NaN and non-numbers are refused."""
    arr = check_snr_db(snr_db)
    if arr.size != 1:
        raise ValueError(f"snr_db: expected one SNR (dB), got shape {arr.shape}")
    return float(arr.reshape(()))


def check_packet_bits(packet_bits: Any, name: str = "packet_bits") -> np.ndarray:
    """Packet sizes of a link-model query (expected sizes may be fractional), ``float64``:
    finite and ``>= 0``, else a ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(packet_bits, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected packet sizes in bits (numbers), got "
                         f"{show(packet_bits)}") from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}: packet sizes must be finite and >= 0 bits")
    return arr


class ShannonPHY:
    r"""Ideal-capacity PHY: a packet is delivered iff it fits into the frame.

    The frame carries

    .. math:: C_t = B\,T\,\log_2\!\left(1 + \frac{\mathrm{SNR}_t}{\Gamma}\right)\ \text{bits},

    with bandwidth :math:`B` (``bandwidth_hz``), frame duration :math:`T` (``frame_s``) and an SNR
    gap :math:`\Gamma` (``snr_gap_db``; 0 dB is capacity, about 8.8 dB is uncoded QAM at a 1e-6
    symbol error rate — the gap approximation of Cioffi, *EE379A* notes, ch. 1). Where the
    channel is trace-driven and its :class:`~commsldr_channels.LinkState` carries ``capacity_bits``, that
    value is used directly. Erased frames carry nothing. The decision is deterministic:
    ``delivered = bits <= C_t``.

    Args:
        bandwidth_hz: bandwidth :math:`B` in Hz, in ``(0, 1e12]``.
        frame_s: frame duration :math:`T` in seconds, in ``(0, 1000]``.
        snr_gap_db: SNR gap :math:`\Gamma` in dB, in ``[0, 100]``.
        use_trace_capacity: prefer ``state.capacity_bits`` when present (default ``True``).

    Example:
        >>> from commsldr_channels import LinkState
        >>> phy = ShannonPHY(bandwidth_hz=1e6, frame_s=1e-3)
        >>> s = LinkState(snr_db=torch.tensor([0.0, 10.0]))
        >>> phy.deliver(np.array([1500, 1500]), s).delivered.tolist()
        [False, True]
    """

    def __init__(
        self,
        bandwidth_hz: float = 1e6,
        frame_s: float = 1e-3,
        snr_gap_db: float = 0.0,
        use_trace_capacity: bool = True,
    ) -> None:
        # the scenario's bounds (commsldr.scenario.bounds): B·T stays a finite channel-use count
        self.bandwidth_hz = check_real("bandwidth_hz", bandwidth_hz, low=0.0, low_open=True,
                                       high=1e12)
        self.frame_s = check_real("frame_s", frame_s, low=0.0, low_open=True, high=1e3)
        self.snr_gap_db = check_real("snr_gap_db", snr_gap_db, low=0.0, high=100.0)
        self.use_trace_capacity = check_flag("use_trace_capacity", use_trace_capacity)
        self.stateless = True  # no memory across frames: outcomes may be drawn in any order

    @property
    def channel_uses_per_frame(self) -> int:
        """Complex channel uses per frame, ``round(B·T)`` (Nyquist signalling)."""
        return int(round(self.bandwidth_hz * self.frame_s))

    def capacity_bits(self, snr_db: float | np.ndarray) -> float | np.ndarray:
        """Bits a frame carries at ``snr_db`` (scalar or array; the class equation).

        Overflow-free for every ``snr_db``: above ``3000 + snr_gap_db`` dB, where ``10^(x/10)``
        (``x = snr_db - snr_gap_db``) would leave the float range, it uses the asymptote
        ``log2(1 + 10^(x/10)) = x·log2(10)/10`` (exact to double precision there, the neglected
        term being below ``10^-300``); policies and CSI models may evaluate SNRs far outside the
        channels' documented [-200, 200] dB (``outage-aware``'s quadrature at a large error
        std, a ``noisy`` estimate). A finite ``x`` is capped at :data:`MAX_DECADES` decades so
        that the product with ``B·T`` stays finite; ``+inf`` gives ``inf``, ``-inf`` gives 0.
        NaN is refused (``ValueError`` naming ``snr_db``): it is no SNR.

        Input:
            snr_db (``float`` or ``float64 [...]``, dB): SNR of the frames.

        Output:
            ``float`` or ``float64 [...]`` (bits): ``B·T·log2(1 + 10^((snr_db − Γ)/10))``.
        """
        if type(snr_db) is float and snr_db == snr_db:  # a policy's scalar query, every frame
            return self._capacity_bits_scalar(snr_db)
        x = (check_snr_db(snr_db) - self.snr_gap_db) / 10.0  # decades
        high = x > _LINEAR_DECADES
        snr = np.power(10.0, np.where(high, 0.0, x))
        capped = np.where(np.isposinf(x), x, np.minimum(x, MAX_DECADES))
        per_use = np.where(high, capped * _LOG2_10, np.log2(1.0 + snr))
        cap = self.bandwidth_hz * self.frame_s * per_use
        return float(cap) if np.ndim(cap) == 0 else cap

    def _capacity_bits_scalar(self, snr_db: float) -> float:
        """:meth:`capacity_bits` of one SNR that is not NaN, in scalar arithmetic (the same
        operations as the array path, about 20 times faster per call)."""
        x = (snr_db - self.snr_gap_db) / 10.0
        if x > _LINEAR_DECADES:
            per_use = x * _LOG2_10 if x == math.inf else min(x, MAX_DECADES) * _LOG2_10
        else:
            per_use = float(np.log2(1.0 + np.power(10.0, x)))
        return float(self.bandwidth_hz * self.frame_s * per_use)

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray:
        """``1.0`` where a packet of ``packet_bits [P]`` fits at ``snr_db``, else ``0.0``.

        ``packet_bits`` must be finite and ``>= 0``, ``snr_db`` a number that is not NaN."""
        bits = check_packet_bits(packet_bits)
        return (bits <= self.capacity_bits(_snr_scalar(snr_db))).astype(np.float64)

    def frame_capacity_bits(self, state: LinkState) -> np.ndarray:
        """Bits each frame carries, ``float64 [F]``: the trace's ``capacity_bits`` if present
        (and ``use_trace_capacity``), else the class equation on ``snr_db``; 0 where erased."""
        cap = state_array(state, "capacity_bits") if self.use_trace_capacity else None
        if cap is None:
            snr_db = state_array(state, "snr_db")
            if snr_db is None:
                raise ValueError("state: ShannonPHY needs snr_db or capacity_bits in the LinkState")
            cap = np.asarray(self.capacity_bits(snr_db), dtype=np.float64).reshape(-1)
        erased = state_array(state, "erased")
        if erased is not None:
            cap = np.where(erased, 0.0, cap)
        return cap

    def deliver(
        self,
        bits: np.ndarray,
        state: LinkState,
        generator: torch.Generator | None = None,
        *,
        csi_state: LinkState | None = None,
    ) -> PHYResult:
        """Deliver packets of ``bits [F]`` in ``F`` frames; deterministic (``generator`` unused).

        ``csi_state`` does not matter here: the ideal PHY always signals at the true capacity.

        Input:
            bits (``int64 [F]``, bits): packet size per frame (header + CRC + payload).
            state (:class:`~commsldr_channels.LinkState`): ``capacity_bits`` or ``snr_db`` (dB) of
                the ``F`` frames; ``erased`` frames carry nothing.
            generator (``torch.Generator`` | None): unused (deterministic).

        Output:
            :class:`PHYResult`: ``delivered`` ``bool [F]`` (``bits <= C``), ``capacity_bits``
            ``float64 [F]`` (``C = B·T·log2(1 + 10^(snr_db/10))``, Shannon 1948), ``channel_uses``
            ``int64 [F]``, ``mcs_index`` ``int64 [F]`` (``-1``), ``error_prob`` ``float64 [F]``.
        """
        cap = self.frame_capacity_bits(state)
        bits = check_bits(bits, cap.shape[0])
        n = cap.shape[0]
        delivered = bits <= cap
        return PHYResult(
            delivered=delivered,
            capacity_bits=cap,
            channel_uses=np.full(n, self.channel_uses_per_frame, dtype=np.int64),
            mcs_index=np.full(n, -1, dtype=np.int64),
            error_prob=(~delivered).astype(np.float64),
        )
