#!/usr/bin/env bash
# Measures the robust models (and the standard CNNs they are compared with) as Tramèr et al.'s Table 4 does:
# white-box FGSM and PGD-40 (random start, step 0.02) on the full test split, the black-box Square attack (which
# needs no gradient, so a model that merely masks its gradient loses to it), and black-box transfer of FGSM / PGD
# crafted on the standard mnist-mlp and mnist-cnn. Writes target/defences/*.json, then
# scripts/defences-metrics.mjs folds them into each model's metadata `metrics`, writes www/models/robustness.json
# (the page's curves) and target/defences/table.md (the README table).
#
#   N=10000 (white-box images)  NT=2000 (transfer images)  NS=1000 SQ=1000 (Square images and queries; PGD-40 reruns on the same images)
#   NC=500 (curve images)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/advlab}
OUT=${OUT:-www/models}
N=${N:-10000}
NSTD=${NSTD:-1000}
NT=${NT:-2000}
NS=${NS:-1000}
SQ=${SQ:-1000}
NC=${NC:-500}
R=target/defences
mkdir -p "$R"
t0=$(date +%s)
# PGD-40 with the step max(0.0025, η/15): the engine's named protocol (AttackParams::resolve, "defences"), the
# same rule the defences lesson runs in the browser.
pgd() { echo '{"protocol":"defences"}'; }
ev() { # model attack eta n file [params]
  local p=${6:-'{}'}
  [ -s "$5" ] && [ -z "${FORCE:-}" ] && return 0
  "$BIN" eval --model "$OUT/$1.safetensors" --attack "$2" --eta "$3" --n "$4" --seed 1 --params "$p" --json > "$5.tmp"
  mv "$5.tmp" "$5"
  echo "$(basename "$5"): $(node -e "const j=JSON.parse(require('fs').readFileSync('$5'));console.log((j.adversarial_accuracy*100).toFixed(2)+' % of '+j.n)")"
}
for spec in "mnist 0.3 mnist-cnn mnist-cnn-adv mnist-cnn-ens mnist-cnn-fgsm" "fashion 0.1 fashion-cnn fashion-cnn-adv"; do
  read -r ds eta models <<<"$spec"
  for m in $models; do
    [ -f "$OUT/$m.safetensors" ] || continue
    n=$N; [[ $m == *-adv || $m == *-ens || $m == *-fgsm ]] || n=$NSTD
    ev "$m" fgsm "$eta" "$n" "$R/$m.fgsm.json"
    ev "$m" pgd "$eta" "$n" "$R/$m.pgd.json" "$(pgd "$eta")"
    ev "$m" square "$eta" "$NS" "$R/$m.square.json" "{\"max_queries\":$SQ}"
    ev "$m" pgd "$eta" "$NS" "$R/$m.pgd-square-images.json" "$(pgd "$eta")"
  done
done
# Black-box transfer from the standard models (Tramèr's Table 4 columns).
for src in mnist-mlp mnist-cnn; do
  for a in fgsm pgd; do
    for dst in mnist-cnn mnist-cnn-adv mnist-cnn-ens mnist-cnn-fgsm; do
      f="$R/transfer.$src.$a.$dst.json"
      [ -f "$OUT/$dst.safetensors" ] || continue
      [ -s "$f" ] && [ -z "${FORCE:-}" ] && continue
      p='{}'; [ "$a" = pgd ] && p=$(pgd 0.3)
      "$BIN" transfer --from "$OUT/$src.safetensors" --to "$OUT/$dst.safetensors" --attack "$a" --eta 0.3 --n "$NT" \
        --seed 1 --params "$p" --json > "$f.tmp"
      mv "$f.tmp" "$f"
      echo "$(basename "$f"): $(node -e "const j=JSON.parse(require('fs').readFileSync('$f'));console.log((j.target_adversarial_accuracy*100).toFixed(2)+' %')")"
    done
  done
done
# Robustness curves (PGD-40 accuracy against η) for the page.
for m in mnist-cnn mnist-cnn-adv mnist-cnn-ens mnist-cnn-fgsm; do
  [ -f "$OUT/$m.safetensors" ] || continue
  for eta in 0.05 0.1 0.15 0.2 0.25 0.3 0.35 0.4; do
    ev "$m" pgd "$eta" "$NC" "$R/curve.$m.$eta.json" "$(pgd "$eta")"
  done
done
node scripts/defences-metrics.mjs "$OUT" "$R"
echo "eval-defences: $(( $(date +%s) - t0 )) s"
