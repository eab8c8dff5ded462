"""Accuracy vs SNR for each PHY mode over AWGN and Rayleigh block fading, digital vs analog.

A benchmark script, not library code: the library's one sweep mechanism is the scenario (its
sweep runs as jobs; ``scenarios/digital_vs_analog.yaml`` and ``awgn_snr_sweep.yaml`` are this
comparison). :func:`accuracy_vs_snr` returns the curves (JSON-able) and a matplotlib figure with
one panel per channel: the digital curves (table lookup through the simulator, one per PHY mode,
the policy ``fixed`` of :mod:`commsldr.adapt`) and the analog curve (network run per realization)
on the same axes.

Channel uses per image are reported with every curve, because a digital/analog comparison is only
meaningful at a stated bandwidth: the digital PHYs get ``channel_uses_per_frame`` symbols per
frame (one packet of ``m`` images), the analog scheme ``ceil(k/2) * r`` symbols per image.

Prints one JSON object (the curves) on its last line.
Usage: ``python benchmarks/snr_sweep.py [--quick] [--checkpoint PATH]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from commsldr.adapt import Fixed, PointMenu
from commsldr.link import (
    NRPHY,
    AnalogScheme,
    BitTruePHY,
    OperatingPoint,
    OperatingPointTable,
    ShannonPHY,
    analog_accuracy,
    simulate,
)
from commsldr_channels import create_channel

__all__ = ["SNRSweep", "accuracy_vs_snr", "PHY_MODES", "SWEEP_CHANNELS"]

PHY_MODES = ("shannon", "nr", "bittrue")
SWEEP_CHANNELS = {"awgn": "snr_db", "rayleigh-block": "mean_snr_db"}


@dataclass
class SNRSweep:
    """Curves of :func:`accuracy_vs_snr`.

    Attributes:
        snr_db: the SNR grid (dB; the mean SNR for fading channels).
        digital: ``{channel: {phy_mode: accuracy [S]}}``.
        analog: ``{channel: accuracy [S]}`` (empty if not computed).
        channel_uses_per_image: ``{"digital": ..., "analog": ...}``.
        point: the operating point of the digital curves.
        info: settings (frames per point, seeds, PHY parameters).
        figure: the matplotlib figure (not serialised).
    """

    snr_db: np.ndarray
    digital: dict[str, dict[str, np.ndarray]]
    analog: dict[str, np.ndarray]
    channel_uses_per_image: dict[str, float]
    point: OperatingPoint
    info: dict[str, Any] = field(default_factory=dict)
    figure: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able curves."""
        return {
            "snr_db": self.snr_db.tolist(),
            "digital": {c: {p: v.tolist() for p, v in d.items()} for c, d in self.digital.items()},
            "analog": {c: v.tolist() for c, v in self.analog.items()},
            "channel_uses_per_image": self.channel_uses_per_image,
            "point": {"k": self.point.k, "scale_index": self.point.scale_index, "scale": self.point.scale},
            "info": self.info,
        }


def _make_phy(mode: str, channel: Any, channel_uses: int, frame_s: float, mcs_index: int,
              cb_info_bits: int) -> Any:
    if mode == "shannon":
        return ShannonPHY(bandwidth_hz=channel_uses / frame_s, frame_s=frame_s)
    if mode == "nr":
        return NRPHY(num_allocated_re=channel_uses)
    if mode == "bittrue":
        return BitTruePHY(channel, mcs_index=mcs_index, cb_info_bits=cb_info_bits,
                          symbols_per_frame=channel_uses)
    raise ValueError(f"phy_modes: unknown mode {mode!r}; valid: {PHY_MODES}")


