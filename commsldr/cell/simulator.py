r"""The cell simulator: one configuration, one seed → per-sensor and per-cell rows.

Two layers, each vectorised:

1. **Radio** (:func:`simulate_radio`), a loop over slots that works on all sensors at once:
   the per-watt SINR of every sensor on every PRB (:class:`~commsldr.cell.channel.ChannelStream`,
   generated in chunks of slots), the scheduler's PRB owners, open-loop power for the grant,
   the achieved SINR of each owned PRB and its EESM sums. At the end of each frame (``F``
   slots) each sensor's PRB-slots form one transport block: link adaptation (ILLA/OLLA) picks
   the MCS, the TBS follows, and the TB decodes iff :math:`u_{s,f} \ge \mathrm{TBLER}`, with
   :math:`u_{s,f}` uniform from the sensor's own stream.
2. **Task** (:func:`simulate_cell`): each sensor's grants become a
   :class:`~commsldr.cell.linkabs.GrantState` and the project's single-link simulator
   :func:`commsldr.link.simulate` runs the sensor's own adaptation policy over them with
   :class:`~commsldr.cell.linkabs.GrantPHY` — any policy of ``commsldr.adapt`` unchanged: it sees
   its grant's TBS as the frame capacity and picks (k, s) for it.

The uniforms of sensor ``s`` are the first draws of the PHY stream
:func:`commsldr.link.simulate` derives from that sensor's seed, so with one sensor, the whole band
in every slot and flat fading, the cell's per-frame outcomes equal those of
``simulate(table, LinkState(snr_db=...), NRPHY(fit_packet=False), ...)`` on the same SINRs for a
fixed operating point without retransmissions. The single link's frame loop (adaptive policies,
``max_attempts > 1``) draws one uniform per frame and operating point and a fresh one per
retransmission, so there the two agree in distribution, not draw for draw.

Rows (:class:`CellResult`): see :data:`SENSOR_COLUMNS` and :data:`CELL_COLUMNS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from commsldr.adapt import (
    PointMenu,
    create_csi_model,
    create_policy,
    list_csi_models,
    list_policies,
)
from commsldr.cell.channel import ChannelStream
from commsldr.cell.config import CellConfig
from commsldr.cell.linkabs import CellLinkAbstraction, GrantPHY, GrantState
from commsldr.cell.power import uplink_power_w
from commsldr.cell.schedulers import SchedulerContext, create_scheduler
from commsldr.cell.topology import Topology, drop
from commsldr.errors import show
from commsldr.link.simulator import simulate
from commsldr.link.table import OperatingPointTable
from commsldr.scalars import check_integer

__all__ = ["RadioResult", "CellResult", "simulate_radio", "simulate_cell", "sensor_seeds",
           "phy_uniforms", "SENSOR_COLUMNS", "CELL_COLUMNS", "jain_index"]

#: per-sensor row columns and their meaning
SENSOR_COLUMNS: dict[str, str] = {
    "sensor": "sensor index in the cell",
    "x_m": "position east of the base station, m",
    "y_m": "position north of the base station, m",
    "distance_m": "distance to the base station, m",
    "pathloss_db": "path loss to the base station with shadowing, dB",
    "speed_mps": "speed, m/s",
    "mean_sinr_db": "mean SINR over the PRB-slots the sensor got, dB (nan: never scheduled)",
    "granted_frame_rate": "fraction of frames with a transport block (MCS >= 0)",
    "mean_prb_slots": "mean PRB-slots per frame",
    "mean_tbs_bits": "mean TBS per frame (0 without a grant), bits",
    "tb_error_rate": "fraction of granted transport blocks that failed",
    "accuracy": "task accuracy: correct decisions / images (lost images: fallback)",
    "delivered_image_rate": "fraction of the sensor's images that arrived",
    "images_per_s": "images delivered per second",
    "mean_bits_per_image": "mean packet bits per image sent",
}

#: per-cell row columns and their meaning
CELL_COLUMNS: dict[str, str] = {
    "num_sensors": "sensors N",
    "scheduler": "scheduler name",
    "policy": "adaptation policy name (every sensor)",
    "seed": "the seed",
    "accuracy_mean": "mean of the per-sensor accuracies",
    "accuracy_p5": "5th percentile of the per-sensor accuracies",
    "accuracy_min": "worst sensor's accuracy",
    "accuracy_jain": "Jain fairness index of the per-sensor accuracies, (sum a)^2 / (N sum a^2)",
    "images_per_s": "images delivered per second, whole cell",
    "prb_utilisation": "fraction of PRB-slots given to a sensor",
    "cell_throughput_bps": "bits of the delivered transport blocks per second",
    "frames": "image frames simulated",
    "frame_s": "frame duration (the image deadline), s",
    "sensor_slots_per_s": "radio-layer speed: sensors x slots per wall-clock second",
}


def jain_index(x: np.ndarray) -> float:
    """Jain's fairness index :math:`(\\sum x)^2 / (n \\sum x^2)` (1 for equal, 1/n for one
    non-zero; 1 when all are 0)."""
    x = np.asarray(x, dtype=np.float64)
    sq = float(np.sum(x**2))
    return 1.0 if sq == 0 else float(np.sum(x) ** 2 / (x.size * sq))


def sensor_seeds(seed: int, num_sensors: int) -> np.ndarray:
    """One seed per sensor (``int64 [N]``), derived from the cell's seed."""
    ss = np.random.SeedSequence([int(seed), 0xCE11])
    return ss.generate_state(num_sensors, dtype=np.uint64).astype(np.int64) & 0x7FFF_FFFF_FFFF


