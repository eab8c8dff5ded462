"""Copy the final checkpoints of ``scripts/reproduce_cifar10.sh`` into ``models/`` and index them.

Every shipped file is the stage's ``model.pt`` with its training-set latent statistics attached
(:func:`commsldr.coding.attach_latent_stats`; computed here if the run's checkpoint lacks them),
and ``models/index.json`` gets an entry with the SHA-256, model id, recipe, backbone, d_y, number
of training images and the test accuracy measured at the end of training
(:mod:`commsldr.models.pretrained` reads it; scenarios use ``model: {pretrained: NAME}``).
Stages that have not finished are skipped and named.

Usage::

    python scripts/ship_pretrained.py --runs runs/cifar10-study --data PATH/cifar10-jpeg --out models

``test_acc`` in the index is measured here, on the shipped file and the full test set.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from commsldr.coding import (
    LatentStats,
    attach_latent_stats,
    encode_dataset,
    latent_stats_from_latents,
    load_latent_stats,
)
from commsldr.data import load_dataset
from commsldr.models.pretrained import INDEX_FILE, INDEX_FORMAT, sha256_file
from commsldr.train import evaluate, load_checkpoint, load_model
from commsldr.train.bottleneck import (
    EB_STATE_KEY,
    eb_budgets,
    eb_rate_points,
    load_entropy_bottleneck,
)
from commsldr.train.screening import CALIBRATION_PER_CLASS

MAX_BYTES = 12_000_000


def stages(runs: Path, seeds: list[int], screen_seeds: list[int], dims: list[int], dy: int,
           trunc_from: int, keep: int) -> dict[str, tuple[Path, str]]:
    """Shipped name -> (stage checkpoint, description), for the layout of
    ``scripts/reproduce_cifar10.sh`` (``<runs>/s<seed>/...``). Seed 0 gets the plain names
    (``cifar10-ldr-ft-d64``), other seeds a ``-s<seed>`` suffix."""
    out: dict[str, tuple[Path, str]] = {}
    for seed in sorted(set(seeds) | set(screen_seeds)):
        sfx = "" if seed == 0 else f"-s{seed}"
        r = runs / f"s{seed}"
        t = r / f"trunc-d{trunc_from}-k{keep}"
        ds = sorted(set(dims) if seed in screen_seeds else set())
        ds = sorted(set(ds) | ({dy, trunc_from} if seed in seeds else set()))
        for d in ds:
            out[f"cifar10-ce-d{d}{sfx}"] = (r / "screen" / f"d{d}" / "model.pt",
                                           f"CE-T, d_y = {d}, seed {seed}")
        if seed not in seeds:
            continue
        out[f"cifar10-duphil-d{dy}{sfx}"] = (r / f"duphil-d{dy}" / "model.pt",
                                            f"DuPHiL from cifar10-ce-d{dy}{sfx}")
        out[f"cifar10-ldr-ft-d{dy}{sfx}"] = (r / f"ldr-ft-d{dy}" / "model.pt",
                                            f"three-step LDR-FT from cifar10-ce-d{dy}{sfx}")
        out[f"cifar10-ce-control-d{dy}{sfx}"] = (
            r / f"ce-control-d{dy}" / "model.pt",
            f"control: cifar10-ce-d{dy}{sfx} fine-tuned with CE for as many epochs as LDR-FT")
        tname = f"cifar10-trunc{trunc_from}to{keep}"
        out[f"{tname}-ce{sfx}"] = (
            t.with_name(t.name + "-ce") / "model.pt",
            f"cifar10-ce-d{trunc_from}{sfx} truncated to its first {keep} entries, CE fine-tuned")
        out[f"{tname}-ce-control{sfx}"] = (
            t.with_name(t.name + "-ce-control") / "model.pt",
            f"control of {tname}-ce{sfx}: cifar10-ce-d{keep}{sfx} CE fine-tuned for as many "
            "epochs as the truncation (same schedule, same total epochs)")
        out[f"{tname}-ldr-ft{sfx}"] = (
            t.with_name(t.name + "-ldr-ft") / "model.pt",
            f"cifar10-ce-d{trunc_from}{sfx} truncated to its first {keep} entries, LDR-FT "
            "fine-tuned")
        out[f"{tname}-ldr-ft-control{sfx}"] = (
            t.with_name(t.name + "-ldr-ft-control") / "model.pt",
            f"control of {tname}-ldr-ft{sfx}: the same truncation fine-tuned with CE for as many "
            "epochs as LDR-FT")
    return out


def long_stages(runs: Path, seeds: list[int], dy: int) -> dict[str, tuple[Path, str]]:
    """Shipped name -> (checkpoint, description) of the long-phase check (``ldr-ft-long``,
    ``ce-control-long`` in ``scripts/reproduce_cifar10.sh``: every LDR-FT phase twice as long,
    and its CE control trained for as many epochs)."""
    out: dict[str, tuple[Path, str]] = {}
    for seed in seeds:
        sfx = "" if seed == 0 else f"-s{seed}"
        r = runs / f"s{seed}"
        out[f"cifar10-ldr-ft-long-d{dy}{sfx}"] = (
            r / f"ldr-ft-long-d{dy}" / "model.pt",
            f"long-phase check: three-step LDR-FT from cifar10-ce-d{dy}{sfx} with every phase "
            "twice as long")
        out[f"cifar10-ce-control-long-d{dy}{sfx}"] = (
            r / f"ce-control-long-d{dy}" / "model.pt",
            f"control of cifar10-ldr-ft-long-d{dy}{sfx}: cifar10-ce-d{dy}{sfx} fine-tuned with "
            "CE for as many epochs")
    return out


#: the budgets (bits per image) whose accuracy the index records for entropy-bottleneck models
EB_INDEX_BUDGETS = (8.0, 14.0, 20.0)


def eb_stages(eb_runs: Path, seeds: list[int], dy: int) -> dict[str, tuple[Path, str]]:
    """Shipped name -> (checkpoint, description) of the entropy-bottleneck runs."""
    return {f"cifar10-eb-d{dy}{'' if s == 0 else f'-s{s}'}": (
        eb_runs / f"eb-d{dy}-s{s}" / "model.pt",
        f"entropy bottleneck (factorized prior, rate points from one encoder) fine-tuned from "
        f"cifar10-ce-d{dy}{'' if s == 0 else f'-s{s}'}") for s in seeds}


def eb_index_fields(path: Path, model: Any, test: Any, cal: Any) -> dict[str, Any]:
    """``rate_points`` (each rate point's lambda, test accuracy and real test payload bits:
    mean, p50, p95, max; mean bits and accuracy on the calibration images) and ``acc_at_bits``
    (the accuracy ``commsldr evaluate --budgets`` gives at :data:`EB_INDEX_BUDGETS`)."""
    eb = load_entropy_bottleneck(path)
    points = eb_rate_points(model, eb, test, cal)
    budgets = eb_budgets(points, list(EB_INDEX_BUDGETS))
    return {"rate_points": [{k: round(v, 6) if isinstance(v, float) else v for k, v in p.items()}
                            for p in points],
            "acc_at_bits": {f"{b['budget_bits']:g}": None if not b["feasible"] else {
                "accuracy": round(b["accuracy"], 6), "payload_bits": round(b["payload_bits"], 4),
                "rate": b["rate"]} for b in budgets},
            "calibration_images": len(cal)}


def describe_test_data(root: Path) -> str:
    """What the index's ``test_acc`` was measured on: the test split's folder and file format
    (a JPEG copy of CIFAR-10 scores differently from torchvision's original pixels)."""
    suffixes = sorted({p.suffix.lower().lstrip(".") for p in (root / "test").rglob("*.*")})
    return f"CIFAR-10 test split, ImageFolder of {'/'.join(suffixes) or 'no'} files ({root.name})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, default=Path("runs/cifar10-study"))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--screen-seeds", default="0,1,2")
    ap.add_argument("--long-seeds", default="", metavar="SEEDS",
                    help="also ship the long-phase check of these seeds (comma-separated; "
                    "<runs>/s<seed>/ldr-ft-long-d64, ce-control-long-d64)")
    ap.add_argument("--dy", type=int, default=64)
    ap.add_argument("--dims", default="32,64,128,256")
    ap.add_argument("--trunc-from", type=int, default=128)
    ap.add_argument("--keep", type=int, default=64)
    ap.add_argument("--data", required=True, help="ImageFolder copy of CIFAR-10 (train/, test/)")
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--eb-runs", type=Path, default=None, metavar="DIR",
                    help="also ship the entropy-bottleneck runs of "
                    "scripts/train_entropy_bottleneck.sh (<DIR>/eb-d64-s<seed>/model.pt) as "
                    "cifar10-eb-d64[-s<seed>], with each rate point's accuracy at real bits")
    ap.add_argument("--only", default=None, metavar="NAMES",
                    help="ship only these names (comma-separated)")
    ap.add_argument("--remeasure", action="store_true",
                    help="measure the index fields again even of files whose weights are "
                    "already shipped (e.g. after a change of how a budget's point is chosen)")
    ap.add_argument("--stats-cache", type=Path, default=None, metavar="DIR",
                    help="training-set latent statistics already computed by study_report.py "
                    "(its measurements/ directory), used instead of encoding the training set")
    args = ap.parse_args(argv)
    dims = [int(d) for d in args.dims.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    index_path = args.out / INDEX_FILE
    index: dict[str, Any] = (json.loads(index_path.read_text()) if index_path.is_file()
                             else {"format": INDEX_FORMAT, "models": {}})
    train_cache: dict[Any, Any] = {}
    seeds = [int(v) for v in args.seeds.split(",")]
    screen_seeds = [int(v) for v in args.screen_seeds.split(",")]
    test = load_dataset("imagefolder", "test", root=args.data, progress=False)
    test_data = describe_test_data(Path(args.data))
    todo = stages(args.runs, seeds, screen_seeds, dims, args.dy, args.trunc_from, args.keep)
    if args.eb_runs is not None:
        todo.update(eb_stages(args.eb_runs, seeds, args.dy))
    if args.long_seeds:
        todo.update(long_stages(args.runs, [int(v) for v in args.long_seeds.split(",")], args.dy))
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    cal = None
    for name, (src, description) in todo.items():
        if not src.is_file():
            print(f"[not trained] {name}: {src} missing")
            continue
        ck = load_checkpoint(src)
        tc = ck.get("train_config") or {}
        dst = args.out / f"{name}.pt"
        old = index["models"].get(name) or {}
        if (not args.remeasure and old.get("model_id") == ck["model_id"] and dst.is_file()
                and old.get("sha256") == sha256_file(dst)):
            print(f"[same] {name}: {dst} already holds these weights")
            old.setdefault("test_data", test_data)
            continue
        with tempfile.TemporaryDirectory(dir=args.out) as tmp:
            staged = Path(tmp) / dst.name
            shutil.copyfile(src, staged)  # src may be dst itself (--remeasure)
            try:
                if EB_STATE_KEY not in ck:  # an entropy bottleneck brings its own coder
                    load_latent_stats(staged)
            except KeyError:
                cached = (args.stats_cache / f"{sha256_file(src)[:24]}-stats-v1.json"
                          if args.stats_cache else None)
                if cached is not None and cached.is_file():
                    attach_latent_stats(staged, LatentStats.from_dict(
                        json.loads(cached.read_text())))
                    print(f"{name}: training-set latent statistics from {cached}")
                else:
                    key = (tc.get("num_per_class"), tc.get("seed", 0))
                    if key not in train_cache:
                        train_cache[key] = load_dataset("imagefolder", "train", root=args.data,
                                                        num_per_class=key[0], seed=key[1],
                                                        progress=False)
                    model = load_model(staged)
                    attach_latent_stats(staged, latent_stats_from_latents(
                        encode_dataset(model, train_cache[key])))
            size = staged.stat().st_size
            if size > MAX_BYTES:
                raise SystemExit(f"{name}: {size} bytes exceeds the {MAX_BYTES}-byte limit")
            staged.replace(dst)
        model = load_model(dst)
        metrics = ck.get("metrics") or {}
        key = (tc.get("num_per_class"), tc.get("seed", 0))
        if key not in train_cache:
            train_cache[key] = load_dataset("imagefolder", "train", root=args.data,
                                            num_per_class=key[0], seed=key[1], progress=False)
        test_acc = evaluate(model, test)  # the shipped file, the full test set
        index["models"][name] = {
            "file": dst.name,
            "sha256": sha256_file(dst),
            "model_id": ck["model_id"],
            "description": description,
            "dataset": "CIFAR-10",
            "recipe": tc.get("recipe"),
            "backbone": tc.get("backbone"),
            "width": tc.get("width"),
            "latent_dim": int(model.latent_dim),
            "split_stage": model.config["split_stage"],
            "train_images": len(train_cache[key]),
            "test_images": len(test),
            "test_data": test_data,
            "seed": tc.get("seed"),
            "test_acc": round(test_acc, 6),
            "test_acc_at_training": metrics.get("test_acc"),
            "test_acc_flip_tta": metrics.get("test_acc_flip_tta"),
            "augment": tc.get("augment"),
            "epochs": tc.get("epochs"),
            "num_params": sum(p.numel() for p in model.parameters()),
            "bytes": dst.stat().st_size,
        }
        if EB_STATE_KEY in ck:
            if cal is None:
                cal = load_dataset("imagefolder", "train", root=args.data,
                                   num_per_class=CALIBRATION_PER_CLASS, progress=False)
            index["models"][name].update(eb_index_fields(dst, model, test, cal))
        print(f"shipped {name}: {dst} ({dst.stat().st_size / 1e6:.2f} MB, "
              f"test acc {100 * test_acc:.2f} % on {len(test)} images)")
    index["models"] = dict(sorted(index["models"].items()))
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    torch.set_num_threads(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
