"""The settings of one cell: topology, carrier, receiver, power control, scheduler, link adaptation.

:class:`CellConfig` is validated at construction; every bad value raises one
:class:`CellConfigError` (a :class:`~commsldr.errors.UserError`) that names the key and says what
is allowed, so ``commsldr run`` prints one or two lines, never a traceback.

The carrier: ``num_prb`` physical resource blocks (PRB) of 12 subcarriers at
``subcarrier_spacing_hz``; a slot lasts :math:`T_{slot} = 1\\,\\mathrm{ms}\\cdot 15\\,\\mathrm{kHz}/\\Delta f`
(TS 38.211 Sec. 4.3.2) and carries ``num_data_symbols`` data OFDM symbols, so a PRB-slot holds
``12 * num_data_symbols`` resource elements. The largest number of PRBs a carrier has is the
transmission bandwidth configuration :math:`N_{RB}` of TS 38.101-1 Table 5.3.2-1 where the
(bandwidth, spacing) pair is listed, otherwise :math:`\\lfloor B / (12\\,\\Delta f)\\rfloor`.
A carrier is bounded by what NR allows: at most :data:`MAX_NR_PRBS` = 275 PRBs (the largest
transmission bandwidth configuration, TS 38.101-1 / 38.104, Sec. 5.3.2) and at most
:data:`MAX_FR1_BANDWIDTH_HZ` = 100 MHz (the widest FR1 channel, TS 38.101-1 Table 5.3.5-1; the
carrier frequency and spacings are FR1's), so one slot's arrays stay small (``bandwidth_hz: 1e12``
at 30 kHz would be 2,777,777 PRBs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from commsldr.cell.errors import CellConfigError
from commsldr.cell.schedulers import check_scheduler
from commsldr.errors import did_you_mean, show

__all__ = ["CellConfig", "CellConfigError", "max_prbs", "MAX_NR_PRBS", "MAX_FR1_BANDWIDTH_HZ",
           "MAX_ISD_M", "SCENARIOS", "RECEIVERS", "FADING_PROFILES"]

SCENARIOS = ("umi", "uma", "rma")
RECEIVERS = ("mrc", "lmmse")
FADING_PROFILES = ("flat", "A", "B", "C")
LINK_ADAPTATIONS = ("illa", "olla")
#: most PRBs an NR carrier has (largest N_RB of TS 38.101-1 / 38.104 Sec. 5.3.2)
MAX_NR_PRBS = 275
#: widest FR1 channel bandwidth (TS 38.101-1 Table 5.3.5-1)
MAX_FR1_BANDWIDTH_HZ = 100e6
#: largest inter-site distance, m: 100 km (an NR cell's range is some tens of km; rma's ISD is
#: 1732 m), so the drop's geometry and path losses stay physical
MAX_ISD_M = 100e3

#: TS 38.101-1 Table 5.3.2-1, FR1: N_RB per (subcarrier spacing kHz, channel bandwidth MHz)
_NRB_FR1: dict[int, dict[int, int]] = {
    15: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 40: 216, 50: 270},
    30: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 40: 106, 50: 133, 60: 162, 70: 189,
         80: 217, 90: 245, 100: 273},
    60: {10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 40: 51, 50: 65, 60: 79, 70: 93, 80: 107,
         90: 121, 100: 135},
}


def max_prbs(bandwidth_hz: float, subcarrier_spacing_hz: float) -> int:
    """PRBs a carrier of ``bandwidth_hz`` has at ``subcarrier_spacing_hz``.

    TS 38.101-1 Table 5.3.2-1 where the pair is listed (e.g. 20 MHz at 30 kHz: 51), otherwise
    :math:`\\lfloor B / (12\\,\\Delta f)\\rfloor` (no guard band).
    """
    scs_khz = subcarrier_spacing_hz / 1e3
    bw_mhz = bandwidth_hz / 1e6
    table = _NRB_FR1.get(int(round(scs_khz)))
    if table is not None and math.isclose(scs_khz, round(scs_khz)) and math.isclose(
            bw_mhz, round(bw_mhz)) and int(round(bw_mhz)) in table:
        return table[int(round(bw_mhz))]
    return int(math.floor(bandwidth_hz / (12.0 * subcarrier_spacing_hz)))


def _number(key: str, value: Any, *, low: float | None = None, high: float | None = None,
            low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CellConfigError(key, f"must be a finite number, got {show(value)}")
    if low is not None and (value <= low if low_open else value < low):
        raise CellConfigError(key, f"must be {'>' if low_open else '>='} {low}, got {show(value)}")
    if high is not None and value > high:
        raise CellConfigError(key, f"must be <= {high}, got {show(value)}")
    return float(value)


def _integer(key: str, value: Any, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CellConfigError(key, f"must be an integer, got {show(value)}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise CellConfigError(key, f"must be an integer {allowed}, got {value}")
    return int(value)


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CellConfigError(key, f"must be one of {list(allowed)}, got {show(value)}"
                              f"{did_you_mean(value, allowed)}")
    return str(value)


@dataclass(frozen=True)
class CellConfig:
    """One cell of sensors on an OFDMA uplink (every field validated at construction).

    Args:
        num_sensors: sensors N in the cell (>= 1).
        scenario: 3GPP TR 38.901 deployment: ``umi`` (street canyon, ISD 200 m, BS 10 m),
            ``uma`` (ISD 500 m, BS 25 m), ``rma`` (ISD 1732 m, BS 35 m).
        num_rings: rings of neighbouring cells around the cell (0: one isolated cell; 1: six
            neighbours whose sensors interfere on the same PRBs).
        isd_m: inter-site distance in m, in ``[20, 100e3]`` (``None``: the scenario's).
        carrier_frequency_hz: carrier frequency in Hz.
        bandwidth_hz: channel bandwidth in Hz (> 0; at most 100 MHz and 275 PRBs at
            ``subcarrier_spacing_hz``: NR FR1).
        subcarrier_spacing_hz: 15, 30 or 60 kHz numerology, in Hz.
        num_prb: PRBs scheduled (``None``: all the carrier has, :func:`max_prbs`).
        num_data_symbols: data OFDM symbols per slot (1..14; 12 = 14 minus 2 DMRS).
        slots_per_frame: slots per image frame; the PRBs a sensor gets in the slots of a frame form
            one transport block (TB over multiple slots), and each sensor has one image per frame,
            due at the frame's end.
        num_frames: image frames simulated.
        num_rx_antennas: receive antennas M at the base station (>= 1).
        receiver: ``mrc`` (maximum-ratio combining) or ``lmmse`` (interference-rejection
            combining with the interferers' covariance).
        fading: small-scale profile: ``flat`` (one Rayleigh coefficient per slot for the whole
            band) or 3GPP TDL ``A``/``B``/``C`` (TR 38.901 Table 7.7.2, Sionna's tables) at
            ``delay_spread_s``.
        delay_spread_s: RMS delay spread of the TDL profile in s.
        min_speed_mps: lowest sensor speed; speeds are uniform in ``[min, max]`` (Doppler
            :math:`f_D = v f_c / c`).
        max_speed_mps: highest sensor speed.
        p0_dbm: open-loop uplink power control (TS 38.213 Sec. 7.1.1): target received power
            per PRB, dBm.
        alpha: its path-loss compensation factor, in [0, 1].
        max_power_dbm: sensor maximum transmit power.
        noise_figure_db: base-station noise figure.
        shadowing: log-normal shadowing with the scenario's standard deviation.
        neighbour_sensors_per_slot: sensors of each neighbouring cell sharing its band in a slot
            (each transmits on ``num_prb / this`` contiguous PRBs; full load; at most one per PRB).
        scheduler: scheduler name (``commsldr list schedulers``).
        scheduler_params: its parameters.
        link_adaptation: ``illa`` or ``olla`` per sensor.
        bler_target: TB error rate link adaptation aims at, in (0, 1).
        olla_delta_up_db: OLLA step on a NACK, dB.
        mcs_table_index: PUSCH MCS table (1 or 2, with transform precoding).
    """

    num_sensors: int = 16
    scenario: str = "umi"
    num_rings: int = 1
    isd_m: float | None = None
    carrier_frequency_hz: float = 3.5e9
    bandwidth_hz: float = 20e6
    subcarrier_spacing_hz: float = 30e3
    num_prb: int | None = None
    num_data_symbols: int = 12
    slots_per_frame: int = 10
    num_frames: int = 200
    num_rx_antennas: int = 2
    receiver: str = "mrc"
    fading: str = "A"
    delay_spread_s: float = 100e-9
    min_speed_mps: float = 0.0
    max_speed_mps: float = 3.0
    p0_dbm: float = -90.0
    alpha: float = 0.8
    max_power_dbm: float = 23.0
    noise_figure_db: float = 5.0
    shadowing: bool = True
    neighbour_sensors_per_slot: int = 4
    scheduler: str = "proportional-fair"
    scheduler_params: dict[str, Any] = field(default_factory=dict)
    link_adaptation: str = "illa"
    bler_target: float = 0.1
    olla_delta_up_db: float = 1.0
    mcs_table_index: int = 1

    def __post_init__(self) -> None:
        _integer("num_sensors", self.num_sensors, low=1, high=4096)
        _choice("scenario", self.scenario, SCENARIOS)
        _integer("num_rings", self.num_rings, low=0, high=1)
        if self.isd_m is not None:
            _number("isd_m", self.isd_m, low=20.0, high=MAX_ISD_M)
        _number("carrier_frequency_hz", self.carrier_frequency_hz, low=0.5e9, high=7.125e9)
        bw = _number("bandwidth_hz", self.bandwidth_hz, low=0.0, low_open=True)
        scs = _number("subcarrier_spacing_hz", self.subcarrier_spacing_hz, low=0.0, low_open=True)
        if scs not in (15e3, 30e3, 60e3):
            raise CellConfigError("subcarrier_spacing_hz",
                                  f"must be 15000, 30000 or 60000 (FR1), got {show(scs)}")
        have = max_prbs(bw, scs)
        if have > MAX_NR_PRBS or bw > MAX_FR1_BANDWIDTH_HZ:
            raise CellConfigError("bandwidth_hz", f"{bw:g} Hz at {scs / 1e3:g} kHz is {have} PRBs; "
                                  f"an NR carrier has at most {MAX_NR_PRBS} PRBs and "
                                  f"{MAX_FR1_BANDWIDTH_HZ / 1e6:g} MHz (FR1; TS 38.101-1 / "
                                  f"38.104), e.g. 100 MHz at 30 kHz (273 PRBs) or 50 MHz at "
                                  f"15 kHz (270)")
        if have < 1:
            raise CellConfigError("bandwidth_hz", f"{show(bw)} Hz holds no PRB of "
                                  f"{12 * scs:g} Hz at this subcarrier spacing")
        if self.num_prb is not None:
            n = _integer("num_prb", self.num_prb, low=1)
            if n > have:
                raise CellConfigError("num_prb", f"{n} PRBs do not fit: a {bw / 1e6:g} MHz "
                                      f"carrier at {scs / 1e3:g} kHz has {have}")
        _integer("num_data_symbols", self.num_data_symbols, low=1, high=14)
        _integer("slots_per_frame", self.slots_per_frame, low=1, high=1000)
        _integer("num_frames", self.num_frames, low=1, high=10_000_000)
        _integer("num_rx_antennas", self.num_rx_antennas, low=1, high=64)
        _choice("receiver", self.receiver, RECEIVERS)
        _choice("fading", self.fading, FADING_PROFILES)
        _number("delay_spread_s", self.delay_spread_s, low=0.0, high=10e-6)
        lo = _number("min_speed_mps", self.min_speed_mps, low=0.0, high=150.0)
        hi = _number("max_speed_mps", self.max_speed_mps, low=0.0, high=150.0)
        if hi < lo:
            raise CellConfigError("max_speed_mps", f"must be >= min_speed_mps ({lo}), got {hi}")
        _number("p0_dbm", self.p0_dbm, low=-200.0, high=30.0)
        _number("alpha", self.alpha, low=0.0, high=1.0)
        _number("max_power_dbm", self.max_power_dbm, low=-40.0, high=40.0)
        _number("noise_figure_db", self.noise_figure_db, low=0.0, high=30.0)
        if not isinstance(self.shadowing, bool):
            raise CellConfigError("shadowing", f"must be true or false, got {show(self.shadowing)}")
        _integer("neighbour_sensors_per_slot", self.neighbour_sensors_per_slot, low=1, high=1024)
        if not isinstance(self.scheduler, str):
            raise CellConfigError("scheduler", f"must be a scheduler name, got {show(self.scheduler)}")
        if not isinstance(self.scheduler_params, dict):
            raise CellConfigError("scheduler_params",
                                  f"must be a mapping, got {show(self.scheduler_params)}")
        _choice("link_adaptation", self.link_adaptation, LINK_ADAPTATIONS)
        t = _number("bler_target", self.bler_target)
        if not 0.0 < t < 1.0:
            raise CellConfigError("bler_target", f"must be in (0, 1), got {t}")
        _number("olla_delta_up_db", self.olla_delta_up_db, low=0.0, low_open=True, high=10.0)
        _integer("mcs_table_index", self.mcs_table_index, low=1, high=2)
        # the scheduler name last, so that a typo there is reported with the valid names
        check_scheduler(self.scheduler, self.scheduler_params)

    # ----------------------------------------------------------------- derived quantities
    @property
    def prbs(self) -> int:
        """PRBs scheduled per slot."""
        return self.num_prb if self.num_prb is not None else max_prbs(self.bandwidth_hz,
                                                                      self.subcarrier_spacing_hz)

    @property
    def slot_s(self) -> float:
        """Slot duration in s (TS 38.211 Sec. 4.3.2)."""
        return 1e-3 * 15e3 / self.subcarrier_spacing_hz

    @property
    def frame_s(self) -> float:
        """Image frame duration (the deadline of each image) in s."""
        return self.slot_s * self.slots_per_frame

    @property
    def num_slots(self) -> int:
        """Slots simulated."""
        return self.num_frames * self.slots_per_frame

    @property
    def re_per_prb(self) -> int:
        """Resource elements of one PRB in one slot (12 subcarriers x data symbols)."""
        return 12 * self.num_data_symbols

    @property
    def prb_bandwidth_hz(self) -> float:
        """Bandwidth of one PRB in Hz."""
        return 12.0 * self.subcarrier_spacing_hz

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, prefix: str = "") -> CellConfig:
        """Build from a mapping; an unknown key is one :class:`CellConfigError` naming it."""
        if not isinstance(values, dict):
            raise CellConfigError(prefix.rstrip(".") or "cell", f"must be a mapping, got {show(values)}")
        names = [f.name for f in fields(cls)]
        for key in values:
            if key not in names:
                raise CellConfigError(f"{prefix}{key}", "unknown cell key; valid: "
                                      f"{', '.join(names)}{did_you_mean(key, names)}")
        try:
            return cls(**values)
        except CellConfigError as err:
            if prefix and err.key:
                raise CellConfigError(f"{prefix}{err.key}", err.message) from None
            raise