def phy_uniforms(seeds: np.ndarray, num_frames: int) -> np.ndarray:
    """``float64 [N, F]``: the first ``F`` draws of the PHY stream :func:`commsldr.link.simulate`
    derives from each sensor's seed (the third child of ``SeedSequence(seed)``, a
    ``torch.Generator`` seeded with its first 63-bit word); the TB fates use them. The
    one-sensor consistency test fails if the simulator ever derives its stream otherwise."""
    out = np.empty((len(seeds), num_frames))
    for i, s in enumerate(seeds):  # once per sensor and run, not per slot
        child = np.random.SeedSequence(int(s)).spawn(3)[2]
        gen = torch.Generator().manual_seed(int(child.generate_state(1, dtype=np.uint64)[0]
                                                >> np.uint64(1)))
        out[i] = torch.rand(num_frames, generator=gen, dtype=torch.float64).numpy()
    return out


@dataclass
class RadioResult:
    """Per-sensor, per-frame grants of the radio layer (arrays ``[N, F]``) and totals.

    Attributes:
        units: PRB-slots granted.
        mcs: MCS index (``-1``: no transport block).
        tbs_bits: TBS (0 without a TB).
        tb_ok: the TB decoded.
        sinr_db: mean achieved SINR over the frame's PRB-slots, dB (``nan`` without any).
        eff_sinr_db: EESM effective SINR at the chosen MCS, dB (``nan`` without a TB).
        prb_slots_used: PRB-slots given to a sensor, whole run.
        seconds: wall-clock time of the radio layer.
    """

    units: np.ndarray
    mcs: np.ndarray
    tbs_bits: np.ndarray
    tb_ok: np.ndarray
    sinr_db: np.ndarray
    eff_sinr_db: np.ndarray
    prb_slots_used: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def grants(self, sensor: int) -> GrantState:
        """The :class:`GrantState` of one sensor (its frames)."""
        mcs = self.mcs[sensor]
        tbs = self.tbs_bits[sensor]
        return GrantState(
            capacity_bits=torch.as_tensor(tbs, dtype=torch.float32),
            erased=torch.as_tensor(mcs < 0),
            mcs_index=torch.as_tensor(mcs, dtype=torch.int64),
            tbs_bits=torch.as_tensor(tbs, dtype=torch.int64),
            tb_ok=torch.as_tensor(self.tb_ok[sensor]),
        )


def per_prb_power_w(config: CellConfig, topology: Topology) -> np.ndarray:
    """Open-loop transmit power per PRB ``float64 [N, P + 1]`` of a grant of ``k`` PRBs
    (column ``k``; column 0 is 0)."""
    n, p = config.num_sensors, config.prbs
    pl = torch.as_tensor(10.0 ** (topology.sensor_pathloss_db / 10.0))[:, None].expand(n, p + 1)
    k = torch.arange(p + 1)[None, :].expand(n, p + 1)
    total = uplink_power_w(pl.contiguous(), k.contiguous(), config).numpy()
    return total / np.maximum(np.arange(p + 1), 1)[None, :]


