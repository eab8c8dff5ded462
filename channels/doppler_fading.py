"""Time-correlated Rayleigh/Rician fading with a Clarke/Jakes Doppler spectrum (AR model)."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from channels import _validate as check
from channels.base import SPEED_OF_LIGHT_MPS, Channel, ChannelParameterError, LinkState, power_to_db
from channels.registry import register_channel


@functools.lru_cache(maxsize=32)
def ar_coefficients(
    normalized_doppler: float, order: int, regularization: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """Yule–Walker AR(p) fit to the Clarke autocorrelation :math:`r(k) = J_0(2\\pi \\nu k)`.

    Solves :math:`(R_p + \\epsilon I) a = r_{1..p}` (Levinson), innovation variance
    :math:`\\sigma^2 = r_0 + \\epsilon - a^T r_{1..p}`.

    Returns:
        ``(a [p], sigma2, L [p, p])`` with ``L`` the Cholesky factor of the regularised
        :math:`p\\times p` covariance, used to draw a stationary initial state.
    """
    from scipy.linalg import cholesky, solve_toeplitz, toeplitz
    from scipy.special import j0

    r = j0(2.0 * math.pi * normalized_doppler * np.arange(order + 1))
    r[0] += regularization
    a = solve_toeplitz(r[:order], r[1:])
    sigma2 = float(r[0] - a @ r[1:])
    if not sigma2 > 0:
        raise ChannelParameterError(
            f"regularization: AR({order}) fit is singular for normalized Doppler {normalized_doppler:g}; "
            "increase regularization or lower ar_order"
        )
    chol = cholesky(toeplitz(r[:order]), lower=True)
    return a, sigma2, chol


def clarke_ar_process(
    num: int,
    normalized_doppler: float,
    order: int,
    regularization: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """A stationary complex Gaussian process with autocorrelation :math:`\\approx J_0(2\\pi\\nu k)`.

    The first ``p`` samples are drawn exactly from the regularised covariance, the rest by the
    AR recursion :math:`g_t = \\sum_{i=1}^p a_i g_{t-i} + \\sigma w_t` (``scipy.signal.lfilter``),
    so there is no start-up transient. Unit power (divided by :math:`\\sqrt{1+\\epsilon}`).

    Returns:
        complex64 ``[num]`` on ``generator``'s device.
    """
    from scipy.signal import lfilter, lfiltic

    a, sigma2, chol = ar_coefficients(normalized_doppler, order, regularization)
    w = torch.randn(
        max(num, order), 2, generator=generator, device=generator.device, dtype=torch.float64
    )
    w = (w[:, 0] + 1j * w[:, 1]).cpu().numpy() / math.sqrt(2.0)
    head = chol @ w[:order]
    denominator = np.concatenate([[1.0], -a])
    numerator = [math.sqrt(sigma2)]
    out = head
    if num > order:
        zi = lfiltic(numerator, denominator, head[::-1])
        tail, _ = lfilter(numerator, denominator, w[order:num], zi=zi)
        out = np.concatenate([head, tail])
    g = torch.from_numpy(out[:num] / math.sqrt(1.0 + regularization)).to(torch.complex64)
    return g.to(generator.device)


@register_channel("doppler-fading")
class DopplerFading(Channel):
    """Time-correlated Rayleigh/Rician fading with a Clarke/Jakes Doppler spectrum.

    .. math::
        h_t = \\sqrt{\\tfrac{K}{K+1}}\\,e^{j(2\\pi f_d \\cos\\theta_0\\, t T_f + \\phi_0)}
              + \\sqrt{\\tfrac{1}{K+1}}\\,g_t,\\qquad
        E[g_{t+k} g_t^*] \\approx J_0(2\\pi f_d T_f k),\\qquad \\rho_t = \\bar\\rho |h_t|^2

    with maximum Doppler :math:`f_d = v f_c / c` (or given directly) and frame duration
    :math:`T_f` = ``frame_s``. The diffuse part :math:`g_t` is an AR(p) process fitted to the
    Clarke autocorrelation by Yule–Walker with a small diagonal regularisation
    (Baddour & Beaulieu, "Autoregressive modeling for fading channel simulation", IEEE Trans.
    Wireless Commun. 4(4), 2005; Clarke, Bell Syst. Tech. J., 1968). It matches
    :math:`J_0` exactly at lags :math:`0..p` up to the regularisation, and approximately beyond.
    :math:`K = 0` gives Rayleigh; :math:`\\phi_0 \\sim U[0, 2\\pi)` per realisation.

    Args:
        mean_snr_db: average SNR :math:`\\bar\\rho` in dB.
        k_factor: Rician K-factor (linear, >= 0; 0 = Rayleigh).
        speed_mps: terminal speed :math:`v` (m/s); ignored when ``doppler_hz`` is given.
        carrier_hz: carrier frequency :math:`f_c` (Hz).
        doppler_hz: maximum Doppler frequency :math:`f_d` (Hz); overrides ``speed_mps``.
        frame_s: frame duration :math:`T_f` (s).
        los_angle_rad: angle of arrival :math:`\\theta_0` of the LOS path.
        ar_order: AR model order :math:`p` (>= 1); should cover the lags of interest.
        regularization: diagonal loading :math:`\\epsilon` of the Yule–Walker system (> 0).
    """

    def __init__(
        self,
        mean_snr_db: float = 10.0,
        k_factor: float = 0.0,
        speed_mps: float = 1.0,
        carrier_hz: float = 3.5e9,
        doppler_hz: float | None = None,
        frame_s: float = 0.01,
        los_angle_rad: float = math.pi / 4,
        ar_order: int = 100,
        regularization: float = 1e-6,
    ) -> None:
        self.mean_snr_db = check.finite("mean_snr_db", mean_snr_db)
        self.k_factor = check.non_negative("k_factor", k_factor)
        self.speed_mps = check.non_negative("speed_mps", speed_mps)
        self.carrier_hz = check.positive("carrier_hz", carrier_hz)
        self.doppler_hz = (
            None if doppler_hz is None else check.non_negative("doppler_hz", doppler_hz)
        )
        self.frame_s = check.positive("frame_s", frame_s)
        self.los_angle_rad = check.finite("los_angle_rad", los_angle_rad)
        self.ar_order = check.integer("ar_order", ar_order, minimum=1)
        self.regularization = check.positive("regularization", regularization)

    @property
    def max_doppler_hz(self) -> float:
        """:math:`f_d` in Hz (``doppler_hz`` or :math:`v f_c / c`)."""
        if self.doppler_hz is not None:
            return self.doppler_hz
        return self.speed_mps * self.carrier_hz / SPEED_OF_LIGHT_MPS

    @property
    def normalized_doppler(self) -> float:
        """:math:`\\nu = f_d T_f` (Doppler per frame)."""
        return self.max_doppler_hz * self.frame_s

    def gains(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """complex64 ``[F]`` correlated gains with :math:`E|h|^2 = 1`."""
        g = clarke_ar_process(
            num_frames, self.normalized_doppler, self.ar_order, self.regularization, generator
        )
        if self.k_factor == 0:
            return g
        phi0 = torch.rand((), generator=generator, device=generator.device, dtype=torch.float64) * (
            2 * math.pi
        )
        t = torch.arange(num_frames, device=generator.device, dtype=torch.float64)
        phase = 2 * math.pi * self.normalized_doppler * math.cos(self.los_angle_rad) * t + phi0
        los = torch.polar(
            torch.full_like(phase, math.sqrt(self.k_factor / (self.k_factor + 1))), phase
        )
        return (los + g.to(torch.complex128) * math.sqrt(1.0 / (self.k_factor + 1))).to(
            torch.complex64
        )

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        h = self.gains(n, check.generator(generator))
        return LinkState(snr_db=self.mean_snr_db + power_to_db(h.abs().square()), gain=h)
