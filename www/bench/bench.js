// The browser benchmark of issue 9 (developer page, not shipped): our wasm engine against TensorFlow.js (wasm
// backend with SIMD, and the cpu backend) on the same weights, in the same page and the same run. Engines are
// interleaved block by block (ours, tfjs-wasm, tfjs-cpu, ours, …) so machine load hits all of them alike.
// scripts/bench-peers.mjs drives it headless and prints the table; window.runBench(options) returns the numbers.
import init, { Session, sgemmGflops } from '../pkg/advlab.js';
import { buildTfModel } from '../../benches/peers/tfjs-model.js';
import { quantile, oursOps, timeBlock, compareBuilds } from './bench-common.js';

const tf = globalThis.tf;
const out = document.getElementById('out');
const log = (s) => {
  out.textContent += s + '\n';
};

const argmax = (a) => a.reduce((bi, v, i) => (v > a[bi] ? i : bi), 0);

async function loadImages(count) {
  const buf = new Uint8Array(await (await fetch('../samples/mnist-test-images.idx')).arrayBuffer());
  const n = Math.min(count, (buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]);
  const imgs = [];
  for (let i = 0; i < n; i++) imgs.push(Float32Array.from(buf.subarray(16 + i * 784, 16 + (i + 1) * 784), (v) => v / 255));
  return imgs;
}

