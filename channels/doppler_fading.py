"""Time-correlated Rayleigh/Rician fading with a Clarke/Jakes Doppler spectrum (sum of sinusoids)."""

from __future__ import annotations

import math

import torch

from commsldr_channels import _validate as check
from commsldr_channels.base import SPEED_OF_LIGHT_MPS, Channel, LinkState, power_to_db
from commsldr_channels.registry import register_channel


class ClarkeSumOfSinusoids:
    r"""One realisation of a Rayleigh process with Clarke's autocorrelation at *every* lag.

    The sum-of-sinusoids model of Zheng & Xiao ("Simulation models with correct statistical
    properties for Rayleigh fading channels", IEEE Trans. Commun. 51(6), 2003), in the form with
    independent phases on the in-phase and quadrature sums (Xiao, Zheng & Beaulieu, IEEE Trans.
    Wireless Commun. 5(12), 2006):

    .. math::
        g_t = \frac{1}{\sqrt{M}} \sum_{n=1}^{M} \Big[\cos(\omega_d t\cos\alpha_n + \phi_n)
              + j\cos(\omega_d t\sin\alpha_n + \psi_n)\Big],\qquad
        \alpha_n = \frac{2\pi n - \pi + \theta}{4M},

    with :math:`\omega_d = 2\pi\nu` (rad per frame, :math:`\nu = f_d T_f`) and
    :math:`\theta, \phi_n, \psi_n \sim U[-\pi, \pi)` independent. The :math:`\alpha_n`
    tile :math:`[0, \pi/2)` in strata of width :math:`\pi/(2M)` with one uniform point each, so

    .. math::
        E[g_{t+k} g_t^*] = \frac{1}{2M}\sum_n E_\theta[\cos(2\pi\nu k\cos\alpha_n)
        + \cos(2\pi\nu k\sin\alpha_n)] = \frac{2}{\pi}\int_0^{\pi/2}
        \cos(2\pi\nu k\cos\alpha)\,d\alpha = J_0(2\pi\nu k)

    exactly, for every lag :math:`k` and every :math:`M`; :math:`E|g_t|^2 = 1` and the
    in-phase/quadrature cross-correlation is 0. The process is stationary and is evaluated at
    any frame index, so a realisation streams: :meth:`next` continues where the last call ended.
    For :math:`M \gtrsim 16` the envelope is Rayleigh to within plotting accuracy (Zheng & Xiao).

    *One* realisation is right too: its time-averaged autocorrelation tends to
    :math:`\frac{1}{2M}\sum_n[\cos(x\cos\alpha_n) + \cos(x\sin\alpha_n)]`, :math:`x = 2\pi\nu k`.
    By the Jacobi–Anger expansion :math:`\cos(x\cos\alpha) = J_0(x) + 2\sum_{m\ge1}(-1)^m
    J_{2m}(x)\cos 2m\alpha` (and the same without :math:`(-1)^m` for :math:`\sin`), the odd
    :math:`m` cancel between the two sums and the stratified angles cancel every even :math:`m`
    that is not a multiple of :math:`2M`, leaving :math:`J_0(x) + O(J_{4M}(x))`: equal to
    :math:`J_0` to float64 precision while :math:`x < 4M`, i.e. for lags up to about
    :math:`0.6M/\nu` frames.

    Args:
        normalized_doppler: :math:`\nu = f_d T_f` (>= 0).
        num_sinusoids: :math:`M` per quadrature component (>= 1).
        generator: draws :math:`\theta, \phi_n, \psi_n` once, at construction.
    """

    _CHUNK = 1024

    def __init__(
        self, normalized_doppler: float, num_sinusoids: int, generator: torch.Generator
    ) -> None:
        m = int(num_sinusoids)
        u = torch.rand(1 + 2 * m, generator=generator, device=generator.device, dtype=torch.float64)
        angles = (2 * math.pi * u - math.pi).cpu()
        theta, phases = angles[0], angles[1:]
        alpha = (2 * math.pi * torch.arange(1, m + 1, dtype=torch.float64) - math.pi + theta) / (4 * m)
        w = 2 * math.pi * float(normalized_doppler)
        #: angular frequencies (rad/frame) of the in-phase then quadrature sinusoids, [2M]
        self.omega = torch.cat([w * torch.cos(alpha), w * torch.sin(alpha)])
        #: phases :math:`\phi_n` then :math:`\psi_n`, [2M]
        self.phase = phases
        self.num_sinusoids = m
        self.device = generator.device
        self.position = 0

    def sample(self, start: int, num: int) -> torch.Tensor:
        """:math:`g_t` for frames ``start .. start + num - 1``, complex128 ``[num]``.

        Evaluated in chunks of ``C`` frames as :math:`\\mathrm{Re}\\,(E\\,v)` with
        :math:`E_{in} = e^{j\\omega_n i}` (``[C, 2M]``, computed once) and
        :math:`v_n = e^{j(\\omega_n t_0 + \\phi_n)}` per chunk start :math:`t_0`: exact up to
        float64 rounding, one small matrix product per chunk.
        """
        m = self.num_sinusoids
        c = min(int(num), self._CHUNK)
        out = torch.empty(num, dtype=torch.complex128)
        if num == 0:
            return out.to(self.device)
        i = torch.arange(c, dtype=torch.float64)
        e = torch.polar(torch.ones(c, 2 * m, dtype=torch.float64), i[:, None] * self.omega[None, :])
        for a in range(0, num, c):
            b = min(num, a + c)
            t0 = float(start + a)
            v = torch.polar(torch.ones(2 * m, dtype=torch.float64), self.omega * t0 + self.phase)
            ei = e[: b - a]
            re_i = (ei[:, :m] @ v[:m]).real
            re_q = (ei[:, m:] @ v[m:]).real
            out[a:b] = torch.complex(re_i, re_q)
        return (out / math.sqrt(m)).to(self.device)

    def next(self, num: int) -> torch.Tensor:
        """The next ``num`` samples of the realisation (streaming), complex128 ``[num]``."""
        out = self.sample(self.position, num)
        self.position += int(num)
        return out


