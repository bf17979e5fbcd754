#!/usr/bin/env bash
# The lessons' precomputed material (www/lessons/README in the page's module map):
#  1. linear MNIST models on box-averaged 7×7, 14×14 and 28×28 inputs → www/models/lessons/mnist-linear-R.safetensors
#  2. the transfer matrix of FGSM (L∞, η = 0.3) between the shipped MNIST models, and the one-pixel success table
#     for k = 1, 3, 5 → www/lessons/data.json (N and seeds are written into the file).
# Same seeds → same files. Called at the end of scripts/train-all.sh; STEP=models|data runs one half.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/advlab}
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/advlab"
OUT=www/models/lessons
STEP=${STEP:-all}
TRANSFER_N=${TRANSFER_N:-1000}
PIXEL_N=${PIXEL_N:-100}
SEED=${SEED:-0}
mkdir -p "$OUT"

if [ "$STEP" = all ] || [ "$STEP" = models ]; then
  for r in 7 14 28; do
    "$BIN" train --name "mnist-linear-$r" --arch linear --dataset mnist --resolution "$r" --epochs 10 --lr 0.01 \
      --batch 64 --seed 1 --out "$OUT/mnist-linear-$r.safetensors" --json --quiet
  done
fi

if [ "$STEP" = all ] || [ "$STEP" = data ]; then
  MODELS=(mnist-linear mnist-mlp mnist-cnn)
  tmp=$(mktemp -d)
  for a in "${MODELS[@]}"; do
    for b in "${MODELS[@]}"; do
      "$BIN" transfer --from "www/models/$a.safetensors" --to "www/models/$b.safetensors" --attack fgsm --eta 0.3 \
        --n "$TRANSFER_N" --seed "$SEED" --json > "$tmp/transfer-$a-$b.json"
    done
  done
  for m in "${MODELS[@]}"; do
    for k in 1 3 5; do
      "$BIN" eval --model "www/models/$m.safetensors" --attack one_pixel --eta 1 \
        --params "{\"pixels\":$k}" --n "$PIXEL_N" --seed "$SEED" --json > "$tmp/pixel-$m-$k.json"
    done
  done
  node scripts/lessons-data.mjs "$tmp" "${MODELS[*]}" > www/lessons/data.json
  rm -rf "$tmp"
  echo "www/lessons/data.json written"
fi
