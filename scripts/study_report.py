"""Verdicts of the CIFAR-10 study (``scripts/reproduce_cifar10.sh``) with intervals over seeds.

For every finished model of every seed it measures, on the full test set:

* the float accuracy;
* accuracy at common **real coded payload budgets** (bits per image counted from the
  constriction codec's bytes; :func:`commsldr.train.screening.rate_accuracy_at_budgets`): the
  primary rate axis;
* the paper's Gaussian total entropy at the scale that meets each budget (the secondary axis);
* accuracy under the paper's test-time distortions (severity 3);
* the per-entry standard deviation of the test latents (Fig. 5) and its participation ratio
  ``(Σσ²)² / Σσ⁴`` (how many entries carry the variance).

Then it compares models seed by seed (paired differences) and states a verdict for each claim
with one rule:

    **holds** when the 95 % interval of the mean difference over seeds (Student t, n − 1 degrees
    of freedom) lies entirely on the side of zero the paper claims; **refuted** when it lies
    entirely on the other side; **inconclusive** otherwise. With one seed only, the 95 % interval
    of the difference from the test set alone (two independent binomials) stands in, and the
    verdict says so.

Outputs (``--out``): ``summary.json`` (every number), ``summary.md`` (the tables and verdicts
that ``docs/reproduction.md`` quotes) and figures with one colour per model.

Usage::

    python scripts/study_report.py --runs runs/cifar10-study --data PATH/cifar10-jpeg \
        --out docs/figures/study
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: model label -> stage directory inside ``<runs>/s<seed>/`` (reproduce_cifar10.sh's layout)
MODELS: dict[str, str] = {
    "CE-T": "screen/d64",
    "DuPHiL": "duphil-d64",
    "LDR-FT": "ldr-ft-d64",
    "CE control": "ce-control-d64",
    "CE-T d128": "screen/d128",
    "trunc CE": "trunc-d128-k64-ce",
    "trunc CE control": "trunc-d128-k64-ce-control",
    "trunc LDR-FT": "trunc-d128-k64-ldr-ft",
    "trunc LDR-FT control": "trunc-d128-k64-ldr-ft-control",
    # the long-phase check: LDR-FT with every phase twice as long, and its CE control
    "LDR-FT long": "ldr-ft-long-d64",
    "CE control long": "ce-control-long-d64",
}
#: drawn in the colour of the model they vary, dashed (hatched bars)
VARIANT_OF = {"LDR-FT long": "LDR-FT", "CE control long": "CE control"}
#: drawn in their own panel of the rate-accuracy figure
TRUNCATION_MODELS = ("CE-T d128", "trunc CE", "trunc CE control", "trunc LDR-FT",
                     "trunc LDR-FT control")
SCREEN_DIMS = (32, 64, 128, 256)
BUDGETS_BITS = (10.0, 14.0, 20.0, 28.0, 40.0, 64.0)
#: the paper's quantization comparison: 71.68 -> 13.93 bits of total entropy
LOW_BITS = 14.0
#: a second allocation rule, to tell a property of the latent from one of the paper's rule:
#: reverse water-filling (the rate-distortion optimum for independent Gaussians), measured on
#: the d_y = 64 models at these budgets
CHECK_RULE = "waterfill"
CHECK_RULE_BUDGETS_BITS = (10.0, 14.0, 20.0, 28.0)
CHECK_RULE_MODELS = ("CE-T", "LDR-FT", "CE control", "DuPHiL")
#: transform coding (the textbook scheme the paper's per-entry quantizer leaves out): the KLT of
#: the training latents, then reverse water-filling on the coefficients, on the same models and
#: budgets; keys ``acc@<B>b_klt``
TRANSFORM = "klt"
#: where the class information sits: accuracy with only the k highest-variance entries kept
#: (the others set to their training mean), and with Gaussian noise of std f·sigma_i added to
#: every entry; measured on the CHECK_RULE_MODELS
TOPK = (2, 4, 8, 16, 32)
NOISE_FRACTIONS = (0.5, 1.0)
#: the issue's target: the best model keeps this accuracy at this real payload
TARGET = {"accuracy": 0.88, "budget_bits": 20.0}
DISTORTION_SEVERITY = 3
#: the paper's numbers (Qi et al., CIFAR-10, ResNet-18, d_y = 64)
PAPER = {"CE-T float": 0.9092, "LDR-FT float": 0.9103,
         "loss CE-T (71.68 -> 13.93 bits)": -0.0209, "loss LDR-FT (71.68 -> 13.93 bits)": -0.0039}

# (claim, label A, label B, metric, direction the paper claims for A - B)
CLAIMS: list[tuple[str, str, str, str, int]] = [
    ("LDR-FT beats CE-T (float)", "LDR-FT", "CE-T", "float_acc", +1),
    (f"LDR-FT beats CE-T at {LOW_BITS:g} real bits", "LDR-FT", "CE-T", f"acc@{LOW_BITS:g}b", +1),
    ("LDR-FT beats its equal-epoch CE control (float)", "LDR-FT", "CE control", "float_acc", +1),
    (f"LDR-FT beats its control at {LOW_BITS:g} real bits", "LDR-FT", "CE control",
     f"acc@{LOW_BITS:g}b", +1),
    (f"LDR-FT beats CE-T at {LOW_BITS:g} real bits, water-filling allocation", "LDR-FT", "CE-T",
     f"acc@{LOW_BITS:g}b_{CHECK_RULE}", +1),
    (f"LDR-FT beats its control at {LOW_BITS:g} real bits, water-filling allocation", "LDR-FT",
     "CE control", f"acc@{LOW_BITS:g}b_{CHECK_RULE}", +1),
    (f"LDR-FT beats CE-T at {LOW_BITS:g} real bits, KLT + water-filling", "LDR-FT", "CE-T",
     f"acc@{LOW_BITS:g}b_{TRANSFORM}", +1),
    (f"LDR-FT beats its control at {LOW_BITS:g} real bits, KLT + water-filling", "LDR-FT",
     "CE control", f"acc@{LOW_BITS:g}b_{TRANSFORM}", +1),
    (f"LDR-FT loses less than CE-T under quantization (float -> {LOW_BITS:g} bits)",
     "LDR-FT", "CE-T", "quant_loss", +1),
    ("DuPHiL beats CE-T (float)", "DuPHiL", "CE-T", "float_acc", +1),
    # DuPHiL's 4 epochs on top of CE-T against CE-T + 4 CE epochs (the truncation's control)
    ("DuPHiL beats CE-T trained on with CE as long (float)", "DuPHiL", "trunc CE control",
     "float_acc", +1),
    (f"DuPHiL beats CE-T trained on with CE as long at {LOW_BITS:g} real bits", "DuPHiL",
     "trunc CE control", f"acc@{LOW_BITS:g}b", +1),
    # the paper's Fig. 4: truncated LDR-FT models beat their CE-T counterparts (CE fine-tune)
    ("truncation 128->64 + LDR-FT beats truncation + CE (float)", "trunc LDR-FT", "trunc CE",
     "float_acc", +1),
    (f"truncation 128->64 + LDR-FT beats truncation + CE at {LOW_BITS:g} real bits",
     "trunc LDR-FT", "trunc CE", f"acc@{LOW_BITS:g}b", +1),
    # ... and against the same truncation fine-tuned with CE for as many epochs as LDR-FT
    ("truncation 128->64 + LDR-FT beats its CE control", "trunc LDR-FT", "trunc LDR-FT control",
     "float_acc", +1),
    (f"truncation 128->64 + LDR-FT beats its CE control at {LOW_BITS:g} real bits",
     "trunc LDR-FT", "trunc LDR-FT control", f"acc@{LOW_BITS:g}b", +1),
    # the paper's "about 1 % better after truncation" (d_y = 128 in its Fig. 2 against Fig. 4)
    ("truncation 128->64 + CE beats the untruncated CE-T d128 (float)", "trunc CE", "CE-T d128",
     "float_acc", +1),
    (f"truncation 128->64 + CE beats the untruncated CE-T d128 at {LOW_BITS:g} real bits",
     "trunc CE", "CE-T d128", f"acc@{LOW_BITS:g}b", +1),
    ("truncation 128->64 + CE beats CE-T d64 trained as long", "trunc CE", "trunc CE control",
     "float_acc", +1),
    (f"truncation 128->64 + CE beats CE-T d64 trained as long at {LOW_BITS:g} real bits",
     "trunc CE", "trunc CE control", f"acc@{LOW_BITS:g}b", +1),
    # the paper's Fig. 5 reading: after truncation, LDR-FT suppresses latent variation
    ("truncated LDR-FT spreads less than its CE control: fewer effective latent entries",
     "trunc LDR-FT", "trunc LDR-FT control", "participation_ratio", -1),
    ("LDR-FT with phases twice as long beats its control (float)", "LDR-FT long",
     "CE control long", "float_acc", +1),
    (f"LDR-FT with phases twice as long beats its control at {LOW_BITS:g} real bits",
     "LDR-FT long", "CE control long", f"acc@{LOW_BITS:g}b", +1),
    ("LDR-FT is more robust to distortions than its control", "LDR-FT", "CE control",
     "distorted_acc", +1),
    ("LDR-FT spreads less: fewer effective latent entries than its control", "LDR-FT",
     "CE control", "participation_ratio", -1),
    ("LDR-FT concentrates the class information: beats its control with the 8 "
     "highest-variance entries only", "LDR-FT", "CE control", "acc_top8", +1),
] + [
    # the paper's d_y = 64 is the screen's pick: it beats the other sizes on the screening score
    (f"screening picks d_y = 64 over d_y = {d} (rate-mean)", "CE-T", f"CE-T d{d}", "rate_mean", +1)
    for d in SCREEN_DIMS if d != 64
]
NUM_CLASSES = 10


def add_rate_mean(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with ``rate_mean``: the screening score (rule ``rate-mean``), the mean accuracy
    over :data:`BUDGETS_BITS` with an infeasible budget counted as chance."""
    accs = [result.get(f"acc@{b:g}b") for b in BUDGETS_BITS]
    return {**result, "rate_mean": float(np.mean([1 / NUM_CLASSES if a is None else a
                                                   for a in accs]))}


