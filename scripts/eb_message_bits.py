"""The shipped entropy-bottleneck models' rate points when several images share one message.

    OMP_NUM_THREADS=1 python scripts/eb_message_bits.py --data PATH/cifar10-jpeg \\
        --json docs/figures/study/eb_message_bits.json

The study codes every test image alone (whole bytes per image, so no image costs less than 8
bits). A packet that carries several images codes them in one range-coder message
(:class:`~commsldr.coding.LatentCodec`, entry by entry), which spreads the message's rounding
over its images. For each model and rate point this prints the test accuracy, the training
estimate ``-log2 P(q)`` and the real payload bits per image coded alone and in messages of 8 and
of 64 consecutive test images.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from commsldr.data import load_dataset
from commsldr.train import load_model
from commsldr.train.bottleneck import eb_latents, eb_predictions, load_entropy_bottleneck

MODELS = ("cifar10-eb-d64", "cifar10-eb-d64-s1", "cifar10-eb-d64-s2")
GROUPS = (8, 64)


def message_bits(codec, q: np.ndarray, n: int) -> float:
    """Mean payload bits per image when consecutive images are coded ``n`` to a message."""
    return sum(8 * len(codec.encode(q[i:i + n])) for i in range(0, len(q), n)) / len(q)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="ImageFolder copy of CIFAR-10")
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--checkpoints", nargs="+", type=Path, default=None,
                    help="these entropy-bottleneck checkpoints instead of the shipped three")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    test = load_dataset("imagefolder", "test", root=str(args.data))
    labels = test.labels.numpy()
    rows = []
    paths = args.checkpoints or [args.models / f"{name}.pt" for name in MODELS]
    for path in paths:
        # a given checkpoint by its run folder and file name (no machine's absolute path)
        name = path.stem if args.checkpoints is None else f"{path.parent.name}/{path.name}"
        model, eb = load_model(path), load_entropy_bottleneck(path)
        lat = eb_latents(model, test)
        for r in range(eb.num_rates):
            pred, est = eb_predictions(model, eb, lat, r)
            coder = eb.source_coder(r)
            q = coder.symbols(lat).numpy()
            row = {"model": name, "rate_point": r, "accuracy": float((pred == labels).mean()),
                   "estimated_bits": float(est.mean()),
                   "bits_alone": float(coder.codec.image_bits(q).mean()),
                   **{f"bits_per_{n}": message_bits(coder.codec, q, n) for n in GROUPS}}
            rows.append(row)
            print(f"{name} rate {r}: {100 * row['accuracy']:.2f} %  estimate "
                  f"{row['estimated_bits']:.2f} b  alone {row['bits_alone']:.2f} b  "
                  + "  ".join(f"{n} per message {row[f'bits_per_{n}']:.2f} b" for n in GROUPS))
    if args.json:
        args.json.write_text(json.dumps({"test_images": len(labels), "rows": rows}, indent=1)
                             + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
