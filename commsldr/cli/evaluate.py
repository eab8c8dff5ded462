"""``commsldr evaluate``: the test accuracy of checkpoints, float and at real coded budgets.

MODEL is a shipped model's name (``commsldr list pretrained``; its SHA-256 is checked) or a
checkpoint file written by ``commsldr train``. For each model it prints the float accuracy on
the test split with its 95 % binomial interval, the accuracy ``index.json`` records (shipped
models), optionally the mirror test-time-augmented accuracy (reported apart, never the headline)
and the accuracy at mean **real coded payload budgets** (bits per image from the constriction
codec's bytes, each image coded alone, at the entropy-based allocation's scale solved for the
budget on 500 training images per class, never on the test images it scores; for an
entropy-bottleneck model, the rate point most accurate on those training images among those
whose mean coded bits there fit the budget).
The quantizer uses the training-set latent statistics stored in the checkpoint (without them,
those of the calibration images). The test payload reached (mean, and p95 per image) is printed
beside each accuracy: the mean can exceed the budget a little, since nothing was fitted on it.

examples:
  commsldr evaluate cifar10-ce-d64 --dataset imagefolder --data-root PATH/cifar10-jpeg
  commsldr evaluate cifar10-ce-d64 cifar10-ldr-ft-d64 --dataset cifar10 --download \\
      --budgets 10,14,20,28 --flip-tta --json scores.json
  commsldr evaluate runs/train/model.pt --dataset synthetic
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from commsldr.errors import UserError

#: the dataset names :func:`commsldr.data.load_dataset` accepts (repeated here so that
#: ``--help`` needs no torch)
DATASET_NAMES = ("synthetic", "cifar10", "cifar100", "imagefolder")


def _budgets(text: str) -> list[float]:
    items = [v.strip() for v in text.split(",")]
    if text.strip() and not items[-1]:  # "8,14," : a trailing comma is harmless
        items.pop()
    if any(not v for v in items):
        raise argparse.ArgumentTypeError(f"an empty item in {text!r}; give numbers of bits "
                                         f"separated by commas, e.g. 8,14,20")
    try:
        values = [float(v) for v in items]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}") from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"budgets must be positive numbers of bits, got {text!r}")
    if len(set(values)) < len(values):
        twice = sorted({v for v in values if values.count(v) > 1})
        raise argparse.ArgumentTypeError(f"{', '.join(f'{v:g}' for v in twice)} given more than "
                                         f"once in {text!r}")
    return values


#: a file larger than this is never taken for an earlier --json output (it is not overwritten)
_JSON_OUTPUT_MAX_BYTES = 64 * 2**20


def _check_json_target(target: str, inputs: list[Path]) -> None:
    """Refuse a ``--json`` file that cannot be written, or whose writing would lose a file that
    is not an earlier ``--json`` output (a checkpoint being evaluated, any other file)."""
    path = Path(target)
    if path.is_dir():
        raise UserError("--json", f"{target} is a directory; give a file name, e.g. "
                                  f"{path / 'scores.json'}")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise UserError("--json", f"the directory of {target} "
                        + ("is a file" if parent.exists() else "does not exist"))
    if not path.exists():
        return
    if any(path.resolve() == p.resolve() for p in inputs):
        raise UserError("--json", f"{target} is a checkpoint being evaluated; give another file")
    try:
        ok = path.stat().st_size <= _JSON_OUTPUT_MAX_BYTES and \
            isinstance(json.loads(path.read_bytes()), dict)
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise UserError("--json", f"{target} exists and is not an earlier --json output; "
                                  f"refusing to overwrite it (remove it or give another file)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="+", metavar="MODEL",
                   help="a shipped model name (commsldr list pretrained) or a checkpoint file")
    p.add_argument("--dataset", default="cifar10", metavar="NAME",
                   help=f"test data: {', '.join(DATASET_NAMES)} (default cifar10)")
    p.add_argument("--data-root", default=None,
                   help="dataset directory (imagefolder: with train/ and test/; cifar: "
                   "torchvision's root, default the cache)")
    p.add_argument("--download", action="store_true", help="let torchvision download CIFAR")
    p.add_argument("--test-per-class", type=int, default=None, metavar="N",
                   help="evaluate on N test images per class (stratified, seed 0) instead of all")
    p.add_argument("--budgets", type=_budgets, default=[], metavar="B1,B2,..",
                   help="also the accuracy at these mean real coded payloads (bits per image)")
    p.add_argument("--flip-tta", action="store_true",
                   help="also the accuracy with mirror test-time augmentation (reported apart)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="torch threads")
    p.add_argument("--json", default=None, metavar="FILE", help="also write every number here")


def _index_entry_of_file(path: Path) -> dict[str, Any]:
    """The index entry of a shipped model whose file has ``path``'s SHA-256 (``{}`` if none): a
    checkpoint named by its path still shows what ``index.json`` records for it."""
    from commsldr.models.pretrained import (
        PretrainedError,
        list_pretrained,
        pretrained_info,
        sha256_file,
    )

    try:
        names = list_pretrained()
    except PretrainedError:
        return {}
    digest = sha256_file(path)
    for name in names:
        entry = pretrained_info(name)
        if entry.get("sha256") == digest:
            return {**entry, "name": name}
    return {}


def _resolve(model: str) -> tuple[Path, dict[str, Any]]:
    """``(checkpoint path, index entry or {})`` of a name or a file."""
    from commsldr.models.pretrained import (
        PretrainedError,
        get_pretrained_path,
        list_pretrained,
        pretrained_info,
    )

    path = Path(model)
    if path.is_file():
        return path, _index_entry_of_file(path)
    try:
        return get_pretrained_path(model), pretrained_info(model)
    except PretrainedError as exc:
        if os.sep in model or model.endswith(".pt"):
            raise UserError(model, "no such checkpoint file") from None
        from commsldr.errors import did_you_mean

        raise UserError(model, f"neither a checkpoint file nor a shipped model"
                        f"{did_you_mean(model, list_pretrained())}; "
                        "`commsldr list pretrained` names them") from exc


def main(args: argparse.Namespace) -> int:
    import torch

    from commsldr.coding import load_latent_stats
    from commsldr.data import load_dataset
    from commsldr.train.assess import assess
    from commsldr.train.bottleneck import load_entropy_bottleneck
    from commsldr.train.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint

    if args.dataset not in DATASET_NAMES:
        raise UserError("--dataset", f"{args.dataset!r} is not one of {', '.join(DATASET_NAMES)}")
    if args.dataset == "imagefolder" and not args.data_root:
        raise UserError("--data-root", "needed with --dataset imagefolder (train/ and test/)")
    if args.budgets and args.dataset == "imagefolder" and not (Path(args.data_root) / "train").is_dir():
        raise UserError("--budgets", "needs the training split as well: each budget's scale or "
                        "rate point is chosen on training images, never on the test images, and "
                        f"{args.data_root} has no train/ folder")
    if args.test_per_class is not None and args.test_per_class < 1:
        raise UserError("--test-per-class", f"must be >= 1, got {args.test_per_class}")
    if args.threads is not None:
        if args.threads < 1:
            raise UserError("--threads", f"must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    resolved = [(m, *_resolve(m)) for m in args.models]  # every name checked before any work
    if args.json:
        _check_json_target(args.json, [path for _, path, _ in resolved])
    quiet = bool(getattr(args, "quiet", False))
    data_kw = dict(root=args.data_root, download=args.download, progress=not quiet)
    test = load_dataset(args.dataset, "test", num_per_class=args.test_per_class, **data_kw)
    models = {}
    for name, path, _ in resolved:  # every model checked against the data before any work
        ckpt = load_checkpoint(path)
        model = models[name] = model_from_checkpoint(ckpt, path)
        if int(model.num_classes) != test.num_classes:
            raise UserError(name, f"classifies {model.num_classes} classes, the {args.dataset} "
                            f"test split has {test.num_classes}")
        size = int(model.config.get("image_size") or test.images.shape[-1])
        if tuple(test.images.shape[-2:]) != (size, size):
            raise UserError(name, f"takes {size}x{size} images, the {args.dataset} test split "
                            f"has {test.images.shape[-2]}x{test.images.shape[-1]}")
        trained = ckpt.get("train_config")
        trained_on = trained.get("dataset") if isinstance(trained, dict) else None
        if isinstance(trained_on, str) and (trained_on == "synthetic") != (args.dataset == "synthetic"):
            print(f"commsldr evaluate: warning: {name} was trained on {trained_on} images; on "
                  f"{args.dataset} images its labels mean other classes, so its accuracy there "
                  "measures nothing it learned", file=sys.stderr)
    train = None
    if args.budgets:  # the scales / rate points are chosen on training images, never on test
        from commsldr.train.screening import CALIBRATION_PER_CLASS

        train = load_dataset(args.dataset, "train", num_per_class=CALIBRATION_PER_CLASS,
                             **data_kw)
    rows: dict[str, dict[str, Any]] = {}
    for i, (name, path, entry) in enumerate(resolved, 1):
        model = models[name]
        if not quiet:
            print(f"commsldr evaluate: {name} ({i}/{len(resolved)}) on {len(test):,} test images",
                  file=sys.stderr, flush=True)
        stats = eb = None
        if args.budgets:
            try:
                eb = load_entropy_bottleneck(path)
            except CheckpointError:
                try:
                    stats = load_latent_stats(path)
                except KeyError:
                    stats = None  # computed on the calibration images
        row = assess(model, test, budgets_bits=args.budgets, flip_tta=args.flip_tta,
                     stats=stats, train=train, eb=eb)
        row.update(checkpoint=str(path), latent_dim=int(model.latent_dim),
                   backbone=model.config.get("backbone"), index_test_acc=entry.get("test_acc"),
                   index_acc_at_bits=entry.get("acc_at_bits"))
        rows[name] = row
    print(_table(rows, args.budgets, args.flip_tta))
    if args.json:
        from commsldr._atomic import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps({"dataset": args.dataset, "models": rows},
                                                      indent=1) + "\n")
    return 0


def _table(rows: dict[str, dict[str, Any]], budgets: list[float], flip_tta: bool) -> str:
    head = ["model", "d_y", "test images", "float acc (95 % CI)", "index.json"]
    if flip_tta:
        head.append("flip TTA")
    head += [f"@ {b:g} bits" for b in budgets]
    lines = [head]
    for name, r in rows.items():
        lo, hi = r["float_acc_ci95"]
        idx = r["index_test_acc"]
        cells = [name, str(r["latent_dim"]), f"{r['test_images']:,}",
                 f"{100 * r['float_acc']:.2f} % [{100 * lo:.2f}, {100 * hi:.2f}]",
                 "—" if idx is None else f"{100 * idx:.2f} %"]
        if flip_tta:
            cells.append(f"{100 * r['flip_tta_acc']:.2f} %")
        cheapest = min((p["calibration_bits"] for p in r.get("rate_points") or []
                        if p.get("calibration_bits") is not None), default=None)
        at_bits = r.get("index_acc_at_bits") or {}
        for b in r.get("budgets", []):
            key = f"{b['budget_bits']:g}"
            if key in at_bits:  # what index.json records at this budget
                idx_b = at_bits[key]
                ref = "; index: " + ("infeasible" if idx_b is None
                                     else f"{100 * idx_b['accuracy']:.2f} %")
            else:
                ref = ""
            if b["feasible"]:
                cells.append(f"{100 * b['accuracy']:.2f} % ({b['payload_bits']:.1f} b, "
                             f"p95 {b['payload_p95']:.0f}{ref})")
            elif cheapest is None:
                cells.append(f"infeasible{f' ({ref[2:]})' if ref else ''}")
            else:
                cells.append(f"infeasible (cheapest rate point {cheapest:.2f} b{ref})")
        lines.append(cells)
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
           for row in lines]
    if budgets:
        out.append("@ B bits: accuracy at a mean real coded payload of at most B bits per image "
                   "on training images (the test payload reached, mean and 95th percentile per "
                   "image, in brackets; for a shipped model, what index.json records there)")
        if any(not b["feasible"] for r in rows.values() for b in r.get("budgets", [])):
            out.append("infeasible: no quantization scale (or rate point) keeps the mean payload "
                       "of the calibration images within B bits; an image coded alone costs at "
                       "least one byte")
    return "\n".join(out)
