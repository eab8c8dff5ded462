"""The CIFAR-10 study's models, budgets, rules and claims (shared by ``study_report.py`` and its
parts ``study_stats.py``, ``study_measure.py`` and ``study_figures.py``)."""

from __future__ import annotations

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

#: the models whose phases are checked for convergence: the fine-tunes with LDR phases and the
#: CE fine-tunes they are compared with
PHASED_MODELS = ("LDR-FT", "CE control", "DuPHiL", "trunc LDR-FT", "trunc LDR-FT control",
                 "LDR-FT long", "CE control long")
#: a phase counts as converged when its last epoch made less than this share of the decrease of
#: its epoch-mean loss from the first epoch to the last
CONVERGED_SHARE = 0.10
