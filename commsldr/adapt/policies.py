"""Adaptation policies: pick, frame by frame, the operating point (encoder variant k, scale s).

Every policy is bound once to a :class:`~commsldr.adapt.menu.PointMenu` (and, where it plans with
the PHY, a :class:`~commsldr.adapt.menu.LinkModel`), then used as ``reset()`` followed by one
``choose(csi)`` per frame. ``choose_index(csi)`` gives the menu index of the same choice.

Notation: P points, accuracy ``a_p``, packet size ``L_p`` bits (the frame's exact sizes when the
CSI carries them, the menu's expected sizes otherwise), estimated frame capacity ``Ĉ`` (from the
CSI's capacity, or ``link.capacity_bits(snr_hat)``).

- :class:`Fixed` — always ``(k, s)``.
- :class:`CapacityGreedy` — ``argmax_p a_p`` s.t. ``L_p ≤ (1 − margin)·Ĉ``; the cheapest point when
  nothing fits or nothing is known.
- :class:`ScaleOnly` — the same rule over the scales of one encoder (the paper's mechanism: one
  encoder, the quantization scale follows the channel).
- :class:`ScaleAndTruncation` — encoder variants *and* scales, with hysteresis on the encoder: it
  keeps the current variant while one of its scales fits and no other variant is better by more
  than ``switch_gain`` (an encoder swap also swaps the server's decoder, a scale change does not).
- :class:`OutageAware` — ``argmax_p a_p·P(L_p delivered | CSI) + a_fb·(1 − P(...))``, averaging the
  PHY's success model over a N(0, σ²) dB CSI error (equiprobable quantile nodes).
- :class:`Oracle` — :class:`OutageAware` with perfect current CSI: the upper bound of every study.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from commsldr.adapt.csi import CSI
from commsldr.adapt.menu import LinkModel, PointMenu

if TYPE_CHECKING:  # pragma: no cover
    from commsldr.link import OperatingPoint

__all__ = [
    "Policy",
    "Fixed",
    "CapacityGreedy",
    "ScaleOnly",
    "ScaleAndTruncation",
    "OutageAware",
    "Oracle",
]

#: most quadrature nodes of the outage-aware average over the CSI error
MAX_QUADRATURE_POINTS = 4096


def _check_margin(margin: Any) -> float:
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1:
        raise ValueError(f"margin must be a number in [0, 1), got {margin!r}")
    return float(margin)


class Policy(ABC):
    """Base class of adaptation policies.

    Subclasses set ``name`` and implement :meth:`choose_index`. Class attributes tell the runner
    what the policy needs: ``needs_link`` (it plans with the PHY model), ``needs_estimate`` (it
    cannot work from ACK/NACK alone), ``requires_perfect_csi`` (it is always fed perfect CSI).
    """

    name: ClassVar[str] = ""
    needs_link: ClassVar[bool] = False
    needs_estimate: ClassVar[bool] = False
    requires_perfect_csi: ClassVar[bool] = False

    def __init__(self) -> None:
        self._menu: PointMenu | None = None
        self._link: LinkModel | None = None

    # -- binding -------------------------------------------------------------------------------
    def bind(self, menu: PointMenu, link: LinkModel | None = None) -> Policy:
        """Attach the menu of operating points (and the PHY model); returns ``self``.

        Raises:
            TypeError: ``menu`` is not a :class:`PointMenu` or ``link`` (when given) is not a
                :class:`LinkModel` (a PHY object, not its name).
            ValueError: the policy plans with the PHY and ``link`` is ``None``.
        """
        if not isinstance(menu, PointMenu):
            raise TypeError(f"menu: policy {self.name!r} needs a PointMenu (e.g. "
                            f"PointMenu.from_table(table)), got {type(menu).__name__}")
        if link is not None and not isinstance(link, LinkModel):
            raise TypeError(f"link: expected a PHY with capacity_bits(snr_db) and "
                            f"success_probability(packet_bits, snr_db) (e.g. ShannonPHY()), "
                            f"got {type(link).__name__}"
                            + (" (a name; create the PHY first)" if isinstance(link, str) else ""))
        if self.needs_link and link is None:
            raise ValueError(f"policy {self.name!r} needs a link model (the PHY) to plan with")
        self._menu = menu
        self._link = link
        self._on_bind()
        self.reset()
        return self

    def _on_bind(self) -> None:  # noqa: B027 - an optional hook
        """Hook: precompute what depends on the menu."""

    @property
    def menu(self) -> PointMenu:
        if self._menu is None:
            raise RuntimeError(f"policy {self.name!r} is not bound to a menu; call bind() first")
        return self._menu

    # -- the frame loop ------------------------------------------------------------------------
    def reset(self) -> None:  # noqa: B027 - stateless policies keep the default
        """Forget all state (start of a new trace)."""

    @abstractmethod
    def choose_index(self, csi: CSI) -> int:
        """The menu index of the operating point for frame ``csi.frame``."""

    def choose(self, csi: CSI) -> OperatingPoint:
        """The operating point for frame ``csi.frame``.

        Input:
            csi (:class:`~commsldr.adapt.csi.CSI`): what the sender knows before frame ``csi.frame``
                (``snr_db`` dB, ``capacity_bits`` bits, ``packet_bits`` ``float64 [P]`` bits, ``ack``).

        Output:
            :class:`~commsldr.link.OperatingPoint`: one of the bound menu's ``P`` points
            (``k`` latent entries, ``scale_index``, ``scale``).

        Raises:
            TypeError: ``choose_index`` returned a non-integer (or a bool).
            ValueError: ``choose_index`` returned an index outside ``[0, P)`` (a plug-in's
                ``-1`` would otherwise pick the last point silently). Each message names the
                policy, what it returned and what is allowed.
        """
        index = self.choose_index(csi)
        points = self.menu.points
        if isinstance(index, bool | np.bool_) or not isinstance(index, int | np.integer):
            raise TypeError(f"policy {self._label()!r}: choose_index() returned {index!r} "
                            f"({type(index).__name__}); it must return an int menu index in "
                            f"[0, {len(points) - 1}]")
        if not 0 <= index < len(points):
            raise ValueError(f"policy {self._label()!r}: choose_index() returned {index!r}; it "
                             f"must be a menu index in [0, {len(points) - 1}] (the menu has "
                             f"{len(points)} points)")
        return points[index]

    def _label(self) -> str:
        """The class's own registered name (not one inherited from a registered parent), else
        the class name: what messages call this policy."""
        name = vars(self).get("name") or vars(type(self)).get("name")
        return name if isinstance(name, str) and name else type(self).__name__

    # -- helpers -------------------------------------------------------------------------------
    def packet_bits(self, csi: CSI) -> np.ndarray:
        """Packet sizes [P]: exact for this frame if the CSI carries them, else the menu's."""
        if csi.packet_bits is not None:
            bits = np.asarray(csi.packet_bits, dtype=np.float64)
            if bits.shape != (len(self.menu),):
                raise ValueError(
                    f"csi.packet_bits has shape {bits.shape}, expected ({len(self.menu)},)"
                )
            return bits
        return self.menu.packet_bits

    def capacity_estimate(self, csi: CSI) -> float | None:
        """``Ĉ``: 0 if known erased, the CSI's capacity, else the PHY's capacity at the estimated
        SNR, else None (nothing known)."""
        if csi.erased:
            return 0.0
        if csi.capacity_bits is not None:
            return float(csi.capacity_bits)
        if csi.snr_db is not None and self._link is not None:
            return float(self._link.capacity_bits(csi.snr_db))
        return None

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({params})"

    def params(self) -> dict[str, Any]:
        """The constructor parameters (for result files)."""
        return {}