def t_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95 % Student-t interval of ``values`` (n >= 2)."""
    from scipy import stats

    a = np.asarray(values, dtype=float)
    m = float(a.mean())
    half = float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a)))
    return m, m - half, m + half


def accuracy_interval(values: list[float], n_test: int) -> tuple[float, float, float]:
    """Mean and 95 % interval of accuracies over seeds: Student t for several seeds, the test
    set's binomial interval for one (the tables' †)."""
    if len(values) > 1:
        return t_interval(values)
    m = float(values[0])
    half = 1.96 * math.sqrt(m * (1 - m) / n_test)
    return m, m - half, m + half


#: the y label of every accuracy figure with a band
BAND_LABEL = "test accuracy (%), band: 95 % interval (within 0–100)"


def accuracy_band(values: list[float], n_test: int) -> tuple[float, float, float]:
    """:func:`accuracy_interval` in percent with the interval cut to [0, 100] (an accuracy
    cannot leave it; with two or three seeds the t interval often does), for the figures."""
    m, lo, hi = accuracy_interval(values, n_test)
    return 100 * m, max(0.0, 100 * lo), min(100.0, 100 * hi)


def binomial_diff_interval(p_a: float, p_b: float, n: int) -> tuple[float, float, float]:
    """Difference of two accuracies on ``n`` test images each, 95 % normal interval."""
    d = p_a - p_b
    half = 1.96 * math.sqrt((p_a * (1 - p_a) + p_b * (1 - p_b)) / n)
    return d, d - half, d + half


def test_set_diff_interval(pairs: list[tuple[float, float]], n: int) -> tuple[float, float, float]:
    """Mean over seeds of the differences ``p_a - p_b`` (accuracies on the same ``n`` test images)
    and its 95 % normal interval from test-set sampling alone: each accuracy a binomial
    proportion, the seeds' draws independent. For a mean of proportions on the same images (the
    distortions' mean, the screen's mean over budgets) the binomial variance of the mean's value
    is an upper bound, so the interval is conservative there."""
    d = float(np.mean([a - b for a, b in pairs]))
    var = sum(a * (1 - a) + b * (1 - b) for a, b in pairs) / n / len(pairs) ** 2
    half = 1.96 * math.sqrt(var)
    return d, d - half, d + half


#: metrics that are not accuracies (no binomial test-set interval)
NON_PROPORTIONS = ("quant_loss", "participation_ratio")


def verdict(lo: float, hi: float, direction: int) -> str:
    """The stated rule: the interval on the claimed side of zero, the other side, or neither."""
    lo, hi = (lo, hi) if direction > 0 else (-hi, -lo)
    if lo > 0:
        return "holds"
    if hi < 0:
        return "refuted"
    return "inconclusive"


#: bump when :func:`measure` changes what it measures (old cached measurements are then redone);
#: 2: every budget's scale is solved on training images (``rate_accuracy_at_budgets``), no
#: longer on the test latents
MEASURE_VERSION = 2


def measure_cached(path: Path, train: Any, test: Any, cache: Path) -> dict[str, Any]:
    """:func:`measure`, cached in ``cache/<sha256 of the checkpoint>.json`` (the report is re-run
    as the study's stages finish; a finished model is measured once)."""
    from commsldr.models.pretrained import sha256_file

    key = f"{sha256_file(path)[:24]}-v{MEASURE_VERSION}-n{len(test)}"
    entry = cache / f"{key}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    out = measure(path, train, test, stats=latent_stats_cached(path, train, cache))
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


STATS_VERSION = 1


def latent_stats_cached(path: Path, train: Any, cache: Path) -> Any:
    """The training-set :class:`~commsldr.coding.LatentStats` of the checkpoint ``path``: stored
    in it, or computed once (50,000 training images to encode) and kept in
    ``cache/<sha256 of the checkpoint>-stats-v<N>.json`` (``ship_pretrained.py --stats-cache``
    reads the same files)."""
    from commsldr.coding import LatentStats, compute_latent_stats
    from commsldr.models import model_id
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_checkpoint, load_model

    entry = cache / f"{sha256_file(path)[:24]}-stats-v{STATS_VERSION}.json"
    if entry.is_file():
        return LatentStats.from_dict(json.loads(entry.read_text()))
    ck = load_checkpoint(path)
    model = load_model(path)
    if "latent_stats" in ck and ck.get("model_id") == model_id(model):
        return LatentStats.from_dict(ck["latent_stats"])
    stats = compute_latent_stats(model, train)
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(_stats_json(stats)) + "\n")
    return stats


