#!/usr/bin/env bash
# A paper-scale subset on one GPU: ResNet-18 split autoencoder (the paper's backbone), d_y = 64,
# CE-T, then the three-step LDR-FT and its equal-epoch CE control, one seed, with the fast
# recipe (bf16 autocast, channels-last, batch 1024, Nesterov SGD, triangle schedule, label
# smoothing, flip + translate). Sized to finish within 12 minutes on one H200.
#
#     DATA=path/to/cifar10-jpeg bash scripts/gpu_paper_subset.sh      # or no DATA: torchvision download
#     TOY=1 DEVICE=cpu bash scripts/gpu_paper_subset.sh               # seconds-long check on a CPU
#
# Settings: OUT (runs/gpu-paper-subset), SEED (0), DEVICE (cuda), EPOCHS (20), LDR_EPOCHS (5),
# FT_EPOCHS (5), LR (0.8 = 0.1 per 128 images at batch 1024, the linear-scaling rule), FT_LR (0.08).
# ResNet-18 keeps trainable BatchNorm scales, so it does not take airbench's 64x BN-bias
# learning rate or its lr of 1.5 (both tuned for the airnet backbone): here lr 0.8, weight decay
# 5e-4, momentum 0.9, label smoothing 0.1.
# Every stage resumes (`--resume`); the script prints each stage's wall time and a summary JSON.
set -euo pipefail
cd "${REPO:-$(dirname "$0")/..}"
OUT=${OUT:-runs/gpu-paper-subset}
SEED=${SEED:-0}
DEVICE=${DEVICE:-cuda}
EPOCHS=${EPOCHS:-20}
LDR_EPOCHS=${LDR_EPOCHS:-5}
FT_EPOCHS=${FT_EPOCHS:-5}
LR=${LR:-0.8}
FT_LR=${FT_LR:-0.08}
COMMSLDR=${COMMSLDR:-commsldr}
BACKBONE=resnet18 WIDTH=1.0 BATCH=1024 LDR_BATCH=1000
DATA_ARGS=()
if [ "${TOY:-0}" = 1 ]; then  # a CPU-sized dry run of exactly the same commands
    BACKBONE=resnet8 WIDTH=0.25 BATCH=32 LDR_BATCH=40 EPOCHS=1 LDR_EPOCHS=1 FT_EPOCHS=1
    DATA_ARGS=(--dataset synthetic --num-per-class 8 --test-num-per-class 4)
elif [ -n "${DATA:-}" ]; then
    DATA_ARGS=(--dataset imagefolder --data-root "$DATA")
else
    DATA_ARGS=(--dataset cifar10 --download)
fi
COMMON=(--backbone "$BACKBONE" --width "$WIDTH" --latent-dim 64 --batch-size "$BATCH"
        --optimizer sgd --schedule triangle --lr "$LR" --augment light --amp
        --set momentum=0.9 --set nesterov=true --set weight_decay=0.0005 --set label_smoothing=0.1
        --set bias_lr_scale=1.0 --set warmup=0.23 --set channels_last=true
        --ldr-lr 0.01 --ldr-batch-size "$LDR_BATCH" --ce-weight 1.0 --eps-sq 0.5 --ssl-views 2
        --duphil-mode alternate --finetune-lr "$FT_LR" --seed "$SEED" --device "$DEVICE"
        --no-progress --resume "${DATA_ARGS[@]}")
LDR=(--epochs "$EPOCHS" --ldr-epochs "$LDR_EPOCHS" --finetune-epochs "$FT_EPOCHS")
mkdir -p "$OUT"
stage() {  # stage NAME args...
    local name=$1; shift
    local s0; s0=$(date +%s)
    "$COMMSLDR" train "$@" --out "$OUT/$name"
    echo "$name: $(( $(date +%s) - s0 )) s" | tee -a "$OUT/wall.txt"
}
t0=$(date +%s)
stage ce-t --recipe ce --epochs "$EPOCHS" "${COMMON[@]}"
stage ldr-ft --recipe ldr-ft --from "$OUT/ce-t/model.pt" "${LDR[@]}" "${COMMON[@]}"
stage ce-control --recipe truncate --from "$OUT/ce-t/model.pt" --keep 64 --truncate-finetune ce \
    "${LDR[@]}" --finetune-epochs $(( 2 * LDR_EPOCHS + FT_EPOCHS )) "${COMMON[@]}"
total=$(( $(date +%s) - t0 ))
"${PYTHON:-python}" - "$OUT" "$total" <<'EOF'
import json, sys
out, total = sys.argv[1], int(sys.argv[2])
res = {name: json.load(open(f"{out}/{name}/result.json"))["metrics"]["test_acc"]
       for name in ("ce-t", "ldr-ft", "ce-control")}
print(json.dumps({"test_acc": res, "total_wall_s": total}))
EOF
