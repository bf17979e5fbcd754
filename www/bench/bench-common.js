// What the browser benchmarks share (developer files, not shipped): quantiles, timing blocks, and our engine's
// operations as the page's workers call them. bench.js runs them on the main thread; bench-build-worker.js runs
// them in a worker on a chosen wasm build (simd128 or the no-SIMD fallback), and compareBuilds() interleaves the two.
const noop = () => true;

export const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

// --- Our engine: every op goes through the same wasm calls the page's worker makes. -------------------------
export function oursOps(session, id, params) {
  const run = (px, attack, p) => session.runAttack(id, px, attack, JSON.stringify(p), -1, noop);
  return {
    forward: (px) => session.logits(id, px),
    fgsm: (px) => run(px, 'fgsm', { eta: params.eta }),
    pgd40: (px) => run(px, 'pgd', { eta: params.eta, steps: 40, step_size: params.alpha, random_start: true }),
    deepfool: (px) => run(px, 'deepfool', { norm: 'l2', steps: 50 }).steps,
    // Returns the queries spent (η is small enough that 1000 are spent), so the time is scaled to 1000 queries.
    simba: (px) => run(px, 'simba', { eta: params.simbaEta, max_queries: 1000 }).queries,
  };
}

/** Runs `fn` on images until `budgetMs` has passed (at least `min` runs); each sample is ms per call. */
export function timeBlock(fn, imgs, start, budgetMs, min, scale) {
  const samples = [];
  const t0 = performance.now();
  let k = start;
  while (samples.length < min || (performance.now() - t0 < budgetMs && samples.length < 200)) {
    const px = imgs[k++ % imgs.length];
    // Batch calls so one sample lasts ≥ ~2 ms: performance.now() is coarsened to 0.1 ms without isolation.
    let reps = 0;
    let extra = 0;
    const s0 = performance.now();
    let dt = 0;
    do {
      const r = fn(px);
      extra += scale ? scale(r) : 1;
      reps++;
      dt = performance.now() - s0;
    } while (dt < 2 && reps < 1000);
    samples.push(dt / extra);
  }
  return { samples, next: k };
}


/** One worker running `file` from pkg/ (bench-build-worker.js); `call(msg)` resolves to its answer. */
function buildWorker(file) {
  const w = new Worker(new URL('bench-build-worker.js', import.meta.url), { type: 'module' });
  let seq = 0;
  const waiting = new Map();
  w.onmessage = (e) => {
    const { id, ok, result, error } = e.data;
    const p = waiting.get(id);
    waiting.delete(id);
    if (ok) p.resolve(result);
    else p.reject(new Error(error));
  };
  const call = (msg) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      w.postMessage({ ...msg, id });
    });
  return { ready: call({ op: 'init', file }), call, close: () => w.terminate() };
}

/**
 * The simd128 build against the no-SIMD fallback, each in its own worker, on the same model and images; rounds are
 * interleaved (simd, compat, simd, …) so load hits both alike. Returns { op: { simd, compat } } of medians/p95s and
 * the largest logit difference between the two builds (they run the same Rust, summed in a different order).
 */
export async function compareBuilds({ modelBytes, imgs, params, ops = ['forward', 'fgsm', 'pgd40'], rounds = 5, budgetMs = 150 }) {
  const builds = { simd: buildWorker('advlab_bg.wasm'), compat: buildWorker('advlab_compat_bg.wasm') };
  try {
    for (const b of Object.values(builds)) {
      await b.ready;
      await b.call({ op: 'load', bytes: modelBytes, params });
    }
    const logits = {};
    for (const [name, b] of Object.entries(builds)) logits[name] = await b.call({ op: 'logits', imgs: imgs.slice(0, 5) });
    let maxLogitDiff = 0;
    logits.simd.forEach((z, i) => z.forEach((v, j) => (maxLogitDiff = Math.max(maxLogitDiff, Math.abs(v - logits.compat[i][j])))));
    const out = {};
    for (const op of ops) {
      const samples = { simd: [], compat: [] };
      const slow = op !== 'forward' && op !== 'fgsm';
      for (let r = 0; r < rounds; r++) {
        for (const [name, b] of Object.entries(builds)) {
          samples[name].push(...(await b.call({ op: 'time', name: op, imgs, start: r * 7, budgetMs: slow ? budgetMs * 2 : budgetMs, min: slow ? 2 : 5 })));
        }
      }
      out[op] = {};
      for (const [name, s] of Object.entries(samples)) out[op][name] = { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95) };
    }
    return { ops: out, maxLogitDiff };
  } finally {
    for (const b of Object.values(builds)) b.close();
  }
}

/**
 * The pool benchmarks' timing (bench-curves.js, bench-audit.js): `pass(pool)` on each of `pools` in turn, `repeat`
 * rounds alternating (1, 2, 1, 2, …) so that a change in the machine's load hits all alike. Returns, per pool, the
 * best time in seconds and the last pass's result (`pass` resolves to `{ seconds, result }`).
 */
export async function alternate(pools, repeat, pass) {
  const best = pools.map(() => Infinity);
  const results = pools.map(() => null);
  for (let r = 0; r < repeat; r++) {
    for (const [k, pool] of pools.entries()) {
      const m = await pass(pool);
      best[k] = Math.min(best[k], m.seconds);
      results[k] = m.result;
    }
  }
  return pools.map((_, k) => ({ workers: k + 1, seconds: best[k], result: results[k] }));
}

/**
 * Runs a bench page's `main` and publishes what it returns where the headless runner reads it (`#out`,
 * `body[data-result]`, `body[data-done]`), or its error in `body[data-error]`.
 */
export function publish(main) {
  const out = document.getElementById('out');
  const done = (key, value, text) => {
    out.textContent = text;
    document.body.dataset[key] = value;
    document.body.dataset.done = 'true';
  };
  main().then(
    (result) => done('result', JSON.stringify(result), JSON.stringify(result, null, 1)),
    (e) => done('error', String(e?.message || e), String(e?.message || e)),
  );
}
