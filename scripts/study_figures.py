"""The study's figures, one colour per model (see ``study_report.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from study_config import (
    BUDGETS_BITS,
    CHECK_RULE,
    CHECK_RULE_BUDGETS_BITS,
    CHECK_RULE_MODELS,
    DISTORTION_SEVERITY,
    LOW_BITS,
    MODELS,
    SCREEN_DIMS,
    TOPK,
    TRANSFORM,
    TRUNCATION_MODELS,
    VARIANT_OF,
)
from study_stats import BAND_LABEL, accuracy_band


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
    # the seeds with distortions measured (a model shipped after the study, e.g. the long-phase
    # check's seeds 1 and 2, has its rate numbers re-measured but no distortions)
    measured = {lab: [r for r in res.get(lab, {}).values() if "distortions" in r] for lab in labels}
    shown = [lab for lab in labels if measured[lab]]
    fig, ax = plt.subplots(figsize=(7.5, 4.0), layout="constrained")
    width = 0.8 / max(1, len(shown))
    for i, lab in enumerate(shown):
        ms, below, above = [], [], []
        for kind in kinds:
            m, lo, hi = accuracy_band([r["distortions"][kind] for r in measured[lab]],
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
