#!/usr/bin/env bash
# AutoAttack (Croce & Hein, ICML 2020) on every shipped MNIST and Fashion-MNIST model: APGD-CE, then APGD-T on the
# DLR loss against the top-9 other classes, then Square with 5000 queries, each on the points still robust, at the
# issue's ε (MNIST 0.3, Fashion-MNIST 0.1, L∞), on the full test split, seed 1 (image i gets image_seed(1, i), so
# the first n images of a run on 10 000 are a run on n). Writes target/autoattack/<model>.json (advlab eval's JSON:
# stages, per-image outcomes, flags), then scripts/autoattack-table.mjs prints the README table.
#
#   N=10000 (test images)   MODELS="mnist-cnn-adv ..." (default: all)   FORCE=1 (rerun existing results)
#
# Time on the 2-core machine: the standard models seconds each (APGD-CE breaks nearly every image in a few steps);
# the PGD-trained CNNs ≈ 0.4 s per image (most images survive to Square's 5000 queries): about an hour each.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/advlab}
OUT=${OUT:-www/models}
N=${N:-10000}
R=target/autoattack
mkdir -p "$R"
# The page's models, then the linear lesson's three (www/models/lessons/, on box-averaged 7×7, 14×14, 28×28 digits).
MODELS=${MODELS:-"mnist-linear mnist-mlp mnist-cnn mnist-cnn-fgsm mnist-cnn-ens mnist-cnn-adv fashion-linear fashion-mlp fashion-cnn fashion-cnn-adv lessons/mnist-linear-7 lessons/mnist-linear-14 lessons/mnist-linear-28"}
for m in $MODELS; do
  [ -f "$OUT/$m.safetensors" ] || continue
  eps=0.3; [[ $m == fashion-* ]] && eps=0.1
  f="$R/$(basename "$m").json"
  [ -s "$f" ] && [ -z "${FORCE:-}" ] && continue
  "$BIN" eval --model "$OUT/$m.safetensors" --attack autoattack --eta "$eps" --n "$N" --seed 1 --json > "$f.tmp"
  mv "$f.tmp" "$f"
done
node scripts/autoattack-table.mjs "$R"
