#!/usr/bin/env bash
# The entropy-bottleneck models of the CIFAR-10 study: each shipped CE-T model cifar10-ce-d64
# (seeds 0, 1, 2) fine-tuned with the recipe `entropy-bottleneck` (CE + lambda * bits at four rate
# points from one encoder, gain vectors) for FT_EPOCHS epochs at the CE fine-tune's learning rate,
# with the same optimiser, augmentation and data as the CE fine-tune control
# cifar10-trunc128to64-ce-control (CE-T + 4 epochs of CE at lr 0.15). FT_EPOCHS defaults to 2,
# half the control's budget: on the shared 2-core machine of the session that trained the shipped
# models a fine-tune epoch took 20-30 min of wall time, so 2 epochs were what fitted. A shorter
# fine-tune can only disadvantage the entropy bottleneck against its 4-epoch control.
#
# Resumable (every epoch is checkpointed; rerun the same command to continue):
#
#     DATA=path/to/cifar10-jpeg OUT=runs/eb bash scripts/train_entropy_bottleneck.sh
#
# Settings: DATA (ImageFolder copy of CIFAR-10), OUT (runs/eb), SEEDS (0 1 2), FT_EPOCHS (2),
# FT_LR (0.15), LAMBDAS ([0.003, 0.01, 0.03, 0.1]), EB_LR (0.01), THREADS (1: on a loaded
# machine two threads spend their time waiting for each other at every parallel region).
# The validation split (val_fraction = 0.1 of every class of the training set) is held out of the
# fine-tune; it scores every epoch and sets the rate -> budget map (commsldr.coding.eb_menu).
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
DATA=${DATA:?set DATA to an ImageFolder copy of CIFAR-10}
OUT=${OUT:-runs/eb}
SEEDS=${SEEDS:-0 1 2}
FT_EPOCHS=${FT_EPOCHS:-2}
FT_LR=${FT_LR:-0.15}
LAMBDAS=${LAMBDAS:-[0.003, 0.01, 0.03, 0.1]}
EB_LR=${EB_LR:-0.01}
THREADS=${THREADS:-1}
COMMSLDR=${COMMSLDR:-commsldr}
export OMP_NUM_THREADS=$THREADS
source "$(dirname "${BASH_SOURCE[0]}")/fast_recipe.sh"
COMMON=("${FAST_RECIPE[@]}" --latent-dim 64
        --finetune-lr "$FT_LR" --finetune-epochs "$FT_EPOCHS" --set val_fraction=0.1
        --set "eb_lambdas=$LAMBDAS" --set "eb_lr=$EB_LR"
        --dataset imagefolder --data-root "$DATA" --threads "$THREADS" --no-progress --resume)
for s in $SEEDS; do
    base=models/cifar10-ce-d64.pt
    [ "$s" != 0 ] && base=models/cifar10-ce-d64-s$s.pt
    dir=$OUT/eb-d64-s$s
    if [ -f "$dir/model.pt" ] && [ -f "$dir/result.json" ]; then echo "skip $dir (done)"; continue; fi
    echo "$(date -u +%FT%TZ) start $dir"
    $COMMSLDR train --recipe entropy-bottleneck --from "$base" --seed "$s" \
        --out "$dir" "${COMMON[@]}"
    echo "$(date -u +%FT%TZ) done $dir"
done
