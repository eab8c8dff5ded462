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
# Settings (environment variables; the defaults are the ones docs/reproduction.md reports):
#   DATA      ImageFolder copy of CIFAR-10 (train/ and test/)   ../shared/datasets/cifar10-jpeg
#   OUT       output directory                                  runs/repro_cifar10
#   BACKBONE  registered backbone                               resnet8
#   WIDTH     channel multiplier                                0.5
#   NPC       training images per class (stratified, seed 0)    1500
#   EPOCHS    CE-T epochs (screen)                              3
#   LDR_EPOCHS    epochs of each DuPHiL / LDR-FT LDR phase      1
#   FT_EPOCHS     epochs of LDR-FT step 3 / truncation fine-tuning  1
#   DIMS      screened latent dimensions                        32,64,128
#   DY        latent dimension of the CE-T/DuPHiL/LDR-FT stages (default: the screen's pick)
#   TRUNC_FROM, KEEP   truncation: d_y of the base CE-T model and entries kept   128, 64
#   SEED      seed of every stage                               0
#   THREADS   torch intra-op threads in all (OMP_NUM_THREADS)   2
#   JOBS      independent stages run side by side, THREADS/JOBS threads each   1
#             (2: the screened d_y in two lanes, then {duphil, ldr-ft} beside {trunc-ce,
#             trunc-ldr-ft}; every run is the same command as with JOBS=1 -- a d_y of the screen
#             is `--recipe ce` into screen/d<d_y>, which the screen command then resumes)
#   STAGES    subset of: screen duphil ldr-ft trunc-ce trunc-ldr-ft figures
#
# The paper-scale version (ResNet-18, 200 CE epochs, the authors' optimiser settings) on a GPU
# is the same sequence with `--paper` and the full data set, see docs/reproduction.md.
set -euo pipefail

cd "${REPO:-$(dirname "$0")/..}"
DATA=${DATA:-../shared/datasets/cifar10-jpeg}
OUT=${OUT:-runs/repro_cifar10}
BACKBONE=${BACKBONE:-resnet8}
WIDTH=${WIDTH:-0.5}
NPC=${NPC:-1500}
TEST_NPC=${TEST_NPC:-}
EPOCHS=${EPOCHS:-3}
LDR_EPOCHS=${LDR_EPOCHS:-1}
FT_EPOCHS=${FT_EPOCHS:-1}
DIMS=${DIMS:-32,64,128}
TRUNC_FROM=${TRUNC_FROM:-128}
KEEP=${KEEP:-64}
SEED=${SEED:-0}
THREADS=${THREADS:-2}
JOBS=${JOBS:-1}
STAGES=${STAGES:-screen duphil ldr-ft trunc-ce trunc-ldr-ft figures}
COMMSLDR=${COMMSLDR:-commsldr}
PYTHON=${PYTHON:-python}
OMP_NUM_THREADS=$(( THREADS / JOBS > 0 ? THREADS / JOBS : 1 ))
export OMP_NUM_THREADS

mkdir -p "$OUT"
LOG="$OUT/stages.tsv"
[ -f "$LOG" ] || printf 'stage\tstart_utc\tend_utc\twall_s\tstatus\n' > "$LOG"

COMMON=(--dataset imagefolder --data-root "$DATA" --backbone "$BACKBONE" --width "$WIDTH"
        --batch-size 128 --seed "$SEED" --no-progress --resume --set eval_every=1000)
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

lanes() {  # lanes "cmds of lane 1" "cmds of lane 2" ...: lanes side by side, each in order
    local pids=() lane rc=0
    for lane in "$@"; do ( set -e; eval "$lane" ) & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    return $rc
}

# 1. CE screening over the latent dimensions (each is also the CE-T model of its d_y)
SCREEN=(--dims "$DIMS" --epochs "$EPOCHS" "${COMMON[@]}")
if want screen; then
    if [ "$JOBS" -gt 1 ] && ! done_stage "$OUT/screen"; then
        L1="" L2="" i=0
        for d in ${DIMS//,/ }; do
            cmd="run_stage ce-d$d $OUT/screen/d$d --recipe ce --latent-dim $d --epochs $EPOCHS \"\${COMMON[@]}\";"
            if (( i++ % 2 == 0 )); then L1+="$cmd"; else L2+="$cmd"; fi
        done
        lanes "$L1" "$L2"
    fi
    run_stage screen "$OUT/screen" --recipe screen "${SCREEN[@]}"
fi
if [ -z "${DY:-}" ]; then
    DY=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['best_latent_dim'])" \
         "$OUT/screen/screen.json")
fi
CE_DY="$OUT/screen/d$DY/model.pt"
CE_TRUNC="$OUT/screen/d$TRUNC_FROM/model.pt"
echo "selected d_y = $DY (CE-T model $CE_DY)"

LDR=(--ldr-epochs "$LDR_EPOCHS" --finetune-epochs "$FT_EPOCHS" --epochs "$EPOCHS")
# 2. DuPHiL and 3. three-step LDR-FT, both from the CE-T model of the selected d_y
LANE_A=""
want duphil && LANE_A+='run_stage duphil "$OUT/duphil-d$DY" --recipe duphil --from "$CE_DY" "${LDR[@]}" "${COMMON[@]}";'
want ldr-ft && LANE_A+='run_stage ldr-ft "$OUT/ldr-ft-d$DY" --recipe ldr-ft --from "$CE_DY" "${LDR[@]}" "${COMMON[@]}";'
# 4. d_y = TRUNC_FROM truncated to KEEP entries, fine-tuned with CE-T and with LDR-FT
LANE_B=""
want trunc-ce && LANE_B+='run_stage trunc-ce "$OUT/trunc-d$TRUNC_FROM-k$KEEP-ce" --recipe truncate --from "$CE_TRUNC" --keep "$KEEP" --truncate-finetune ce "${LDR[@]}" "${COMMON[@]}";'
want trunc-ldr-ft && LANE_B+='run_stage trunc-ldr-ft "$OUT/trunc-d$TRUNC_FROM-k$KEEP-ldr-ft" --recipe truncate --from "$CE_TRUNC" --keep "$KEEP" --truncate-finetune ldr-ft "${LDR[@]}" "${COMMON[@]}";'
if [ "$JOBS" -gt 1 ]; then
    lanes "$LANE_A" "$LANE_B"
else
    eval "$LANE_A"
    eval "$LANE_B"
fi

# 5. the paper's figures (2-5) and the comparison table from the trained models
if want figures; then
    "$PYTHON" scripts/reproduce_figures.py --runs "$OUT" --dy "$DY" --trunc-from "$TRUNC_FROM" \
        --keep "$KEEP" --data "$DATA" --seed "$SEED" --out "$OUT/figures"
fi
echo "done: $OUT"
