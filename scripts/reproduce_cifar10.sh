#!/usr/bin/env bash
# Reproduce the CIFAR-10 study of Qi et al. at CPU scale with the library's own CLI.
#
# Resumable: every stage is one `commsldr train ... --resume` command; a stage whose
# <out>/model.pt and result.json exist is skipped, an interrupted one continues from its
# last epoch checkpoint (bit-exact on the same machine and thread count). Re-run the
# script with the same settings to continue:
#
#     bash scripts/reproduce_cifar10.sh            # all stages, then the figures
#     STAGES="screen duphil" bash scripts/reproduce_cifar10.sh
#
# Settings (environment variables; the defaults are run B of docs/reproduction.md, whose models
# are shipped in models/):
#   DATA      ImageFolder copy of CIFAR-10 (train/ and test/)   (required)
#   OUT       output directory (use a new one for new settings)  runs/repro_cifar10-<settings>
#   BACKBONE  registered backbone                               resnet8
#   WIDTH     channel multiplier                                0.5
#   NPC       training images per class (empty: all 5000)       (all)
#   EPOCHS    CE-T epochs (screen)                              5
#   LDR_EPOCHS    epochs of each DuPHiL / LDR-FT LDR phase      2
#   FT_EPOCHS     epochs of LDR-FT step 3 / truncation fine-tuning  2
#   DIMS      screened latent dimensions                        32,64,128
#   DY        d_y of the CE-T/DuPHiL/LDR-FT stages: 64 (the paper's pick), or `auto` for the
#             pick of our own screen (then the screen runs first)
#   TRUNC_FROM, KEEP   truncation: d_y of the base CE-T model and entries kept   128, 64
#   SEED      seed of every stage                               0
#   THREADS   torch intra-op threads in all (OMP_NUM_THREADS)   2
#   JOBS      1: one stage at a time; 2: two lanes side by side with THREADS/2 threads each,
#             {CE-T d_y=DY, DuPHiL, LDR-FT} beside {CE-T d_y=TRUNC_FROM, truncations, other
#             d_y}. The commands are the same either way: a screened d_y is `--recipe ce` into
#             screen/d<d_y>, which the final `--recipe screen` command resumes (no training).
#   STAGES    subset of: screen duphil ldr-ft ce-control trunc-ce trunc-ldr-ft figures
#   PAPER     1: the paper-scale version (`commsldr train --paper`: ResNet-18, 200 epochs, ...)
#   DEVICE    cpu, cuda, cuda:1 (default: cuda when available)
#
# The paper-scale version (ResNet-18, 200 CE epochs, the authors' optimiser settings) on a GPU:
#     PAPER=1 DIMS=32,64,128,256,512 OUT=runs/repro_cifar10_paper bash scripts/reproduce_cifar10.sh
set -euo pipefail

cd "${REPO:-$(dirname "$0")/..}"
DATA=${DATA:?set DATA to an ImageFolder copy of CIFAR-10 (a folder with train/ and test/)}
BACKBONE=${BACKBONE:-resnet8}
WIDTH=${WIDTH:-0.5}
NPC=${NPC-}
TEST_NPC=${TEST_NPC:-}
EPOCHS=${EPOCHS:-5}
LDR_EPOCHS=${LDR_EPOCHS:-2}
FT_EPOCHS=${FT_EPOCHS:-2}
DIMS=${DIMS:-32,64,128}
TRUNC_FROM=${TRUNC_FROM:-128}
KEEP=${KEEP:-64}
SEED=${SEED:-0}
# a new directory for new settings: a finished stage is skipped by its model.pt alone
OUT=${OUT:-runs/repro_cifar10-$BACKBONE-w$WIDTH-e$EPOCHS-l$LDR_EPOCHS-f$FT_EPOCHS-s$SEED}
THREADS=${THREADS:-2}
JOBS=${JOBS:-1}
DY=${DY:-64}
STAGES=${STAGES:-screen duphil ldr-ft ce-control trunc-ce trunc-ldr-ft figures}
COMMSLDR=${COMMSLDR:-commsldr}
PYTHON=${PYTHON:-python}
OMP_NUM_THREADS=$(( THREADS / JOBS > 0 ? THREADS / JOBS : 1 ))
export OMP_NUM_THREADS

