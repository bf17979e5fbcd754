// Assembles www/lessons/data.json from the JSON reports of `advlab transfer` and `advlab eval` that
// scripts/train-lessons.sh writes into a temporary folder: node scripts/lessons-data.mjs DIR "model model …".
import fs from 'node:fs';
import path from 'node:path';

const [dir, list] = process.argv.slice(2);
const models = list.split(/\s+/).filter(Boolean);
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));

const cells = models.map((a) => models.map((b) => read(`transfer-${a}-${b}.json`)));
const first = cells[0][0];
const transfer = {
  attack: first.attack,
  norm: first.norm,
  eta: first.eta,
  n: first.n,
  seed: first.seed,
  models,
  // targetAdversarialAccuracy[i][j]: accuracy of model j on adversarials crafted (white-box) on model i.
  targetAdversarialAccuracy: cells.map((row) => row.map((c) => c.target_adversarial_accuracy)),
  transferRate: cells.map((row) => row.map((c) => c.transfer_rate)),
  targetCleanAccuracy: models.map((_, j) => cells[0][j].target_clean_accuracy),
};

const ks = [1, 3, 5];
const pixels = models.map((m) => ks.map((k) => read(`pixel-${m}-${k}.json`)));
const onePixel = {
  attack: 'one_pixel',
  n: pixels[0][0].n,
  seed: pixels[0][0].seed,
  ks,
  models,
  successRate: pixels.map((row) => row.map((r) => r.success_rate)),
  meanQueries: pixels.map((row) => row.map((r) => r.mean_queries)),
};

process.stdout.write(JSON.stringify({ generatedBy: 'scripts/train-lessons.sh', transfer, onePixel }, null, 1) + '\n');