def measure_rule_cached(path: Path, train: Any, test: Any, cache: Path,
                        rule: str = CHECK_RULE) -> dict[str, Any]:
    """Accuracy and real payload at :data:`CHECK_RULE_BUDGETS_BITS` under allocation ``rule``
    (keys ``acc@<B>b_<rule>``, ``acc@<B>b_<rule>_payload_bits``), cached like
    :func:`measure_cached`."""
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_model
    from commsldr.train.screening import rate_accuracy_at_budgets

    entry = cache / f"{sha256_file(path)[:24]}-{rule}-v{MEASURE_VERSION}-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    model = load_model(path)
    stats = latent_stats_cached(path, train, cache)
    rate = rate_accuracy_at_budgets(model, train, test, list(CHECK_RULE_BUDGETS_BITS), rule=rule,
                                    stats=stats)
    out = _budget_rows(rate, f"_{rule}")
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


def _stats_json(stats: Any) -> dict[str, Any]:
    """A :class:`~commsldr.coding.LatentStats` as JSON-able lists (``LatentStats.from_dict``
    reads it back)."""
    return {k: v.tolist() if isinstance(v, torch.Tensor) else v
            for k, v in stats.to_dict().items()}


def _budget_rows(rate: dict[str, Any], suffix: str) -> dict[str, Any]:
    """``acc@<B>b<suffix>`` and ``..._payload_bits`` of each budget of a
    :func:`~commsldr.train.screening.rate_accuracy_at_budgets` result (``None``: infeasible)."""
    from commsldr.train.screening import budget_key

    out: dict[str, Any] = {}
    for b in rate["budgets"]:
        key = f"{budget_key(b['budget_bits'])}{suffix}"
        out[key] = b["accuracy"] if b["feasible"] else None
        out[key + "_payload_bits"] = b["payload_bits"]
    return out