def accuracy_vs_snr(
    table: OperatingPointTable,
    point: OperatingPoint,
    snr_db: Sequence[float],
    *,
    phy_modes: Sequence[str] = PHY_MODES,
    channels: Sequence[str] = tuple(SWEEP_CHANNELS),
    images_per_packet: int = 1,
    channel_uses_per_frame: int = 1024,
    frame_s: float = 1e-3,
    num_frames: int = 10_000,
    num_frames_bittrue: int = 200,
    bittrue_mcs_index: int = 5,
    bittrue_cb_info_bits: int = 500,
    model: torch.nn.Module | None = None,
    stats: Any = None,
    data: Any = None,
    analog_symbols_per_entry: float = 0.5,
    analog_repeats: int = 1,
    fallback: str = "error",
    seed: int = 0,
    plot: bool = True,
) -> SNRSweep:
    """Accuracy vs SNR per PHY mode and channel (table lookup), plus analog transmission.

    Args:
        table: the operating-point table of the model.
        point: the (fixed) operating point of the digital curves.
        snr_db: SNR grid in dB (mean SNR for ``rayleigh-block``).
        phy_modes: subset of :data:`PHY_MODES`.
        channels: subset of :data:`SWEEP_CHANNELS` (``"awgn"``, ``"rayleigh-block"``).
        images_per_packet: ``m``.
        channel_uses_per_frame: complex symbols per frame for every digital PHY (Shannon:
            ``B·T``; NR: allocated REs; bit-true: QAM symbols).
        frame_s: frame duration (Shannon's ``T``).
        num_frames: frames per SNR point for Shannon and NR.
        num_frames_bittrue: frames per SNR point for the bit-true PHY (LDPC decoding is slow).
        bittrue_mcs_index: the bit-true PHY's fixed MCS.
        bittrue_cb_info_bits: the bit-true PHY's code-block size ``k``.
        model: the model (variant ``point.k``) for the analog curve (omitted if ``None``).
        stats: its training :class:`~commsldr.coding.LatentStats` (analog curve).
        data: the test set (analog curve).
        analog_symbols_per_entry: analog channel uses per latent entry.
        analog_repeats: channel realisations per test image for the analog curve.
        fallback: the simulator's fallback rule.
        seed: base seed (each point uses ``seed + index``).
        plot: build the matplotlib figure.
    """
    snr = np.asarray([float(s) for s in snr_db])
    for c in channels:
        if c not in SWEEP_CHANNELS:
            raise ValueError(f"channels: unknown channel {c!r}; valid: {list(SWEEP_CHANNELS)}")
    for mode in phy_modes:
        if mode not in PHY_MODES:
            raise ValueError(f"phy_modes: unknown mode {mode!r}; valid: {PHY_MODES}")
    table.index_of(point)
    digital: dict[str, dict[str, np.ndarray]] = {}
    analog: dict[str, np.ndarray] = {}
    do_analog = model is not None
    if do_analog:
        if stats is None or data is None:
            raise ValueError("stats, data: the analog curve needs the model's stats and the test set")
        if int(model.latent_dim) != point.k:
            raise ValueError(f"model: latent_dim {model.latent_dim} is not the point's k={point.k}")
    menu = PointMenu.from_table(table, images_per_packet=images_per_packet, fallback=fallback)
    policy = Fixed(point.k, point.scale).bind(menu)
    for c in channels:
        digital[c] = {mode: np.zeros(snr.size) for mode in phy_modes}
        if do_analog:
            analog[c] = np.zeros(snr.size)
        for j, s in enumerate(snr):
            ch = create_channel(c, **{SWEEP_CHANNELS[c]: float(s)})
            g = torch.Generator().manual_seed(seed + j)
            for mode in phy_modes:
                n = num_frames_bittrue if mode == "bittrue" else num_frames
                states = ch.states(n, generator=g)
                phy = _make_phy(mode, ch, channel_uses_per_frame, frame_s, bittrue_mcs_index,
                                bittrue_cb_info_bits)
                res = simulate(table, states, phy, policy, images_per_packet=images_per_packet,
                               fallback=fallback, seed=seed + j)
                digital[c][mode][j] = res.accuracy
            if do_analog:
                analog[c][j] = analog_accuracy(model, stats, data, ch,
                                               symbols_per_entry=analog_symbols_per_entry,
                                               repeats=analog_repeats, seed=seed + j)
    uses = {"digital": channel_uses_per_frame / images_per_packet}
    if do_analog:
        uses["analog"] = float(AnalogScheme.from_stats(stats, point.k, analog_symbols_per_entry)
                               .num_symbols(point.k))
    out = SNRSweep(
        snr_db=snr,
        digital=digital,
        analog=analog,
        channel_uses_per_image=uses,
        point=point,
        info={
            "num_frames": num_frames,
            "num_frames_bittrue": num_frames_bittrue,
            "images_per_packet": images_per_packet,
            "channel_uses_per_frame": channel_uses_per_frame,
            "bittrue_mcs_index": bittrue_mcs_index,
            "bittrue_cb_info_bits": bittrue_cb_info_bits,
            "fallback": fallback,
            "seed": seed,
            "model_id": table.model_id,
            "noiseless_accuracy": float(table.accuracy()[table.index_of(point)]),
        },
    )
    if plot:
        out.figure = plot_sweep(out)
    return out


def plot_sweep(sweep: SNRSweep) -> Any:
    """One panel per channel: digital curves (solid) and analog (dashed), accuracy vs SNR."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    chans = list(sweep.digital)
    fig, axes = plt.subplots(1, len(chans), figsize=(5 * len(chans), 3.8), squeeze=False)
    for ax, c in zip(axes[0], chans, strict=True):
        for mode, acc in sweep.digital[c].items():
            ax.plot(sweep.snr_db, acc, marker="o", label=f"digital, {mode}")
        if c in sweep.analog:
            ax.plot(sweep.snr_db, sweep.analog[c], "--", marker="s", label="analog")
        ax.axhline(sweep.info["noiseless_accuracy"], color="gray", lw=0.8, ls=":", label="noiseless")
        ax.set_xlabel("mean SNR [dB]" if c != "awgn" else "SNR [dB]")
        ax.set_ylabel("accuracy")
        ax.set_title(c)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main() -> None:
    import argparse
    import json

    from commsldr.coding import compute_latent_stats
    from commsldr.data import make_synthetic
    from commsldr.link import build_table
    from commsldr.models import SplitAutoencoder
    from commsldr.train import load_model

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--checkpoint", default=None,
                    help="a trained model (default: a random compact one: speed only)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.checkpoint:
        model = load_model(args.checkpoint).eval()
    else:
        torch.manual_seed(args.seed)
        model = SplitAutoencoder("resnet8", latent_dim=16, num_classes=10, width=0.25).eval()
    train = make_synthetic(20, seed=args.seed)
    test = make_synthetic(10 if args.quick else 30, seed=args.seed + 1)
    stats = compute_latent_stats(model, train)
    table = build_table(model, stats, [1.0], test, seed=args.seed)
    sweep = accuracy_vs_snr(table, table.points[0], [-5.0, 5.0, 15.0] if args.quick else
                            list(range(-5, 26, 5)), phy_modes=("shannon", "nr"),
                            num_frames=500 if args.quick else 10_000, model=model, stats=stats,
                            data=test, seed=args.seed, plot=False)
    print(json.dumps({"benchmark": "snr_sweep", **sweep.to_dict()}))


if __name__ == "__main__":
    main()
