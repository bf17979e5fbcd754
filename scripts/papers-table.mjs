// Prints the README's "Reproducing the papers" table from target/papers/*.json (written by reproduce-papers.sh).
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] || 'target/papers';
const get = (name) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
const cmd = (name) => '`' + fs.readFileSync(path.join(dir, `${name}.cmd`), 'utf8').trim().replace(/www\/models\//g, '') + '`';
const pct = (x) => `${(100 * x).toFixed(1)} %`;
const rows = [];
const row = (what, published, ours, name) => rows.push(`| ${what} | ${published} | ${ours} | ${cmd(name)} |`);

let r = get('fgsm-linear');
row('Goodfellow 2015 §4: softmax regression, FGSM η = 0.25, error', '99.9 %', pct(1 - r.adversarial_accuracy), 'fgsm-linear');
r = get('fgsm-cnn');
row('Madry 2018: naturally trained CNN, FGSM η = 0.3, accuracy', '6.4 %', pct(r.adversarial_accuracy), 'fgsm-cnn');
r = get('pgd-cnn');
row('Madry 2018: naturally trained CNN, PGD-40 η = 0.3, accuracy', '– (issue target ≤ 1 %)', pct(r.adversarial_accuracy), 'pgd-cnn');
r = get('pgd-cnn-targeted');
row('Targeted PGD-40 η = 0.3, success (target = label + 1)', '– (issue target ≥ 95 %)', pct(r.success_rate), 'pgd-cnn-targeted');
r = get('deepfool-cnn');
row('DeepFool 2016: mean ρ = ‖r‖₂/‖x‖₂ (success)', '0.20 on LeNet', `${r.mean_rho.toFixed(3)} (${pct(r.success_rate)}); mean ‖r‖₂ ${r.mean_l2.toFixed(2)}`, 'deepfool-cnn');
r = get('cw-cnn');
row('C&W 2017: L2 mean distortion (success)', '≈ 1.4 – 2.0', `${r.mean_l2.toFixed(2)} (${pct(r.success_rate)})`, 'cw-cnn');
r = get('jsma-cnn');
row('JSMA 2016: success, share of pixels changed', '97 %, 4 %', `${pct(r.success_rate)}, ${pct(r.mean_l0 / 784)}`, 'jsma-cnn');
r = get('simba-cnn');
row('SimBA 2019 (pixel basis, L∞ η = 0.3): success, mean queries', '– (issue target ≥ 90 % within 10 000 queries)', `${pct(r.success_rate)}, ${r.mean_queries.toFixed(0)}`, 'simba-cnn');
r = get('square-cnn');
row('Square 2020 (L∞ η = 0.3): success, mean queries', '– (issue target ≥ 90 % within 10 000 queries)', `${pct(r.success_rate)}, ${r.mean_queries.toFixed(0)}`, 'square-cnn');
for (const k of [1, 3, 5]) {
  r = get(`onepixel-${k}`);
  row(`One-pixel (Su 2019), k = ${k}: success (n = ${r.n})`, '– (no MNIST figure published)', pct(r.success_rate), `onepixel-${k}`);
}
console.log('| experiment | published | ours (mnist models) | command |\n|---|---|---|---|');
console.log(rows.join('\n'));

const models = ['linear', 'mlp', 'cnn'];
console.log('\nTransfer at η = 0.3 (FGSM crafted on the row model, accuracy of the column model on the adversarials):\n');
console.log('| crafted on ↓ / tested on → | ' + models.map((m) => `mnist-${m}`).join(' | ') + ' |');
console.log('|---|' + models.map(() => '---|').join(''));
for (const a of models) {
  const cells = models.map((b) => pct(get(`transfer-fgsm-${a}-${b}`).target_adversarial_accuracy));
  console.log(`| mnist-${a} | ${cells.join(' | ')} |`);
}
