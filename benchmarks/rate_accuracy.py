"""Accuracy vs real coded bits per image on CIFAR-10: the rate–accuracy frontier of each scheme.

    python benchmarks/rate_accuracy.py --data-root PATH/cifar10-jpeg [--json out.json]

Schemes (shipped models, ``commsldr list pretrained``; every seed that is shipped):

``entropy-bottleneck``  ``cifar10-eb-d64[-s1|-s2]``: the learned factorized prior, one point per
                        rate point of the one encoder;
``ce-control``          ``cifar10-trunc128to64-ce-control[-s1|-s2]`` (CE-T + 4 epochs of CE
                        fine-tuning: the entropy bottleneck's training budget), the paper's
                        entropy-based allocation ``precision``;
``ce-control-klt-wf``   the same models, KLT fitted on training latents + reverse water-filling;
``ldr-ft``              ``cifar10-ldr-ft-d64[-s1|-s2]`` (the paper's method), ``precision``;
``edge-label``          the CE control's whole network on the sensor, its label sent in 4 bits,
                        one byte when the image is sent alone (as every scheme here).

Every bit count is real: the constriction range coder's bytes of each test image coded alone
(packet header and CRC not included). The scale of each budget of the split schemes is solved on
500 training images per class, never on the test images (:mod:`commsldr.train.screening`). A
frontier is the set of measured (mean payload bits, accuracy) points that no other point of the
same model beats in both; the accuracy at ``B`` bits is the piecewise-linear interpolation between
its points (time-sharing two operating points over the images reaches any mean rate between
them), the last point's accuracy beyond it, ``null`` below its cheapest point. Per scheme the
JSON gives every seed's frontier points, the accuracy at 8, 14 and 20 bits per seed, their mean,
and a 95 % half-width combining the seeds' t interval and the test set's binomial noise in
quadrature (``ci95``), and the sensor's multiply-accumulates per image (``sensor_macs``).

``--cap`` adds the **per-image cap** variant beside the mean budgets: a budget ``B`` then bounds
the payload of *every* calibration image (``scale_for_budget(..., statistic="max")``), not their
mean; an entropy-bottleneck model takes, among its rate points whose largest calibration image
is within ``B``, the most accurate on the calibration images (the rule of a mean budget); the
edge label's one byte is its own cap. A cap is not time-shared (mixing two operating points
keeps the larger one's largest image), so the accuracy at a cap is the measured point of that
budget (``null`` when no scale or rate point fits). The
JSON gets ``cap`` beside ``models`` / ``accuracy_at_bits`` of each scheme, with the test images'
real payload (mean, p50, p95, max) at each cap: the test images' max can exceed the cap, as
nothing was fitted on them.

``--images-per-message M`` codes ``M`` consecutive test images to one range-coder message
(as a packet of ``M`` images does, :meth:`~commsldr.coding.LatentCodec.message_bits`): every bit
count is then each image's share of its message, the scales are solved for that share on the
calibration images, the budgets 3 and 4 bits join the ladder, and the edge label costs
``ceil(4 M / 8)`` bytes per message. The byte rounding then no longer puts a floor of 8 bits
under every image. Not with ``--cap`` (a share of a message is not an image's own payload).

It prints ONE JSON object. Measurements are cached per checkpoint (SHA-256) under ``--cache``.
``--figure F`` draws accuracy vs real bits (per scheme the seeds' mean frontier and its combined
95 % band, each seed thin); ``--redraw JSON --figure F`` draws it again from a JSON of this
benchmark without measuring.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

TARGETS_BITS = (8.0, 14.0, 20.0)
#: budgets (bits per image) the split schemes are measured at
SPLIT_BUDGETS = (5.0, 6.0, 8.0, 10.0, 12.0, 14.0, 17.0, 20.0, 24.0, 28.0, 40.0, 64.0)
#: added to the ladder when several images share a message (an image's share can be < 8 bits)
MESSAGE_BUDGETS = (3.0, 4.0)
SEED_SUFFIX = {0: "", 1: "-s1", 2: "-s2"}
SCHEMES = {
    "entropy-bottleneck": "cifar10-eb-d64",
    "ce-control": "cifar10-trunc128to64-ce-control",
    "ce-control-klt-wf": "cifar10-trunc128to64-ce-control",
    "ldr-ft": "cifar10-ldr-ft-d64",
    "edge-label": "cifar10-trunc128to64-ce-control",
}
VERSION = 1
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}


def frontier(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (bits, accuracy) points not beaten in both by another point, sorted by bits."""
    best: list[tuple[float, float]] = []
    for b, a in sorted(points, key=lambda p: (p[0], -p[1])):
        if not best or a > best[-1][1]:
            best.append((b, a))
    return best