def simulate_radio(config: CellConfig, topology: Topology, menu: PointMenu, uniforms: np.ndarray,
                   generator: torch.Generator, *, eesm_beta: np.ndarray | None = None
                   ) -> RadioResult:
    """Run the radio layer (module docstring).

    Input:
        config: the cell; topology: its drop; menu: the sensors' operating points (for the
        task-aware scheduler); uniforms: float64 ``[N, F]`` TB-fate uniforms
        (:func:`phy_uniforms`); generator: fading and interference draws; eesm_beta: optional
        ``[29]`` EESM table.

    Output:
        :class:`RadioResult`.
    """
    start = time.perf_counter()
    n, p, f_slots = config.num_sensors, config.prbs, config.slots_per_frame
    frames = config.num_frames
    link = CellLinkAbstraction(config, p * f_slots, eesm_beta)
    ppr = per_prb_power_w(config, topology)
    with np.errstate(divide="ignore"):
        ratio_db = 10.0 * np.log10(ppr / ppr[:, 1:2])
    ctx = SchedulerContext(num_sensors=n, num_prb=p, slots_per_frame=f_slots,
                           re_per_prb=config.re_per_prb, link=link, power_ratio_db=ratio_db,
                           menu_accuracy=menu.accuracy, menu_bits=menu.packet_bits,
                           fallback_accuracy=menu.fallback_accuracy)
    sched = create_scheduler(config.scheduler, **config.scheduler_params)
    sched.reset(ctx)
    stream = ChannelStream(config, topology, generator)
    shape = (n, frames)
    out_units = np.zeros(shape, dtype=np.int64)
    out_mcs = np.full(shape, -1, dtype=np.int64)
    out_tbs = np.zeros(shape, dtype=np.int64)
    out_ok = np.zeros(shape, dtype=bool)
    out_sinr = np.full(shape, np.nan)
    out_eff = np.full(shape, np.nan)
    offset = np.zeros(n)
    sum_exp = np.zeros((n, link.betas.size))
    sum_lin = np.zeros(n)
    units = np.zeros(n, dtype=np.int64)
    used_total = 0
    one_prb = ppr[:, 1][:, None]
    cols = np.arange(p)
    rows = np.arange(n)
    inv_beta = 1.0 / link.betas
    for first, gains in stream.chunks(config.num_slots):
        for i in range(gains.shape[1]):
            slot = first + i
            k = slot % f_slots
            g = gains[:, i, :]
            owner = sched.allocate(k, one_prb * g)
            used = owner >= 0
            who = owner[used]
            counts = np.bincount(who, minlength=n)
            sinr = np.zeros(p)
            sinr[used] = ppr[who, counts[who]] * g[who, cols[used]]
            onehot = np.zeros((n, int(used.sum())))
            onehot[who, np.arange(who.size)] = 1.0
            sum_exp += onehot @ np.exp(-sinr[used][:, None] * inv_beta[None, :])
            sum_lin += onehot @ sinr[used]
            units += counts
            used_total += int(used.sum())
            sched.update(owner, sinr)
            if k == f_slots - 1:
                f = slot // f_slots
                eff = link.effective_sinr_db(sum_exp, units)
                mcs = link.select_mcs(eff, units, offset)
                chosen = eff[rows, np.maximum(mcs, 0)]
                tbler = link.tb_error_rate(mcs, units, chosen)
                sent = mcs >= 0
                ok = sent & (uniforms[:, f] >= tbler)
                tbs = link.tbs_bits(mcs, units)
                if config.link_adaptation == "olla":
                    offset = link.olla_update(offset, sent, ok)
                out_units[:, f], out_mcs[:, f], out_tbs[:, f], out_ok[:, f] = units, mcs, tbs, ok
                with np.errstate(divide="ignore", invalid="ignore"):
                    out_sinr[:, f] = np.where(units > 0, 10 * np.log10(sum_lin / np.maximum(units, 1)),
                                              np.nan)
                out_eff[:, f] = np.where(sent, chosen, np.nan)
                sched.end_frame(tbs, ok)
                sum_exp[:] = 0.0
                sum_lin[:] = 0.0
                units[:] = 0
    return RadioResult(units=out_units, mcs=out_mcs, tbs_bits=out_tbs, tb_ok=out_ok,
                       sinr_db=out_sinr, eff_sinr_db=out_eff, prb_slots_used=used_total,
                       seconds=time.perf_counter() - start)


