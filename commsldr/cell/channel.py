r"""Per-slot, per-PRB uplink SINR of every sensor: fading over slots, interference, combining.

Small-scale fading of sensor :math:`s` on receive antenna :math:`m`, PRB :math:`p`, slot
:math:`t` is a tapped delay line with the power-delay profile of 3GPP TR 38.901 TDL-A/B/C (Sionna's
tables, delays scaled by the RMS delay spread) or one flat tap:

.. math::
    \hat h_{s,t,p,m} = \sum_l \sqrt{\Omega_l}\, a_{s,t,l,m}\, e^{-j 2\pi f_p \tau_l},\qquad
    a_{s,t,l,m} = \rho_s a_{s,t-1,l,m} + \sqrt{1-\rho_s^2}\, w,\quad
    \rho_s = J_0(2\pi f_{D,s} T_{slot})

with :math:`w \sim \mathcal{CN}(0,1)`, :math:`\sum_l \Omega_l = 1` and :math:`f_p` the PRB centre.
Each tap is a first-order Gauss-Markov process whose one-slot correlation is Clarke's
:math:`J_0(2\pi f_D T)` (Baddour and Beaulieu, "Autoregressive modeling for fading channel
simulation", IEEE Trans. Wireless Commun. 4(4), 2005), so taps, antennas and sensors are
independent, unit-power Rayleigh.

Interference: in every slot each neighbouring cell serves ``K`` sensors of its pool (drawn
uniformly) on ``K`` contiguous PRB blocks, each at its own open-loop power
(:func:`~commsldr.cell.power.uplink_power_w`), with independent Rayleigh fading per PRB and
antenna. With :math:`\mathbf h_s = \hat{\mathbf h}_s` (per unit transmit power and gain),
interferer vectors :math:`\mathbf g_c` (their power and path gain included) and noise power
:math:`N_0` per PRB, the post-combining SINR per watt of per-PRB transmit power is

.. math::
    \text{MRC:}\quad G = \beta_s \frac{\|\mathbf h\|^4}{\sum_c |\mathbf h^H \mathbf g_c|^2
        + N_0 \|\mathbf h\|^2},\qquad
    \text{LMMSE:}\quad G = \beta_s\, \mathbf h^H \Big(\sum_c \mathbf g_c \mathbf g_c^H
        + N_0 \mathbf I\Big)^{-1} \mathbf h

(:math:`\beta_s` the sensor's path gain); the SINR is :math:`P_{s} G` for transmit power
:math:`P_s` per PRB. Without interference MRC and LMMSE coincide, and the mean SNR grows by
the array gain :math:`M`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

import numpy as np
import torch
from scipy.special import j0

from commsldr.cell.config import CellConfig
from commsldr.cell.power import uplink_power_w
from commsldr.cell.topology import SPEED_OF_LIGHT, Topology

__all__ = ["power_delay_profile", "noise_power_w", "ChannelStream"]

#: complex elements (sensors x slots x antennas x PRBs x taps) per chunk of slots: bounds memory
_CHUNK_ELEMENTS = 32_000_000


@lru_cache(maxsize=8)
def power_delay_profile(profile: str, delay_spread_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``(delays_s [L], powers [L])`` (powers sum to 1) of a TR 38.901 TDL profile, read from
    Sionna's model files (``sionna/phy/channel/tr38901/models/v19_2/TDL-*.json``); ``flat`` is
    one tap at delay 0."""
    if profile == "flat":
        return np.zeros(1), np.ones(1)
    src = resources.files("sionna.phy.channel.tr38901").joinpath(f"models/v19_2/TDL-{profile}.json")
    spec = json.loads(src.read_text())
    delays = np.asarray(spec["delays"], dtype=np.float64)
    if spec.get("scale_delays", True):
        delays = delays * delay_spread_s
    powers = 10.0 ** (np.asarray(spec["powers"], dtype=np.float64) / 10.0)
    return delays, powers / powers.sum()


def noise_power_w(config: CellConfig) -> float:
    """Thermal noise power per PRB at the base station, :math:`k T_0 B_{PRB} F` in W
    (-174 dBm/Hz at 290 K)."""
    return 10.0 ** ((-174.0 + 10.0 * np.log10(config.prb_bandwidth_hz) + config.noise_figure_db
                     - 30.0) / 10.0)


