// The audit pool benchmark (www/bench/bench-audit.html, run headless by scripts/bench-curves.mjs): images per second
// of the audit (www/audit/view.js's requests: one auditImage per test image, any free worker) with 1 worker and with
// 2, the same images, models loaded before timing; best of `repeat` runs, alternating. The two must agree on every
// outcome (the per-image seeds do not depend on the worker).
import { CurvePool } from '../lessons/pool.js';
import { samples } from '../lessons/common.js';
import { imageSeed } from '../audit/view.js';
import { alternate, publish } from './bench-common.js';

const q = new URLSearchParams(location.hash.slice(1));
const n = Number(q.get('n') || 40);
const model = q.get('model') || 'mnist-cnn-fgsm';
const eta = q.has('eta') ? Number(q.get('eta')) : null;
const repeat = Number(q.get('repeat') || 1);

/** One timed pass of a pool over the images: {seconds, result: each image's outcome}. */
async function pass(pool, data) {
  // The page's options: image i with its own seed (as advlab eval derives it), ε the engine's unless given.
  const options = (i) => `{${eta === null ? '' : `"eta":${eta},`}"norm":"linf","seed":${imageSeed(0, i)}}`;
  const outcomes = new Array(data.count);
  const t0 = performance.now();
  await pool.each(
    data.count,
    (eng, i) => eng.call('auditImage', [model, data.images.slice(i * 784, (i + 1) * 784), data.labels[i], options(i)], { onProgress: () => {} }),
    (i, o) => (outcomes[i] = o),
  );
  return { seconds: (performance.now() - t0) / 1000, result: outcomes };
}

publish(async () => {
  const data = await samples(n);
  const pools = [new CurvePool(1, { kind: 'photo' }), new CurvePool(2, { kind: 'photo' })];
  for (const p of pools) await p.load(model, `${model}.safetensors`);
  const runs = await alternate(pools, repeat, (pool) => pass(pool, data));
  const outcomes = runs.map((r) => r.result);
  const key = (o) => JSON.stringify([o.clean_correct, o.fgsm_robust, o.broken_by, o.queries]);
  const same = outcomes[0].every((o, i) => key(o) === key(outcomes[1][i]));
  const robust = outcomes[0].filter((o) => o.clean_correct && !o.broken_by).length;
  const queries = outcomes[0].reduce((a, o) => a + (Number(o.queries) || 0), 0);
  const [one, two] = runs.map(({ workers, seconds }) => ({ workers, seconds, imagesPerSecond: data.count / seconds }));
  return { model, eta, n: data.count, repeat, hardwareConcurrency: navigator.hardwareConcurrency, robust, queries, one, two, ratio: two.imagesPerSecond / one.imagesPerSecond, sameOutcomes: same };
});
