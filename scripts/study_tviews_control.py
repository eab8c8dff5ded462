"""The control the review asked for: CE fine-tuning on the same T-augmented views LDR-FT's
encoder sees, scored under the study's distortions beside LDR-FT and the light-augmentation CE
control, paired on the same test images.

    python scripts/study_tviews_control.py --data PATH/cifar10-jpeg \\
        --control runs/tviews/ce-tviews-control-d64-s0/model.pt --seed 0 \\
        --json docs/figures/study/tviews_control_s0.json

The control is ``commsldr train --recipe truncate --keep 64 --truncate-finetune ce`` from the
CE-T model of the seed with exactly the settings of ``cifar10-ce-control-d64`` (12 epochs at
lr 0.15, the fast recipe) except ``--augment heavy`` (the family T that LDR-FT's SSL views are
drawn from; ``docs/reproduction.md`` gives the full command). Every model is scored on the same
distorted test images as the study (``scripts/study_measure.py``: severity 3, the seeds
``derive_seed(0, "study/<kind>")``); a difference is the mean of the per-image differences of
correctness with its 95 % interval over the 10,000 test images (a paired normal interval: one
training seed, so the interval is the test set's alone and says nothing of seed-to-seed
spread). Rule: "holds" when the interval lies above 0, "refuted" when below, else
"inconclusive".
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from commsldr.data import derive_seed, distort, load_dataset, to_float
from commsldr.models.pretrained import get_pretrained_path
from commsldr.train import load_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from study_config import DISTORTION_SEVERITY  # noqa: E402

KINDS = ("clean", "rotation", "flip", "color_jitter", "noise")


def correct_per_image(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                      batch: int = 500) -> torch.Tensor:
    """``bool [N]``: whether ``model`` classifies each image right."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            logits = model.decode(model.encode(to_float(images[i:i + batch], channels_last=True)))
            out.append(logits.argmax(1) == labels[i:i + batch])
    return torch.cat(out)


def paired(a: torch.Tensor, b: torch.Tensor) -> dict[str, float | str]:
    """Mean of ``a - b`` (per-image correctness) with its 95 % normal interval and verdict."""
    d = a.double() - b.double()
    mean, sd = float(d.mean()), float(d.std(unbiased=True))
    half = 1.96 * sd / math.sqrt(len(d))
    verdict = "holds" if mean - half > 0 else "refuted" if mean + half < 0 else "inconclusive"
    return {"mean_points": round(100 * mean, 2), "half_width_points": round(100 * half, 2),
            "verdict": verdict}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="ImageFolder copy of CIFAR-10")
    ap.add_argument("--control", type=Path, required=True, help="the T-views control checkpoint")
    ap.add_argument("--seed", type=int, default=0, help="training seed of the three models")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--test-per-class", type=int, default=None,
                    help="score this many test images per class (a quick check; default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    suffix = "" if args.seed == 0 else f"-s{args.seed}"
    models = {"CE on T views": args.control,
              "LDR-FT": get_pretrained_path(f"cifar10-ldr-ft-d64{suffix}"),
              "CE control (light)": get_pretrained_path(f"cifar10-ce-control-d64{suffix}")}
    test = load_dataset("imagefolder", "test", root=args.data, progress=False,
                        num_per_class=args.test_per_class)
    sets = {"clean": test.images}
    for kind in KINDS[1:]:
        g = torch.Generator().manual_seed(derive_seed(0, f"study/{kind}"))
        sets[kind] = distort(test.images, kind, DISTORTION_SEVERITY, g)
    right: dict[str, dict[str, torch.Tensor]] = {}
    for name, path in models.items():
        model = load_model(path)
        right[name] = {k: correct_per_image(model, x, test.labels) for k, x in sets.items()}
        print(name, {k: round(float(v.double().mean()), 4) for k, v in right[name].items()},
              file=sys.stderr)
    out = {"seed": args.seed, "test_images": len(test), "severity": DISTORTION_SEVERITY,
           "accuracy": {n: {k: round(float(v.double().mean()), 4) for k, v in r.items()}
                        for n, r in right.items()},
           "LDR-FT minus CE on T views": {k: paired(right["LDR-FT"][k], right["CE on T views"][k])
                                          for k in KINDS},
           "LDR-FT minus CE control (light)": {
               k: paired(right["LDR-FT"][k], right["CE control (light)"][k]) for k in KINDS},
           "CE on T views minus CE control (light)": {
               k: paired(right["CE on T views"][k], right["CE control (light)"][k]) for k in KINDS}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
