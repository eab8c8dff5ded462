#!/usr/bin/env bash
# The CIFAR-10 study of Qi et al. with the fast backbone (`commsldr train --fast`: airnet,
# airbench94's optimiser), three seeds, equal-epoch controls. Every setting is explicit below.
#
# Resumable: every stage is one `commsldr train ... --resume` command; a stage whose
# <dir>/model.pt and result.json exist is skipped, an interrupted one continues from its last
# epoch checkpoint (bit-exact on the same machine and thread count). Re-run the same command to
# continue:
#
#     DATA=path/to/cifar10-jpeg bash scripts/reproduce_cifar10.sh          # everything
#     SEEDS="0" STAGES="ce-d64 ldr-ft" bash scripts/reproduce_cifar10.sh   # a subset
#
# Settings (environment variables):
#   DATA       ImageFolder copy of CIFAR-10 (train/ and test/); empty: torchvision download
#   OUT        output directory                                   runs/cifar10-study
#   SEEDS      seeds of the d_y = 64 set and the truncations      0 1 2
#   SCREEN_SEEDS  seeds of the other screened d_y                 0 1 2
#   DIMS       screened d_y (d_y = 64 and TRUNC_FROM are trained for every seed anyway)  32,64,128,256
#   EPOCHS     CE-T epochs (the fast recipe's 18)                 18
#   LDR_EPOCHS epochs of each LDR phase (DuPHiL; LDR-FT steps 1 and 2)   4
#   FT_EPOCHS  epochs of LDR-FT step 3 and of the CE truncation fine-tune    4
#   TRUNC_FROM, KEEP   truncation 128 -> 64                       128, 64
#   LONG_SEEDS         seeds of the long-phase check              0 1 2
#   LONG_LDR_EPOCHS, LONG_FT_EPOCHS   its LDR phases and step 3   8, 8
#   THREADS    torch threads per lane                             2
#   JOBS       1: one lane; 2: two lanes side by side (THREADS each; use THREADS=1 on 2 cores)
#   STAGES     subset of: ce-d64 duphil ldr-ft ce-control ce-trunc-base trunc-ce trunc-ce-control
#              trunc-ldr-ft trunc-ldr-ft-control screen ldr-ft-long ce-control-long
#   DEVICE     cpu, cuda, ... (default: cuda when available)
#
# The LDR phases (why these lengths): LDR-FT is a fine-tune of a converged CE-T model, so its
# three steps get 2·LDR_EPOCHS + FT_EPOCHS = 12 epochs, two thirds of the CE-T run; every
# LDR-FT result is compared with a CE fine-tune of the same model for the same 12 epochs (the
# control), so extra training alone cannot explain a difference. Step 3 and the controls use the
# fast recipe at lr 0.1x (the paper's "smaller learning rate"); the DuPHiL phases use SGD at
# LDR_LR with the same triangle schedule.
# Are 4 epochs enough? The report's convergence table (study_report.py) shows each phase's loss
# per epoch. The long-phase check (`ldr-ft-long`, `ce-control-long`; LONG_SEEDS) reruns LDR-FT
# with LONG_LDR_EPOCHS per LDR phase and LONG_FT_EPOCHS of step 3 (default 8 + 8 + 8 = 24
# epochs: twice every phase) beside its own CE control of as many epochs, so the report can say
# whether the phase lengths decide the verdicts.
# Side-branch input: the clean latent (`side_input=clean`). The authors' code feeds the side
# branch y + U(-1, 1) noise, a quantization step of 1 that matches their latent's scale; here
# the LDR phases start from a CE-T model trained without noise whose latent scale is set by
# BatchNorm-free linear layers, so a fixed unit step would be an arbitrary amount of noise.
# Screening rule: `rate-mean`, the mean accuracy over real coded budgets of 10-64 payload bits
# per image (the paper picks d_y by rate-accuracy, §4.1; the budgets are where Fig. 2 lives).
set -euo pipefail

