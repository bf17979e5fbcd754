// The photo-model benchmark of issue 15 (developer page, not shipped): EfficientNet-Lite0 at batch 1, 224×224, in
// our wasm engine (simd128, through the Session the page uses) against ONNX Runtime Web (wasm, SIMD, one thread)
// and TensorFlow.js 4.22 (wasm backend, SIMD), all on the same weights (our safetensors, converted at run time by
// benches/peers/onnx-model.js and tfjs-photo-model.js) in the same page. Engines are interleaved block by block so
// machine load hits them alike. scripts/bench-photo.mjs drives it headless and prints the tables.
import init, { Session, sgemmGflops } from '../pkg/advlab_photo.js';
import * as ort from '../../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { buildOnnx } from '../../benches/peers/onnx-model.js';
import { buildTfPhotoModel } from '../../benches/peers/tfjs-photo-model.js';
import { syntheticInput } from '../../benches/peers/photo-weights.js';

const tf = globalThis.tf;
const out = document.getElementById('out');
const log = (s) => {
  out.textContent += s + '\n';
};
const noop = () => true;
const argmax = (a) => a.reduce((bi, v, i) => (v > a[bi] ? i : bi), 0);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const cosine = (a, b) => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
};

/** Times `fn` (sync or async) on images until `budgetMs` has passed, at least `min` and at most `max` calls. */
async function timeBlock(fn, imgs, start, budgetMs, min, max = 100) {
  const samples = [];
  const t0 = performance.now();
  let k = start;
  while (samples.length < min || (performance.now() - t0 < budgetMs && samples.length < max)) {
    const px = imgs[k++ % imgs.length];
    const s0 = performance.now();
    await fn(px);
    samples.push(performance.now() - s0);
  }
  return samples;
}

