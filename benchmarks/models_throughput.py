"""Forward+backward throughput (images/s) of every registered backbone as a SplitAutoencoder,
plus synthetic-data generation, augmentation speed and, optionally, a short learnability run.

Usage: ``python benchmarks/models_throughput.py [--quick] [--threads 2] [--batch 128]``.
Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from commsldr.data import Augment, BatchLoader, load_dataset, make_synthetic
from commsldr.models import SplitAutoencoder, list_models


def _train_step_rate(model: SplitAutoencoder, batch: int, steps: int, warmup: int = 2) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=g)
    y = torch.randint(0, model.num_classes, (batch,), generator=g)
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        loss = F.cross_entropy(model(x, with_side=False).logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return batch * steps / (time.perf_counter() - t0)


def _learnability(seconds: float) -> dict[str, float]:
    """Train the default compact model (resnet8, d_y=64) with CE on the synthetic set."""
    tr = load_dataset("synthetic", "train")
    te = load_dataset("synthetic", "test")
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    m = SplitAutoencoder("resnet8", 64, 10)
    steps = 300
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=steps)
    t0, s = time.perf_counter(), 0
    while s < steps and time.perf_counter() - t0 < seconds:
        for x, y in BatchLoader(tr, 128, shuffle=True, generator=g, augment=Augment()):
            loss = F.cross_entropy(m(x, with_side=False).logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            s += 1
            if s >= steps or time.perf_counter() - t0 >= seconds:
                break
    train_s = time.perf_counter() - t0
    m.eval()
    correct = 0
    with torch.no_grad():
        for x, y in BatchLoader(te, 500, shuffle=False, generator=None):
            correct += int((m(x, with_side=False).logits.argmax(1) == y).sum())
    return {"steps": s, "train_s": round(train_s, 1), "test_acc": correct / len(te)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer steps, no learnability run (< 60 s)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--learn-seconds", type=float, default=120.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rates = {}
    for name in list_models():
        if name == "split_autoencoder":
            continue
        big = name in ("resnet18", "resnet34")
        steps = (1 if big else 3) if args.quick else 5
        m = SplitAutoencoder(name, 64, 10)
        rates[name] = round(_train_step_rate(m, args.batch, steps, warmup=1 if args.quick else 2), 1)
    t0 = time.perf_counter()
    d = make_synthetic(1000, seed=0)
    gen_rate = len(d) / (time.perf_counter() - t0)
    aug, g = Augment(), torch.Generator().manual_seed(0)
    x = d.images[: args.batch]
    t0 = time.perf_counter()
    for _ in range(10):
        aug(x, g)
    aug_rate = 10 * args.batch / (time.perf_counter() - t0)
    out = {
        "threads": args.threads,
        "batch": args.batch,
        "train_images_per_s": rates,
        "cifar10_epoch_s_resnet8": round(50000 / rates["resnet8"], 1),
        "synthetic_images_per_s": round(gen_rate),
        "augment_images_per_s": round(aug_rate),
    }
    if not args.quick:
        out["learnability_resnet8_synthetic"] = _learnability(args.learn_seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