KLT_VERSION = 1


def measure_klt_cached(path: Path, train: Any, test: Any, cache: Path) -> dict[str, Any]:
    """Accuracy and real payload at :data:`CHECK_RULE_BUDGETS_BITS` with transform coding: the
    KLT fitted on the 50,000 training latents, reverse water-filling on its coefficients (keys
    ``acc@<B>b_klt``, ``acc@<B>b_klt_payload_bits``). The fitted transform is kept in
    ``cache/<sha>-klt-v<N>.json`` beside the numbers."""
    from commsldr.coding import KLTransform, LatentStats, encode_dataset, fit_klt
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_model
    from commsldr.train.screening import rate_accuracy_at_budgets

    sha = sha256_file(path)[:24]
    entry = cache / f"{sha}-{TRANSFORM}-acc-v{KLT_VERSION}.{MEASURE_VERSION}-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    model = load_model(path)
    fitted = cache / f"{sha}-{TRANSFORM}-v{KLT_VERSION}.json"
    if fitted.is_file():
        saved = json.loads(fitted.read_text())
        klt = KLTransform.from_dict(saved["transform"])
        stats = LatentStats.from_dict(saved["coefficient_stats"])
    else:
        ytr = encode_dataset(model, train)
        klt, stats = fit_klt(ytr)
        cache.mkdir(parents=True, exist_ok=True)
        fitted.write_text(json.dumps({"transform": klt.to_dict(),
                                      "coefficient_stats": _stats_json(stats)}) + "\n")
    rate = rate_accuracy_at_budgets(model, train, test, list(CHECK_RULE_BUDGETS_BITS),
                                    rule=CHECK_RULE, stats=stats, transform=klt)
    out = _budget_rows(rate, f"_{TRANSFORM}")
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


def measure_structure_cached(path: Path, train: Any, test: Any, cache: Path) -> dict[str, Any]:
    """``acc_top<k>`` for k in :data:`TOPK` and ``acc_noise<f>`` for f in
    :data:`NOISE_FRACTIONS` (noise drawn from a fixed seed), cached like :func:`measure_cached`."""
    from commsldr.coding import encode_dataset
    from commsldr.models import predict_from_latent
    from commsldr.models.pretrained import sha256_file
    from commsldr.train import load_model

    entry = cache / f"{sha256_file(path)[:24]}-structure-v1-n{len(test)}.json"
    if entry.is_file():
        return json.loads(entry.read_text())
    model = load_model(path).eval()
    stats = latent_stats_cached(path, train, cache)
    y = encode_dataset(model, test)
    mean, std = stats.mean.to(y.dtype), stats.std.to(y.dtype)
    order = torch.argsort(stats.std, descending=True)

    def acc(z: torch.Tensor) -> float:
        return float((predict_from_latent(model, z) == test.labels).double().mean())

    out: dict[str, Any] = {}
    for k in TOPK:
        z = mean.expand_as(y).clone()
        z[:, order[:k]] = y[:, order[:k]]
        out[f"acc_top{k}"] = acc(z)
    for f in NOISE_FRACTIONS:
        g = torch.Generator().manual_seed(0)
        out[f"acc_noise{f:g}"] = acc(y + f * std * torch.randn(y.shape, generator=g, dtype=y.dtype))
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(json.dumps(out) + "\n")
    return out


#: the models whose phases are checked for convergence: the fine-tunes with LDR phases and the
#: CE fine-tunes they are compared with
PHASED_MODELS = ("LDR-FT", "CE control", "DuPHiL", "trunc LDR-FT", "trunc LDR-FT control",
                 "LDR-FT long", "CE control long")
#: a phase counts as converged when its last epoch made less than this share of the decrease of
#: its epoch-mean loss from the first epoch to the last
CONVERGED_SHARE = 0.10


def phase_convergence(runs: Path, seeds: list[int]) -> list[dict[str, Any]]:
    """Per model of :data:`PHASED_MODELS`, seed and phase: the epoch-mean training loss of the
    phase's own objective (L_LDR, L_LDR-SSL or CE) per epoch, from the stage's
    ``<phase>/metrics.jsonl``, the share of the phase's decrease made in its last epoch, and the
    test accuracy after the phase. No model is loaded."""
    rows = []
    for label in PHASED_MODELS:
        for seed in seeds:
            stage = runs / f"s{seed}" / MODELS[label]
            if not (stage / "model.pt").is_file():
                continue
            for metrics in sorted(stage.glob("*/metrics.jsonl")):
                records = [json.loads(line) for line in metrics.read_text().splitlines() if line]
                if not records:
                    continue
                keys = [k for k in records[0] if k.startswith("loss_")]
                key = next((k for k in keys if k != "loss_ce"), "loss_ce")
                losses = [float(r[key]) for r in records]
                drop = losses[0] - losses[-1]
                last = losses[-2] - losses[-1] if len(losses) > 1 else math.nan
                share = last / drop if len(losses) > 1 and drop > 0 else math.nan
                rows.append({"model": label, "seed": seed, "phase": metrics.parent.name,
                             "loss": key.removeprefix("loss_"), "losses": losses,
                             "last_epoch_share": share,
                             "converged": bool(share < CONVERGED_SHARE) if share == share else None,
                             "test_acc": records[-1].get("test_acc")})
    return rows