def accuracy_at(front: list[tuple[float, float]], bits: float) -> float | None:
    """Piecewise-linear (time-sharing) accuracy at ``bits`` on a frontier; ``None`` below it."""
    if not front or bits < front[0][0]:
        return None
    for (b0, a0), (b1, a1) in zip(front, front[1:], strict=False):
        if b0 <= bits <= b1:
            return a0 + (a1 - a0) * (bits - b0) / (b1 - b0) if b1 > b0 else max(a0, a1)
    return front[-1][1]


def combined_ci95(values: list[float], n_test: int) -> float:
    """Half-width: the seeds' t interval (0 for one seed) and the mean's binomial test-set noise
    (``1.96 sqrt(p (1 - p) / n)``), in quadrature."""
    p = float(np.mean(values))
    binom = 1.96 * math.sqrt(max(p * (1 - p), 0.0) / n_test)
    seeds = 0.0
    if len(values) > 1:
        seeds = _T975.get(len(values) - 1, 1.96) * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return math.sqrt(seeds ** 2 + binom ** 2)


_POINT_KEYS = ("budget_bits", "scale", "calibration_bits", "payload_bits", "payload_p50",
               "payload_p95", "payload_max", "accuracy")


#: (claim, scheme A, scheme B, direction the claim states for A - B), judged at each target
CLAIMS = [("the paper's LDR-FT beats a learned entropy bottleneck at equal real bits", "ldr-ft",
           "entropy-bottleneck", +1)]


def paired_claim(a: dict[str, float | None], b: dict[str, float | None], n_test: int,
                 direction: int) -> dict[str, Any] | None:
    """A − B over the seeds both have (same seed, same test images): the mean difference ± the
    seeds' t half-width ⊕ the test set's binomial half-width of the mean difference (in
    quadrature), and the study's verdict (holds / refuted / inconclusive). ``a``, ``b``: seed
    index -> accuracy (``None``: not reached)."""
    seeds = sorted(k for k in a if k in b and a[k] is not None and b[k] is not None)
    if not seeds:
        return None
    pa, pb = [a[k] for k in seeds], [b[k] for k in seeds]
    diffs = [x - y for x, y in zip(pa, pb, strict=True)]
    mean = float(np.mean(diffs))
    t_half = 0.0
    if len(diffs) > 1:
        t_half = _T975.get(len(diffs) - 1, 1.96) * float(np.std(diffs, ddof=1)) / math.sqrt(
            len(diffs))
    var = sum(x * (1 - x) + y * (1 - y) for x, y in zip(pa, pb, strict=True)) / n_test
    test_half = 1.96 * math.sqrt(var) / len(diffs)
    half = math.hypot(t_half, test_half)
    lo, hi = (mean - half, mean + half) if direction > 0 else (-(mean + half), -(mean - half))
    verdict = "holds" if lo > 0 else "refuted" if hi < 0 else "inconclusive"
    return {"seeds": seeds, "diffs": diffs, "mean": mean, "t_half": t_half,
            "test_half": test_half, "lo": mean - half, "hi": mean + half, "verdict": verdict}