mkdir -p "$OUT"
LOG="$OUT/stages.tsv"
[ -f "$LOG" ] || printf 'stage\tstart_utc\tend_utc\twall_s\tstatus\n' > "$LOG"

if [ "${PAPER:-0}" = 1 ]; then
    # paper scale (GPU): the paper's settings from `--paper` (ResNet-18, 200 CE-T epochs, SGD 0.1,
    # multistep, LDR phases of 100 epochs at batch 1000, ...); BACKBONE/WIDTH/EPOCHS are not used
    COMMON=(--paper --dataset imagefolder --data-root "$DATA" --seed "$SEED" --no-progress --resume)
    EPOCH_FLAGS=()
    LDR=()
    CONTROL_EPOCHS=400  # 2 LDR phases x 100 epochs + 200 fine-tuning epochs (paper_config)
else
    # every optimisation setting explicit (library defaults may change between versions)
    COMMON=(--dataset imagefolder --data-root "$DATA" --backbone "$BACKBONE" --width "$WIDTH"
            --batch-size 128 --optimizer sgd --schedule cosine --lr 0.1 --ldr-lr 0.01
            --finetune-lr 0.005 --ce-weight 1.0 --eps-sq 0.5 --ssl-views 2 --duphil-mode alternate
            --set momentum=0.9 --set weight_decay=0.0005 --set rate_weight=1.0
            --seed "$SEED" --no-progress --resume --set eval_every=1000)
    EPOCH_FLAGS=(--epochs "$EPOCHS")
    LDR=(--ldr-epochs "$LDR_EPOCHS" --finetune-epochs "$FT_EPOCHS" --epochs "$EPOCHS")
    CONTROL_EPOCHS=$(( 2 * LDR_EPOCHS + FT_EPOCHS ))
fi
[ -n "${DEVICE:-}" ] && COMMON+=(--device "$DEVICE")
[ -n "$NPC" ] && COMMON+=(--num-per-class "$NPC")
[ -n "$TEST_NPC" ] && COMMON+=(--test-num-per-class "$TEST_NPC")

want() { [[ " $STAGES " == *" $1 "* ]]; }
done_stage() { [ -f "$1/model.pt" ] && [ -f "$1/result.json" ]; }

run_stage() {  # run_stage NAME OUTDIR commsldr-args...
    local name=$1 dir=$2; shift 2
    if done_stage "$dir"; then echo "[skip] $name: $dir/model.pt exists"; return; fi
    echo "[run ] $name -> $dir"
    echo "       $COMMSLDR train $* --out $dir"
    local t0 s0; t0=$(date -u +%FT%TZ); s0=$(date +%s)
    if "$COMMSLDR" train "$@" --out "$dir"; then
        printf '%s\t%s\t%s\t%s\tok\n' "$name" "$t0" "$(date -u +%FT%TZ)" "$(( $(date +%s) - s0 ))" >> "$LOG"
    else
        printf '%s\t%s\t%s\t%s\tfailed\n' "$name" "$t0" "$(date -u +%FT%TZ)" "$(( $(date +%s) - s0 ))" >> "$LOG"
        return 1
    fi
}

lanes() {  # lanes "cmds of lane 1" "cmds of lane 2": side by side, each lane in order
    local pids=() lane rc=0
    for lane in "$@"; do ( set -e; eval "$lane" ) & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    return $rc
}

