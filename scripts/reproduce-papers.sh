#!/usr/bin/env bash
# Reproduces the README's "Reproducing the papers" table with the CLI on the shipped models.
# N (default 1000) first MNIST test images; one-pixel uses N_PIXEL (default 100: a failed image costs its whole
# 10 000-query budget). Writes target/papers/*.json and prints the markdown rows.
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release/advlab
[ -x "$B" ] || cargo build --release --bin advlab
N=${N:-1000}
N_PIXEL=${N_PIXEL:-100}
M=www/models
OUT=target/papers
mkdir -p "$OUT"
run() { local name=$1; shift; echo "advlab $*" > "$OUT/$name.cmd"; "$B" "$@" --json > "$OUT/$name.json"; echo "done: $name" >&2; }

run fgsm-linear eval --model $M/mnist-linear.safetensors --n "$N" --attack fgsm --eta 0.25
run fgsm-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack fgsm --eta 0.3
run pgd-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack pgd --eta 0.3
run pgd-cnn-targeted eval --model $M/mnist-cnn.safetensors --n "$N" --attack pgd --eta 0.3 --targeted
run deepfool-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack deepfool --norm l2 --eta 28
run cw-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack cw --norm l2 --eta 28
run jsma-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack jsma --eta 1 --targeted
run simba-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack simba --eta 0.3
run square-cnn eval --model $M/mnist-cnn.safetensors --n "$N" --attack square --eta 0.3
for k in 1 3 5; do
  run "onepixel-$k" eval --model $M/mnist-cnn.safetensors --n "$N_PIXEL" --attack one_pixel --eta 1 --params "{\"pixels\":$k}"
done
for a in linear mlp cnn; do for b in linear mlp cnn; do
  run "transfer-fgsm-$a-$b" transfer --from $M/mnist-$a.safetensors --to $M/mnist-$b.safetensors --attack fgsm --eta 0.3 --n "$N"
done; done
node scripts/papers-table.mjs "$OUT"
