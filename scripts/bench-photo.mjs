// Runs www/bench/photo.html in headless Chromium (issue 15): EfficientNet-Lite0 at batch 1, 224×224, in our wasm
// engine (simd128) against ONNX Runtime Web (wasm, SIMD, 1 thread) and TensorFlow.js 4.22 (wasm, SIMD) on the same
// weights in the same run, and prints the tables with the ratios, the logit agreement and the peak wasm memory.
// Usage: node scripts/bench-photo.mjs [--quick]   (ROUNDS=, BUDGET_MS=, PGD_ROUNDS=, BENCH_JSON=file)
// Needs www/pkg (./build.sh build) and www/models/imagenet-efficientnet-lite0.safetensors.
import os from 'node:os';
import fs from 'node:fs';
import { launch, openPage, offOrigin } from '../tests/e2e/helpers.mjs';

const quick = process.argv.includes('--quick');
const opts = {
  rounds: Number(process.env.ROUNDS || (quick ? 2 : 5)),
  budgetMs: Number(process.env.BUDGET_MS || (quick ? 500 : 1500)),
  pgdRounds: Number(process.env.PGD_ROUNDS || (quick ? 1 : 3)),
  jaxGradient: process.env.JAX_GRADIENT ? `../../${process.env.JAX_GRADIENT}` : null,
};
const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || os.cpus()[0]?.model;
const loadBefore = os.loadavg();

const env = await launch();
let res;
let leaked;
try {
  const page = await openPage(env, { path: 'www/bench/photo.html' });
  page.setDefaultTimeout(60 * 60 * 1000);
  if (process.env.VERBOSE) page.on('console', (m) => console.error(m.text()));
  res = await page.evaluate((o) => window.runPhotoBench(o), opts);
  leaked = offOrigin(page, env.origin);
  if (page.errors.length) console.error('page errors:', page.errors);
} finally {
  await env.close();
}
const loadAfter = os.loadavg();

const f = (x) => (x == null ? '–' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3));
const mb = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const label = { forward: 'forward', fgsm: 'FGSM (clean forward + ∇ₓJ + forward of x′)', pgd10: 'PGD-10 (L∞, random start)' };
console.log(`\nMachine: ${cpu}, ${os.cpus().length} logical CPUs, load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after`);
console.log(`Chromium: ${res.env.userAgent}`);
console.log(`Requests off the page's origin: ${leaked.length}`);
console.log(`ONNX Runtime Web ${res.ortVersion} (wasm, SIMD, numThreads 1); TensorFlow.js ${res.tfjs.version} backend ${res.tfjs.backend}, SIMD ${res.tfjs.simd}`);
console.log(`EfficientNet-Lite0: ${(res.flops / 1e9).toFixed(3)} GFLOP per forward pass (our count)`);
const a = res.agreement;
console.log(`\nagreement with ours on ${a.images} inputs: ORT-web max |Δlogit| ${a.ort.logits.toExponential(2)} (top-1 ${a.ort.top1}/${a.images}); tfjs-wasm max |Δlogit| ${a.tfjs.logits.toExponential(2)} (top-1 ${a.tfjs.top1}/${a.images}), ∇ₓJ max |Δ| ${a.tfjs.gradMax.toExponential(2)} (max |∇ₓJ| ${a.tfjs.gradScale.toExponential(2)}), cosine ${a.tfjs.gradCos.toFixed(6)}`);
for (const j of a.jax ?? []) {
  console.log(`against JAX (synthetic input shift ${j.shift}, class ${j.class}, max |∇ₓJ| ${j.gradScale.toExponential(2)}): ours max |Δlogit| ${j.oursLogits.toExponential(2)}, ∇ₓJ max |Δ| ${j.oursGradMax.toExponential(2)} cosine ${j.oursGradCos.toFixed(6)}; tfjs ∇ₓJ max |Δ| ${j.tfjsGradMax.toExponential(2)} cosine ${j.tfjsGradCos.toFixed(6)}`);
}
console.log('\n| op, batch 1, 224×224 (ms) | ours median | ours p95 | ORT-web median | ORT-web p95 | tfjs-wasm median | tfjs-wasm p95 | ORT / ours | tfjs / ours |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [op, s] of Object.entries(res.summary)) {
  const o = s.ours;
  const r = s.ort;
  const t = s['tfjs-wasm'];
  console.log(`| ${label[op] || op} | ${f(o.median)} | ${f(o.p95)} | ${f(r?.median)} | ${f(r?.p95)} | ${f(t?.median)} | ${f(t?.p95)} | ${r ? (r.median / o.median).toFixed(2) : '–'} | ${t ? (t.median / o.median).toFixed(2) : '–'} |`);
}
console.log(`\nsamples: ${Object.entries(res.summary).map(([op, s]) => `${op} ${Object.entries(s).map(([e, v]) => `${e} n=${v.n} min=${f(v.min)}`).join(', ')}`).join('; ')}`);
const ceil = Math.max(...Object.values(res.ceiling));
const fwd = res.summary.forward.ours.median;
console.log(`sgemm ceiling of our build: ${Object.entries(res.ceiling).map(([k, g]) => `${k} ${g.toFixed(1)}`).join(', ')} GFLOP/s; forward ${(res.flops / (fwd / 1000) / 1e9).toFixed(2)} GFLOP/s = ${((100 * res.flops) / (fwd / 1000) / 1e9 / ceil).toFixed(1)} % of ${ceil.toFixed(1)}`);
console.log(`wasm memory: ${mb(res.memory.afterInit)} after init, ${mb(res.memory.afterLoad)} after loading the model, ${mb(res.memory.afterPgd10)} after PGD-10 (memory never shrinks: this is the peak)`);
const lt = [...res.layerTimes].map(([n, ms], i) => ({ i, n, ms })).sort((x, y) => y.ms - x.ms);
const total = lt.reduce((s, l) => s + l.ms, 0);
console.log(`\nour forward by layer (profile_layers, residual bodies layer by layer, ${total.toFixed(1)} ms total), the 8 slowest:`);
for (const l of lt.slice(0, 8)) console.log(`  ${String(l.i).padStart(3)} ${l.ms.toFixed(2).padStart(7)} ms  ${l.n.slice(0, 110)}`);
const byKind = {};
for (const l of lt) {
  // The leaf kind (a residual body's layers are timed one by one: `residual/conv2d …`), 1×1 convolutions apart.
  const k = (l.n.match(/^(?:residual\/)?(\w+)/)?.[1] ?? l.n) + (/"kernel":1,/.test(l.n) ? ' 1×1' : '');
  byKind[k] = (byKind[k] ?? 0) + l.ms;
}
console.log(`  by kind: ${Object.entries(byKind).sort((x, y) => y[1] - x[1]).map(([k, ms]) => `${k} ${ms.toFixed(1)}`).join(', ')}`);
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(res, null, 1));
