#!/usr/bin/env bash
# Retrains the robust models from scratch with fixed seeds (same seeds → bit-identical weights) into www/models/,
# with mnist-cnn-fgsm beside them (plain FGSM training: it only looks robust, the lesson of catastrophic
# overfitting), measures them on the full test split (white-box FGSM / PGD-40 / Square, black-box transfer from the
# standard models) and writes each model's numbers into its metadata `metrics` (via `advlab eval`'s JSON, merged
# by scripts/defences-metrics.mjs) and www/models/robustness.json (the page's curves). Called at the end of
# scripts/train-all.sh (./build.sh train). Needs the standard mnist-mlp and mnist-cnn (the ensemble's static
# sources and the transfer sources) in $OUT.
#
#   ONLY="mnist-cnn-adv"  retrain only the named models;  SKIP_EVAL=1  train only;  SKIP_TRAIN=1  evaluate only
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/advlab}
OUT=${OUT:-www/models}
ONLY=${ONLY:-}
start_all=$(date +%s)

# name | arguments of `advlab train` (Adam, cosine schedule)
RECIPES=(
  "mnist-cnn-adv|--arch cnn-wide --dataset mnist --epochs 12 --lr 0.002 --batch 128 --seed 1 --adv pgd --adv-eta 0.3 --adv-steps 10 --adv-alpha 0.05 --adv-warmup-epochs 2 --adv-check 500"
  "mnist-cnn-ens|--arch cnn --dataset mnist --epochs 6 --lr 0.002 --batch 64 --seed 1 --adv ensemble --adv-eta 0.3 --sources $OUT/mnist-mlp.safetensors,$OUT/mnist-cnn.safetensors"
  "mnist-cnn-fgsm|--arch cnn --dataset mnist --epochs 20 --lr 0.002 --batch 64 --seed 1 --adv fgsm --adv-eta 0.3"
  "fashion-cnn-adv|--arch cnn-wide --dataset fashion --epochs 10 --lr 0.002 --batch 128 --seed 1 --adv pgd --adv-eta 0.1 --adv-steps 10 --adv-alpha 0.025 --adv-warmup-epochs 1 --adv-check 500"
)

if [ -z "${SKIP_TRAIN:-}" ]; then
  for r in "${RECIPES[@]}"; do
    name=${r%%|*}
    args=${r#*|}
    if [ -n "$ONLY" ] && [[ ! " $ONLY " == *" $name "* ]]; then continue; fi
    t0=$(date +%s)
    # shellcheck disable=SC2086
    "$BIN" train --name "$name" $args --out "$OUT/$name.safetensors"
    echo "$name: trained in $(( $(date +%s) - t0 )) s"
  done
fi

if [ -z "${SKIP_EVAL:-}" ]; then
  bash scripts/eval-defences.sh
fi
node scripts/models-index.mjs "$OUT"
echo "train-defences total: $(( $(date +%s) - start_all )) s"
