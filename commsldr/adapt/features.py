"""What a transmitter observes between frames, as a feature vector: the observation of the
Gymnasium environment (:mod:`commsldr.env`) and the context of the learning policies.

One :class:`ObservationSpec` (which keys, how long a history) encodes a :class:`FeatureState`
(the transmitter's memory, vectorised over ``N`` links) into ``float32 [N, D]``. The environment
updates the state with array operations for many links at once; a policy in the frame-by-frame
simulator keeps a state of one link and updates it from its :class:`~commsldr.adapt.csi.CSI`.
Both go through the same :meth:`ObservationSpec.encode`, so a policy trained on the environment
sees exactly the features it was trained on.

Keys (in this order in the vector, whichever are chosen):

=============  =======  ==============================================================================
key            size     value
=============  =======  ==============================================================================
``ack``        ``H``    outcomes of the last ``H`` transmissions, newest first: +1 ACK, −1 NACK, 0 none
``action``     ``P``    one-hot of the menu point of the last transmission (zeros before the first)
``snr_db``     1        the CSI's SNR estimate as ``snr_db / 10`` clipped to [−3, 6]; 0 when unknown
``capacity``   1        ``log2(Ĉ / L_max)`` clipped to [−8, 4] (``Ĉ``: the CSI's capacity estimate,
                        ``L_max``: the menu's largest packet); 0 when unknown
``queue``      1        transmissions already spent on the waiting packet / ``deadline_frames``, in [0, 1)
=============  =======  ==============================================================================

``snr_db`` needs a channel with an SNR (not a capacity trace) and a CSI model that measures it;
``capacity`` needs a capacity trace or an SNR plus the PHY's capacity rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from commsldr.errors import UserError, did_you_mean

__all__ = ["OBSERVATION_KEYS", "ObservationError", "ObservationSpec", "FeatureState"]

#: the observation keys, in the order they appear in the vector
OBSERVATION_KEYS = ("ack", "action", "snr_db", "capacity", "queue")

_SNR_RANGE = (-3.0, 6.0)
_CAP_RANGE = (-8.0, 4.0)


class ObservationError(UserError):
    """An observation key that does not exist or that the scenario cannot provide."""


@dataclass
class FeatureState:
    """The transmitter's memory for ``N`` links (all arrays have ``N`` rows).

    Attributes:
        ack: ``int8 [N, H]`` — last ``H`` outcomes, newest first (+1 ACK, −1 NACK, 0 none).
        action: ``int64 [N]`` — menu index of the last transmission, −1 before the first.
        snr_db: ``float64 [N]`` — the CSI's SNR estimate in dB (NaN: unknown).
        capacity_bits: ``float64 [N]`` — the CSI's capacity estimate in bits (NaN: unknown).
        tries: ``int64 [N]`` — transmissions already spent on the waiting packet.
    """

    ack: np.ndarray
    action: np.ndarray
    snr_db: np.ndarray
    capacity_bits: np.ndarray
    tries: np.ndarray

    @classmethod
    def empty(cls, num_links: int, history: int) -> FeatureState:
        """The state before the first frame of ``num_links`` links."""
        return cls(
            ack=np.zeros((num_links, history), dtype=np.int8),
            action=np.full(num_links, -1, dtype=np.int64),
            snr_db=np.full(num_links, np.nan),
            capacity_bits=np.full(num_links, np.nan),
            tries=np.zeros(num_links, dtype=np.int64),
        )

    def record(self, action: np.ndarray, delivered: np.ndarray,
               rows: np.ndarray | None = None) -> None:
        """Push the outcome of a transmission at menu point ``action`` (``[N]`` or ``[len(rows)]``).

        ``rows`` (optional ``bool [N]`` or indices) limits the update to some links.
        """
        sel = slice(None) if rows is None else rows
        outcome = np.where(np.asarray(delivered, dtype=bool), 1, -1).astype(np.int8)
        if self.ack.shape[1]:
            hist = self.ack[sel]
            hist = np.concatenate([outcome.reshape(-1, 1), hist[:, :-1]], axis=1)
            self.ack[sel] = hist
        self.action[sel] = action


@dataclass(frozen=True)
class ObservationSpec:
    """Which observation keys, and how they are encoded (module docstring).

    Args:
        keys: a subset of :data:`OBSERVATION_KEYS` (order does not matter; duplicates refused).
        num_points: ``P``, the menu size (the ``action`` one-hot).
        history: ``H``, outcomes kept by ``ack`` (>= 1 when ``ack`` is used).
        deadline_frames: the ``queue`` normaliser (transmissions a packet may take, >= 1).
        max_packet_bits: ``L_max``, the ``capacity`` normaliser (> 0).

    Raises:
        ObservationError: an unknown key (the message lists the valid ones) or a bad size.
    """

    keys: tuple[str, ...]
    num_points: int
    history: int = 4
    deadline_frames: int = 1
    max_packet_bits: float = 1.0
    _slices: dict[str, slice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = (self.keys,) if isinstance(self.keys, str) else tuple(self.keys)
        if not keys:
            raise ObservationError("observation", f"choose at least one key of {list(OBSERVATION_KEYS)}")
        for k in keys:
            if k not in OBSERVATION_KEYS:
                raise ObservationError(
                    "observation", f"unknown key {k!r}{did_you_mean(k, OBSERVATION_KEYS)}; "
                    f"allowed: {list(OBSERVATION_KEYS)}")
        if len(set(keys)) != len(keys):
            raise ObservationError("observation", f"a key is listed twice: {list(keys)}")
        if int(self.num_points) < 1:
            raise ObservationError("observation", f"num_points must be >= 1, got {self.num_points}")
        if "ack" in keys and int(self.history) < 1:
            raise ObservationError("observation.history", f"must be >= 1 with 'ack', got {self.history}")
        if int(self.deadline_frames) < 1 or not self.max_packet_bits > 0:
            raise ObservationError("observation", "deadline_frames must be >= 1 and max_packet_bits > 0")
        ordered = tuple(k for k in OBSERVATION_KEYS if k in keys)
        object.__setattr__(self, "keys", ordered)
        sizes = {"ack": int(self.history), "action": int(self.num_points), "snr_db": 1,
                 "capacity": 1, "queue": 1}
        slices, start = {}, 0
        for k in ordered:
            slices[k] = slice(start, start + sizes[k])
            start += sizes[k]
        object.__setattr__(self, "_slices", slices)

    @property
    def size(self) -> int:
        """``D``, the length of the feature vector."""
        return max(s.stop for s in self._slices.values())

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)``, ``float32 [D]`` each: the range of every entry."""
        low = np.zeros(self.size, dtype=np.float32)
        high = np.ones(self.size, dtype=np.float32)
        for k, s in self._slices.items():
            if k == "ack":
                low[s] = -1.0
            elif k == "snr_db":
                low[s], high[s] = _SNR_RANGE
            elif k == "capacity":
                low[s], high[s] = _CAP_RANGE
        return low, high

    def check_available(self, *, has_snr: bool, has_capacity: bool, where: str = "") -> None:
        """Raise :class:`ObservationError` for a key the link cannot provide.

        Args:
            has_snr: the transmitter gets an SNR estimate (a channel with an SNR and a CSI model
                that measures it).
            has_capacity: it gets a capacity estimate (a trace, or an SNR and a PHY capacity rule).
            where: what the link is, for the message (e.g. ``"channel 'trace'"``).
        """
        at = f" ({where})" if where else ""
        if "snr_db" in self.keys and not has_snr:
            raise ObservationError(
                "observation", f"key 'snr_db' needs an SNR estimate, which this link cannot "
                f"provide{at}; use 'capacity', 'ack' or 'action'")
        if "capacity" in self.keys and not has_capacity:
            raise ObservationError(
                "observation", f"key 'capacity' needs a capacity estimate, which this link cannot "
                f"provide{at}; use 'ack' or 'action'")

    def encode(self, state: FeatureState) -> np.ndarray:
        """The features of every link, ``float32 [N, D]`` within :meth:`bounds`."""
        n = state.action.shape[0]
        out = np.zeros((n, self.size), dtype=np.float32)
        for k, s in self._slices.items():
            if k == "ack":
                out[:, s] = state.ack[:, : self.history]
            elif k == "action":
                has = state.action >= 0
                out[np.flatnonzero(has), s.start + state.action[has]] = 1.0
            elif k == "snr_db":
                v = np.nan_to_num(state.snr_db / 10.0, nan=0.0)
                out[:, s.start] = np.clip(v, *_SNR_RANGE)
            elif k == "capacity":
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.log2(np.maximum(state.capacity_bits, 0.0) / self.max_packet_bits)
                v = np.where(np.isnan(state.capacity_bits), 0.0, v)
                out[:, s.start] = np.clip(np.nan_to_num(v, neginf=_CAP_RANGE[0]), *_CAP_RANGE)
            else:  # queue
                out[:, s.start] = np.minimum(state.tries / self.deadline_frames, 1.0 - 1e-6)
        return out

    def to_config(self) -> dict[str, object]:
        """JSON-able description (saved with a trained policy)."""
        return {"keys": list(self.keys), "num_points": int(self.num_points),
                "history": int(self.history), "deadline_frames": int(self.deadline_frames),
                "max_packet_bits": float(self.max_packet_bits)}

    @classmethod
    def from_config(cls, config: dict[str, object]) -> ObservationSpec:
        """Inverse of :meth:`to_config`."""
        keys = config.get("keys", ())
        return cls(keys=tuple(keys) if isinstance(keys, Sequence) else (),  # type: ignore[arg-type]
                   num_points=int(config["num_points"]),  # type: ignore[arg-type]
                   history=int(config.get("history", 4)),  # type: ignore[arg-type]
                   deadline_frames=int(config.get("deadline_frames", 1)),  # type: ignore[arg-type]
                   max_packet_bits=float(config.get("max_packet_bits", 1.0)))  # type: ignore[arg-type]