def _measure_split(path: Path, kind: str, cal: Any, test: Any,
                   statistic: str = "mean", images_per_message: int = 1) -> list[dict[str, Any]]:
    """The feasible budgets of :data:`SPLIT_BUDGETS` (and :data:`MESSAGE_BUDGETS` with several
    images per message); ``statistic="max"``: per-image caps."""
    from commsldr.coding import encode_dataset, fit_klt, load_latent_stats
    from commsldr.train import load_model
    from commsldr.train.screening import rate_accuracy_from_latents

    model = load_model(path)
    y, y_cal = encode_dataset(model, test), encode_dataset(model, cal)
    budgets = list(SPLIT_BUDGETS) + (list(MESSAGE_BUDGETS) if images_per_message > 1 else [])
    if kind == "klt-wf":
        klt, stats = fit_klt(y_cal)
        rate = rate_accuracy_from_latents(model, y, test.labels, y_cal, stats, budgets,
                                          rule="waterfill", transform=klt, statistic=statistic,
                                          images_per_message=images_per_message)
    else:
        rate = rate_accuracy_from_latents(model, y, test.labels, y_cal, load_latent_stats(path),
                                          budgets, statistic=statistic,
                                          images_per_message=images_per_message)
    return [{k: b[k] for k in _POINT_KEYS} for b in rate["budgets"] if b["feasible"]]


def _measure_eb_cap(path: Path, cal: Any, test: Any) -> list[dict[str, Any]]:
    """Each rate point with the largest coded calibration image (``calibration_max``) beside
    its test numbers: the rate point a per-image cap picks."""
    from commsldr.train import load_model
    from commsldr.train.bottleneck import eb_latents, eb_rate_points, load_entropy_bottleneck

    model, eb = load_model(path), load_entropy_bottleneck(path)
    pts = eb_rate_points(model, eb, test, cal)
    lat = eb_latents(model, cal)
    for p in pts:
        p["calibration_max"] = float(eb.source_coder(p["rate"]).image_bits(lat).max())
    return pts


def cap_points(scheme: str, pts: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """The operating point at each cap of :data:`SPLIT_BUDGETS` (and :data:`TARGETS_BITS`):
    split schemes, the budget's own max-statistic point; the entropy bottleneck, among the rate
    points whose ``calibration_max`` is within the cap, the most accurate on the calibration
    images (:func:`~commsldr.train.bottleneck.best_rate_point`); the edge label, its one point
    when its bits fit. ``None`` where nothing fits."""
    from commsldr.train.bottleneck import best_rate_point

    out: dict[str, dict[str, Any] | None] = {}
    for cap in sorted(set(SPLIT_BUDGETS) | set(TARGETS_BITS)):
        if scheme == "entropy-bottleneck":
            # the deployed rule of a mean budget (most accurate on the calibration images)
            best = best_rate_point([p for p in pts if p["calibration_max"] <= cap])
        elif scheme == "edge-label":
            best = pts[0] if pts[0]["payload_max"] <= cap else None
        else:
            best = next((p for p in pts if p["budget_bits"] == cap), None)
        out[f"{cap:g}"] = best
    return out


def _measure_eb(path: Path, cal: Any, test: Any,
                images_per_message: int = 1) -> list[dict[str, Any]]:
    from commsldr.train import load_model
    from commsldr.train.bottleneck import eb_rate_points, load_entropy_bottleneck

    return eb_rate_points(load_model(path), load_entropy_bottleneck(path), test, cal,
                          images_per_message=images_per_message)


def label_bits(num_classes: int, num_images: int, images_per_message: int = 1) -> np.ndarray:
    """Each image's share of the payload when its label (``ceil(log2 C)`` bits) is sent with
    ``images_per_message - 1`` others in whole bytes (the last message may hold fewer)."""
    per = max(1, math.ceil(math.log2(int(num_classes))))
    out = np.empty(num_images)
    for i in range(0, num_images, images_per_message):
        n = min(images_per_message, num_images - i)
        out[i: i + n] = 8 * math.ceil(per * n / 8) / n
    return out


def _measure_edge(path: Path, test: Any, images_per_message: int = 1) -> list[dict[str, Any]]:
    from commsldr.schemes._common import predict_images
    from commsldr.train import load_model
    from commsldr.train.screening import bits_summary

    model = load_model(path)
    pred = predict_images(model, test.images)
    # the labels in whole bytes, alone (one byte each) or several to a message
    spent = bits_summary(label_bits(int(model.num_classes), len(test), images_per_message))
    acc = float((pred == test.labels.numpy()).mean())
    return [{"payload_bits": spent["mean"], "payload_p50": spent["p50"],
             "payload_p95": spent["p95"], "payload_max": spent["max"], "accuracy": acc}]


def measure(scheme: str, path: Path, cal: Any, test: Any, cache: Path,
            cap: bool = False, images_per_message: int = 1) -> list[dict[str, Any]]:
    """The scheme's measured points (``cap``: the per-image-cap variant's; several images per
    message: each image's share of its message), cached."""
    from commsldr.models.pretrained import sha256_file

    variant = ("-cap" if cap else "") + (f"-m{images_per_message}" if images_per_message > 1
                                         else "")
    entry = cache / f"{sha256_file(path)[:24]}-{scheme}{variant}-v{VERSION}-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    if cap and scheme == "entropy-bottleneck":
        pts = _measure_eb_cap(path, cal, test)
    elif cap and scheme != "edge-label":
        pts = _measure_split(path, "klt-wf" if scheme.endswith("klt-wf") else "precision",
                             cal, test, statistic="max")
    elif scheme == "entropy-bottleneck":
        pts = _measure_eb(path, cal, test, images_per_message)
    elif scheme == "edge-label":
        pts = _measure_edge(path, test, images_per_message)
    else:
        pts = _measure_split(path, "klt-wf" if scheme.endswith("klt-wf") else "precision",
                             cal, test, images_per_message=images_per_message)
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(pts) + "\n")
    return pts


