#!/usr/bin/env bash
# Retrains every shipped model from scratch (same seeds → bit-identical weights) into www/models/, evaluates each
# on the full 10 000-image test split, exports the sample gallery, and prints the table. Called by ./build.sh train.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/advlab}
OUT=${OUT:-www/models}
mkdir -p "$OUT" www/samples
start_all=$(date +%s)

# name arch dataset epochs lr batch seed shift (Adam, cosine schedule; random-shift augmentation in pixels)
RECIPES=(
  "mnist-linear   linear mnist    20 0.01  64  1 0"
  "mnist-mlp      mlp    mnist    12 0.001 64  1 1"
  "mnist-cnn      cnn    mnist    12 0.002 64  1 1"
  "fashion-linear linear fashion  20 0.01  64  1 0"
  "fashion-mlp    mlp    fashion  20 0.001 64  1 0"
  "fashion-cnn    cnn    fashion  20 0.002 64  1 0"
)
ONLY=${ONLY:-}

printf '| model | arch | dataset | epochs | test accuracy (10 000) | train time |\n|---|---|---|---|---|---|\n' > target/train-table.md
for r in "${RECIPES[@]}"; do
  read -r name arch dataset epochs lr batch seed shift <<<"$r"
  if [ -n "$ONLY" ] && [[ ! " $ONLY " == *" $name "* ]]; then continue; fi
  t0=$(date +%s)
  json=$("$BIN" train --name "$name" --arch "$arch" --dataset "$dataset" --epochs "$epochs" --lr "$lr" --batch "$batch" \
    --seed "$seed" --shift "$shift" --out "$OUT/$name.safetensors" --json)
  t1=$(date +%s)
  acc=$(node -e "console.log((JSON.parse(process.argv[1]).clean_accuracy*100).toFixed(2))" "$json")
  printf '| %s | %s | %s | %s | %s %% | %s s |\n' "$name" "$arch" "$dataset" "$epochs" "$acc" "$((t1 - t0))" | tee -a target/train-table.md
done
for d in mnist fashion; do "$BIN" export-samples --dataset "$d" --n 500 --out-dir www/samples; done
node scripts/models-index.mjs "$OUT"
# The lessons' resolution models, transfer matrix and one-pixel table (www/models/lessons/, www/lessons/data.json).
if [ -z "$ONLY" ]; then BIN="$BIN" scripts/train-lessons.sh; fi
echo
cat target/train-table.md
echo "total: $(( $(date +%s) - start_all )) s"
# The robust models (adversarial and ensemble adversarial training; they need mnist-mlp and mnist-cnn above):
# `./build.sh train all` (they take most of the time; the six standard models alone stay under 30 minutes).
if [ "${WITH_DEFENCES:-0}" = 1 ]; then
  BIN="$BIN" OUT="$OUT" bash scripts/train-defences.sh
  echo "total with the robust models: $(( $(date +%s) - start_all )) s"
fi
