"""Large-scale variation: log-distance path loss and Gudmundson-correlated log-normal shadowing
along a mobility trajectory, optionally multiplied by a small-scale fading model."""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import Channel, ChannelParameterError, LinkState, power_to_db
from commsldr_channels.registry import create_channel, get_channel_class, register_channel


def ping_pong_distance(
    start_m: float, velocity_mps: float, min_m: float, max_m: float, times_s: torch.Tensor
) -> torch.Tensor:
    """Radial distance of a terminal moving at ``velocity_mps`` and bouncing between
    ``min_m`` and ``max_m`` (positive velocity = moving away), float64 like ``times_s``."""
    span = max_m - min_m
    if span == 0:
        return torch.full_like(times_s, min_m)
    u = torch.remainder(start_m - min_m + velocity_mps * times_s, 2 * span)
    return min_m + torch.where(u <= span, u, 2 * span - u)


def gauss_markov(num: int, rho: float, std: float, generator: torch.Generator) -> torch.Tensor:
    """Stationary AR(1) :math:`s_t = \\rho s_{t-1} + \\sqrt{1-\\rho^2}\\,\\sigma w_t`, float64 ``[num]``
    (``scipy.signal.lfilter``)."""
    from scipy.signal import lfilter

    w = (
        torch.randn(num, generator=generator, device=generator.device, dtype=torch.float64)
        .cpu()
        .numpy()
    )
    if num == 0 or std == 0:
        return torch.zeros(num, dtype=torch.float64, device=generator.device)
    x = w * std * math.sqrt(1.0 - rho**2)
    x[0] = w[0] * std  # stationary start
    out = lfilter([1.0], [1.0, -rho], x)
    return torch.from_numpy(np.ascontiguousarray(out)).to(generator.device)