def target_check(results: dict[str, dict[int, dict[str, Any]]]) -> dict[str, Any]:
    """The best (model, allocation rule) at the target budget, by mean accuracy over seeds."""
    best: dict[str, Any] = {**TARGET, "model": None, "rule": None, "mean_accuracy": None}
    for label, by_seed in results.items():
        for rule, suffix in (("precision", ""), (CHECK_RULE, f"_{CHECK_RULE}"),
                             (f"{TRANSFORM} + {CHECK_RULE}", f"_{TRANSFORM}")):
            key = f"acc@{TARGET['budget_bits']:g}b{suffix}"
            vals = [r[key] for r in by_seed.values() if r.get(key) is not None]
            if vals and (best["mean_accuracy"] is None or np.mean(vals) > best["mean_accuracy"]):
                best.update(model=label, rule=rule, mean_accuracy=float(np.mean(vals)),
                            seeds=len(vals))
    best["met"] = best["mean_accuracy"] is not None and best["mean_accuracy"] >= TARGET["accuracy"]
    return best


def measure(path: Path, train: Any, test: Any, stats: Any) -> dict[str, Any]:
    """Every number of one model (see the module docstring); ``stats``: its training-set latent
    statistics (:func:`latent_stats_cached`)."""
    from commsldr.coding import encode_dataset
    from commsldr.data import derive_seed, distort
    from commsldr.report.paper_figures import paper_entropy_bits
    from commsldr.train import evaluate, load_model
    from commsldr.train.screening import budget_key, rate_accuracy_at_budgets

    model = load_model(path)
    rate = rate_accuracy_at_budgets(model, train, test, list(BUDGETS_BITS), stats=stats)
    y = encode_dataset(model, test)
    std = y.double().std(0).numpy()
    out: dict[str, Any] = {"float_acc": rate["float_acc"], "latent_std": std.tolist(),
                           "participation_ratio": float((std ** 2).sum() ** 2 / (std ** 4).sum())}
    for b in rate["budgets"]:
        key = budget_key(b["budget_bits"])
        out[key] = b["accuracy"] if b["feasible"] else None
        out[key + "_payload_bits"] = b["payload_bits"]
        out[key + "_paper_entropy_bits"] = (
            paper_entropy_bits(std, stats, b["scale"], rate["rule"]) if b["feasible"] else None)
    low = out.get(budget_key(LOW_BITS))
    out["quant_loss"] = None if low is None else low - out["float_acc"]
    dist = {}
    for kind in ("rotation", "flip", "color_jitter", "noise"):
        g = torch.Generator().manual_seed(derive_seed(0, f"study/{kind}"))
        images = distort(test.images, kind, DISTORTION_SEVERITY, g)
        dist[kind] = evaluate(model, type(test)(images, test.labels, test.classes))
    out["distortions"] = dist
    out["distorted_acc"] = float(np.mean(list(dist.values())))
    return out


def compare(results: dict[str, dict[int, dict[str, Any]]], n_test: int) -> list[dict[str, Any]]:
    rows = []
    for claim, a, b, metric, direction in CLAIMS:
        seeds = sorted(set(results.get(a, {})) & set(results.get(b, {})))
        pairs = [(results[a][s][metric], results[b][s][metric]) for s in seeds
                 if results[a][s].get(metric) is not None and results[b][s].get(metric) is not None]
        diffs = [pa - pb for pa, pb in pairs]
        row: dict[str, Any] = {"claim": claim, "a": a, "b": b, "metric": metric,
                               "direction": direction, "seeds": seeds, "diffs": diffs}
        if pairs and metric not in NON_PROPORTIONS:
            _, tlo, thi = test_set_diff_interval(pairs, n_test)
            row.update(test_lo=tlo, test_hi=thi)
        else:
            row.update(test_lo=None, test_hi=None)
        if len(diffs) >= 2:
            m, lo, hi = t_interval(diffs)
            row.update(mean=m, lo=lo, hi=hi, interval="t over seeds")
        elif len(diffs) == 1:
            pa, pb = pairs[0]
            # a difference of differences, or not a proportion: no binomial shortcut
            if metric in NON_PROPORTIONS:
                row.update(mean=diffs[0], lo=-math.inf, hi=math.inf, interval="one seed")
            else:
                m, lo, hi = binomial_diff_interval(pa, pb, n_test)
                row.update(mean=m, lo=lo, hi=hi, interval="test set only (one seed)")
        else:
            row.update(mean=None, lo=None, hi=None, interval="not enough runs")
        row["verdict"] = (verdict(row["lo"], row["hi"], direction) if row["lo"] is not None
                          else "not run yet")
        rows.append(row)
    return rows


