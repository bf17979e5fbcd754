// The pool benchmark (www/bench-curves.html, run headless by scripts/bench-curves.mjs): images per second of the
// robustness-curve pool with 1 worker and with 2, same images, models loaded before timing; best of `repeat` runs.
import { CurvePool } from './pool.js';
import { samples } from './common.js';
import { ETAS } from './curves.js';

const q = new URLSearchParams(location.hash.slice(1));
const n = Number(q.get('n') || 500);
const model = q.get('model') || 'mnist-cnn';
const attack = q.get('attack') || 'fgsm';
const repeat = Number(q.get('repeat') || 2);
const out = document.getElementById('out');

async function measure(workers, data) {
  const pool = new CurvePool(workers);
  await pool.load(model, `${model}.safetensors`);
  let best = Infinity;
  let counts = null;
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    const res = await pool.run({ id: model, file: `${model}.safetensors`, attack, params: { seed: 0 }, etas: ETAS, images: data.images, labels: data.labels });
    best = Math.min(best, performance.now() - t0);
    counts = res.counts;
  }
  for (const e of pool.workers) e.worker.terminate();
  return { workers, seconds: best / 1000, imagesPerSecond: data.count / (best / 1000), counts };
}

async function main() {
  const data = await samples(n);
  const one = await measure(1, data);
  const two = await measure(2, data);
  const same = JSON.stringify(one.counts) === JSON.stringify(two.counts);
  const result = { model, attack, n: data.count, etas: ETAS, hardwareConcurrency: navigator.hardwareConcurrency, one, two, ratio: two.imagesPerSecond / one.imagesPerSecond, sameCounts: same };
  out.textContent = JSON.stringify(result, null, 1);
  document.body.dataset.result = JSON.stringify(result);
  document.body.dataset.done = 'true';
}

main().catch((e) => {
  out.textContent = String(e?.message || e);
  document.body.dataset.error = String(e?.message || e);
  document.body.dataset.done = 'true';
});
