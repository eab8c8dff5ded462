"""Training-step speed: the library's loop vs. a bare PyTorch loop, and the LDR loss's share.

Prints human-readable lines, then ONE JSON object on the last line:

* ``step_ratio_vs_bare`` — images/s of :func:`commsldr.train.train_phase` (one CE-T epoch of
  ``--steps`` mini-batches from the in-memory uint8 dataset, including its data path, metric
  bookkeeping and the end-of-epoch checkpoint) ÷ images/s of a bare loop
  (``zero_grad / forward / cross_entropy / backward / step`` on a pre-built float batch) on the
  same model and batch size. Goal: >= 0.9.
* ``mcr2_share`` — fraction of an LDR step (encoder + side branch forward, L_LDR, backward,
  optimizer step) spent in the L_LDR forward + backward, at batch 1000 and side dimension 128.
  Goal: <= 0.10.

Usage: ``python benchmarks/train_step.py [--quick] [--device cuda] [--backbone resnet18]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _bare_step_fn(model, data, args, device: torch.device):
    """The bare PyTorch training step on one pre-built float batch."""
    from commsldr.data import to_float

    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = to_float(data.images[: args.batch_size]).to(device)
    y = data.labels[: args.batch_size].to(device)
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16

    def bare_step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=args.amp):
            loss = F.cross_entropy(model.decode(model.encode(x)).float(), y)
        loss.backward()
        opt.step()

    return bare_step


def bench_step_ratio(args, device: torch.device) -> dict:
    from commsldr.data import ImageTensors
    from commsldr.train import OptimSettings, Phase, Step, TrainConfig, build_model, train_phase

    cfg = TrainConfig.from_dict(dict(backbone=args.backbone, width=args.width, latent_dim=64, seed=0))
    n = args.batch_size * args.steps
    g = torch.Generator().manual_seed(0)
    data = ImageTensors(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                        torch.randint(0, 10, (n,), generator=g), [str(i) for i in range(10)])
    phase = Phase("bench", (Step(("encoder", "decoder"), "ce", 0.01),), epochs=1,
                  batch_size=args.batch_size, augment=False,
                  optim=OptimSettings(schedule="constant", amp=args.amp))

    lib_ips, bare_ips = [], []
    for _ in range(args.repeats):
        model = build_model(cfg, 10).to(device)
        with tempfile.TemporaryDirectory() as tmp:
            train_phase(model, phase, data.subset(torch.arange(args.batch_size)), None, tmp,
                        progress=False)  # warm-up
            _sync(device)
            t0 = time.perf_counter()
            train_phase(model, phase, data, None, tmp, progress=False)
            _sync(device)
            lib_ips.append(n / (time.perf_counter() - t0))

        step = _bare_step_fn(build_model(cfg, 10).to(device), data, args, device)
        step()  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        _sync(device)
        bare_ips.append(n / (time.perf_counter() - t0))
    lib, bare = statistics.median(lib_ips), statistics.median(bare_ips)
    print(f"library loop: {lib:.1f} img/s   bare loop: {bare:.1f} img/s   "
          f"(batch {args.batch_size}, {args.steps} steps, median of {args.repeats})")
    return {"library_images_per_s": lib, "bare_images_per_s": bare, "step_ratio_vs_bare": lib / bare}


def bench_mcr2_share(args, device: torch.device) -> dict:
    from commsldr.losses import ldr_loss
    from commsldr.train import TrainConfig, build_model

    b, d, k = 1000, 128, 10
    cfg = TrainConfig.from_dict(dict(backbone=args.backbone, width=args.width, latent_dim=d, side_dim=d, seed=0))
    model = build_model(cfg, k).to(device).train()
    params = list(model.encoder.parameters()) + list(model.side_branch.parameters())
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(b, 3, 32, 32, generator=g).to(device)
    labels = torch.randint(0, k, (b,), generator=g).to(device)

    def full_step():
        opt.zero_grad(set_to_none=True)
        z = model.side(model.encode(x))
        ldr_loss(z, labels, k).loss.backward()
        opt.step()

    def loss_only(z_leaf):
        z_leaf.grad = None
        ldr_loss(z_leaf, labels, k).loss.backward()

    z_leaf = F.normalize(torch.randn(b, d, generator=g), dim=1).to(device).requires_grad_(True)
    full_step()
    loss_only(z_leaf)  # warm-up
    step_t, loss_t = [], []
    for _ in range(args.mcr2_repeats):
        _sync(device)
        t0 = time.perf_counter()
        full_step()
        _sync(device)
        step_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(5):
            loss_only(z_leaf)
        _sync(device)
        loss_t.append((time.perf_counter() - t0) / 5)
    step, loss = statistics.median(step_t), statistics.median(loss_t)
    print(f"LDR step at batch {b}, d={d}: {1e3 * step:.1f} ms, of which L_LDR fwd+bwd "
          f"{1e3 * loss:.2f} ms")
    return {"ldr_step_ms": 1e3 * step, "ldr_loss_ms": 1e3 * loss, "mcr2_share": loss / step}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a short run (< 60 s on a laptop CPU)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--backbone", default="resnet8")
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--amp", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.steps = args.steps or (8 if args.quick else 40)
    args.repeats = args.repeats or (2 if args.quick else 3)
    args.mcr2_repeats = 2 if args.quick else 5
    device = torch.device(args.device)
    result = {"device": str(device), "backbone": args.backbone, "width": args.width,
              "batch_size": args.batch_size, "threads": torch.get_num_threads(),
              "quick": args.quick}
    result.update(bench_step_ratio(args, device))
    result.update(bench_mcr2_share(args, device))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