// --- The same attacks written in TensorFlow.js ops (the way a tfjs user would). --------------------------------
function tfOps(m, params) {
  const K = m.classes;
  const clip01 = (t) => tf.clipByValue(t, 0, 1);
  const cleanClass = (x) => argmax(m.logits(x).dataSync());
  return {
    forward: (px) => tf.tidy(() => m.logits(m.image(px)).dataSync()),
    fgsm: (px) =>
      tf.tidy(() => {
        const x = m.image(px);
        const c = cleanClass(x);
        const adv = clip01(tf.add(x, tf.mul(tf.sign(m.inputGradient(x, c, K)), params.eta)));
        return m.logits(adv).dataSync();
      }),
    pgd40: (px) =>
      tf.tidy(() => {
        const x = m.image(px);
        const c = cleanClass(x);
        const lo = tf.sub(x, params.eta);
        const hi = tf.add(x, params.eta);
        let adv = clip01(tf.add(x, tf.randomUniform(x.shape, -params.eta, params.eta)));
        for (let i = 0; i < 40; i++) {
          const g = m.inputGradient(adv, c, K);
          adv = clip01(tf.minimum(tf.maximum(tf.add(adv, tf.mul(tf.sign(g), params.alpha)), lo), hi));
        }
        return m.logits(adv).dataSync();
      }),
    // DeepFool, L2, untargeted (Moosavi-Dezfooli et al. 2016), batched over the 9 other classes like ours.
    deepfool: (px) =>
      tf.tidy(() => {
        const n = px.length;
        const x = m.image(px);
        const c = cleanClass(x);
        const others = [...Array(K).keys()].filter((j) => j !== c);
        const d = new Float32Array(others.length * K);
        others.forEach((j, row) => {
          d[row * K + j] = 1;
          d[row * K + c] = -1;
        });
        const dT = tf.tensor2d(d, [others.length, K]);
        const rTot = new Float32Array(n);
        let adv = x;
        let steps = 0;
        while (steps < 50) {
          const z = m.logits(adv).dataSync();
          if (argmax(z) !== c) break;
          steps++;
          const batch = tf.tile(adv, [others.length, 1, 1, 1]);
          const g = tf.grad((b) => tf.sum(tf.mul(m.logits(b), dT)))(batch).dataSync();
          let best = null;
          others.forEach((j, row) => {
            let q = 0;
            for (let i = 0; i < n; i++) q += g[row * n + i] ** 2;
            q = Math.sqrt(q);
            if (q > 0) {
              const dist = Math.abs(z[j] - z[c]) / q;
              if (!best || dist < best.dist) best = { dist, row, f: z[j] - z[c], q };
            }
          });
          if (!best) break;
          const s = (Math.abs(best.f) + 1e-4) / (best.q * best.q);
          for (let i = 0; i < n; i++) rTot[i] += s * g[best.row * n + i];
          const advPx = new Float32Array(n);
          for (let i = 0; i < n; i++) advPx[i] = Math.min(1, Math.max(0, px[i] + 1.02 * rTot[i]));
          adv = m.image(advPx);
        }
        return steps;
      }),
    // SimBA (Guo et al. 2019), pixel basis, L∞ steps of ε: one forward pass per query, stop at success or 1000.
    simba: (px) =>
      tf.tidy(() => {
        const n = px.length;
        const prob = (a) => tf.tidy(() => tf.softmax(m.logits(m.image(a))).dataSync());
        const adv = Float32Array.from(px);
        let p = prob(adv);
        const c = argmax(p);
        let queries = 1;
        const order = [...Array(n).keys()];
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (const i of order) {
          if (queries >= 1000 || argmax(p) !== c) break;
          const old = adv[i];
          for (const v of [Math.max(0, old - params.simbaEta), Math.min(1, old + params.simbaEta)]) {
            if (v === old || queries >= 1000) continue;
            adv[i] = v;
            const q = prob(adv);
            queries++;
            if (q[c] < p[c]) {
              p = q;
              break;
            }
            adv[i] = old;
          }
        }
        return queries;
      }),
  };
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

window.runBench = async function runBench({
  models = ['mnist-cnn', 'mnist-mlp'],
  ops = ['forward', 'fgsm', 'pgd40', 'deepfool', 'simba'],
  rounds = 5,
  budgetMs = 150,
  check = 5,
  ceiling: measureCeiling = true,
  builds = true,
} = {}) {
  await init();
  const params = { eta: 0.1, alpha: 0.01, simbaEta: 0.02 };
  tf.wasm.setWasmPaths(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
  const backends = ['wasm', 'cpu'];
  const imgs = await loadImages(64);
  const session = new Session();
  const result = { models: {}, env: { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency } };

  // The sgemm ceiling of this build (same wasm, +simd128).
  result.ceiling = {};
  for (const [m, k, n] of measureCeiling ? [[32, 288, 121], [32, 9, 784], [256, 256, 256]] : []) {
    const reps = Math.max(3, Math.round(2e8 / (2 * m * k * n)));
    const g = [1, 2, 3].map(() => sgemmGflops(m, k, n, reps));
    result.ceiling[`${m}x${k}x${n}`] = Math.max(...g);
  }
  const ceiling = Math.max(0, ...Object.values(result.ceiling));

  for (const id of models) {
    const bytes = await (await fetch(`../models/${id}.safetensors`)).arrayBuffer();
    const info = session.loadModel(id, new Uint8Array(bytes));
    const engines = { ours: oursOps(session, id, params) };
    const tfModels = {};
    for (const be of backends) {
      await tf.setBackend(be);
      await tf.ready();
      tfModels[be] = buildTfModel(tf, bytes);
      engines[`tfjs-${be}`] = tfOps(tfModels[be], params);
    }
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');

    // Agreement on the same weights: logits and input gradients.
    const agreement = {};
    for (const be of backends) {
      await tf.setBackend(be);
      let dz = 0;
      let dg = 0;
      let gmax = 0;
      for (const px of imgs.slice(0, check)) {
        const z = session.logits(id, px);
        const m = tfModels[be];
        const tz = tf.tidy(() => m.logits(m.image(px)).dataSync());
        dz = Math.max(dz, maxAbsDiff(z, tz));
        // The predicted label (FGSM's gradient, tiny on a confident image) and another one (gradient of O(1)).
        for (const label of [argmax(z), (argmax(z) + 1) % m.classes]) {
          const g = session.inputGradient(id, px, label);
          const tg = tf.tidy(() => m.inputGradient(m.image(px), label, m.classes).dataSync());
          dg = Math.max(dg, maxAbsDiff(g, tg));
          gmax = Math.max(gmax, ...g.map(Math.abs));
        }
      }
      agreement[`tfjs-${be}`] = { logits: dz, gradient: dg, gradientMax: gmax, ok: dz < 1e-4 && dg < 1e-4 };
    }

    const times = {};
    for (const op of ops) {
      times[op] = {};
      for (const e of Object.keys(engines)) times[op][e] = [];
      const slow = op === 'pgd40' || op === 'deepfool' || op === 'simba';
      const scale = op === 'simba' ? (q) => q / 1000 : null;
      for (let r = 0; r < rounds; r++) {
        for (const [e, fns] of Object.entries(engines)) {
          if (e.startsWith('tfjs-')) await tf.setBackend(e.slice(5));
          fns[op](imgs[0]); // warm-up (and lets tfjs move the weights to the active backend)
          const { samples } = timeBlock(fns[op], imgs, r * 7, slow ? budgetMs * 2 : budgetMs, slow ? 2 : 5, scale);
          times[op][e].push(...samples);
        }
        await new Promise((res) => setTimeout(res, 0));
      }
      log(`${id} ${op}: ` + Object.entries(times[op]).map(([e, s]) => `${e} ${quantile(s, 0.5).toFixed(3)} ms`).join(', '));
    }
    // The slider's engine path: one cached direction applied at a new η plus one forward pass.
    session.prepareDirection(id, imgs[0], 'linf', -1, 0.3, 1n);
    let k = 0;
    const slider = timeBlock(() => session.adversarialAt(((k++ * 37) % 97) / 97 * 0.3), imgs, 0, budgetMs * 2, 20, null);

    const summary = {};
    for (const [op, byEngine] of Object.entries(times)) {
      summary[op] = {};
      for (const [e, s] of Object.entries(byEngine)) summary[op][e] = { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95) };
    }
    const fwd = ceiling > 0 ? summary.forward?.ours?.median : null;
    result.models[id] = {
      flops: info.flops,
      simd,
      agreement,
      summary,
      sliderEngine: { n: slider.samples.length, median: quantile(slider.samples, 0.5), p95: quantile(slider.samples, 0.95) },
      forwardGflops: fwd ? info.flops / (fwd / 1000) / 1e9 : null,
      forwardOfCeiling: fwd ? info.flops / (fwd / 1000) / 1e9 / ceiling : null,
    };
    for (const m of Object.values(tfModels)) m.dispose();
    session.unloadModel(id);
  }
  // The no-SIMD fallback build (browsers without wasm SIMD) against the simd128 build, on mnist-cnn.
  if (builds) {
    const bytes = await (await fetch('../models/mnist-cnn.safetensors')).arrayBuffer();
    result.builds = await compareBuilds({ modelBytes: bytes, imgs, params, rounds, budgetMs });
    log('builds: ' + JSON.stringify(result.builds));
  }
  result.ceilingMax = ceiling;
  window.benchResults = result;
  log(JSON.stringify(result, null, 1));
  return result;
};

document.body.dataset.ready = 'true';
