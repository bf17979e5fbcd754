#!/usr/bin/env bash
# Issue 18's comparison of the white-box attacks, each run alone (not in AutoAttack's sequence), on the first N test
# images of MODEL at ε = 0.3, at several seeds: PGD-40 (the defences protocol: random start, step max(0.0025, ε/15)),
# APGD-CE (100 iterations) and APGD-T (100 iterations against each of the 9 other classes). Image i runs with the
# seed image_seed(seed, i). Writes target/autoattack/seeds/<attack>.s<seed>.json and prints, per seed, the robust
# accuracy of each, then the mean over the seeds and how many seeds keep APGD-CE ≤ PGD-40 and APGD-T ≤ APGD-CE.
#
#   MODEL=mnist-cnn-adv  N=1000  SEEDS="0 1 2 3 4"  FORCE=1 (rerun existing results)
#
# Time on the 2-core machine, per seed: PGD-40 ≈ 20 s, APGD-CE ≈ 1 min, APGD-T ≈ 3.5 min.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/advlab}
MODEL=${MODEL:-mnist-cnn-adv}
N=${N:-1000}
SEEDS=${SEEDS:-"0 1 2 3 4"}
R=target/autoattack/seeds
mkdir -p "$R"
for s in $SEEDS; do
  for a in pgd apgd-ce apgd-t; do
    f="$R/$MODEL.$a.s$s.json"
    [ -s "$f" ] && [ -z "${FORCE:-}" ] && continue
    p='{}'; [ "$a" = pgd ] && p='{"protocol":"defences"}'
    "$BIN" eval --model "www/models/$MODEL.safetensors" --attack "$a" --eta 0.3 --n "$N" --seed "$s" --params "$p" --json > "$f.tmp"
    mv "$f.tmp" "$f"
  done
done
node - "$R" "$MODEL" $SEEDS <<'JS'
const fs = require('fs');
const [dir, model, ...seeds] = process.argv.slice(2);
const acc = (a, s) => JSON.parse(fs.readFileSync(`${dir}/${model}.${a}.s${s}.json`, 'utf8')).adversarial_accuracy * 100;
const attacks = ['pgd', 'apgd-ce', 'apgd-t'];
const pct = (v) => `${v.toFixed(2)} %`;
console.log(`| seed | PGD-40 | APGD-CE | APGD-T | APGD-CE ≤ PGD-40 | APGD-T ≤ APGD-CE |\n|---|---|---|---|---|---|`);
const rows = seeds.map((s) => attacks.map((a) => acc(a, s)));
const yes = (b) => (b ? 'yes' : '**no**');
rows.forEach((r, i) => console.log(`| ${seeds[i]} | ${r.map(pct).join(' | ')} | ${yes(r[1] <= r[0])} | ${yes(r[2] <= r[1])} |`));
const mean = attacks.map((_, k) => rows.reduce((a, r) => a + r[k], 0) / rows.length);
const count = (f) => `${rows.filter(f).length} of ${rows.length} seeds`;
console.log(`| mean | ${mean.map(pct).join(' | ')} | ${count((r) => r[1] <= r[0])} | ${count((r) => r[2] <= r[1])} |`);
JS
