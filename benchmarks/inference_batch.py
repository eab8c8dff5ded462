"""Eval-mode classification time of a whole image set against the images per forward pass.

The library classifies and encodes whole sets :data:`commsldr.data.INFERENCE_BATCH_SIZE` images
at a time; this measures why. ``python benchmarks/inference_batch.py [--backbone airnet]
[--images 2000] [--threads 2] [--batches 64,128,256,512] [--repeats 3]``.
Prints one JSON object on its last line: the best of ``repeats`` wall times per batch size (s).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from commsldr.data import INFERENCE_BATCH_SIZE, to_float
from commsldr.models import SplitAutoencoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backbone", default="airnet")
    ap.add_argument("--latent-dim", type=int, default=64)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="64,128,256,512")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = SplitAutoencoder(args.backbone, args.latent_dim, 10).eval()
    images = torch.randint(0, 256, (args.images, 3, 32, 32), dtype=torch.uint8)
    best: dict[int, float] = {}
    with torch.no_grad():
        for bs in [int(b) for b in args.batches.split(",")]:
            model.decode(model.encode(to_float(images[:bs], channels_last=True)))  # warm-up
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                for i in range(0, args.images, bs):
                    model.decode(model.encode(to_float(images[i:i + bs], channels_last=True)))
                best[bs] = min(best.get(bs, float("inf")), time.perf_counter() - t0)
    print(json.dumps({"backbone": args.backbone, "images": args.images, "threads": args.threads,
                      "default_batch": INFERENCE_BATCH_SIZE,
                      "seconds_by_batch": {str(k): round(v, 3) for k, v in best.items()},
                      "images_per_s_by_batch": {str(k): round(args.images / v, 1)
                                                for k, v in best.items()}}))


if __name__ == "__main__":
    main()