cd "${REPO:-$(dirname "$0")/..}"
DATA=${DATA:-}
OUT=${OUT:-runs/cifar10-study}
SEEDS=${SEEDS:-0 1 2}
SCREEN_SEEDS=${SCREEN_SEEDS:-0 1 2}
DIMS=${DIMS:-32,64,128,256}
EPOCHS=${EPOCHS:-18}
LDR_EPOCHS=${LDR_EPOCHS:-4}
FT_EPOCHS=${FT_EPOCHS:-4}
LONG_SEEDS=${LONG_SEEDS:-0 1 2}
LONG_LDR_EPOCHS=${LONG_LDR_EPOCHS:-8}
LONG_FT_EPOCHS=${LONG_FT_EPOCHS:-8}
LDR_LR=${LDR_LR:-0.01}
FT_LR=${FT_LR:-0.15}
TRUNC_FROM=${TRUNC_FROM:-128}
KEEP=${KEEP:-64}
DY=64
THREADS=${THREADS:-2}
JOBS=${JOBS:-1}
STAGES=${STAGES:-ce-d64 ldr-ft ce-control duphil ce-trunc-base trunc-ce trunc-ldr-ft trunc-ldr-ft-control trunc-ce-control screen ldr-ft-long ce-control-long}
COMMSLDR=${COMMSLDR:-commsldr}
export OMP_NUM_THREADS=$THREADS

# every optimisation setting explicit (library defaults may change between versions)
source "$(dirname "${BASH_SOURCE[0]}")/fast_recipe.sh"
COMMON=("${FAST_RECIPE[@]}"
        --ldr-lr "$LDR_LR" --ldr-batch-size 1000 --ce-weight 1.0 --eps-sq 0.5 --ssl-views 2
        --duphil-mode alternate --set rate_weight=1.0
        --set side_input=clean --set screen_rule=rate-mean
        --set 'screen_budgets=[10, 14, 20, 28, 40, 64]'
        --finetune-lr "$FT_LR" --threads "$THREADS" --no-progress --resume)
if [ -n "$DATA" ]; then COMMON+=(--dataset imagefolder --data-root "$DATA"); else COMMON+=(--dataset cifar10 --download); fi
[ -n "${DEVICE:-}" ] && COMMON+=(--device "$DEVICE")
LDR=(--epochs "$EPOCHS" --ldr-epochs "$LDR_EPOCHS" --finetune-epochs "$FT_EPOCHS")
CONTROL_EPOCHS=$(( 2 * LDR_EPOCHS + FT_EPOCHS ))

want() { [[ " $STAGES " == *" $1 "* ]]; }
done_stage() { [ -f "$1/model.pt" ] && [ -f "$1/result.json" ]; }
if want trunc-ce-control && [ "$KEEP" != "$DY" ]; then
    echo "reproduce_cifar10.sh: KEEP=$KEEP: the CE truncation's control is the d_y = $DY CE-T model fine-tuned, so KEEP must be $DY (or leave trunc-ce-control out of STAGES)" >&2
    exit 2
fi

mkdir -p "$OUT"
LOG="$OUT/stages.tsv"
[ -f "$LOG" ] || printf 'stage\tstart_utc\tend_utc\twall_s\tstatus\n' > "$LOG"

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