def _cap_block(scheme: str, names: list[str], cal: Any, test: Any, cache: Path,
               n_test: int) -> dict[str, Any]:
    """The per-image-cap variant of one scheme over its seeds: each model's point at every cap
    and, at :data:`TARGETS_BITS`, the mean accuracy over seeds with the combined half-width and
    the test images' real payload (seeds' mean of mean / p50 / p95, largest max)."""
    from commsldr.models.pretrained import get_pretrained_path

    models = {}
    for name in names:
        print(f"rate_accuracy: {scheme} {name} (per-image cap)", file=sys.stderr, flush=True)
        pts = measure(scheme, get_pretrained_path(name), cal, test, cache, cap=True)
        models[name] = {"points": pts, "at_cap": cap_points(scheme, pts)}
    summary: dict[str, Any] = {}
    for b in TARGETS_BITS:
        at = [m["at_cap"][f"{b:g}"] for m in models.values()]
        if not at or any(a is None for a in at):
            summary[f"{b:g}"] = None
            continue
        accs = [a["accuracy"] for a in at]
        summary[f"{b:g}"] = {
            "mean": float(np.mean(accs)), "ci95": combined_ci95(accs, n_test), "seeds": len(at),
            "payload_bits": float(np.mean([a["payload_bits"] for a in at])),
            "payload_p50": float(np.mean([a["payload_p50"] for a in at])),
            "payload_p95": float(np.mean([a["payload_p95"] for a in at])),
            "payload_max": float(max(a["payload_max"] for a in at))}
    return {"models": models, "accuracy_at_bits": summary}


def sensor_macs(scheme: str, path: Path, test: Any) -> float:
    """Multiply-accumulates per image on the sensor: the encoder (split schemes, entropy
    bottleneck) or the whole network (edge label), counted by
    :func:`commsldr.schemes.cost.count_macs`."""
    from commsldr.data import to_float
    from commsldr.schemes.cost import count_macs
    from commsldr.train import load_model

    model = load_model(path).eval()
    x = to_float(test.images[:2])
    with torch.no_grad():
        if scheme == "edge-label":
            return float(count_macs(lambda z: model.decode(model.encode(z)), x))
        return float(count_macs(model.encode, x))


