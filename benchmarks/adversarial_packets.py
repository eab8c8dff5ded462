"""Decoder work under crafted packets: every CRC-valid packet of <= 1,500 bytes decodes or is
rejected fast and in bounded memory, because the receiver (``max_images``, ``max_symbols``) and
the payload length (:meth:`LatentCodec.max_images`) bound the image count, never the sender.

Receivers: multi-scale grids (5 scales) of Gaussian and categorical coders for k = 64 and k = 512
latents with spreads from 0.02 to 3, plus a near-deterministic Gaussian codec (std 1e-3: no payload
bound, only ``max_images``); each receiver builds its per-entry coding tables at set-up
(:meth:`~commsldr.coding.LatentCodec.prepare`), before the first packet. Packets: claimed image counts from 1 to 2^32 - 1 (including the
largest the payload bound admits), payloads of 0-1,450 random bytes, known and unknown operating
points, and honest packets of up to 256 images. Reports the slowest decode, the 99th percentile
and the peak of Python-traced memory (numpy) per decode. Wall times include any contention on a
shared machine; ``max_cpu_ms`` is the process CPU time of the slowest decode, and
``slowest_32_best_of_7_max_ms`` re-times the 32 slowest packets seven times each and reports the
largest best-of-7 wall time (the decode cost without interference);
``slowest_32_best_of_7_max_cpu_ms`` does the same in process CPU time for the 32 packets whose
first decode used the most CPU.

    python benchmarks/adversarial_packets.py [--packets N]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import tracemalloc

import numpy as np
import torch

from commsldr.coding import (
    MAX_IMAGES_PER_PACKET,
    PacketError,
    PacketHeader,
    build_packet,
    decode_packet,
    encode_images,
    latent_stats_from_latents,
    make_source_coder,
    packet_model_id,
)

MID = "abad1dea00000000"
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def _receiver(k: int, spread: tuple[float, float], seed: int):
    g = torch.Generator().manual_seed(seed)
    std = torch.logspace(spread[0], spread[1], k)
    train = torch.randn(4000, k, generator=g) * std + torch.linspace(-1, 2, k)
    test = torch.randn(300, k, generator=g) * std + torch.linspace(-1, 2, k)
    stats = latent_stats_from_latents(train)
    coders = {(k, i): make_source_coder(stats, s, scale_index=i) for i, s in enumerate(SCALES)}
    coders[(k, len(SCALES))] = make_source_coder(stats, 1.0, codec="categorical",
                                                 train_latents=train, scale_index=len(SCALES))
    for coder in coders.values():  # a receiver builds its per-entry tables at set-up
        coder.codec.prepare()
    return coders, test


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=10_000, help="crafted packets per receiver")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(13)
    receivers = {
        "k64": _receiver(64, (-1.7, 0.48), 1),
        "k512": _receiver(512, (-1.7, 0.48), 2),
        "k64-deterministic": _receiver(64, (-6.0, -5.0), 3),
        "k512-deterministic": _receiver(512, (-6.0, -5.0), 4),
    }
    out: dict[str, object] = {"max_images": MAX_IMAGES_PER_PACKET}
    worst_ms, all_ms, outcomes = 0.0, [], {"decoded": 0, "rejected": 0}
    peak_bytes = 0
    worst: list[object] = [0.0]
    worst_cpu = 0.0
    slow: list[tuple[float, str, bytes]] = []
    slow_cpu: list[tuple[float, str, bytes]] = []
    per: dict[str, dict[str, float]] = {}
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, (coders, test) in receivers.items():
        keys = list(coders)
        k = keys[0][0]
        times: list[float] = []
        cpu: list[float] = []
        for trial in range(args.packets):
            kind = trial % 4
            if kind == 3:  # honest packet of up to 256 images
                key = keys[rng.integers(len(keys))]
                m = int(rng.choice([1, 8, 64, 256]))
                idx = rng.integers(0, len(test), size=m)
                pkt = encode_images(test[idx], coders[key], model_id=MID, scale_index=key[1])
                if len(pkt) > 1500:
                    pkt = encode_images(test[idx[:1]], coders[key], model_id=MID,
                                        scale_index=key[1])
            else:
                key = keys[rng.integers(len(keys))] if kind else (k, int(rng.integers(0, 50)))
                n = int(rng.choice([0, 1, 2, 10, 100, 400, 1000, 1450]))
                payload = bytes(rng.integers(1, 256, size=n).tolist())
                cap = coders[key].codec.max_images(n) if key in coders else None
                choices = [1, 2, 16, 255, 256, 257, 65536, 2**32 - 1]
                if cap is not None:
                    choices += [min(cap, MAX_IMAGES_PER_PACKET)] * 4
                m = int(rng.choice(choices))
                pkt = build_packet(PacketHeader(packet_model_id(MID), key[0], key[1], m), payload)
            assert len(pkt) <= 1500
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                decode_packet(pkt, coders, model_id=MID)
                outcomes["decoded"] += 1
            except PacketError:
                outcomes["rejected"] += 1
            dt = time.perf_counter() - t0
            cpu.append(time.process_time() - c0)
            times.append(dt)
            slow.append((dt, name, pkt))
            slow_cpu.append((cpu[-1], name, pkt))
            for lst in (slow, slow_cpu):
                if len(lst) > 64:
                    lst.sort(key=lambda x: -x[0])
                    del lst[32:]
            if dt > worst[0]:
                worst[:] = [dt, name, kind, len(pkt), m]
            if trial % 10 == 0:  # memory: a traced re-run of every 10th packet
                tracemalloc.start()
                try:
                    decode_packet(pkt, coders, model_id=MID)
                except PacketError:
                    pass
                peak_bytes = max(peak_bytes, tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
        t = np.array(times) * 1e3
        per[name] = {"max_ms": float(t.max()), "p99_ms": float(np.percentile(t, 99)),
                     "median_ms": float(np.median(t)), "max_cpu_ms": 1e3 * max(cpu)}
        worst_cpu = max(worst_cpu, 1e3 * max(cpu))
        print(name, per[name])
        worst_ms = max(worst_ms, float(t.max()))
        all_ms.append(t)
    # the 32 slowest packets again, best of 7: their time without other processes' interference
    slow.sort(key=lambda x: -x[0])
    best = []
    for _, name, pkt in slow[:32]:
        coders = receivers[name][0]
        reps = []
        for _ in range(7):
            t0 = time.perf_counter()
            try:
                decode_packet(pkt, coders, model_id=MID)
            except PacketError:
                pass
            reps.append(time.perf_counter() - t0)
        best.append(1e3 * min(reps))
    out["slowest_32_best_of_7_max_ms"] = max(best)
    slow_cpu.sort(key=lambda x: -x[0])
    best_cpu = []
    worst_cpu_packet: dict[str, object] = {}
    for _, name, pkt in slow_cpu[:32]:
        coders = receivers[name][0]
        reps = []
        for _ in range(7):
            c0 = time.process_time()
            try:
                decode_packet(pkt, coders, model_id=MID)
            except PacketError:
                pass
            reps.append(time.process_time() - c0)
        best_cpu.append(1e3 * min(reps))
        if best_cpu[-1] == max(best_cpu):
            try:
                m_decoded = int(decode_packet(pkt, coders, model_id=MID).latents.shape[0])
            except PacketError as exc:
                m_decoded = f"rejected: {type(exc).__name__}"
            worst_cpu_packet = {"receiver": name, "bytes": len(pkt), "outcome": m_decoded}
    out["slowest_32_best_of_7_max_cpu_ms"] = max(best_cpu)
    out["slowest_cpu_packet"] = worst_cpu_packet
    t = np.concatenate(all_ms)
    out.update(packets=int(t.size), max_ms=worst_ms, max_cpu_ms=worst_cpu, p99_ms=float(np.percentile(t, 99)),
               median_ms=float(np.median(t)), peak_traced_mb=peak_bytes / 2**20,
               maxrss_growth_mb=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024,
               per_receiver=per, slowest={"ms": 1e3 * float(worst[0]), "receiver": worst[1],
                                          "family": ["unknown point", "crafted", "crafted",
                                                     "honest"][int(worst[2])],
                                          "bytes": worst[3], "images": worst[4]},
               **outcomes)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
