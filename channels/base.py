"""`LinkState` (what a channel model produces per frame) and the `Channel` base class.

Conventions (used by every model and by ``commsldr.link``):

* A *frame* is the unit of time of the link simulator (one transmission opportunity, lasting
  ``frame_s`` seconds where the model is physical). ``states(num_frames, generator=g)`` returns
  one independent realisation of ``num_frames`` *consecutive* frames starting at frame 0.
* ``snr_db`` is the frame's **instantaneous received SNR** :math:`\\rho_t = E_s |h_t|^2 / N_0`
  in dB, with the average transmitted symbol energy :math:`E_s = 1`; fading, path loss and
  shadowing are already included. A receiver with perfect CSI sees this SNR.
* ``gain`` is the complex flat-fading coefficient :math:`h_t` where the model defines one
  (possibly including the large-scale amplitude); the noise variance per complex symbol is then
  :math:`N_0 = |h_t|^2 / \\rho_t` (:attr:`LinkState.noise_var`). Without ``gain``, :math:`h_t = 1`.
* ``capacity_bits`` is the number of bits the link can carry in the frame (trace-driven models).
* ``erased`` marks frames lost regardless of what is sent (e.g. Gilbert–Elliott bad state).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import torch

__all__ = ["LinkState", "Channel", "ChannelParameterError", "complex_normal"]

_FIELD_DTYPES: dict[str, torch.dtype] = {
    "snr_db": torch.float32,
    "gain": torch.complex64,
    "capacity_bits": torch.float32,
    "erased": torch.bool,
}


class ChannelParameterError(ValueError):
    """A channel model was given an invalid parameter; the message starts with its name."""


#: the dataclass field names of LinkState and each subclass (``fields()`` per frame is slow)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass
class LinkState:
    """Per-frame link state produced by :meth:`Channel.states`.

    Every field is either ``None`` (the model does not define it) or a 1-D tensor of length
    ``num_frames``; all tensors live on the same device. ``snr_db``, ``gain`` and
    ``capacity_bits`` must be finite (``capacity_bits >= 0``): a NaN or infinite value raises a
    ``ValueError`` naming the field; a frame without signal is ``erased``.

    Attributes:
        snr_db: float32 ``[F]``, instantaneous received SNR in dB (fading included).
        gain: complex64 ``[F]``, flat-fading channel coefficient :math:`h_t` (unitless).
        capacity_bits: float32 ``[F]``, bits deliverable in the frame.
        erased: bool ``[F]``, ``True`` where the frame is lost whatever is sent.

    Example:
        >>> import torch
        >>> s = LinkState(snr_db=torch.tensor([0.0, 10.0]))
        >>> len(s), s.snr_linear.tolist()
        (2, [1.0, 10.0])
    """

    snr_db: torch.Tensor | None = None
    gain: torch.Tensor | None = None
    capacity_bits: torch.Tensor | None = None
    erased: torch.Tensor | None = None

    def __post_init__(self) -> None:
        length: int | None = None
        device: torch.device | None = None
        for name, dtype in _FIELD_DTYPES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
            if value.dtype != dtype:
                raise TypeError(f"{name}: expected dtype {dtype}, got {value.dtype}")
            if value.dim() != 1:
                raise ValueError(
                    f"{name}: expected a 1-D tensor [num_frames], got shape {tuple(value.shape)}"
                )
            if length is None:
                length, device = value.shape[0], value.device
            elif value.shape[0] != length:
                raise ValueError(f"{name}: has {value.shape[0]} frames, other fields have {length}")
            elif value.device != device:
                raise ValueError(f"{name}: on device {value.device}, other fields on {device}")
            _check_values(name, value)
        if length is None:
            raise ValueError("LinkState needs at least one of snr_db, gain, capacity_bits, erased")

    @property
    def num_frames(self) -> int:
        """Number of frames ``F``."""
        return len(self)

    def __len__(self) -> int:
        for name in _FIELD_DTYPES:
            value = getattr(self, name)
            if value is not None:
                return int(value.shape[0])
        return 0  # unreachable: __post_init__ requires a field

    @property
    def device(self) -> torch.device:
        """Device of the tensors."""
        return next(v for v in self._tensors().values()).device

    def defined(self) -> tuple[str, ...]:
        """Names of the fields this state defines (not ``None``)."""
        return tuple(self._tensors())

    def _tensors(self) -> dict[str, torch.Tensor]:
        names = _FIELD_NAMES.get(type(self))
        if names is None:  # a subclass (e.g. the cell's GrantState) may add fields
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in fields(self))
        return {name: value for name in names if (value := getattr(self, name)) is not None}

    @classmethod
    def _unchecked(cls, tensors: dict[str, torch.Tensor]) -> LinkState:
        """A state of tensors sliced out of a checked state (1-D, same dtypes and length, the
        values a subset): built without checking them again, since the simulators slice one
        frame at a time."""
        state = object.__new__(cls)
        for name in _FIELD_DTYPES:
            object.__setattr__(state, name, tensors.get(name))
        return state

    def __getitem__(self, index: int | slice | torch.Tensor | Sequence[int]) -> LinkState:
        """Select frames (slice, index tensor or boolean mask); an int keeps a length-1 state."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        if isinstance(index, slice):  # a slice of checked values: nothing to check again
            return LinkState._unchecked({k: v[index] for k, v in self._tensors().items()})
        return LinkState(**{k: v[index] for k, v in self._tensors().items()})

    def to(self, device: torch.device | str) -> LinkState:
        """Copy of the state on ``device``."""
        return LinkState(**{k: v.to(device) for k, v in self._tensors().items()})

    @classmethod
    def cat(cls, states: Sequence[LinkState]) -> LinkState:
        """Concatenate states along frames; they must define the same fields."""
        if not states:
            raise ValueError("states: need at least one LinkState")
        names = states[0].defined()
        for i, s in enumerate(states):
            if s.defined() != names:
                raise ValueError(f"states[{i}]: defines {s.defined()}, states[0] defines {names}")
        return cls(**{n: torch.cat([getattr(s, n) for s in states]) for n in names})

    @property
    def snr_linear(self) -> torch.Tensor:
        """Instantaneous SNR :math:`\\rho_t = 10^{\\mathrm{snr\\_db}/10}`, float32 ``[F]``."""
        if self.snr_db is None:
            raise AttributeError("this LinkState defines no snr_db")
        return torch.pow(10.0, self.snr_db / 10.0)

    @property
    def noise_var(self) -> torch.Tensor:
        """Noise variance per complex symbol :math:`N_0 = |h_t|^2/\\rho_t` (``E_s = 1``), float32 ``[F]``."""
        power = torch.ones_like(self.snr_linear) if self.gain is None else self.gain.abs().square()
        return power / self.snr_linear