def markdown(summary: dict[str, Any]) -> str:
    res, n_test = summary["results"], summary["test_images"]
    lines = ["| model | seeds | float acc | " + " | ".join(
        f"acc @ {b:g} bits" for b in BUDGETS_BITS) + " |", "|---" * (3 + len(BUDGETS_BITS)) + "|"]

    def cell(label: str, key: str) -> str:
        vals = [r[key] for r in res[label].values() if r.get(key) is not None]
        if not vals:
            return "—"
        m, lo, _ = accuracy_interval(vals, n_test)
        return f"{100 * m:.2f} ± {100 * (m - lo):.2f}" + ("†" if len(vals) == 1 else "")

    for label in res:
        lines.append(f"| {label} | {len(res[label])} | {cell(label, 'float_acc')} | " + " | ".join(
            cell(label, f"acc@{b:g}b") for b in BUDGETS_BITS) + " |")
    lines += ["", "Accuracy in %, mean ± 95 % interval over seeds (Student t); † one seed: the "
              "95 % binomial interval of the test set."]
    checked = [lab for lab in CHECK_RULE_MODELS if lab in res]
    if checked:
        lines += ["", f"The same models with the `{CHECK_RULE}` allocation (reverse water-filling) "
                  "instead of the paper's rule:", "",
                  "| model | seeds | " + " | ".join(f"acc @ {b:g} bits" for b in
                                                    CHECK_RULE_BUDGETS_BITS) + " |",
                  "|---" * (2 + len(CHECK_RULE_BUDGETS_BITS)) + "|"]
        for label in checked:
            lines.append(f"| {label} | {len(res[label])} | " + " | ".join(
                cell(label, f"acc@{b:g}b_{CHECK_RULE}") for b in CHECK_RULE_BUDGETS_BITS) + " |")
    coded = [lab for lab in CHECK_RULE_MODELS if lab in res
             and any(f"acc@{LOW_BITS:g}b_{TRANSFORM}" in r for r in res[lab].values())]
    if coded:
        lines += ["", "Transform coding: the KLT of the training latents, then reverse water-filling "
                  "on its (uncorrelated) coefficients, the same codec and real bits:", "",
                  "| model | seeds | " + " | ".join(f"acc @ {b:g} bits" for b in
                                                    CHECK_RULE_BUDGETS_BITS) + " |",
                  "|---" * (2 + len(CHECK_RULE_BUDGETS_BITS)) + "|"]
        for label in coded:
            lines.append(f"| {label} | {len(res[label])} | " + " | ".join(
                cell(label, f"acc@{b:g}b_{TRANSFORM}") for b in CHECK_RULE_BUDGETS_BITS) + " |")
    shown = [lab for lab in CHECK_RULE_MODELS if lab in res
             and any(f"acc_top{TOPK[0]}" in r for r in res[lab].values())]
    if shown:
        lines += ["", "Where the class information sits (float latents): accuracy with only the k "
                  "highest-variance entries kept (the others at their training mean), and with "
                  "Gaussian noise of std f·σ_i added to every entry:", "",
                  "| model | seeds | " + " | ".join(f"top {k}" for k in TOPK) + " | " +
                  " | ".join(f"noise {f:g}σ" for f in NOISE_FRACTIONS) + " |",
                  "|---" * (2 + len(TOPK) + len(NOISE_FRACTIONS)) + "|"]
        for label in shown:
            lines.append(f"| {label} | {len(res[label])} | " + " | ".join(
                cell(label, f"acc_top{k}") for k in TOPK) + " | " + " | ".join(
                cell(label, f"acc_noise{f:g}") for f in NOISE_FRACTIONS) + " |")
    t = summary.get("target")
    if t:
        lines += ["", f"Target: the best model keeps ≥ {100 * t['accuracy']:g} % at ≤ "
                  f"{t['budget_bits']:g} real payload bits per image. " + (
                      "No model measured yet." if t["model"] is None else
                      f"Best: {t['model']} with the `{t['rule']}` rule, "
                      f"{100 * t['mean_accuracy']:.2f} % (mean of {t['seeds']} seed(s)): "
                      f"**{'met' if t['met'] else 'not met'}**.")]
    conv = summary.get("convergence") or []
    if conv:
        lines += ["", "Did the LDR phases converge? The epoch-mean training loss of each phase's "
                  "own objective, and the share of its decrease (first epoch to last) made in the "
                  f"last epoch; converged: < {100 * CONVERGED_SHARE:g} %. Test accuracy from the "
                  "training log (bf16 autocast).", "",
                  "| model | seed | phase | loss | per epoch | last epoch's share | test acc at "
                  "its end |", "|---|---|---|---|---|---|---|"]
        for r in conv:
            share = r["last_epoch_share"]
            share_s = "—" if share != share else (
                f"{100 * share:.0f} % ({'converged' if r['converged'] else 'still falling'})")
            acc = "—" if r["test_acc"] is None else f"{100 * r['test_acc']:.2f} %"
            lines.append(f"| {r['model']} | {r['seed']} | {r['phase']} | {r['loss']} | "
                         + " → ".join(f"{v:.3g}" for v in r["losses"]) + f" | {share_s} | {acc} |")
    lines += ["", "| claim | A − B | seeds | mean | 95 % interval | test-set 95 % interval | verdict |",
              "|---|---|---|---|---|---|---|"]
    for r in summary["claims"]:
        scale = 1 if r["metric"] == "participation_ratio" else 100

        def fmt(v: float | None, scale: int = scale) -> str:
            return "—" if v is None or not math.isfinite(v) else f"{scale * v:+.2f}"

        lines.append(f"| {r['claim']} | {r['a']} − {r['b']} ({r['metric']}) | {len(r['diffs'])} | "
                     f"{fmt(r['mean'])} | [{fmt(r['lo'])}, {fmt(r['hi'])}] ({r['interval']}) | "
                     + ("—" if r.get("test_lo") is None
                        else f"[{fmt(r['test_lo'])}, {fmt(r['test_hi'])}]")
                     + f" | **{r['verdict']}** |")
    lines += ["", "The verdict applies the rule to the \"95 % interval\" column (over seeds). The "
              "test-set interval beside it is the part of the uncertainty that comes from the "
              "test images alone (binomial, seeds independent); \"—\" where the metric is not an "
              "accuracy."]
    return "\n".join(lines) + "\n"


