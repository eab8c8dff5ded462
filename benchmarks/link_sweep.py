"""Link-simulation speed: table lookup vs re-running the server, frames/s, bit-true overhead.

Prints one JSON object on its last line:

* ``table_vs_naive_speedup`` — an accuracy-vs-SNR sweep (20 SNR points, Rayleigh block fading,
  Shannon PHY): time of the table-lookup simulator vs a *batched* naive loop on the same frames
  (same states, same delivery decisions) in the same run. The naive loop parses and
  entropy-decodes every delivered packet, then runs decoder + classifier once per SNR point on
  all delivered latents together (one network call per batch of 500, as the table build does);
  both must give the same number of correct images (``naive_equals_table``). Goal >= 100.
  (An earlier version classified one image per network call, which inflated the ratio.)
* ``table_with_build_vs_naive_speedup`` — the same with the table build (network inference and
  entropy coding of every test image at every operating point, :func:`build_table`) counted on
  the table's side: what the table gains on one sweep when it is not cached.
* ``frames_per_s_table`` — frames simulated per second by the table path (10^6 frames). Goal >= 1e6.
* ``bittrue_vs_sionna`` — throughput of :class:`BitTruePHY` (CRC, segmentation, channel package,
  equaliser) / the bare Sionna chain (LDPC5G encoder, mapper, AWGN, demapper, LDPC5G decoder) with
  the same code, modulation and number of blocks. Goal >= 0.9.

Usage: ``python benchmarks/link_sweep.py [--quick] [--checkpoint PATH]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (< 60 s)")
    ap.add_argument("--checkpoint", default=None, help="a trained model (default: a random compact one)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)

    from commsldr.adapt import Fixed, PointMenu
    from commsldr.coding import compute_latent_stats, decode_packet, encode_images
    from commsldr.data import make_synthetic
    from commsldr.link import (
        BitTruePHY,
        ShannonPHY,
        build_table,
        classify_latents,
        encode_latents,
        make_coders,
        simulate,
    )
    from commsldr.link.sionna_guard import sionna_phy
    from commsldr.models import SplitAutoencoder, model_id
    from commsldr.train import load_model
    from commsldr_channels import create_channel

    if args.checkpoint:
        model, model_desc = load_model(args.checkpoint).eval(), args.checkpoint
    else:
        torch.manual_seed(args.seed)
        model = SplitAutoencoder("resnet8", latent_dim=16, num_classes=10, width=0.25).eval()
        model_desc = "random resnet8 (width 0.25, d=16): speed only"
    train = make_synthetic(20, seed=args.seed)
    test = make_synthetic(10 if args.quick else 30, seed=args.seed + 1)
    stats = compute_latent_stats(model, train)
    scales = [1.0]
    t0 = time.perf_counter()
    table = build_table(model, stats, scales, test, seed=args.seed)
    t_build = time.perf_counter() - t0
    point = table.points[0]
    fixed = Fixed(point.k, point.scale).bind(PointMenu.from_table(table))
    k = model.latent_dim
    coders = make_coders(stats, scales, [k])
    mid = model_id(model)

    # ---------------------------------------------------------------- sweep: table vs naive
    snrs = np.linspace(-5, 25, 20)
    frames = 300 if args.quick else 2000
    groups, pbits = table.packets(1)
    phy = ShannonPHY(bandwidth_hz=float(pbits[0].mean()) / 4.0, frame_s=1.0)
    y_all = encode_latents(model, test.images)
    packets = [encode_images(y_all[i : i + 1], coders[(k, 0)], model_id=mid, scale_index=0)
               for i in range(len(test))]
    labels = test.labels.numpy()
    t_table = t_naive = 0.0
    equal = True
    for j, snr in enumerate(snrs):
        states = create_channel("rayleigh-block", mean_snr_db=float(snr)).states(
            frames, generator=torch.Generator().manual_seed(args.seed + j))
        t0 = time.perf_counter()
        res = simulate(table, states, phy, fixed, seed=args.seed + j)
        t_table += time.perf_counter() - t0
        t0 = time.perf_counter()
        delivered = phy.deliver(pbits[0][res.group], states).delivered  # same decisions
        imgs = groups[res.group[np.flatnonzero(delivered)], 0].astype(np.int64)
        correct = 0
        if imgs.size:
            latents = torch.cat([
                decode_packet(packets[int(i)], coders[(k, 0)], model_id=mid).latents
                for i in imgs])
            correct = int((classify_latents(model, latents) == labels[imgs]).sum())
        t_naive += time.perf_counter() - t0
        equal &= correct == res.images_correct_delivered
    speedup = t_naive / t_table

    # ---------------------------------------------------------------- frames per second
    n_big = 1_000_000
    big = create_channel("rayleigh-block", mean_snr_db=10.0).states(n_big, generator=torch.Generator().manual_seed(1))
    t_big = _best(lambda: simulate(table, big, phy, fixed, seed=1), 2 if args.quick else 3)

    # ---------------------------------------------------------------- bit-true vs bare Sionna
    blocks = 60 if args.quick else 300
    kb, mcs, snr_db = 500, 9, 4.0
    awgn = create_channel("awgn", snr_db=snr_db)
    bt = BitTruePHY(awgn, mcs_index=mcs, cb_info_bits=kb, symbols_per_frame=10_000)
    st = awgn.states(blocks, generator=torch.Generator())
    g = torch.Generator().manual_seed(0)
    t_ours = _best(lambda: bt.deliver(np.full(blocks, kb), st, g), 2)
    phy_mod = sionna_phy()
    enc = phy_mod.fec.ldpc.LDPC5GEncoder(kb, bt.n, num_bits_per_symbol=bt.num_bits_per_symbol)
    dec = phy_mod.fec.ldpc.LDPC5GDecoder(enc, hard_out=True, num_iter=bt.num_iter)
    const = phy_mod.mapping.Constellation("qam", bt.num_bits_per_symbol)
    mapper = phy_mod.mapping.Mapper(constellation=const)
    demapper = phy_mod.mapping.Demapper("app", constellation=const)
    channel = phy_mod.channel.AWGN()
    no = torch.tensor(10 ** (-snr_db / 10))

    def bare() -> None:
        u = torch.randint(0, 2, (blocks, kb), generator=g).float()
        dec(demapper(channel(mapper(enc(u)), no), no))

    t_bare = _best(bare, 2)
    out = {
        "benchmark": "link_sweep",
        "quick": args.quick,
        "model": model_desc,
        "test_images": len(test),
        "snr_points": len(snrs),
        "frames_per_snr": frames,
        "table_seconds": t_table,
        "naive_seconds": t_naive,
        "naive_equals_table": bool(equal),
        "table_vs_naive_speedup": speedup,
        "table_build_seconds": t_build,
        "table_with_build_vs_naive_speedup": t_naive / (t_table + t_build),
        "frames_per_s_table": n_big / t_big,
        "bittrue_blocks": blocks,
        "bittrue_seconds": t_ours,
        "sionna_seconds": t_bare,
        "bittrue_vs_sionna": t_bare / t_ours,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