def _cn(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """Unit-power circularly symmetric complex Gaussian, complex64."""
    x = torch.randn((*shape, 2), generator=gen, dtype=torch.float32) * np.float32(np.sqrt(0.5))
    return torch.view_as_complex(x)


def _quadratic(h: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """:math:`\\mathbf h^H \\mathbf A \\mathbf h` float32 ``[N, t, P]`` for ``h`` complex
    ``[N, t, M, P]`` and Hermitian ``a`` ``[t, P, M, M]``: a sum over the ``M(M+1)/2`` antenna
    pairs, each an element-wise product over sensors, slots and PRBs (no copies of ``h``)."""
    m = h.shape[2]
    out = torch.zeros(h.shape[0], h.shape[1], h.shape[3], dtype=torch.float32)
    for i in range(m):
        hi = h[:, :, i, :]
        out += a[..., i, i].real * (hi.real.square() + hi.imag.square())
        for k in range(i + 1, m):
            out += 2.0 * (hi.conj() * a[..., i, k] * h[:, :, k, :]).real
    return out


class ChannelStream:
    """Generates the per-watt SINR :math:`G` ``[N, T, P]`` chunk by chunk (module docstring).

    Args:
        config: the cell.
        topology: the drop.
        generator: the ``torch.Generator`` of every fading and interference draw.
    """

    def __init__(self, config: CellConfig, topology: Topology, generator: torch.Generator) -> None:
        self.config = config
        self.gen = generator
        n, m, p = config.num_sensors, config.num_rx_antennas, config.prbs
        delays, powers = power_delay_profile(config.fading, float(config.delay_spread_s))
        f = (np.arange(p) - (p - 1) / 2.0) * config.prb_bandwidth_hz
        #: [L, P] tap-to-PRB phase rotations, scaled by sqrt(tap power)
        self.steer = torch.from_numpy(
            np.sqrt(powers)[:, None] * np.exp(-2j * np.pi * delays[:, None] * f[None, :])
        ).to(torch.complex64)
        fd = topology.sensor_speed_mps * config.carrier_frequency_hz / SPEED_OF_LIGHT
        rho = j0(2.0 * np.pi * fd * config.slot_s)  # [N]
        self.rho = torch.as_tensor(rho, dtype=torch.float32)[:, None, None]
        self.innov = torch.as_tensor(np.sqrt(np.maximum(1.0 - rho**2, 0.0)),
                                     dtype=torch.float32)[:, None, None]
        self.gain = 10.0 ** (-topology.sensor_pathloss_db / 10.0)  # [N], float64
        self.noise_w = noise_power_w(config)
        self.taps = _cn(generator, (n, m, len(powers)))  # stationary start
        # interferers: per neighbour cell, pool gains and open-loop power per PRB
        c, k = topology.interferer_gain_db.shape[0], min(config.neighbour_sensors_per_slot, p)
        self.num_neighbours = c
        self.block = np.minimum(np.arange(p) * k // p, k - 1)  # PRB -> interferer block
        if c:
            prbs_each = np.bincount(self.block, minlength=k)  # [K]
            pool = topology.interferer_gain_db.shape[1]
            own = torch.as_tensor(10.0 ** (topology.interferer_own_pathloss_db / 10.0))
            # total power for each (pool sensor, block size); per PRB = total / PRBs
            power = np.stack([
                uplink_power_w(own, torch.full(own.shape, int(b)), config).numpy() / b
                for b in prbs_each], axis=-1)  # [C, U, K]
            #: [C, U, K] received power per PRB at the serving BS, normalised by the noise
            self.interferer_rx = power * 10.0 ** (topology.interferer_gain_db[..., None] / 10.0) \
                / self.noise_w
            self.pool = pool
        per_slot = n * p * m * (len(powers) + 2)
        self.chunk_slots = max(1, _CHUNK_ELEMENTS // per_slot)

    def _serving(self, t: int) -> torch.Tensor:
        """Per-antenna responses complex64 ``[N, t, M, P]`` of the next ``t`` slots (advances
        the taps)."""
        n, m, taps = self.taps.shape
        a = torch.empty((n, t, m, taps), dtype=torch.complex64)
        w = _cn(self.gen, (t, n, m, taps))
        x = self.taps
        for i in range(t):  # one vector update per slot, all sensors, taps and antennas at once
            x = self.rho * x + self.innov * w[i]
            a[:, i] = x
        self.taps = x
        return a @ self.steer  # [N, t, M, P]

    def _interference(self, t: int) -> torch.Tensor:
        """Interferer vectors complex64 ``[t, P, M, C]`` (power and path gain included, in units
        of the noise amplitude)."""
        c, p, m = self.num_neighbours, self.config.prbs, self.config.num_rx_antennas
        k = self.interferer_rx.shape[2]
        who = torch.randint(self.pool, (t, c, k), generator=self.gen).numpy()
        rx = self.interferer_rx[np.arange(c)[None, :, None], who, np.arange(k)[None, None, :]]
        amp = torch.from_numpy(np.sqrt(rx[:, :, self.block]).transpose(0, 2, 1).astype(np.float32))
        return amp[:, :, None, :] * _cn(self.gen, (t, p, m, c))  # [t, P, M, C]

    def next(self, t: int) -> np.ndarray:
        """Per-watt SINR :math:`G` float64 ``[N, t, P]`` of the next ``t`` slots."""
        h = self._serving(t)  # [N, t, M, P]
        hh = h.real.square() + h.imag.square()
        hh = hh.sum(dim=2)  # [N, t, P]
        scale = (self.gain / self.noise_w)[:, None, None]
        if not self.num_neighbours:
            return scale * hh.numpy().astype(np.float64)
        g = self._interference(t)  # [t, P, M, C]
        cov = g @ g.conj().transpose(-1, -2)  # [t, P, M, M], interference only, noise-normalised
        if self.config.receiver == "mrc" or self.config.num_rx_antennas == 1:
            # sum_c |h^H g_c|^2 = h^H (sum_c g_c g_c^H) h: one M x M matrix per PRB-slot
            out = hh.square() / (_quadratic(h, cov) + hh)
            return scale * out.numpy().astype(np.float64)
        eye = torch.eye(self.config.num_rx_antennas, dtype=torch.complex64)
        q = _quadratic(h, torch.linalg.inv(cov + eye))  # h^H (R + I)^-1 h
        return scale * q.numpy().astype(np.float64)

    def chunks(self, num_slots: int) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first_slot, G [N, t, P])`` covering ``num_slots`` slots."""
        start = 0
        while start < num_slots:
            t = min(self.chunk_slots, num_slots - start)
            yield start, self.next(t)
            start += t
