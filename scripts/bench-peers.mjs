// Runs www/bench/bench.html in headless Chromium (issue 9): our wasm engine against TensorFlow.js (wasm SIMD and cpu
// backends) on the same weights, in the same page and the same run, and prints the tables with the ratios.
// Usage: node scripts/bench-peers.mjs [--quick]   (ROUNDS=, BUDGET_MS=, MODELS=mnist-cnn,mnist-mlp)
import os from 'node:os';
import fs from 'node:fs';
import { launch, openPage, offOrigin } from '../tests/e2e/helpers.mjs';

const quick = process.argv.includes('--quick');
const opts = {
  rounds: Number(process.env.ROUNDS || (quick ? 2 : 5)),
  budgetMs: Number(process.env.BUDGET_MS || (quick ? 60 : 150)),
  models: (process.env.MODELS || 'mnist-cnn,mnist-mlp').split(','),
};
if (process.env.OPS) opts.ops = process.env.OPS.split(',');
const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || os.cpus()[0]?.model;
const loadBefore = os.loadavg();

const env = await launch();
let res;
let leaked;
try {
  const page = await openPage(env, { path: 'www/bench/bench.html' });
  page.setDefaultTimeout(30 * 60 * 1000);
  res = await page.evaluate((o) => window.runBench(o), opts);
  leaked = offOrigin(page, env.origin);
  if (page.errors.length) console.error('page errors:', page.errors);
} finally {
  await env.close();
}
const loadAfter = os.loadavg();

const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const label = { forward: 'forward', fgsm: 'FGSM', pgd40: 'PGD-40', deepfool: 'DeepFool (L2)', simba: 'SimBA, per 1000 queries' };
console.log(`\nMachine: ${cpu}, ${os.cpus().length} logical CPUs (nproc), load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after`);
console.log(`Chromium: ${res.env.userAgent}`);
console.log(`Requests off the page's origin: ${leaked.length}`);
console.log(`\nsgemm ceiling of our wasm build (ndarray dot → matrixmultiply, simd128), GFLOP/s:`);
for (const [s, g] of Object.entries(res.ceiling)) console.log(`  ${s}: ${g.toFixed(2)}`);
for (const [id, m] of Object.entries(res.models)) {
  console.log(`\n### ${id} (${(m.flops / 1e6).toFixed(2)} MFLOP per forward pass; tfjs wasm SIMD: ${m.simd})\n`);
  for (const [be, a] of Object.entries(m.agreement)) {
    console.log(`agreement ours vs ${be}: max |Δlogit| ${a.logits.toExponential(2)}, max |Δ∇ₓJ| ${a.gradient.toExponential(2)} (max |∇ₓJ| ${a.gradientMax.toExponential(2)}) → ${a.ok ? 'within 1e-4' : 'NOT within 1e-4'}`);
  }
  console.log('\n| op (ms per image) | ours median | ours p95 | tfjs-wasm median | tfjs-wasm p95 | tfjs-cpu median | tfjs-cpu p95 | × vs tfjs-wasm | × vs tfjs-cpu |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [op, s] of Object.entries(m.summary)) {
    const o = s.ours;
    const w = s['tfjs-wasm'];
    const c = s['tfjs-cpu'];
    console.log(`| ${label[op] || op} | ${f(o.median)} | ${f(o.p95)} | ${f(w.median)} | ${f(w.p95)} | ${f(c.median)} | ${f(c.p95)} | ${(w.median / o.median).toFixed(2)} | ${(c.median / o.median).toFixed(2)} |`);
  }
  const sl = m.sliderEngine;
  console.log(`\nslider engine path (adversarialAt: apply cached direction + forward + DTO): median ${f(sl.median)} ms, p95 ${f(sl.p95)} ms`);
  if (m.forwardGflops) {
    // FLOPs are counted as for a direct convolution (2·k²·C·O per output): with Winograd F(2×2,3×3) at batch 1 the
    // engine does fewer, so this is an *effective* rate and may exceed the sgemm ceiling.
    console.log(`forward pass: ${m.forwardGflops.toFixed(2)} GFLOP/s effective (direct-convolution FLOPs) = ${(100 * m.forwardOfCeiling).toFixed(1)} % of the sgemm ceiling (${res.ceilingMax.toFixed(2)} GFLOP/s)`);
  }
}
if (res.builds) {
  // Browsers without wasm SIMD run pkg/advlab_compat_bg.wasm (www/wasm-simd.js picks it): what they lose.
  console.log(`\n### mnist-cnn: the simd128 build against the no-SIMD fallback (each in a worker, interleaved)\n`);
  console.log(`max |Δlogit| between the builds: ${res.builds.maxLogitDiff.toExponential(2)}\n`);
  console.log('| op (ms per image) | simd128 median | simd128 p95 | no-SIMD median | no-SIMD p95 | no-SIMD / simd128 |');
  console.log('|---|---|---|---|---|---|');
  for (const [op, s] of Object.entries(res.builds.ops)) {
    console.log(`| ${label[op] || op} | ${f(s.simd.median)} | ${f(s.simd.p95)} | ${f(s.compat.median)} | ${f(s.compat.p95)} | ${(s.compat.median / s.simd.median).toFixed(2)} |`);
  }
}
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(res, null, 1));
