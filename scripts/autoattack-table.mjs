// The README's AutoAttack table from scripts/eval-autoattack.sh's results (target/autoattack/<model>.json, the JSON
// of `advlab eval --attack autoattack`): robust accuracy after each stage, the FGSM reference row, the flags, and
// the published AutoAttack figures for MNIST at ε = 0.3 (Croce & Hein 2020, Table 2) as the yardstick.
// Usage: node scripts/autoattack-table.mjs [target/autoattack]
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'target/autoattack';
const pct = (v) => (v == null ? '–' : `${(v * 100).toFixed(2)} %`);
const models = [
  'mnist-linear', 'mnist-mlp', 'mnist-cnn', 'mnist-cnn-fgsm', 'mnist-cnn-ens', 'mnist-cnn-adv',
  'fashion-linear', 'fashion-mlp', 'fashion-cnn', 'fashion-cnn-adv',
  // The linear lesson's models (www/models/lessons/): the same digits box-averaged to 7×7, 14×14, 28×28.
  'mnist-linear-7', 'mnist-linear-14', 'mnist-linear-28',
];
const lines = [
  '| model (ε, L∞) | n | clean | FGSM (reference) | after APGD-CE | after APGD-T | **AutoAttack** (after Square, 5000 queries) | flags | time |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const m of models) {
  // The full split, else a run on the first n images (`<model>.first<n>.json`, N=n), marked by its n.
  const partial = fs.readdirSync(dir).find((x) => x.startsWith(`${m}.first`) && x.endsWith('.json'));
  const f = fs.existsSync(path.join(dir, `${m}.json`)) ? path.join(dir, `${m}.json`) : partial && path.join(dir, partial);
  if (!f) continue;
  const j = JSON.parse(fs.readFileSync(f, 'utf8'));
  const stage = (name) => j.stages.find((s) => s.name === name)?.robust_accuracy;
  const flags = j.flags.length ? j.flags.map((x) => `\`${x.key}\``).join(', ') : 'none';
  const mins = j.seconds >= 120 ? `${(j.seconds / 60).toFixed(0)} min` : `${j.seconds.toFixed(0)} s`;
  lines.push(
    `| ${m} (${j.eta}) | ${j.n} | ${pct(j.clean_accuracy)} | ${pct(j.fgsm_accuracy)} | ${pct(stage('apgd-ce'))} | ${pct(stage('apgd-t'))} | **${pct(j.adversarial_accuracy)}** | ${flags} | ${mins} |`,
  );
}
// Published AutoAttack robust accuracy, MNIST, L∞ ε = 0.3 (Croce & Hein 2020, Table 2; authors' own claims in brackets).
for (const [name, aa, reported, params] of [
  ['Gowal et al. 2020', 96.34, null, ''],
  ['TRADES (Zhang et al. 2019)', 92.81, 95.6, ''],
  ['Madry et al. 2018', 88.5, 89.62, ', ≈ 3.3 M parameters'],
])
  lines.push(`| *published:* ${name}${params} (0.3) | 10000 | | | | | **${aa.toFixed(2)} %**${reported ? ` (reported by its authors: ${reported.toFixed(2)} %)` : ''} | | |`);
const out = lines.join('\n') + '\n';
fs.writeFileSync(path.join(dir, 'table.md'), out);
console.log(out);