class Fixed(Policy):
    """Always the same point: encoder variant ``k`` at quantization scale ``scale``.

    Args:
        k: encoder variant (number of latent entries kept).
        scale: quantization scale s (must be on the menu for k).
    """

    name = "fixed"
    #: the simulator may compute every frame at once (no CSI needed)
    static: ClassVar[bool] = True

    def __init__(self, k: int, scale: float) -> None:
        super().__init__()
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"scale must be a number > 0, got {scale!r}")
        self.k, self.scale = k, float(scale)
        self._index = -1

    def _on_bind(self) -> None:
        self._index = self.menu.index_of(self.k, self.scale)

    def choose_index(self, csi: CSI) -> int:
        return self._index

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "scale": self.scale}


class _FitPolicy(Policy):
    """Most accurate candidate whose packet fits ``(1 − margin)·Ĉ``; cheapest when none fits."""

    def __init__(self, margin: float = 0.0) -> None:
        super().__init__()
        self.margin = _check_margin(margin)
        self._candidates = np.zeros(0, dtype=np.int64)

    def _on_bind(self) -> None:
        self._candidates = np.arange(len(self.menu))

    def _best_fit(self, candidates: np.ndarray, bits: np.ndarray, cap: float | None) -> int | None:
        """Best fitting candidate (ties → fewer bits), or None if none fits / nothing known."""
        if cap is None:
            return None
        fits = candidates[bits[candidates] <= (1.0 - self.margin) * cap]
        if not len(fits):
            return None
        acc = self.menu.accuracy[fits]
        best = fits[acc == acc.max()]
        return int(best[np.argmin(bits[best])])

    def _cheapest(self, candidates: np.ndarray, bits: np.ndarray) -> int:
        return int(candidates[np.argmin(bits[candidates])])

    def choose_index(self, csi: CSI) -> int:
        bits = self.packet_bits(csi)
        best = self._best_fit(self._candidates, bits, self.capacity_estimate(csi))
        return self._cheapest(self._candidates, bits) if best is None else best

    def params(self) -> dict[str, Any]:
        return {"margin": self.margin}


