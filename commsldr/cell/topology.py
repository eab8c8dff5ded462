"""Where the sensors are: a 3GPP hexagonal drop (Sionna) and TR 38.901 path loss with shadowing.

The drop is Sionna's :func:`sionna.sys.gen_hexgrid_topology` (TR 38.901 Tables 7.2-1/7.2-3 for
UMi / UMa / RMa: inter-site distance, heights, minimum distance, uniform drop per sector). Cell 0
is *the* cell: its base station, at the cell centre, serves the ``N`` sensors dropped in its three
sectors (one receiver for the whole cell); the sensors dropped in the cells of the first ring form
the interferer pools of the six neighbouring cells (``num_rings = 1``; with ``num_rings = 0`` they
are dropped but left silent, Sionna's grid has at least one ring).

The path loss is TR 38.901 Table 7.4.1-1 (LoS / NLoS; the LoS state is drawn with the LoS
probability of Table 7.4.2-1), outdoor sensors at 1.5 m, plus log-normal shadowing with the
standard deviation of the same table (:func:`pathloss_db`). Sionna implements the same
equations inside its TR 38.901 channel-model scenarios, which need antenna arrays and the full
large-scale-parameter generation; the closed forms are written here so that the path loss of
thousands of sensors costs microseconds.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from commsldr.cell.config import CellConfig
from commsldr.link.sionna_guard import sionna_phy

__all__ = ["Topology", "drop", "pathloss_db", "los_probability", "SCENARIO_DEFAULTS"]

SPEED_OF_LIGHT = 299_792_458.0

#: per scenario: inter-site distance (m), BS height (m), shadowing std LoS / NLoS (dB)
SCENARIO_DEFAULTS: dict[str, dict[str, float]] = {
    "umi": {"isd_m": 200.0, "bs_height_m": 10.0, "sf_los_db": 4.0, "sf_nlos_db": 7.82},
    "uma": {"isd_m": 500.0, "bs_height_m": 25.0, "sf_los_db": 4.0, "sf_nlos_db": 6.0},
    "rma": {"isd_m": 1732.0, "bs_height_m": 35.0, "sf_los_db": 4.0, "sf_nlos_db": 8.0},
}
UT_HEIGHT_M = 1.5


@dataclass(frozen=True)
class Topology:
    """One drop of the cell.

    Attributes:
        sensor_xy_m: float64 ``[N, 2]``, sensor positions (cell centre at the origin).
        sensor_speed_mps: float64 ``[N]``.
        sensor_pathloss_db: float64 ``[N]``, path loss to the serving BS, shadowing included.
        sensor_los: bool ``[N]``.
        interferer_gain_db: float64 ``[C, U]``, path loss of each of the ``U`` pool sensors of
            each of the ``C`` neighbouring cells *to the serving BS* (negative dB gain, i.e.
            ``-PL``), shadowing included; ``C = 0`` without neighbours.
        interferer_own_pathloss_db: float64 ``[C, U]``, their path loss to their own BS (it sets
            their open-loop transmit power).
        cell_xy_m: float64 ``[1 + C, 2]``, cell centres.
        isd_m: the inter-site distance used.
    """

    sensor_xy_m: np.ndarray
    sensor_speed_mps: np.ndarray
    sensor_pathloss_db: np.ndarray
    sensor_los: np.ndarray
    interferer_gain_db: np.ndarray
    interferer_own_pathloss_db: np.ndarray
    cell_xy_m: np.ndarray
    isd_m: float


def los_probability(scenario: str, d2d_m: np.ndarray) -> np.ndarray:
    """TR 38.901 Table 7.4.2-1 LoS probability (outdoor sensors at 1.5 m), float64 like ``d2d_m``."""
    d = np.maximum(np.asarray(d2d_m, dtype=np.float64), 1e-9)
    if scenario == "umi":
        p = 18.0 / d + np.exp(-d / 36.0) * (1.0 - 18.0 / d)
        return np.where(d <= 18.0, 1.0, p)
    if scenario == "uma":
        p = 18.0 / d + np.exp(-d / 63.0) * (1.0 - 18.0 / d)
        return np.where(d <= 18.0, 1.0, p)
    return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))


def pathloss_db(scenario: str, d2d_m: np.ndarray, los: np.ndarray, carrier_frequency_hz: float,
                bs_height_m: float, ut_height_m: float = UT_HEIGHT_M) -> np.ndarray:
    r"""TR 38.901 Table 7.4.1-1 basic path loss in dB (no shadowing), float64 like ``d2d_m``.

    UMi street canyon (LoS):
    :math:`PL_1 = 32.4 + 21\log_{10} d_{3D} + 20\log_{10} f_c` below the break point
    :math:`d'_{BP} = 4 h'_{BS} h'_{UT} f_c / c`, and
    :math:`32.4 + 40\log_{10} d_{3D} + 20\log_{10} f_c - 9.5\log_{10}(d'^2_{BP} + (h_{BS}-h_{UT})^2)`
    beyond; NLoS: :math:`\max(PL_{LoS}, 35.3\log_{10} d_{3D} + 22.4 + 21.3\log_{10} f_c - 0.3(h_{UT}-1.5))`.
    UMa and RMa likewise with their rows of the table (``f_c`` in GHz, distances in m).
    """
    d2 = np.maximum(np.asarray(d2d_m, dtype=np.float64), 10.0)
    d3 = np.sqrt(d2**2 + (bs_height_m - ut_height_m) ** 2)
    fc = carrier_frequency_hz / 1e9
    hb, hu = bs_height_m, ut_height_m
    if scenario in ("umi", "uma"):
        dbp = 4.0 * (hb - 1.0) * (hu - 1.0) * carrier_frequency_hz / SPEED_OF_LIGHT
        if scenario == "umi":
            pl1 = 32.4 + 21.0 * np.log10(d3) + 20.0 * np.log10(fc)
            pl2 = 32.4 + 40.0 * np.log10(d3) + 20.0 * np.log10(fc) - 9.5 * np.log10(dbp**2 + (hb - hu) ** 2)
            nlos = 35.3 * np.log10(d3) + 22.4 + 21.3 * np.log10(fc) - 0.3 * (hu - 1.5)
        else:
            pl1 = 28.0 + 22.0 * np.log10(d3) + 20.0 * np.log10(fc)
            pl2 = 28.0 + 40.0 * np.log10(d3) + 20.0 * np.log10(fc) - 9.0 * np.log10(dbp**2 + (hb - hu) ** 2)
            nlos = 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(fc) - 0.6 * (hu - 1.5)
        pl_los = np.where(d2 <= dbp, pl1, pl2)
    else:  # rma, street width 20 m, building height 5 m
        w, h = 20.0, 5.0
        dbp = 2.0 * math.pi * hb * hu * carrier_frequency_hz / SPEED_OF_LIGHT

        def rma1(d: np.ndarray) -> np.ndarray:
            return (20.0 * np.log10(40.0 * math.pi * d * fc / 3.0)
                    + min(0.03 * h**1.72, 10.0) * np.log10(d) - min(0.044 * h**1.72, 14.77)
                    + 0.002 * math.log10(h) * d)

        d3bp = math.sqrt(dbp**2 + (hb - hu) ** 2)
        pl_los = np.where(d2 <= dbp, rma1(d3), rma1(np.asarray(d3bp)) + 40.0 * np.log10(d3 / d3bp))
        nlos = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
                - (24.37 - 3.7 * (h / hb) ** 2) * math.log10(hb)
                + (43.42 - 3.1 * math.log10(hb)) * (np.log10(d3) - 3.0)
                + 20.0 * math.log10(fc) - (3.2 * math.log10(11.75 * hu) ** 2 - 4.97))
    pl_nlos = np.maximum(pl_los, nlos)
    return np.where(np.asarray(los, dtype=bool), pl_los, pl_nlos)


@contextlib.contextmanager
def _sionna_seeded(seed: int) -> Iterator[None]:
    """Run Sionna's topology generator on its process-wide CPU generator seeded with ``seed``,
    and give that generator its earlier state back afterwards."""
    phy = sionna_phy()
    gen = phy.config.torch_rng("cpu")
    state = gen.get_state()
    gen.manual_seed(int(seed))
    try:
        yield
    finally:
        gen.set_state(state)


def drop(config: CellConfig, seed: int) -> Topology:
    """Drop the sensors of the cell (and of the neighbouring cells' interferer pools).

    Args:
        config: the cell.
        seed: drives the drop (Sionna's generator, see :func:`_sionna_seeded`), the LoS states
            and the shadowing.

    Returns:
        :class:`Topology`.
    """
    sionna_phy()  # Sionna imported first with torch's global RNG left as it was
    from sionna.sys import gen_hexgrid_topology

    defaults = SCENARIO_DEFAULTS[config.scenario]
    isd = float(config.isd_m if config.isd_m is not None else defaults["isd_m"])
    per_sector = -(-config.num_sensors // 3)
    with _sionna_seeded(seed):
        ut_loc, bs_loc, _, _, ut_vel, _, _, _ = gen_hexgrid_topology(
            batch_size=1, num_rings=1, num_ut_per_sector=per_sector,
            scenario=config.scenario, isd=isd, bs_height=defaults["bs_height_m"],
            min_ut_height=UT_HEIGHT_M, max_ut_height=UT_HEIGHT_M, indoor_probability=0.0,
            min_ut_velocity=config.min_speed_mps, max_ut_velocity=config.max_speed_mps,
            precision="double", device="cpu")
    ut_xy = ut_loc[0, :, :2].numpy().astype(np.float64)
    speed = torch.linalg.vector_norm(ut_vel[0], dim=-1).numpy().astype(np.float64)
    cells = bs_loc[0, ::3, :2].numpy().astype(np.float64)  # three co-sited sectors per cell
    num_cells = cells.shape[0] if config.num_rings else 1  # Sionna draws at least one ring
    pool = 3 * per_sector
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 29]))
    hb = defaults["bs_height_m"]
    fc = config.carrier_frequency_hz

    def link(xy: np.ndarray, bs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d2d = np.linalg.norm(xy - bs, axis=-1)
        los = rng.random(d2d.shape) < los_probability(config.scenario, d2d)
        pl = pathloss_db(config.scenario, d2d, los, fc, hb)
        if config.shadowing:
            sf = np.where(los, defaults["sf_los_db"], defaults["sf_nlos_db"])
            pl = pl + sf * rng.standard_normal(d2d.shape)
        return pl, los

    # the cell's sensors: the first N of the 3 * per_sector dropped in cell 0
    sensors = ut_xy[: config.num_sensors] - cells[0]
    pl, los = link(sensors, np.zeros(2))
    own = np.zeros((num_cells - 1, pool))
    gain = np.zeros((num_cells - 1, pool))
    for c in range(1, num_cells):
        xy = ut_xy[c * pool:(c + 1) * pool]
        own[c - 1], _ = link(xy, cells[c])
        to_us, _ = link(xy, cells[0])
        gain[c - 1] = -to_us
    return Topology(
        sensor_xy_m=sensors,
        sensor_speed_mps=speed[: config.num_sensors],
        sensor_pathloss_db=pl,
        sensor_los=los,
        interferer_gain_db=gain,
        interferer_own_pathloss_db=own,
        cell_xy_m=cells[:num_cells] - cells[0],
        isd_m=isd,
    )