# Lane A (per seed): CE-T d_y = 64, LDR-FT, its CE control, DuPHiL.
# Lane B (per seed): CE-T d_y = 128, truncation to 64 with CE and with LDR-FT, their controls.
LANE_A="" LANE_B=""
for s in $SEEDS; do
    S="$OUT/s$s"
    CE64="$S/screen/d$DY/model.pt"
    CEB="$S/screen/d$TRUNC_FROM/model.pt"
    T="$S/trunc-d$TRUNC_FROM-k$KEEP"
    want ce-d64 && LANE_A+="run_stage s$s-ce-d$DY $S/screen/d$DY --recipe ce --latent-dim $DY --epochs $EPOCHS --seed $s \"\${COMMON[@]}\";"
    want ldr-ft && LANE_A+="run_stage s$s-ldr-ft $S/ldr-ft-d$DY --recipe ldr-ft --from $CE64 --seed $s \"\${LDR[@]}\" \"\${COMMON[@]}\";"
    # control: the same CE-T model fine-tuned with CE alone for as many epochs as LDR-FT's steps
    # (the truncate recipe keeping every entry = a plain CE fine-tune at FT_LR)
    want ce-control && LANE_A+="run_stage s$s-ce-control $S/ce-control-d$DY --recipe truncate --from $CE64 --keep $DY --truncate-finetune ce --seed $s \"\${LDR[@]}\" --finetune-epochs $CONTROL_EPOCHS \"\${COMMON[@]}\";"
    # the CE truncation's control: CE-T at d_y = KEEP trained as long as the truncated model and
    # with the same schedule (EPOCHS of CE-T, then FT_EPOCHS of CE fine-tune at FT_LR), i.e. the
    # d_y = KEEP CE-T model of this seed fine-tuned like the truncation (keeping every entry)
    want trunc-ce-control && LANE_A+="run_stage s$s-trunc-ce-control $T-ce-control --recipe truncate --from $CE64 --keep $DY --truncate-finetune ce --seed $s \"\${LDR[@]}\" \"\${COMMON[@]}\";"
    want duphil && LANE_A+="run_stage s$s-duphil $S/duphil-d$DY --recipe duphil --from $CE64 --seed $s \"\${LDR[@]}\" \"\${COMMON[@]}\";"
    want ce-trunc-base && LANE_B+="run_stage s$s-ce-d$TRUNC_FROM $S/screen/d$TRUNC_FROM --recipe ce --latent-dim $TRUNC_FROM --epochs $EPOCHS --seed $s \"\${COMMON[@]}\";"
    want trunc-ce && LANE_B+="run_stage s$s-trunc-ce $T-ce --recipe truncate --from $CEB --keep $KEEP --truncate-finetune ce --seed $s \"\${LDR[@]}\" \"\${COMMON[@]}\";"
    want trunc-ldr-ft && LANE_B+="run_stage s$s-trunc-ldr-ft $T-ldr-ft --recipe truncate --from $CEB --keep $KEEP --truncate-finetune ldr-ft --seed $s \"\${LDR[@]}\" \"\${COMMON[@]}\";"
    # its control: the same truncated model fine-tuned with CE for LDR-FT's number of epochs
    want trunc-ldr-ft-control && LANE_B+="run_stage s$s-trunc-ldr-ft-control $T-ldr-ft-control --recipe truncate --from $CEB --keep $KEEP --truncate-finetune ce --seed $s \"\${LDR[@]}\" --finetune-epochs $CONTROL_EPOCHS \"\${COMMON[@]}\";"
done
# the long-phase check (lane A: it starts from lane A's CE-T d_y = 64 models)
LONG=(--epochs "$EPOCHS" --ldr-epochs "$LONG_LDR_EPOCHS" --finetune-epochs "$LONG_FT_EPOCHS")
for s in $LONG_SEEDS; do
    S="$OUT/s$s"
    CE64="$S/screen/d$DY/model.pt"
    want ldr-ft-long && LANE_A+="run_stage s$s-ldr-ft-long $S/ldr-ft-long-d$DY --recipe ldr-ft --from $CE64 --seed $s \"\${LONG[@]}\" \"\${COMMON[@]}\";"
    want ce-control-long && LANE_A+="run_stage s$s-ce-control-long $S/ce-control-long-d$DY --recipe truncate --from $CE64 --keep $DY --truncate-finetune ce --seed $s \"\${LONG[@]}\" --finetune-epochs $(( 2 * LONG_LDR_EPOCHS + LONG_FT_EPOCHS )) \"\${COMMON[@]}\";"
done
if want screen; then
    for s in $SCREEN_SEEDS; do
        for d in ${DIMS//,/ }; do
            [ "$d" = "$DY" ] || [ "$d" = "$TRUNC_FROM" ] && continue
            LANE_B+="run_stage s$s-ce-d$d $OUT/s$s/screen/d$d --recipe ce --latent-dim $d --epochs $EPOCHS --seed $s \"\${COMMON[@]}\";"
        done
    done
fi
if [ "$JOBS" -gt 1 ]; then
    lanes "$LANE_A" "$LANE_B"
else
    eval "$LANE_A"
    eval "$LANE_B"
fi
# the screening table of every screen seed: resumes the finished CE-T runs (no training)
if want screen; then
    for s in $SCREEN_SEEDS; do
        run_stage "s$s-screen" "$OUT/s$s/screen" --recipe screen --dims "$DIMS" --epochs "$EPOCHS" --seed "$s" "${COMMON[@]}"
    done
fi
echo "done: $OUT"
