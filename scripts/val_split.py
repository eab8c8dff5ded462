"""Hold a validation split out of an ImageFolder's training images, as an ImageFolder of links.

    python scripts/val_split.py --data PATH/cifar10-jpeg --out PATH/cifar10-val --fraction 0.1

writes ``OUT/train/<class>/`` (links to the kept training images) and ``OUT/test/<class>/``
(links to the held-out ones: ``fraction`` of every class, drawn with ``--seed``), so that
``commsldr train --dataset imagefolder --data-root OUT`` trains on the rest and reports its
``test_acc`` on the validation images; the real test set is never read. A choice made on that
number (an epoch count, a learning rate) does not see the test set. Idempotent: an existing
``OUT`` holding the same split is left as it is; a different one is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

SUFFIXES = (".jpg", ".jpeg", ".png")


def split_files(train_dir: Path, fraction: float, seed: int) -> dict[str, tuple[list[Path], list[Path]]]:
    """Per class (sorted): (kept, held-out) files, ``round(fraction * n)`` held out per class."""
    rng = np.random.default_rng(seed)
    out = {}
    for cls in sorted(d for d in train_dir.iterdir() if d.is_dir()):
        files = sorted(f for f in cls.iterdir() if f.suffix.lower() in SUFFIXES)
        order = rng.permutation(len(files))
        n_val = int(round(fraction * len(files)))
        held = {int(i) for i in order[:n_val]}
        out[cls.name] = ([f for i, f in enumerate(files) if i not in held],
                         [f for i, f in enumerate(files) if i in held])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="ImageFolder root with train/")
    ap.add_argument("--out", type=Path, required=True, help="new root: train/ and test/ (links)")
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    train_dir = args.data.resolve() / "train"
    if not train_dir.is_dir():
        print(f"val_split.py: --data {args.data}: no train/ folder", file=sys.stderr)
        return 2
    if not 0 < args.fraction < 1:
        print(f"val_split.py: --fraction must be in (0, 1), got {args.fraction}", file=sys.stderr)
        return 2
    plan = split_files(train_dir, args.fraction, args.seed)
    want = {(part, cls, f.name): f for cls, (kept, held) in plan.items()
            for part, files in (("train", kept), ("test", held)) for f in files}
    if args.out.exists():
        have = {(p.parent.parent.name, p.parent.name, p.name): p.resolve()
                for p in args.out.glob("*/*/*")}
        if have != {k: v.resolve() for k, v in want.items()}:
            print(f"val_split.py: --out {args.out} exists and holds another split; "
                  "give a new folder", file=sys.stderr)
            return 2
        print(f"{args.out}: the split exists")
        return 0
    for (part, cls, name), src in want.items():
        dst = args.out / part / cls / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(src)
    n_val = sum(len(h) for _, h in plan.values())
    print(f"{args.out}: train/ {len(want) - n_val} images, test/ (validation) {n_val} images, "
          f"{len(plan)} classes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
