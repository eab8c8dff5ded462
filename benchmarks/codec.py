"""Entropy-codec benchmark: wrapper overhead, coding overhead against -log2 p, decode speed.

Latents are synthetic independent Gaussians (``k`` entries with spreads over two decades, as a
trained model's latents); they are quantized with the default allocation rule and coded with
both codec kinds. Prints a human-readable summary and, on its last line, one JSON object:

``wrapper_vs_raw``
    decode throughput of :meth:`LatentCodec.decode` divided by that of one bare ``constriction``
    call with a model per symbol (same words, model parameters repeated per symbol in message
    order, prepared beforehand), for one message of ``m`` images; the minimum over the codec
    kinds (goal >= 0.8; above 1 because the wrapper decodes many images with one reusable table
    per entry).
``batch_overhead_pct``
    coded bits of the ``m``-image message above the ideal ``sum -log2 p``, in % (goal <= 1).
``per_image_overhead_bits``
    mean bits above ``-log2 p`` when each image is its own message (before header and CRC).
``symbols_per_s_decode``
    decoded symbols per second through :meth:`LatentCodec.decode` (Gaussian codec).

Usage: ``python benchmarks/codec.py [--quick] [--k 64] [--images 1000] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import json
import time

import constriction
import numpy as np
import torch

from commsldr.coding import LatentCodec, latent_stats_from_latents, make_source_coder


def _best_times(fns, repeats: int) -> list[float]:
    """Minimum wall time of each function, measured in alternation (fair under shared load)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def _best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _raw_decode(codec: LatentCodec, payload: bytes, m: int, params: tuple) -> np.ndarray:
    """One constriction call with a model per symbol (message order), then the escapes."""
    words = np.frombuffer(payload + b"\x00" * (-len(payload) % 4), dtype=">u4").astype(np.uint32)
    dec = constriction.stream.queue.RangeDecoder(words)
    codes = dec.decode(codec._family, *params)
    n_esc = int(np.count_nonzero(codes == codec.escape))
    if n_esc:
        dec.decode(constriction.stream.model.Uniform(1 << 16), 2 * n_esc)
    return codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (< 60 s)")
    ap.add_argument("--k", type=int, default=64, help="latent entries")
    ap.add_argument("--images", type=int, default=1000, help="images in the batch message")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    repeats = 5 if args.quick else 20
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(args.seed)
    k, m = args.k, args.images
    std = torch.logspace(-1.5, 0.5, k)
    train = torch.randn(20000, k, generator=g) * std
    test = torch.randn(m, k, generator=g) * std
    stats = latent_stats_from_latents(train)
    out: dict[str, float] = {}
    per_kind: dict[str, dict[str, float]] = {}
    for kind in ("gaussian", "categorical"):
        coder = make_source_coder(stats, 1.0, codec=kind, train_latents=train)
        codec = coder.codec
        q = coder.symbols(test)
        payload = codec.encode(q)
        assert torch.equal(codec.decode(payload, m), q)
        params = codec._params(m)
        t_ours, t_raw, t_ver = _best_times([
            lambda: codec.decode(payload, m),  # noqa: B023
            lambda: _raw_decode(codec, payload, m, params),  # noqa: B023
            lambda: codec.decode(payload, m, verify=True),  # noqa: B023
        ], 4 * repeats)
        t_enc = _best_time(lambda: codec.encode(q), repeats)  # noqa: B023
        ideal = codec.information_bits(q)
        n_single = 200 if args.quick else m
        single = codec.image_bits(q[:n_single])
        t_single = _best_time(lambda: codec.decode(codec.encode(q[:1]), 1), repeats * 20)  # noqa: B023
        per_kind[kind] = {
            "wrapper_vs_raw": t_raw / t_ours,
            "verify_cost_ratio": t_ver / t_ours,
            "batch_overhead_pct": 100.0 * (8 * len(payload) - ideal.sum()) / ideal.sum(),
            "per_image_overhead_bits": float((single - ideal[:n_single]).mean()),
            "bits_per_image_batch": 8 * len(payload) / m,
            "bits_per_image_single": float(single.mean()),
            "symbols_per_s_decode": m * k / t_ours,
            "symbols_per_s_encode": m * k / t_enc,
            "single_image_roundtrip_us": 1e6 * t_single,
        }
        print(f"{kind:12s} " + "  ".join(f"{a}={b:.4g}" for a, b in per_kind[kind].items()))
    out["wrapper_vs_raw"] = min(v["wrapper_vs_raw"] for v in per_kind.values())
    out["batch_overhead_pct"] = max(v["batch_overhead_pct"] for v in per_kind.values())
    out["per_image_overhead_bits"] = max(v["per_image_overhead_bits"] for v in per_kind.values())
    out["symbols_per_s_decode"] = per_kind["gaussian"]["symbols_per_s_decode"]
    out["k"], out["images"] = k, m
    out["per_kind"] = per_kind  # type: ignore[assignment]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