class CapacityGreedy(_FitPolicy):
    """The most accurate point (any k, any s) whose packet fits ``(1 − margin)·Ĉ``.

    Args:
        margin: the fraction of the estimated capacity held back, in [0, 1).
    """

    name = "capacity-greedy"


class ScaleOnly(_FitPolicy):
    """One encoder; the quantization scale follows the channel (the paper's mechanism).

    Args:
        k: the encoder variant to use (default: the largest on the menu).
        margin: the fraction of the estimated capacity held back, in [0, 1).
    """

    name = "scale-only"

    def __init__(self, k: int | None = None, margin: float = 0.0) -> None:
        super().__init__(margin)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be an integer >= 1 or null, got {k!r}")
        self.k = k

    def _on_bind(self) -> None:
        k = self.menu.variants[-1] if self.k is None else self.k
        self._candidates = self.menu.indices_of_variant(k)

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "margin": self.margin}


class ScaleAndTruncation(_FitPolicy):
    """Switches truncated encoders and scales, with hysteresis on the encoder variant.

    Each frame: if the current variant has a scale that fits ``(1 − margin)·Ĉ`` and the best
    fitting point of any variant is at most ``switch_gain`` more accurate, stay on the current
    variant (best fitting scale); otherwise move to the best fitting point overall. With
    ``switch_gain = 0`` it makes the same choices as :class:`CapacityGreedy`.

    Args:
        margin: the fraction of the estimated capacity held back, in [0, 1).
        switch_gain: the accuracy gain (absolute, in [0, 1]) needed to swap the encoder.
    """

    name = "scale-and-truncation"

    def __init__(self, margin: float = 0.0, switch_gain: float = 0.01) -> None:
        super().__init__(margin)
        if (
            isinstance(switch_gain, bool)
            or not isinstance(switch_gain, (int, float))
            or not 0 <= switch_gain <= 1
        ):
            raise ValueError(f"switch_gain must be a number in [0, 1], got {switch_gain!r}")
        self.switch_gain = float(switch_gain)
        self._current_k: int | None = None

    def reset(self) -> None:
        self._current_k = None

    def choose_index(self, csi: CSI) -> int:
        bits = self.packet_bits(csi)
        cap = self.capacity_estimate(csi)
        best = self._best_fit(self._candidates, bits, cap)
        if best is None:
            choice = self._cheapest(self._candidates, bits)
        elif self._current_k is None:
            choice = best
        else:
            own = self._best_fit(self.menu.indices_of_variant(self._current_k), bits, cap)
            gain = 0.0 if own is None else self.menu.accuracy[best] - self.menu.accuracy[own]
            choice = best if own is None or gain > self.switch_gain else own
        self._current_k = self.menu.variant_of(choice)
        return choice

    def params(self) -> dict[str, Any]:
        return {"margin": self.margin, "switch_gain": self.switch_gain}


