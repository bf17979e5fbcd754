#!/usr/bin/env node
// The typical flip point of every model in www/models/index.json: FGSM (L∞) on the first N test images, each
// image's flip η as `advlab attack --sample i --attack fgsm --json` reports it (flip_eta: the smallest η on the
// engine's search grid that changes the prediction; null when nothing up to the cap flips it), and the median
// over the N images (an image that never flips counts as +∞, so it pushes the median up, never down).
// Writes www/models/flip-etas.json, which the page shows beside the flip point ("half of all test images flip
// below …"). Usage: node scripts/flip-medians.mjs [N=200] [ADVLAB=target/release/advlab]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const n = Number(process.argv[2] || 200);
const bin = process.argv[3] || 'target/release/advlab';
const index = JSON.parse(readFileSync('www/models/index.json', 'utf8'));
const out = { attack: 'fgsm', norm: 'linf', n, source: `advlab attack --sample 0..${n - 1} --attack fgsm --eta 0.1 --json`, models: {} };
for (const m of index.models.filter((x) => x.engine !== 'photo')) { // photos: --photos below
  const etas = [];
  const wrong = [];
  for (let i = 0; i < n; i++) {
    const r = JSON.parse(execFileSync(bin, ['attack', '--model', `www/models/${m.file}`, '--sample', String(i), '--attack', 'fgsm', '--eta', '0.1', '--json'], { encoding: 'utf8' }));
    if (r.pred_before !== r.label) wrong.push(i); // already misclassified: no flip to measure
    else etas.push(r.flip_eta ?? Infinity);
  }
  etas.sort((a, b) => a - b);
  const q = (p) => etas[Math.min(etas.length - 1, Math.floor(p * (etas.length - 1) + 0.5))];
  const round = (x) => (Number.isFinite(x) ? Number(x.toFixed(4)) : null);
  out.models[m.id] = {
    median: round(q(0.5)), q25: round(q(0.25)), q75: round(q(0.75)), counted: etas.length,
    below_0_1: Number((etas.filter((e) => e <= 0.1).length / etas.length).toFixed(3)), misclassified: wrong.length,
  };
  console.log(m.id, JSON.stringify(out.models[m.id]));
}
writeFileSync('www/models/flip-etas.json', JSON.stringify(out, null, 2) + '\n');