def _check_values(name: str, value: torch.Tensor) -> None:
    """Refuse values no channel produces and no PHY can use (a NaN SNR would turn a simulation's
    accuracy into NaN): ``snr_db``, ``gain`` and ``capacity_bits`` finite, ``capacity_bits >= 0``.

    Every model gives finite SNRs (:func:`power_to_db` clamps a zero power instead of giving
    ``-inf``, and the SNR parameters are bounded); a frame that carries nothing is ``erased``.
    """
    if name == "erased" or value.numel() == 0:
        return
    if value.numel() == 1 and value.device.type == "cpu":  # a frame sliced out of a state: fast
        v = value.item()
        if cmath.isfinite(v) and (name != "capacity_bits" or v >= 0):
            return
    finite = torch.isfinite(value)
    if not bool(finite.all()):
        bad = value[~finite][0].item()
        raise ValueError(f"{name}: must be finite in every frame, got {bad} in frame "
                         f"{int((~finite).nonzero()[0, 0])} (mark a frame that carries "
                         f"nothing with erased=True)")
    if name == "capacity_bits" and bool((value < 0).any()):
        bad_frame = int((value < 0).nonzero()[0, 0])
        raise ValueError(f"capacity_bits: must be >= 0 bits in every frame, got "
                         f"{value[bad_frame].item()} in frame {bad_frame}")