class OutageAware(Policy):
    """Maximises the expected accuracy ``a_p·P_p + a_fb·(1 − P_p)`` of the frame.

    ``P_p = E_e[ success(L_p, snr_hat + e) ]`` with ``e ~ N(0, σ²)`` dB, ``σ`` = ``snr_std_db``
    (default: the CSI model's own error std), averaged over the PHY's success model at the
    ``J = quadrature_points`` equiprobable nodes ``e_j = σ·Φ⁻¹((j + ½)/J)``; for a PHY whose
    success is a step in SNR (Shannon) the error of this rule is at most ``1/(2J)``. For
    capacity-only CSI, ``P_p = Φ(10·log10(Ĉ / L_p) / σ)`` exactly (the same dB error on the
    capacity); with ``σ = 0`` both reduce to the PHY's own success model at ``snr_hat``.

    Args:
        snr_std_db: the CSI error std in dB to plan with, finite and ``>= 0`` (planning at any
            finite std stays overflow-free); None = the CSI's ``snr_std_db``.
        quadrature_points: J, the number of nodes of the average over the CSI error, in
            [1, 4096].
    """

    name = "outage-aware"
    needs_link = True
    needs_estimate = True

    def __init__(self, snr_std_db: float | None = None, quadrature_points: int = 32) -> None:
        super().__init__()
        if (
            isinstance(quadrature_points, bool)
            or not isinstance(quadrature_points, int)
            or not 1 <= quadrature_points <= MAX_QUADRATURE_POINTS
        ):
            raise ValueError(f"quadrature_points must be an integer in [1, {MAX_QUADRATURE_POINTS}], "
                             f"got {quadrature_points!r}")
        self.quadrature_points = quadrature_points
        j = np.arange(quadrature_points)
        self._nodes = ndtri((j + 0.5) / quadrature_points)
        if snr_std_db is not None and (
            isinstance(snr_std_db, bool)
            or not isinstance(snr_std_db, (int, float))
            or not 0 <= snr_std_db < math.inf
        ):
            raise ValueError(f"snr_std_db must be a finite number >= 0 (dB) or null, got "
                             f"{snr_std_db!r}")
        self.snr_std_db = snr_std_db

    def delivery_probability(self, csi: CSI, bits: np.ndarray) -> np.ndarray | None:
        """``P(delivered | CSI)`` [P] of packets of sizes ``bits``; None if nothing is known."""
        std = csi.snr_std_db if self.snr_std_db is None else self.snr_std_db
        if csi.erased:
            return np.zeros_like(bits)
        if csi.snr_db is not None and self._link is not None:
            if std == 0:
                return np.asarray(self._link.success_probability(bits, csi.snr_db), dtype=float)
            p = np.zeros_like(bits)
            for x in self._nodes:
                snr = csi.snr_db + std * float(x)
                p += np.asarray(self._link.success_probability(bits, snr), dtype=float)
            return np.clip(p / len(self._nodes), 0.0, 1.0)
        if csi.capacity_bits is not None:
            if std == 0:
                return (bits <= csi.capacity_bits).astype(float)
            margin_db = 10.0 * np.log10(max(csi.capacity_bits, 1e-300) / bits)
            return ndtr(margin_db / std)
        return None

    def choose_index(self, csi: CSI) -> int:
        bits = self.packet_bits(csi)
        p = self.delivery_probability(csi, bits)
        if p is None:
            return int(np.argmin(bits))
        fb = self.menu.fallback_accuracy
        value = self.menu.accuracy * p + fb * (1.0 - p)
        best = np.flatnonzero(value >= value.max() - 1e-12)
        return int(best[np.argmin(bits[best])])

    def params(self) -> dict[str, Any]:
        return {"snr_std_db": self.snr_std_db, "quadrature_points": self.quadrature_points}


class Oracle(OutageAware):
    """Genie-aided: plans with perfect knowledge of the current frame's channel state.

    The runner always feeds it perfect CSI, whatever CSI model the other policies see, so its
    expected accuracy is an upper bound on every causal policy's over the same channel draws.
    """

    name = "oracle"
    requires_perfect_csi = True

    def __init__(self) -> None:
        super().__init__(snr_std_db=0.0)

    def params(self) -> dict[str, Any]:
        return {}