def mean_frontier(fronts: list[list[tuple[float, float]]], n_test: int,
                  grid_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seeds' mean accuracy on ``grid_bits`` (each seed's frontier interpolated, as
    :func:`accuracy_at`) and its combined 95 % half-width (:func:`combined_ci95`), where every
    seed reaches the rate: ``(bits, mean, half-width)`` of those grid points."""
    keep, means, halves = [], [], []
    for b in grid_bits:
        vals = [accuracy_at(f, float(b)) for f in fronts]
        if fronts and all(v is not None for v in vals):
            keep.append(float(b))
            means.append(float(np.mean(vals)))
            halves.append(combined_ci95(vals, n_test))
    return np.array(keep), np.array(means), np.array(halves)


def figure(result: dict[str, Any], path: Path) -> None:
    """Accuracy vs mean real payload bits: per scheme the seeds' mean frontier with its combined
    95 % band (seeds and test set), from where every seed has a point to the last measured
    rate; each seed's frontier thin and its measured points as dots. A scheme with one point
    per seed (the edge label) is its mean with the half-width as an error bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_test = int(result["test_images"])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for scheme in (s for s in SCHEMES if s in result["schemes"]):  # one order and colour each
        v = result["schemes"][scheme]
        colour = f"C{list(SCHEMES).index(scheme)}"
        fronts = [[(b, a) for b, a in m["frontier"]] for m in v["models"].values()]
        if not fronts:
            continue
        for m, front in zip(v["models"].values(), fronts, strict=True):
            pts = sorted((q["payload_bits"], 100 * q["accuracy"]) for q in m["points"])
            ax.plot(*zip(*pts, strict=True), "o", color=colour, ms=2.5, alpha=0.35)
            if len(front) > 1:
                ax.plot([b for b, _ in front], [100 * a for _, a in front], "-", color=colour,
                        lw=0.7, alpha=0.35)
        label = f"{scheme} ({len(fronts)} seed{'s' if len(fronts) > 1 else ''})"
        if all(len(f) == 1 for f in fronts):
            bits = float(np.mean([f[0][0] for f in fronts]))
            acc = [f[0][1] for f in fronts]
            ax.errorbar([bits], [100 * float(np.mean(acc))],
                        yerr=[100 * combined_ci95(acc, n_test)], fmt="o", color=colour, ms=5,
                        capsize=3, label=label)
            continue
        lo = max(f[0][0] for f in fronts)
        hi = max(f[-1][0] for f in fronts)
        bits, mean, half = mean_frontier(fronts, n_test, np.geomspace(lo, hi, 200))
        ax.plot(bits, 100 * mean, "-", color=colour, lw=1.8, label=label)
        ax.fill_between(bits, 100 * (mean - half), 100 * np.minimum(mean + half, 1.0),
                        color=colour, alpha=0.18, lw=0)
    m = int(result.get("images_per_message", 1))
    ax.set_xscale("log", base=2)
    ax.set_xlim(2 if m > 1 else 4, 64)
    ax.set_xlabel("mean real payload bits per image (each image coded alone)" if m == 1 else
                  f"mean real payload bits per image ({m} images to a message)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("seeds' mean with combined 95 % band; thin: each seed", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from commsldr.data import load_dataset
    from commsldr.models.pretrained import PretrainedError, get_pretrained_path
    from commsldr.train.screening import CALIBRATION_PER_CLASS

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", help="ImageFolder copy of CIFAR-10 (needed unless --redraw)")
    p.add_argument("--test-per-class", type=int, default=None)
    p.add_argument("--schemes", default=",".join(SCHEMES))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--cache", type=Path, default=Path("runs/rate_accuracy_cache"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write the JSON here")
    p.add_argument("--cap", action="store_true",
                   help="also the per-image-cap variant (every calibration image within the "
                        "budget, not their mean)")
    p.add_argument("--figure", type=Path, default=None,
                   help="also draw accuracy vs real bits of every model's points here (PNG)")
    p.add_argument("--images-per-message", type=int, default=1, metavar="M",
                   help="code M consecutive test images to one message (default 1: each alone)")
    p.add_argument("--redraw", type=Path, default=None, metavar="JSON",
                   help="draw --figure from a JSON this benchmark wrote, measuring nothing")
    args = p.parse_args(argv)
    if args.redraw is not None:
        if args.figure is None:
            p.error("--redraw: needs --figure (where to draw)")
        figure(json.loads(args.redraw.read_text()), args.figure)
        return 0
    if args.images_per_message < 1:
        p.error(f"--images-per-message: must be >= 1, got {args.images_per_message}")
    if args.cap and args.images_per_message > 1:
        p.error("--cap: a per-image cap needs each image coded alone (--images-per-message 1)")
    if not args.data_root:
        p.error("--data-root: needed (an ImageFolder copy of CIFAR-10), unless --redraw")
    torch.set_num_threads(args.threads)
    test = load_dataset("imagefolder", "test", root=args.data_root,
                        num_per_class=args.test_per_class)
    cal = load_dataset("imagefolder", "train", root=args.data_root,
                       num_per_class=CALIBRATION_PER_CLASS)
    out: dict[str, Any] = {"test_images": len(test), "calibration_images": len(cal),
                           "images_per_message": args.images_per_message,
                           "targets_bits": list(TARGETS_BITS), "schemes": {}}
    for scheme in args.schemes.split(","):
        if scheme not in SCHEMES:
            p.error(f"--schemes: {scheme!r} is not one of {', '.join(SCHEMES)}")
        per_seed: dict[str, Any] = {}
        for s in (int(v) for v in args.seeds.split(",")):
            name = SCHEMES[scheme] + SEED_SUFFIX[s]
            try:
                path = get_pretrained_path(name)
            except PretrainedError:
                continue
            print(f"rate_accuracy: {scheme} {name}", file=sys.stderr, flush=True)
            pts = measure(scheme, path, cal, test, args.cache,
                          images_per_message=args.images_per_message)
            front = frontier([(q["payload_bits"], q["accuracy"]) for q in pts])
            per_seed[name] = {"points": pts, "frontier": front,
                              "at": {f"{b:g}": accuracy_at(front, b) for b in TARGETS_BITS}}
        summary: dict[str, Any] = {}
        for b in TARGETS_BITS:
            vals = [v["at"][f"{b:g}"] for v in per_seed.values()]
            ok = [v for v in vals if v is not None]
            summary[f"{b:g}"] = ({"mean": float(np.mean(ok)), "ci95": combined_ci95(ok, len(test)),
                                  "seeds": len(ok)} if ok and len(ok) == len(vals) else None)
        macs = None
        if per_seed:
            macs = sensor_macs(scheme, get_pretrained_path(next(iter(per_seed))), test)
        out["schemes"][scheme] = {"models": per_seed, "accuracy_at_bits": summary,
                                  "sensor_macs": macs}
        if args.cap:
            out["schemes"][scheme]["cap"] = _cap_block(scheme, list(per_seed), cal, test,
                                                       args.cache, len(test))
    out["claims"] = []
    for claim, a, b, direction in CLAIMS:
        if a not in out["schemes"] or b not in out["schemes"]:
            continue
        for t in TARGETS_BITS:
            def by_seed(scheme: str, t: float = t) -> dict[str, float | None]:
                return {name.removeprefix(SCHEMES[scheme]) or "-s0": m["at"][f"{t:g}"]
                        for name, m in out["schemes"][scheme]["models"].items()}
            row = paired_claim(by_seed(a), by_seed(b), len(test), direction)
            out["claims"].append({"claim": claim, "a": a, "b": b, "bits": t,
                                  **(row or {"verdict": "not reached"})})
    print(json.dumps(out))
    if args.figure:
        figure(out, args.figure)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