class Channel:
    """Base class of every channel model.

    Subclasses implement :meth:`states` and validate their parameters in ``__init__`` (raising
    :class:`ChannelParameterError`, a ``ValueError``, whose message starts with the parameter
    name). Models whose state defines ``snr_db`` are symbol-level: :meth:`forward` applies
    :math:`y = h_t x + n`, :math:`n \\sim \\mathcal{CN}(0, N_0)`.

    Register a subclass with :func:`commsldr_channels.register_channel`; the registry sets :attr:`name`.
    """

    name: ClassVar[str] = ""
    """Registry name (set by :func:`commsldr_channels.register_channel`)."""

    deterministic: ClassVar[bool] = False
    """``True`` if :meth:`states` draws nothing (the generator is unused), e.g. AWGN."""

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        """Draw one realisation of ``num_frames`` consecutive frames.

        Args:
            num_frames: number of frames ``F >= 1``.
            generator: the only source of randomness; tensors are created on its device.

        Returns:
            A :class:`LinkState` with 1-D tensors of length ``F``.

        Input:
            num_frames (int): ``F >= 1``.
            generator (``torch.Generator``): the only source of randomness.

        Output:
            :class:`LinkState`: ``snr_db`` ``float32 [F]`` (dB), ``gain`` ``complex64 [F]``,
            ``capacity_bits`` ``float32 [F]`` (bits per frame), ``erased`` ``bool [F]``; each may be
            ``None`` where the model does not define it.
        """
        raise NotImplementedError

    @classmethod
    def example_params(cls) -> dict[str, Any]:
        """Parameters that make a valid instance for tests and demos (defaults: ``{}``)."""
        return {}

    def forward(
        self, x: torch.Tensor, state: LinkState, *, generator: torch.Generator
    ) -> torch.Tensor:
        """Pass complex symbols through the channel: :math:`y = h_t x + n`.

        Args:
            x: complex64 ``[F, n]`` symbols of frame ``t`` in row ``t`` (unit average energy
                assumed: the noise is set from the frame's SNR with :math:`E_s = 1`).
            state: the frames' :class:`LinkState` (``len(state) == F``), must define ``snr_db``.
            generator: draws the noise; must be on ``x``'s device.

        Returns:
            complex64 ``[F, n]`` received symbols. Erased frames are not zeroed: erasure is a
            frame-level flag for the link layer.
        """
        if state.snr_db is None:
            raise NotImplementedError(
                f"channel {self.name or type(self).__name__!r} defines no snr_db (not symbol-level)"
            )
        if x.dtype != torch.complex64:
            raise TypeError(f"x: expected complex64 symbols, got {x.dtype}")
        if x.dim() < 1 or x.shape[0] != len(state):
            raise ValueError(
                f"x: expected shape [num_frames={len(state)}, ...], got {tuple(x.shape)}"
            )
        state = state.to(x.device)
        shape = (-1,) + (1,) * (x.dim() - 1)
        h = state.gain.reshape(shape) if state.gain is not None else None
        signal = x if h is None else h * x
        no = state.noise_var.reshape(shape).to(torch.float32)
        noise = complex_normal(tuple(x.shape), generator)
        return (signal + noise * torch.sqrt(no)).to(torch.complex64)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


def complex_normal(shape: tuple[int, ...] | int, generator: torch.Generator) -> torch.Tensor:
    """i.i.d. :math:`\\mathcal{CN}(0, 1)` samples (real and imaginary parts
    :math:`\\mathcal{N}(0, 1/2)`), complex64 of ``shape``, drawn from ``generator`` on its device.

    This is the draw of ``sionna.phy.channel.AWGN`` and ``RayleighBlockFading``, done with
    ``torch`` alone so that plain Gaussian models never import Sionna.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    w = torch.randn(*shape, 2, generator=generator, device=generator.device, dtype=torch.float32)
    return torch.view_as_complex(w * math.sqrt(0.5))


def db_to_linear(value_db: torch.Tensor | float) -> torch.Tensor | float:
    """:math:`10^{x/10}`."""
    if isinstance(value_db, torch.Tensor):
        return torch.pow(10.0, value_db / 10.0)
    return 10.0 ** (value_db / 10.0)


def power_to_db(power: torch.Tensor) -> torch.Tensor:
    """:math:`10\\log_{10} p`, clamped at the smallest positive float32 to avoid ``-inf``."""
    return 10.0 * torch.log10(power.clamp_min(torch.finfo(torch.float32).tiny))


SPEED_OF_LIGHT_MPS = 299_792_458.0
TWO_PI = 2.0 * math.pi
