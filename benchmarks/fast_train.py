"""Fast CIFAR-10 training: the ``--fast`` CE-T recipe (airnet backbone, d_y = 64) end to end.

Full run (the issue's goal: >= 90 % float test accuracy on the full CIFAR-10 test set in
<= 30 min wall on 2 CPU threads)::

    python benchmarks/fast_train.py --data-root PATH/TO/cifar10-jpeg     # an ImageFolder copy
    python benchmarks/fast_train.py --download                           # torchvision CIFAR-10

It runs ``commsldr.train.run_recipe("ce", fast_config(...))`` and prints ONE JSON object on the
last line: ``test_acc`` (plain, the headline), ``test_acc_flip_tta`` (mirror test-time
augmentation, reported separately), ``train_s`` (wall time of the recipe, data decoding from
the uint8 cache excluded, per-epoch test evaluations included), ``epochs``, ``threads``,
``images_per_s``, ``epoch_s`` (each epoch's wall time), and the machine: ``torch``, ``cpu``,
``cpu_capability``.

``--quick``: a short check on random images instead: images/s of the library's training loop
(``train_phase`` with the fast recipe's light augmentation, triangle schedule, BN-bias
learning rates, bf16 autocast, channels-last) ÷ images/s of a bare PyTorch loop with the same
model, optimiser and precision on a pre-built batch (``library_vs_bare``, goal >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def quick(args: argparse.Namespace) -> dict:
    from commsldr._memory import reuse_freed_memory
    from commsldr.data import ImageTensors, to_float
    from commsldr.train import build_model, train_phase
    from commsldr.train.config import fast_config
    from commsldr.train.loop import _make_optimizer, _param_groups, part_modules
    from commsldr.train.recipes import ce_phase

    reuse_freed_memory()  # as run_recipe does: both loops below run with it
    cfg = fast_config(batch_size=args.batch_size, width=args.width, epochs=1, eval_every=1)
    n = args.batch_size * args.steps
    g = torch.Generator().manual_seed(0)
    data = ImageTensors(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                        torch.randint(0, 10, (n,), generator=g), [str(i) for i in range(10)])
    phase = ce_phase(cfg)
    lib, bare = [], []
    for _ in range(args.repeats):
        model = build_model(cfg, 10, 32, data)
        with tempfile.TemporaryDirectory() as tmp:
            train_phase(model, phase, data.subset(torch.arange(args.batch_size)), None, tmp,
                        progress=False)  # warm-up
            t0 = time.perf_counter()
            train_phase(model, phase, data, None, tmp, progress=False)
            lib.append(n / (time.perf_counter() - t0))

        model = build_model(cfg, 10, 32, data).to(memory_format=torch.channels_last).train()
        opt = _make_optimizer(phase, _param_groups(phase, part_modules(model),
                                                   ("encoder", "decoder"), cfg.ce.lr))
        x = to_float(data.images[: args.batch_size]).contiguous(memory_format=torch.channels_last)
        y = data.labels[: args.batch_size]

        def step(model=model, opt=opt, x=x, y=y) -> None:
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = F.cross_entropy(model(x, with_side=False).logits.float(), y,
                                       label_smoothing=cfg.optim.label_smoothing)
            loss.backward()
            opt.step()

        step()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        bare.append(n / (time.perf_counter() - t0))
    lib_ips, bare_ips = statistics.median(lib), statistics.median(bare)
    print(f"library loop {lib_ips:.0f} img/s, bare loop {bare_ips:.0f} img/s "
          f"(batch {args.batch_size}, {args.steps} steps, median of {args.repeats})")
    return {"library_images_per_s": lib_ips, "bare_images_per_s": bare_ips,
            "library_vs_bare": lib_ips / bare_ips}


def full(args: argparse.Namespace) -> dict:
    from commsldr.train import run_recipe
    from commsldr.train.config import fast_config
    from commsldr.train.recipes import load_data

    dataset = "cifar10" if args.download or not args.data_root else "imagefolder"
    cfg = fast_config(dataset=dataset, data_root=args.data_root, download=args.download,
                      epochs=args.epochs, seed=args.seed, progress=not args.no_progress,
                      out=args.out or tempfile.mkdtemp(prefix="fast_train-"))
    load_data(cfg)  # decode + cache the images outside the timed part
    t0 = time.perf_counter()
    res = run_recipe("ce", cfg)
    train_s = time.perf_counter() - t0
    n_train = len(load_data(cfg)[0])
    history = [json.loads(line) for line in
               (Path(cfg.run.out) / "ce-t" / "metrics.jsonl").read_text().splitlines() if line]
    print(f"test accuracy {res.metrics['test_acc']:.4f} "
          f"(flip TTA {res.metrics['test_acc_flip_tta']:.4f}) in {train_s:.0f} s")
    return {"test_acc": res.metrics["test_acc"],
            "test_acc_flip_tta": res.metrics["test_acc_flip_tta"], "train_s": train_s,
            "epochs": cfg.ce.epochs, "images_per_s": n_train * cfg.ce.epochs / train_s,
            # wall time of each epoch (those with a test evaluation include it)
            "epoch_s": [round(r["time_s"], 1) for r in history],
            "checkpoint": str(res.checkpoint_path)}


def _cpu_name() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="loop overhead only, random images (~1 min)")
    p.add_argument("--data-root", help="ImageFolder copy of CIFAR-10 (train/ and test/)")
    p.add_argument("--download", action="store_true", help="torchvision CIFAR-10 (downloads)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="output directory of the run (default: a temporary one)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--batch-size", type=int, default=512, help="--quick: batch size")
    p.add_argument("--width", type=float, default=1.0, help="--quick: airnet width")
    p.add_argument("--steps", type=int, default=6, help="--quick: mini-batches per repeat")
    p.add_argument("--repeats", type=int, default=3, help="--quick: repeats (median)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    result = {"threads": torch.get_num_threads(), "quick": args.quick, "torch": torch.__version__,
              "cpu": _cpu_name(), "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    if args.quick:
        result.update(quick(args))
    else:
        if args.epochs is None:
            from commsldr.train.config import FAST_PRESET

            args.epochs = FAST_PRESET["epochs"]
        result.update(full(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