@dataclass
class CellResult:
    """One cell run: ``sensor_rows`` (one dict per sensor, :data:`SENSOR_COLUMNS`), ``cell_row``
    (:data:`CELL_COLUMNS`), the radio grants and each sensor's
    :class:`~commsldr.link.simulator.SimulationResult`."""

    config: CellConfig
    topology: Topology
    radio: RadioResult
    sensor_results: list[Any]
    sensor_rows: list[dict[str, Any]]
    cell_row: dict[str, Any]


def _policy_spec(policy: str | dict[str, Any], what: str = "policy"
                 ) -> tuple[str, dict[str, Any]]:
    """``(name, params)`` of a policy (``what="policy"``) or CSI model (``"csi"``): a name, or a
    mapping with its name under ``type`` (the scenario spelling) or ``name``, and its
    parameters."""
    names = list_policies() if what == "policy" else list_csi_models()
    if isinstance(policy, str):
        return policy, {}
    if not isinstance(policy, Mapping):
        raise ValueError(f"{what}: expected a name or a mapping {{type: <name>, ...params}}, got "
                         f"{show(policy)}; names: {', '.join(names)}")
    spec = dict(policy)
    if "type" in spec and "name" in spec:
        raise ValueError(f"{what}: give its name once, as 'type' (or 'name'), not both; got "
                         f"type={spec['type']!r} and name={spec['name']!r}")
    key = "type" if "type" in spec else "name"
    name = spec.pop(key, None)
    if not isinstance(name, str):
        raise ValueError(f"{what}: a mapping needs the name under 'type' (or 'name'), got "
                         f"{show(policy)}; names: {', '.join(names)}")
    return name, spec


def simulate_cell(config: CellConfig, table: OperatingPointTable,
                  policy: str | dict[str, Any] = "capacity-greedy", *, seed: int = 0,
                  images_per_packet: int = 1, fallback: str = "error",
                  csi: str | dict[str, Any] = "perfect", max_attempts: int = 1,
                  deadline_frames: int = 1,
                  packet_interval_frames: int = 1,
                  harq_timing: dict[str, Any] | None = None,
                  eesm_beta: np.ndarray | None = None) -> CellResult:
    """Simulate one cell configuration for one seed.

    Args:
        config: the cell.
        table: the sensors' operating-point table (every sensor runs the same model).
        policy: the adaptation policy of every sensor: a name or ``{"type": ..., **params}``
            (``"name"`` is taken instead of ``"type"``, not both; ``commsldr list policies``);
            each sensor gets its own instance.
        seed: drives the drop, the fading, the interference, the TB fates and each sensor's
            image order (an integer >= 0; ``2.0`` counts as 2, ``1.5`` is refused).
        images_per_packet: images per packet (one packet per sensor and frame).
        fallback: ``"error"`` or ``"prior"`` for images that do not arrive.
        csi: the CSI model of every sensor, a name or ``{"type": ..., **params}`` (``perfect``:
            it knows its grant's TBS before choosing).
        max_attempts: transmissions per packet, as in :func:`commsldr.link.simulate`: a lost
            packet is re-sent, with the same bytes, in the sensor's next frames' transport
            blocks (plain ARQ: :class:`GrantPHY` has no soft buffer) while newer images wait.
        deadline_frames: frames a packet may wait and be re-sent (>= 2 with ``max_attempts > 1``).
        packet_interval_frames: each sensor generates a packet every this many frames, as in
            :func:`commsldr.link.simulate`.
        harq_timing: the round trip and parallel processes of each sensor's retransmissions
            (``{rtt_frames, processes, repick}``, :class:`commsldr.link.harq_loop.HARQTiming`);
            ``None``: stop-and-wait, retransmission in the next frame.
        eesm_beta: optional EESM :math:`\\beta` table ``[29]``.

    Returns:
        :class:`CellResult`.
    """
    name, params = _policy_spec(policy)
    csi_name, csi_params = _policy_spec(csi, "csi")
    # whole numbers, checked before the radio layer runs (simulate checks them again per sensor)
    seed = check_integer("seed", seed, low=0)
    images_per_packet = check_integer("images_per_packet", images_per_packet, low=1)
    max_attempts = check_integer("max_attempts", max_attempts, low=1)
    deadline_frames = check_integer("deadline_frames", deadline_frames, low=1)
    packet_interval_frames = check_integer("packet_interval_frames", packet_interval_frames, low=1)
    menu = PointMenu.from_table(table, images_per_packet=images_per_packet, fallback=fallback)
    topology = drop(config, seed)
    seeds = sensor_seeds(seed, config.num_sensors)
    uniforms = phy_uniforms(seeds, config.num_frames)
    gen = torch.Generator().manual_seed(int(np.random.SeedSequence([int(seed), 7]).generate_state(
        1, dtype=np.uint64)[0] >> np.uint64(1)))
    radio = simulate_radio(config, topology, menu, uniforms, gen, eesm_beta=eesm_beta)
    phy = GrantPHY()
    results = []
    for s in range(config.num_sensors):  # the task layer: each sensor's own policy and images
        pol = create_policy(name, **params).bind(menu, phy)
        results.append(simulate(table, radio.grants(s), phy, pol,
                                images_per_packet=images_per_packet,
                                csi_model=create_csi_model(csi_name, **csi_params),
                                fallback=fallback, max_attempts=max_attempts,
                                deadline_frames=deadline_frames, seed=int(seeds[s]),
                                packet_interval_frames=packet_interval_frames,
                                harq_timing=harq_timing))
    return CellResult(config, topology, radio, results,
                      *_rows(config, topology, radio, results, name, seed))


