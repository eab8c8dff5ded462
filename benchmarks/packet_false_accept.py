"""False-accept rates of the packet receiver by CRC width, measured on corrupted packets.

Honest packets (1-4 images of 24-entry latents, a receiver with two Gaussian and one categorical
coder) are corrupted N times per CRC width with the mutations of ``tests/unit/coding/test_fuzz.py``
(1-8 bit flips, truncation, extension, a random packet, a burst of random bytes). For each width it
counts the corruptions that pass the CRC, those the receiver accepts (every later check passes
too), and those accepted with latents different from the sent ones (a silent wrong decode). Rates
with no event get the one-sided 95 % upper bound ``3/N`` (rule of three). Per mutation kind it also
counts the *distinct* corrupted packets that passed: truncation and extension of 24 fixed packets
produce few distinct packets, so a lucky one is counted many times.

    python benchmarks/packet_false_accept.py [--trials N]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from commsldr.coding import (
    PacketError,
    compute_crc,
    decode_packet,
    encode_images,
    latent_stats_from_latents,
    make_source_coder,
)

MID = "5eed5eed00000000"


def _mutate(pkt: bytes, kind: int, rng: np.random.Generator) -> bytes:
    b = bytearray(pkt)
    if kind == 0:
        for pos in rng.choice(8 * len(b), size=rng.integers(1, 9), replace=False):
            b[pos // 8] ^= 1 << (pos % 8)
    elif kind == 1:
        b = b[: rng.integers(0, len(b))]
    elif kind == 2:
        b += bytes(rng.integers(0, 256, size=rng.integers(1, 17)).tolist())
    elif kind == 3:
        b = bytearray(rng.integers(0, 256, size=rng.integers(0, 64)).tolist())
    else:
        start = rng.integers(0, len(b))
        n = min(len(b) - start, int(rng.integers(1, 9)))
        b[start: start + n] = bytes(rng.integers(0, 256, size=n).tolist())
    return bytes(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200_000, help="corruptions per CRC width")
    ap.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32], choices=[8, 16, 32])
    args = ap.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1234)
    std, mean = torch.logspace(-1.7, 0.48, 24), torch.linspace(-1.0, 2.0, 24)
    train = torch.randn(4000, 24, generator=g) * std + mean
    test = torch.randn(200, 24, generator=g) * std + mean
    stats = latent_stats_from_latents(train)
    coders = {(24, 0): make_source_coder(stats, 1.0, scale_index=0),
              (24, 1): make_source_coder(stats, 2.0, scale_index=1),
              (24, 2): make_source_coder(stats, 3.0, codec="categorical", train_latents=train,
                                         scale_index=2)}
    rng = np.random.default_rng(2026)
    out: dict[str, object] = {"trials_per_width": args.trials}
    kinds = ["bit_flips", "truncation", "extension", "random_packet", "burst"]
    for crc in args.widths:
        packets = []
        for i in range(24):
            key = (24, i % 3)
            y = test[i * 4: i * 4 + 1 + i % 4]
            packets.append((encode_images(y, coders[key], model_id=MID, scale_index=key[1],
                                          crc_bits=crc), coders[key].symbols(y)))
        counts = {"identical": 0, "crc_pass": 0, "accepted": 0, "wrong_latent": 0}
        by_kind = {k: {"crc_pass": 0, "accepted": 0, "distinct_crc_pass": set()} for k in kinds}
        t0 = time.perf_counter()
        for trial in range(args.trials):
            pkt, q = packets[trial % len(packets)]
            bad = _mutate(pkt, trial % 5, rng)
            if bad == pkt:
                counts["identical"] += 1
                continue
            nb = crc // 8
            if len(bad) >= 9 + nb and compute_crc(bad[:-nb], crc) == int.from_bytes(bad[-nb:],
                                                                                     "big"):
                counts["crc_pass"] += 1
                by_kind[kinds[trial % 5]]["crc_pass"] += 1
                by_kind[kinds[trial % 5]]["distinct_crc_pass"].add(bad)
            try:
                rx = decode_packet(bad, coders, model_id=MID, crc_bits=crc)
            except PacketError:
                continue
            counts["accepted"] += 1
            by_kind[kinds[trial % 5]]["accepted"] += 1
            if rx.symbols.shape != q.shape or not torch.equal(rx.symbols, q):
                counts["wrong_latent"] += 1
        n = args.trials - counts["identical"]
        rates = {f"{k}_rate": (v / n if v else None) for k, v in counts.items() if k != "identical"}
        bound = {f"{k}_rate_upper95": 3 / n for k, v in counts.items() if k != "identical" and not v}
        per_kind = {k: {"crc_pass": v["crc_pass"], "distinct_crc_pass": len(v["distinct_crc_pass"]),
                        "accepted": v["accepted"]} for k, v in by_kind.items()}
        out[f"crc{crc}"] = {"corrupted": n, **counts, **rates, **bound, "by_mutation": per_kind,
                            "expected_crc_pass": 2.0 ** -crc, "seconds": time.perf_counter() - t0}
        print(crc, out[f"crc{crc}"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
