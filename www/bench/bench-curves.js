// The pool benchmark (www/bench-curves.html, run headless by scripts/bench-curves.mjs): images per second of the
// robustness-curve pool with 1 worker and with 2, same images, models loaded before timing; best of `repeat` runs.
import { CurvePool } from '../lessons/pool.js';
import { samples } from '../lessons/common.js';
import { ETAS } from '../lessons/curves.js';

const q = new URLSearchParams(location.hash.slice(1));
const n = Number(q.get('n') || 500);
const model = q.get('model') || 'mnist-cnn';
const attack = q.get('attack') || 'fgsm';
const repeat = Number(q.get('repeat') || 2);
const out = document.getElementById('out');

/** One timed pass of a pool over the images: {seconds, counts}. */
async function pass(pool, data) {
  const t0 = performance.now();
  const res = await pool.run({ id: model, file: `${model}.safetensors`, attack, params: { seed: 0 }, etas: ETAS, images: data.images, labels: data.labels });
  return { seconds: (performance.now() - t0) / 1000, counts: res.counts };
}

async function main() {
  const data = await samples(n);
  // Both pools loaded before timing; their runs alternate (1, 2, 1, 2, …) so that a change in the machine's load
  // hits both alike; the best run of each counts.
  const pools = [new CurvePool(1), new CurvePool(2)];
  for (const p of pools) await p.load(model, `${model}.safetensors`);
  const best = [Infinity, Infinity];
  const counts = [null, null];
  for (let r = 0; r < repeat; r++) {
    for (const k of [0, 1]) {
      const m = await pass(pools[k], data);
      best[k] = Math.min(best[k], m.seconds);
      counts[k] = m.counts;
    }
  }
  const stat = (k) => ({ workers: k + 1, seconds: best[k], imagesPerSecond: data.count / best[k], counts: counts[k] });
  const one = stat(0);
  const two = stat(1);
  const same = JSON.stringify(one.counts) === JSON.stringify(two.counts);
  const result = { model, attack, n: data.count, etas: ETAS, repeat, hardwareConcurrency: navigator.hardwareConcurrency, one, two, ratio: two.imagesPerSecond / one.imagesPerSecond, sameCounts: same };
  out.textContent = JSON.stringify(result, null, 1);
  document.body.dataset.result = JSON.stringify(result);
  document.body.dataset.done = 'true';
}

main().catch((e) => {
  out.textContent = String(e?.message || e);
  document.body.dataset.error = String(e?.message || e);
  document.body.dataset.done = 'true';
});