window.runPhotoBench = async function runPhotoBench({ rounds = 5, budgetMs = 1500, pgdRounds = 3, eta = 2 / 255, jaxGradient = null } = {}) {
  const result = { env: { userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated } };
  const wasm = await init();
  const mem = () => wasm.memory.buffer.byteLength;
  const modelBytes = new Uint8Array(await (await fetch('../models/imagenet-efficientnet-lite0.safetensors')).arrayBuffer());
  // The shifts jax_efficientnet.py --dump-gradient uses.
  const imgs = [0, 37, 101].map((shift) => syntheticInput(3, 224, 224, shift));

  // --- ours ---------------------------------------------------------------------------------------------------
  result.memory = { afterInit: mem() };
  const session = new Session();
  const info = session.loadModel('photo', modelBytes);
  result.flops = info.flops;
  result.memory.afterLoad = mem();
  const alpha = eta / 4;
  const ours = {
    forward: (px) => session.logits('photo', px),
    fgsm: (px) => session.runAttack('photo', px, 'fgsm', JSON.stringify({ eta }), -1, noop),
    pgd10: (px) => session.runAttack('photo', px, 'pgd', JSON.stringify({ eta, steps: 10, step_size: alpha, random_start: true }), -1, noop),
  };
  // The sgemm ceiling of this build, at GEMM shapes of the network's pointwise convolutions.
  result.ceiling = {};
  for (const [m, k, n] of [[96, 16, 12544], [192, 32, 3136], [1280, 320, 49], [256, 256, 256]]) {
    const reps = Math.max(1, Math.round(2e8 / (2 * m * k * n)));
    result.ceiling[`${m}x${k}x${n}`] = Math.max(...[1, 2].map(() => sgemmGflops(m, k, n, reps)));
  }

  // --- ONNX Runtime Web: wasm, SIMD, one thread, files from node_modules (same origin) -----------------------------
  ort.env.wasm.wasmPaths = new URL('../../node_modules/onnxruntime-web/dist/', location.href).href;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const t0 = performance.now();
  const onnxBytes = buildOnnx(modelBytes.buffer.slice(0));
  const ortSession = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  result.ortBuildMs = performance.now() - t0;
  result.ortVersion = ort.env.versions?.web ?? ort.env.versions?.common;
  const ortOps = {
    forward: async (px) => (await ortSession.run({ x: new ort.Tensor('float32', px, [1, 3, 224, 224]) })).logits.data,
  };

  // --- TensorFlow.js wasm (SIMD) --------------------------------------------------------------------------------
  tf.wasm.setWasmPaths(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
  await tf.setBackend('wasm');
  await tf.ready();
  result.tfjs = { version: tf.version.tfjs, backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: tf.env().getBool?.('WASM_HAS_MULTITHREAD_SUPPORT') };
  const tm = buildTfPhotoModel(tf, modelBytes.buffer.slice(0));
  const tfjsOps = {
    forward: (px) => tf.tidy(() => tm.logits(tm.image(px)).dataSync()),
    // As a tfjs user writes FGSM: the clean class, ∇ₓJ, x' = clip(x + η·sign ∇ₓJ), and the logits of x'.
    fgsm: (px) =>
      tf.tidy(() => {
        const x = tm.image(px);
        const c = argmax(tm.logits(x).dataSync());
        const adv = tf.clipByValue(tf.add(x, tf.mul(tf.sign(tm.inputGradient(x, c)), eta)), 0, 1);
        return tm.logits(adv).dataSync();
      }),
  };

  // --- agreement on the same inputs ---------------------------------------------------------------------------
  const agreement = { ort: { logits: 0, top1: 0 }, tfjs: { logits: 0, top1: 0, gradMax: 0, gradCos: 1 } };
  for (const px of imgs) {
    const zo = session.logits('photo', px);
    const zr = await ortOps.forward(px);
    const zt = tfjsOps.forward(px);
    agreement.ort.logits = Math.max(agreement.ort.logits, maxAbsDiff(zo, zr));
    agreement.tfjs.logits = Math.max(agreement.tfjs.logits, maxAbsDiff(zo, zt));
    agreement.ort.top1 += argmax(zo) === argmax(zr);
    agreement.tfjs.top1 += argmax(zo) === argmax(zt);
    const c = argmax(zo);
    const go = session.inputGradient('photo', px, c);
    const gt = tf.tidy(() => tm.inputGradient(tm.image(px), c).dataSync());
    agreement.tfjs.gradMax = Math.max(agreement.tfjs.gradMax, maxAbsDiff(go, gt));
    agreement.tfjs.gradCos = Math.min(agreement.tfjs.gradCos, cosine(go, gt));
    agreement.tfjs.gradScale = Math.max(agreement.tfjs.gradScale ?? 0, go.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  }
  agreement.images = imgs.length;
  // An independent arbiter for the gradient: JAX's ∇ₓJ (benches/peers/jax_efficientnet.py --dump-gradient) on
  // the synthetic input imgs[0] at its top-1 class.
  if (jaxGradient) {
    const j = await (await fetch(jaxGradient)).json();
    agreement.jax = j.items.map((it) => {
      const px = syntheticInput(3, 224, 224, it.shift);
      const go = session.inputGradient('photo', px, it.class);
      const gt = tf.tidy(() => tm.inputGradient(tm.image(px), it.class).dataSync());
      return {
        shift: it.shift,
        class: it.class,
        oursLogits: maxAbsDiff(session.logits('photo', px), it.logits),
        oursGradMax: maxAbsDiff(go, it.gradient),
        oursGradCos: cosine(go, it.gradient),
        tfjsGradMax: maxAbsDiff(gt, it.gradient),
        tfjsGradCos: cosine(gt, it.gradient),
        gradScale: it.gradient.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
      };
    });
  }
  agreement.oursTop1 = imgs.map((px) => argmax(session.logits('photo', px)));
  result.agreement = agreement;
  log(`agreement: ${JSON.stringify(agreement)}`);

  // --- timing, interleaved ------------------------------------------------------------------------------------
  const engines = { ours, ort: ortOps, 'tfjs-wasm': tfjsOps };
  const samples = {};
  const plan = [['forward', rounds, budgetMs, 5], ['fgsm', rounds, budgetMs, 3], ['pgd10', pgdRounds, 0, 2]];
  for (const [op, nRounds, budget, min] of plan) {
    samples[op] = {};
    for (let r = 0; r < nRounds; r++) {
      for (const [name, e] of Object.entries(engines)) {
        if (!e[op]) continue;
        await e[op](imgs[0]); // warm-up of this block
        const s = await timeBlock(e[op], imgs, r, budget, min);
        (samples[op][name] ??= []).push(...s);
        log(`${op} ${name} round ${r}: median ${quantile(s, 0.5).toFixed(1)} ms`);
      }
    }
  }
  result.memory.afterPgd10 = mem();
  result.summary = {};
  for (const [op, byEngine] of Object.entries(samples)) {
    result.summary[op] = {};
    for (const [name, s] of Object.entries(byEngine)) result.summary[op][name] = { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), min: Math.min(...s) };
  }

  // --- where our forward time goes ----------------------------------------------------------------------------
  result.layerTimes = session.layerTimes('photo', imgs[0], 3);
  tm.dispose();
  await ortSession.release();
  window.benchResults = result;
  return result;
};
document.body.dataset.ready = 'true';
