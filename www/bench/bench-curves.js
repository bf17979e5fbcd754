// The pool benchmark (www/bench-curves.html, run headless by scripts/bench-curves.mjs): images per second of the
// robustness-curve pool with 1 worker and with 2, same images, models loaded before timing; best of `repeat` runs.
import { CurvePool } from '../lessons/pool.js';
import { samples } from '../lessons/common.js';
import { ETAS } from '../lessons/curves.js';
import { alternate, publish } from './bench-common.js';

const q = new URLSearchParams(location.hash.slice(1));
const n = Number(q.get('n') || 500);
const model = q.get('model') || 'mnist-cnn';
const attack = q.get('attack') || 'fgsm';
const repeat = Number(q.get('repeat') || 2);

/** One timed pass of a pool over the images: {seconds, result: the curve's counts}. */
async function pass(pool, data) {
  const t0 = performance.now();
  const res = await pool.run({ id: model, file: `${model}.safetensors`, attack, params: { seed: 0 }, etas: ETAS, images: data.images, labels: data.labels });
  return { seconds: (performance.now() - t0) / 1000, result: res.counts };
}

publish(async () => {
  const data = await samples(n);
  const pools = [new CurvePool(1), new CurvePool(2)];
  for (const p of pools) await p.load(model, `${model}.safetensors`);
  const [one, two] = (await alternate(pools, repeat, (pool) => pass(pool, data))).map(({ result, ...s }) => ({
    ...s,
    imagesPerSecond: data.count / s.seconds,
    counts: result,
  }));
  const same = JSON.stringify(one.counts) === JSON.stringify(two.counts);
  return { model, attack, n: data.count, etas: ETAS, repeat, hardwareConcurrency: navigator.hardwareConcurrency, one, two, ratio: two.imagesPerSecond / one.imagesPerSecond, sameCounts: same };
});