def _short(value: Any) -> str:
    """``repr(value)`` cut to 80 characters for a message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _parameter_names(model: str) -> list[str] | None:
    """The keyword parameters of the registered model ``model``; None: unknown model, or one
    that takes any keyword (``**kwargs``)."""
    try:
        signature = inspect.signature(get_channel_class(model).__init__)
    except (KeyError, TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return [n for n, p in signature.parameters.items()
            if n != "self" and p.kind is not p.VAR_POSITIONAL]


def _allowed(model: str | None) -> str:
    """``" (allowed: a, b, ...)"`` for the parameters of ``model``, or ``""``."""
    names = _parameter_names(model) if isinstance(model, str) else None
    return f" (allowed: {', '.join(names) or 'none'})" if names is not None else ""


@register_channel("pathloss-shadowing")
class PathlossShadowing(Channel):
    """Log-distance path loss + Gudmundson-correlated log-normal shadowing along a trajectory, times small-scale fading.

    .. math::
        \\mathrm{SNR}_t^{\\mathrm{dB}} = \\mathrm{SNR}_{d_0}^{\\mathrm{dB}}
            - 10\\,n\\log_{10}(d_t/d_0) + S_t + 10\\log_{10}|h_t|^2,\\qquad
        S_t = \\rho_S S_{t-1} + \\sqrt{1-\\rho_S^2}\\,\\sigma_S w_t,\\quad
        \\rho_S = e^{-v T_f / d_{\\mathrm{corr}}}

    (Rappaport, *Wireless Communications*, 2nd ed., §4.9–4.11; Gudmundson, "Correlation model
    for shadow fading in mobile radio systems", Electron. Lett. 27(23), 1991: the shadowing
    correlation decays exponentially with the distance travelled).
    The distance :math:`d_t` follows a radial trajectory: start at ``start_distance_m`` and move at
    ``speed_mps`` (away from the transmitter if ``moving_away``), bouncing between
    ``min_distance_m`` and ``max_distance_m``; or an explicit per-frame ``distances_m`` list,
    looped. :math:`h_t` comes from the small-scale model ``small_scale`` (any registered model
    whose state defines ``gain``; its own SNR parameters are ignored, only :math:`h_t` is used)
    or is 1 if ``small_scale`` is ``None``. The wrapped model gets this model's ``frame_s`` (and
    ``speed_mps``, unless ``small_scale_params`` set it or a ``doppler_hz``) so that its time
    correlation runs on the same frame clock. The state's ``gain`` is
    :math:`\\sqrt{10^{(\\mathrm{SNR}_t^{\\mathrm{dB}}-\\mathrm{SNR}_{d_0}^{\\mathrm{dB}})/10}}\\,e^{j\\angle h_t}`,
    i.e. path loss and shadowing attenuate the signal at a fixed noise level
    :math:`N_0 = 1/\\mathrm{SNR}_{d_0}`.

    Args:
        snr_at_ref_db: median SNR at the reference distance (transmit power, antenna gains and
            noise folded in), dB.
        ref_distance_m: reference distance :math:`d_0` (m), > 0.
        pathloss_exponent: :math:`n` (>= 0; 2 in free space, 2.7–3.5 urban, 3–5 shadowed urban).
        shadowing_std_db: :math:`\\sigma_S` in dB (>= 0; typically 4–10).
        decorrelation_m: :math:`d_{\\mathrm{corr}}` (m), > 0 (Gudmundson: ~20 m urban, ~500 m suburban).
        speed_mps: terminal speed :math:`v` (m/s), >= 0; also sets the shadowing correlation.
        frame_s: frame duration :math:`T_f` (s), > 0.
        start_distance_m: distance at frame 0 (m), within [min_distance_m, max_distance_m].
        min_distance_m: closest distance of the trajectory (m), > 0.
        max_distance_m: farthest distance of the trajectory (m).
        moving_away: initial direction of the radial motion.
        distances_m: explicit trajectory, one distance (m, > 0) per frame, looped; replaces the
            ping-pong motion (the shadowing still decorrelates over ``speed_mps * frame_s`` per frame).
        small_scale: registered small-scale fading model name, or ``None``.
        small_scale_params: parameters for ``small_scale``.
    """

    def __init__(
        self,
        snr_at_ref_db: float = 20.0,
        ref_distance_m: float = 100.0,
        pathloss_exponent: float = 3.5,
        shadowing_std_db: float = 6.0,
        decorrelation_m: float = 50.0,
        speed_mps: float = 1.5,
        frame_s: float = 0.01,
        start_distance_m: float = 100.0,
        min_distance_m: float = 20.0,
        max_distance_m: float = 500.0,
        moving_away: bool = True,
        distances_m: Sequence[float] | None = None,
        small_scale: str | None = "rayleigh-block",
        small_scale_params: dict[str, Any] | None = None,
    ) -> None:
        self.snr_at_ref_db = check.finite("snr_at_ref_db", snr_at_ref_db)
        self.ref_distance_m = check.positive("ref_distance_m", ref_distance_m)
        self.pathloss_exponent = check.non_negative("pathloss_exponent", pathloss_exponent)
        self.shadowing_std_db = check.non_negative("shadowing_std_db", shadowing_std_db)
        self.decorrelation_m = check.positive("decorrelation_m", decorrelation_m)
        self.speed_mps = check.non_negative("speed_mps", speed_mps)
        self.frame_s = check.positive("frame_s", frame_s)
        self.min_distance_m = check.positive("min_distance_m", min_distance_m)
        self.max_distance_m = check.positive("max_distance_m", max_distance_m)
        if self.max_distance_m < self.min_distance_m:
            raise ChannelParameterError(
                f"max_distance_m: must be >= min_distance_m ({min_distance_m}), got {max_distance_m!r}"
            )
        self.start_distance_m = check.positive("start_distance_m", start_distance_m)
        if not self.min_distance_m <= self.start_distance_m <= self.max_distance_m:
            raise ChannelParameterError(
                f"start_distance_m: must lie in [min_distance_m, max_distance_m] = "
                f"[{min_distance_m}, {max_distance_m}], got {start_distance_m!r}"
            )
        if not isinstance(moving_away, bool | np.bool_):  # bool("false") would be True
            raise ChannelParameterError(f"moving_away: must be true or false, got {moving_away!r}")
        self.moving_away = bool(moving_away)
        if distances_m is not None:
            if isinstance(distances_m, str | bytes | Mapping) or not isinstance(
                distances_m, Iterable
            ):
                raise ChannelParameterError(
                    f"distances_m: expected a list of distances in metres (numbers > 0, one per "
                    f"frame), got {_short(distances_m)}"
                )
            values = [check.positive(f"distances_m[{i}]", d) for i, d in enumerate(distances_m)]
            if not values:
                raise ChannelParameterError("distances_m: must not be empty")
            self.distances_m: list[float] | None = values
        else:
            self.distances_m = None
        if small_scale is not None and not isinstance(small_scale, str):
            raise ChannelParameterError(
                f"small_scale: expected the name of a small-scale fading model (e.g. "
                f"'rayleigh-block', 'rician-block', 'doppler-fading') or null, got "
                f"{_short(small_scale)}"
            )
        if small_scale_params is not None and not isinstance(small_scale_params, Mapping):
            raise ChannelParameterError(
                f"small_scale_params: expected a mapping of parameter names to values for "
                f"small_scale {small_scale!r}{_allowed(small_scale)}, got {_short(small_scale_params)}"
            )
        self.small_scale = small_scale
        self.small_scale_params = dict(small_scale_params or {})
        self._fading: Channel | None = None
        if small_scale is not None:
            names = _parameter_names(small_scale)
            unknown = [k for k in self.small_scale_params if names is not None and k not in names]
            if unknown:
                raise ChannelParameterError(
                    f"small_scale_params: {_short(unknown[0])} is not a parameter of small_scale "
                    f"{small_scale!r}{_allowed(small_scale)}"
                )
            params = self._time_params(small_scale, self.small_scale_params)
            try:
                self._fading = create_channel(small_scale, **params)
            except KeyError as exc:
                raise ChannelParameterError(f"small_scale: {exc}") from None
            except (TypeError, ValueError) as exc:
                raise ChannelParameterError(f"small_scale_params: {exc}") from None
            if not callable(getattr(self._fading, "gains", None)):
                raise ChannelParameterError(
                    f"small_scale: {small_scale!r} defines no small-scale gain (a `gains(num_frames, "
                    "generator)` method); use a fading model such as 'rayleigh-block', "
                    "'rician-block' or 'doppler-fading'"
                )

    def _time_params(self, small_scale: str, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` plus this model's ``frame_s`` and ``speed_mps`` where the wrapped model takes
        them, so its fading evolves on the same clock and trajectory as the path loss.

        A wrapped ``frame_s`` that differs from the outer one is an error (the frames would
        not line up); ``speed_mps`` is passed unless given explicitly or fixed by ``doppler_hz``.
        """
        try:
            accepted = inspect.signature(get_channel_class(small_scale).__init__).parameters
        except KeyError:
            return params  # create_channel names the valid models
        out = dict(params)
        if "frame_s" in accepted:
            if "frame_s" in out:
                try:
                    inner = check.positive("frame_s", out["frame_s"])
                except ChannelParameterError as exc:
                    raise ChannelParameterError(f"small_scale_params: {exc}") from None
                if inner != self.frame_s:
                    raise ChannelParameterError(
                        f"small_scale_params: frame_s={out['frame_s']!r} differs from this "
                        f"model's frame_s={self.frame_s!r}; leave it out (it is passed on)"
                    )
            out["frame_s"] = self.frame_s
        if "speed_mps" in accepted and "speed_mps" not in out and out.get("doppler_hz") is None:
            out["speed_mps"] = self.speed_mps
        return out

    @property
    def shadowing_correlation(self) -> float:
        """Frame-to-frame shadowing correlation :math:`\\rho_S = e^{-v T_f/d_{corr}}`."""
        return math.exp(-self.speed_mps * self.frame_s / self.decorrelation_m)

    def distances(self, num_frames: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """Trajectory :math:`d_t` in metres, float64 ``[F]`` (deterministic)."""
        if self.distances_m is not None:
            d = torch.tensor(self.distances_m, dtype=torch.float64, device=device)
            return d.repeat(-(-num_frames // d.shape[0]))[:num_frames]
        t = torch.arange(num_frames, dtype=torch.float64, device=device) * self.frame_s
        v = self.speed_mps if self.moving_away else -self.speed_mps
        return ping_pong_distance(
            self.start_distance_m, v, self.min_distance_m, self.max_distance_m, t
        )

    def large_scale_db(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """:math:`-10 n \\log_{10}(d_t/d_0) + S_t` in dB, float64 ``[F]``."""
        d = self.distances(num_frames, generator.device)
        shadow = gauss_markov(
            num_frames, self.shadowing_correlation, self.shadowing_std_db, generator
        )
        return -10.0 * self.pathloss_exponent * torch.log10(d / self.ref_distance_m) + shadow

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        check.generator(generator)
        rel_db = self.large_scale_db(n, generator)
        if self._fading is not None:
            h = self._fading.gains(n, generator).to(torch.complex128)  # type: ignore[attr-defined]
        else:
            h = torch.ones(n, dtype=torch.complex128, device=generator.device)
        gain = h * torch.pow(10.0, rel_db / 20.0)
        snr_db = self.snr_at_ref_db + power_to_db(gain.abs().square().to(torch.float32))
        return LinkState(snr_db=snr_db, gain=gain.to(torch.complex64))