if [ "$DY" = auto ]; then  # the screen's pick: the screen must finish first
    if want screen; then run_stage screen "$OUT/screen" --recipe screen --dims "$DIMS" "${EPOCH_FLAGS[@]}" "${COMMON[@]}"; fi
    DY=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['best_latent_dim'])" \
         "$OUT/screen/screen.json")
fi
echo "d_y of the CE-T / DuPHiL / LDR-FT stages: $DY"
CE_DY="$OUT/screen/d$DY/model.pt"
CE_TRUNC="$OUT/screen/d$TRUNC_FROM/model.pt"
ce_cmd() { echo "run_stage ce-d$1 $OUT/screen/d$1 --recipe ce --latent-dim $1 \"\${EPOCH_FLAGS[@]}\" \"\${COMMON[@]}\";"; }

# Lane A: CE-T at d_y = DY (the screen's run of that d_y), then 2. DuPHiL and 3. the three-step
# LDR-FT, both started from that CE-T model.
LANE_A=""
want screen && LANE_A+=$(ce_cmd "$DY")
want duphil && LANE_A+='run_stage duphil "$OUT/duphil-d$DY" --recipe duphil --from "$CE_DY" "${LDR[@]}" "${COMMON[@]}";'
want ldr-ft && LANE_A+='run_stage ldr-ft "$OUT/ldr-ft-d$DY" --recipe ldr-ft --from "$CE_DY" "${LDR[@]}" "${COMMON[@]}";'
# Control (not in the paper): the same CE-T model trained on with CE alone for as many epochs as
# the three LDR-FT steps (the `truncate` recipe keeping all d_y entries = plain CE fine-tuning),
# so that LDR-FT is also compared with CE-T at equal training time.
want ce-control && LANE_A+='run_stage ce-control "$OUT/ce-control-d$DY" --recipe truncate --from "$CE_DY" --keep "$DY" --truncate-finetune ce "${LDR[@]}" --finetune-epochs "$CONTROL_EPOCHS" "${COMMON[@]}";'
# Lane B: CE-T at d_y = TRUNC_FROM, then 4. truncated to KEEP entries and fine-tuned with CE-T and
# with LDR-FT, then the remaining screened d_y.
LANE_B=""
want screen && LANE_B+=$(ce_cmd "$TRUNC_FROM")
want trunc-ce && LANE_B+='run_stage trunc-ce "$OUT/trunc-d$TRUNC_FROM-k$KEEP-ce" --recipe truncate --from "$CE_TRUNC" --keep "$KEEP" --truncate-finetune ce "${LDR[@]}" "${COMMON[@]}";'
want trunc-ldr-ft && LANE_B+='run_stage trunc-ldr-ft "$OUT/trunc-d$TRUNC_FROM-k$KEEP-ldr-ft" --recipe truncate --from "$CE_TRUNC" --keep "$KEEP" --truncate-finetune ldr-ft "${LDR[@]}" "${COMMON[@]}";'
for d in ${DIMS//,/ }; do
    if [ "$d" != "$DY" ] && [ "$d" != "$TRUNC_FROM" ] && want screen; then LANE_B+=$(ce_cmd "$d"); fi
done
if [ "$JOBS" -gt 1 ]; then
    lanes "$LANE_A" "$LANE_B"
else
    eval "$LANE_A"
    eval "$LANE_B"
fi
# 1. the CE screening table over DIMS: resumes the finished CE-T run of every d_y (no training)
want screen && run_stage screen "$OUT/screen" --recipe screen --dims "$DIMS" "${EPOCH_FLAGS[@]}" "${COMMON[@]}"

# 5. the paper's figures (2-5) and the comparison table from the trained models
if want figures; then
    "$PYTHON" scripts/reproduce_figures.py --runs "$OUT" --dy "$DY" --dims "$DIMS" \
        --trunc-from "$TRUNC_FROM" --keep "$KEEP" --data "$DATA" --seed "$SEED" --out "$OUT/figures"
fi
echo "done: $OUT"