def figures(summary: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    res = summary["results"]
    labels = list(MODELS)
    palette = plt.get_cmap("tab10").colors
    bases = [lab for lab in labels if lab not in VARIANT_OF]
    color = {lab: palette[i % 10] for i, lab in enumerate(bases)}
    color.update({lab: color[base] for lab, base in VARIANT_OF.items()})
    dashed = {lab: "--" if lab in VARIANT_OF else "-" for lab in labels}
    # the d_y = 64 set on the left; the truncations (with their d_y = 128 base) on the right,
    # on the same axes, when any of them is measured
    trunc = [lab for lab in TRUNCATION_MODELS if lab in res]
    panels = [[lab for lab in labels if lab not in TRUNCATION_MODELS]] + ([trunc] if trunc else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(7.5 + 4.5 * (len(panels) - 1), 4.5),
                             layout="constrained", sharey=True, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        for lab in panel:
            if lab not in res:
                continue
            xs, ms, los, his = [], [], [], []
            for b in BUDGETS_BITS:
                key = f"acc@{b:g}b"
                vals = [r[key] for r in res[lab].values() if r.get(key) is not None]
                bits = [r[key + "_payload_bits"] for r in res[lab].values()
                        if r.get(key) is not None]
                if not vals:
                    continue
                m, lo, hi = accuracy_band(vals, summary["test_images"])
                xs.append(float(np.mean(bits)))
                ms.append(m)
                los.append(lo)
                his.append(hi)
            if xs:
                ax.plot(xs, ms, marker="o", linestyle=dashed[lab], color=color[lab], label=lab)
                ax.fill_between(xs, los, his, color=color[lab], alpha=0.2, linewidth=0)
        ax.set_xlabel("real coded payload (bits per image)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", frameon=False)
    axes[0][0].set_ylabel(BAND_LABEL)
    axes[0][0].set_ylim(0, 100)
    fig.savefig(out / "rate_accuracy.png", dpi=150)
    plt.close(fig)

    # Fig. 5: the per-entry std (left) and its shape, each model divided by its own largest std
    # (right): the quantizer's scale absorbs a uniform rescaling of the latent, so only the shape
    # can change what survives a given number of bits
    fig, (ax, ax_rel) = plt.subplots(1, 2, figsize=(10.0, 4.0), layout="constrained")
    for lab in ("CE-T", "LDR-FT", "CE control", "DuPHiL"):
        if lab in res:
            std = np.mean([np.sort(r["latent_std"])[::-1] for r in res[lab].values()], axis=0)
            entries = np.arange(1, len(std) + 1)
            ax.plot(entries, std, color=color[lab], label=lab)
            ax_rel.plot(entries, std / std[0], color=color[lab], label=lab)
    ax.set_xlabel("latent entry (sorted by std)")
    ax.set_ylabel("std of the test latents")
    ax_rel.set_xlabel("latent entry (sorted by std)")
    ax_rel.set_ylabel("std / largest std of the same model")
    ax_rel.set_ylim(0, 1.05)
    for a in (ax, ax_rel):
        a.grid(alpha=0.3)
    ax_rel.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.savefig(out / "latent_std.png", dpi=150)
    plt.close(fig)

    # where the class information sits: accuracy with the k highest-variance entries only
    fig, ax = plt.subplots(figsize=(7.5, 4.0), layout="constrained")
    drawn = False
    for lab in CHECK_RULE_MODELS:
        rows = [r for r in res.get(lab, {}).values() if f"acc_top{TOPK[0]}" in r]
        if not rows:
            continue
        ks = [*TOPK, len(rows[0]["latent_std"])]
        ms, los, his = [], [], []
        for k in ks:
            key = "float_acc" if k == ks[-1] else f"acc_top{k}"
            m, lo, hi = accuracy_band([r[key] for r in rows], summary["test_images"])
            ms.append(m)
            los.append(lo)
            his.append(hi)
        ax.plot(ks, ms, "o-", color=color[lab], label=lab)
        ax.fill_between(ks, los, his, color=color[lab], alpha=0.2, linewidth=0)
        drawn = True
    if drawn:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("latent entries kept (highest training variance first; the rest at "
                      "their mean)")
        ax.set_ylabel(BAND_LABEL)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.savefig(out / "top_entries.png", dpi=150)
    plt.close(fig)

    # the three coding schemes at low rates: the paper's rule, water-filling, KLT + water-filling
    schemes = (("", "q_i = s·H(y_i) (the paper)", "-"), (f"_{CHECK_RULE}", "water-filling", "--"),
               (f"_{TRANSFORM}", "KLT + water-filling", ":"))
    drawn_models = [lab for lab in CHECK_RULE_MODELS if lab in res
                    and any(f"acc@{LOW_BITS:g}b_{TRANSFORM}" in r for r in res[lab].values())]
    if drawn_models:
        fig, ax = plt.subplots(figsize=(8.0, 4.5), layout="constrained")
        for lab in drawn_models:
            for suffix, _, style in schemes:
                xs, ms = [], []
                for b in CHECK_RULE_BUDGETS_BITS:
                    key = f"acc@{b:g}b{suffix}"
                    rows = [r for r in res[lab].values() if r.get(key) is not None]
                    if rows:
                        xs.append(float(np.mean([r[key + "_payload_bits"] for r in rows])))
                        ms.append(100 * float(np.mean([r[key] for r in rows])))
                if xs:
                    ax.plot(xs, ms, marker="o", linestyle=style, color=color[lab])
        from matplotlib.lines import Line2D

        handles = ([Line2D([], [], color=color[lab], marker="o", label=lab)
                    for lab in drawn_models] +
                   [Line2D([], [], color="0.3", linestyle=style, label=name)
                    for _, name, style in schemes])
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_xlabel("real coded payload (bits per image)")
        ax.set_ylabel("test accuracy (%), mean over seeds")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        fig.savefig(out / "coding_schemes.png", dpi=150)
        plt.close(fig)

    # the d_y screen (the paper's §4.1): float accuracy and the screening score per d_y
    dims = [(d, "CE-T" if d == 64 else f"CE-T d{d}") for d in SCREEN_DIMS]
    dims = [(d, lab) for d, lab in dims if lab in res]
    if len(dims) > 1:
        fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
        for key, name, marker in (("float_acc", "float", "o"),
                                  ("rate_mean", "screening score (mean over the budgets)", "s")):
            band = [accuracy_band([r[key] for r in res[lab].values()], summary["test_images"])
                    for _, lab in dims]
            xs = [d for d, _ in dims]
            ax.errorbar(xs, [b[0] for b in band], yerr=[[b[0] - b[1] for b in band],
                                                        [b[2] - b[0] for b in band]],
                        marker=marker, capsize=3, color="0.2" if key == "float_acc" else "0.55",
                        label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks([d for d, _ in dims], [str(d) for d, _ in dims])
        ax.set_xlabel("latent size d_y (CE-T)")
        ax.set_ylabel("test accuracy (%), bar: 95 % interval")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", frameon=False)
        fig.savefig(out / "screen.png", dpi=150)
        plt.close(fig)

    # accuracy under each test-time distortion (severity 3): mean over seeds with its interval
    kinds = ("rotation", "flip", "color_jitter", "noise")
    shown = [lab for lab in labels if lab in res]
    fig, ax = plt.subplots(figsize=(7.5, 4.0), layout="constrained")
    width = 0.8 / max(1, len(shown))
    for i, lab in enumerate(shown):
        ms, below, above = [], [], []
        for kind in kinds:
            m, lo, hi = accuracy_band([r["distortions"][kind] for r in res[lab].values()],
                                      summary["test_images"])
            ms.append(m)
            below.append(m - lo)
            above.append(hi - m)
        xs = np.arange(len(kinds)) + (i - (len(shown) - 1) / 2) * width
        ax.bar(xs, ms, width, yerr=[below, above], color=color[lab], label=lab, capsize=2,
               hatch="//" if lab in VARIANT_OF else None, edgecolor="white")
    ax.set_xticks(np.arange(len(kinds)), [k.replace("_", " ") for k in kinds])
    ax.set_ylabel(f"test accuracy (%), severity {DISTORTION_SEVERITY};\n"
                  "bar: 95 % interval (within 0–100)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.savefig(out / "distortions.png", dpi=150)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from commsldr.data import load_dataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, default=Path("runs/cifar10-study"))
    ap.add_argument("--data", required=True, help="ImageFolder copy of CIFAR-10")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("docs/figures/study"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    train = load_dataset("imagefolder", "train", root=args.data, progress=False)
    test = load_dataset("imagefolder", "test", root=args.data, progress=False)
    results: dict[str, dict[int, dict[str, Any]]] = {}
    missing = []
    stages = dict(MODELS)
    stages.update({f"CE-T d{d}": f"screen/d{d}" for d in SCREEN_DIMS if d not in (64, 128)})
    seeds = [int(s) for s in args.seeds.split(",")]
    for seed in seeds:
        for label, rel in stages.items():
            path = args.runs / f"s{seed}" / rel / "model.pt"
            if not path.is_file():
                missing.append(str(path.relative_to(args.runs)))  # no machine paths in docs
                continue
            print(f"measuring {label} (seed {seed})", flush=True)
            row = add_rate_mean(measure_cached(path, train, test, args.out / "measurements"))
            if label in CHECK_RULE_MODELS:
                print(f"measuring {label} (seed {seed}) with the {CHECK_RULE} rule", flush=True)
                row.update(measure_rule_cached(path, train, test, args.out / "measurements"))
                print(f"measuring {label} (seed {seed}) with the KLT", flush=True)
                row.update(measure_klt_cached(path, train, test, args.out / "measurements"))
                row.update(measure_structure_cached(path, train, test, args.out / "measurements"))
            results.setdefault(label, {})[seed] = row
    summary = {"test_images": len(test), "budgets_bits": list(BUDGETS_BITS), "paper": PAPER,
               "rule": "holds / refuted / inconclusive: 95 % interval of the mean paired "
                       "difference over seeds (Student t) entirely on the claimed side / the other "
                       "side / neither; one seed: the test-set binomial interval",
               "results": results, "missing": missing}
    summary["claims"] = compare(results, len(test))
    summary["convergence"] = phase_convergence(args.runs, seeds)
    summary["target"] = target_check(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (args.out / "summary.md").write_text(markdown(summary))
    figures(summary, args.out)
    print(markdown(summary))
    if missing:
        print(f"{len(missing)} model(s) not trained yet, e.g. {missing[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