def _rows(config: CellConfig, topology: Topology, radio: RadioResult, results: list[Any],
          policy: str, seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    duration = config.num_frames * config.frame_s
    sensor_rows = []
    for s, res in enumerate(results):
        granted = radio.mcs[s] >= 0
        x, y = topology.sensor_xy_m[s]
        with np.errstate(invalid="ignore"):
            lin = 10 ** (radio.sinr_db[s] / 10)
            w = radio.units[s]
            mean_sinr = (10 * np.log10(np.nansum(lin * w) / w.sum())) if w.sum() else float("nan")
        sensor_rows.append({
            "sensor": s, "x_m": float(x), "y_m": float(y),
            "distance_m": float(np.hypot(x, y)),
            "pathloss_db": float(topology.sensor_pathloss_db[s]),
            "speed_mps": float(topology.sensor_speed_mps[s]),
            "mean_sinr_db": float(mean_sinr),
            "granted_frame_rate": float(granted.mean()),
            "mean_prb_slots": float(radio.units[s].mean()),
            "mean_tbs_bits": float(radio.tbs_bits[s].mean()),
            "tb_error_rate": float(np.mean(~radio.tb_ok[s][granted])) if granted.any() else float("nan"),
            "accuracy": float(res.accuracy),
            "delivered_image_rate": float(res.delivered_image_rate),
            "images_per_s": float(res.images_delivered / duration),
            "mean_bits_per_image": float(res.mean_bits_per_image),
        })
    acc = np.array([r["accuracy"] for r in sensor_rows])
    cell_row = {
        "num_sensors": config.num_sensors,
        "scheduler": config.scheduler,
        "policy": policy,
        "seed": int(seed),
        "accuracy_mean": float(acc.mean()),
        "accuracy_p5": float(np.percentile(acc, 5)),
        "accuracy_min": float(acc.min()),
        "accuracy_jain": jain_index(acc),
        "images_per_s": float(sum(r.images_delivered for r in results) / duration),
        "prb_utilisation": float(radio.prb_slots_used / (config.prbs * config.num_slots)),
        "cell_throughput_bps": float(np.sum(radio.tbs_bits * radio.tb_ok) / duration),
        "frames": config.num_frames,
        "frame_s": config.frame_s,
        "sensor_slots_per_s": float(config.num_sensors * config.num_slots / max(radio.seconds, 1e-9)),
    }
    return sensor_rows, cell_row