@register_channel("doppler-fading")
class DopplerFading(Channel):
    """Time-correlated Rayleigh/Rician fading with a Clarke/Jakes Doppler spectrum.

    .. math::
        h_t = \\sqrt{\\tfrac{K}{K+1}}\\,e^{j(2\\pi f_d \\cos\\theta_0\\, t T_f + \\phi_0)}
              + \\sqrt{\\tfrac{1}{K+1}}\\,g_t,\\qquad
        E[g_{t+k} g_t^*] = J_0(2\\pi f_d T_f k),\\qquad \\rho_t = \\bar\\rho |h_t|^2

    with maximum Doppler :math:`f_d = v f_c / c` (or given directly) and frame duration
    :math:`T_f` = ``frame_s``. The diffuse part :math:`g_t` is the sum-of-sinusoids process of
    :class:`ClarkeSumOfSinusoids` (Zheng & Xiao 2003), whose autocorrelation is exactly
    :math:`J_0(2\\pi f_d T_f k)` at every lag :math:`k` (Clarke, Bell Syst. Tech. J., 1968).
    Each :meth:`states` call is a new realisation (new angles and phases); :meth:`stream` gives
    one realisation in consecutive pieces. :math:`K = 0` gives Rayleigh;
    :math:`\\phi_0 \\sim U[0, 2\\pi)` per realisation.

    Args:
        mean_snr_db: average SNR :math:`\\bar\\rho` in dB.
        k_factor: Rician K-factor (linear, >= 0; 0 = Rayleigh).
        speed_mps: terminal speed :math:`v` (m/s); ignored when ``doppler_hz`` is given.
        carrier_hz: carrier frequency :math:`f_c` (Hz).
        doppler_hz: maximum Doppler frequency :math:`f_d` (Hz); overrides ``speed_mps``.
        frame_s: frame duration :math:`T_f` (s).
        los_angle_rad: angle of arrival :math:`\\theta_0` of the LOS path.
        num_sinusoids: sinusoids :math:`M` per quadrature component (>= 1); the ensemble
            autocorrelation is exact for any :math:`M`, one realisation's up to lags of about
            :math:`0.6M/\\nu` frames, and the amplitude approaches Rayleigh as :math:`M` grows.
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
        num_sinusoids: int = 64,
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
        self.num_sinusoids = check.integer("num_sinusoids", num_sinusoids, minimum=1)

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

    def stream(self, generator: torch.Generator) -> DopplerStream:
        """One realisation drawn from ``generator``, handed out in consecutive pieces."""
        return DopplerStream(self, check.generator(generator))

    def gains(self, num_frames: int, generator: torch.Generator) -> torch.Tensor:
        """complex64 ``[F]`` correlated gains with :math:`E|h|^2 = 1` (a new realisation)."""
        return self.stream(generator).next(num_frames)

    def states(self, num_frames: int, *, generator: torch.Generator) -> LinkState:
        n = check.num_frames(num_frames)
        h = self.gains(n, check.generator(generator))
        return LinkState(snr_db=self.mean_snr_db + power_to_db(h.abs().square()), gain=h)


class DopplerStream:
    """One realisation of :class:`DopplerFading`, streamed: each :meth:`next` continues it.

    ``DopplerFading.gains(a + b, g)`` equals ``stream(g).next(a)`` followed by ``.next(b)``.
    """

    def __init__(self, channel: DopplerFading, generator: torch.Generator) -> None:
        self.channel = channel
        self._diffuse = ClarkeSumOfSinusoids(
            channel.normalized_doppler, channel.num_sinusoids, generator
        )
        self._phi0 = 0.0
        if channel.k_factor > 0:
            self._phi0 = float(
                torch.rand((), generator=generator, device=generator.device, dtype=torch.float64)
            ) * (2 * math.pi)

    def next(self, num_frames: int) -> torch.Tensor:
        """complex64 ``[num_frames]``: the next frames' gains :math:`h_t`."""
        ch = self.channel
        start = self._diffuse.position
        g = self._diffuse.next(int(num_frames))
        if ch.k_factor == 0:
            return g.to(torch.complex64)
        t = torch.arange(start, start + int(num_frames), dtype=torch.float64, device=g.device)
        phase = 2 * math.pi * ch.normalized_doppler * math.cos(ch.los_angle_rad) * t + self._phi0
        los = torch.polar(torch.full_like(phase, math.sqrt(ch.k_factor / (ch.k_factor + 1))), phase)
        return (los + g * math.sqrt(1.0 / (ch.k_factor + 1))).to(torch.complex64)
