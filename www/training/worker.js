// The training lesson's worker: one wasm Trainer (src/web/training.rs) that trains a few batches per chunk and
// yields between chunks, so "pause" and "stop" arrive between two chunks and the page never waits on training.
// When training ends (or is stopped) the model is exported as safetensors and loaded into a Session to be attacked.
import init, { Trainer, Session } from '../pkg/advlab.js';
import { initWasm, asWasmError } from '../wasm-simd.js';

let trainer = null;
let session = null;
let run = { paused: false, stopped: false, looping: false };
let data = null;
const ready = initWasm(init)
  .then(() => {
    session = new Session();
  })
  .catch((e) => {
    throw asWasmError(e);
  });

async function fetchBytes(name) {
  const res = await fetch(new URL(`../data/${name}`, import.meta.url));
  if (!res.ok) throw new Error(`error.samples_missing: ${name} (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

async function subset() {
  data ??= Promise.all([fetchBytes('mnist-train-5000-images.idx.gzip'), fetchBytes('mnist-train-5000-labels.idx')]);
  return data;
}

const post = (msg) => self.postMessage(msg);
const plain = (v) => (v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])) : v);
const tick = () => new Promise((r) => setTimeout(r, 0));

async function finish() {
  const heldout = plain(trainer.evaluate());
  const bytes = trainer.export();
  session.loadModel('trained', bytes);
  post({ type: 'done', heldout, stopped: run.stopped, bytes: bytes.length });
}

async function loop() {
  if (run.looping) return;
  run.looping = true;
  try {
    while (trainer && !run.paused && !run.stopped) {
      const t0 = performance.now();
      const r = plain(trainer.step(run.chunk));
      post({ type: 'progress', ...r, ms: performance.now() - t0 });
      if (r.done) break;
      await tick();
    }
    if (trainer && !run.paused) await finish();
    else if (run.paused) post({ type: 'paused' });
  } catch (e) {
    post({ type: 'error', error: e?.message ?? String(e) });
  } finally {
    run.looping = false;
  }
}

const ops = {
  async start({ arch, hidden, seed, adversarial, eta, epochs, batch, lr, heldout, chunk }) {
    const [images, labels] = await subset();
    trainer?.free();
    trainer = new Trainer(arch, hidden, BigInt(seed), adversarial, eta, images, labels, heldout, epochs, batch, lr);
    run = { paused: false, stopped: false, looping: false, chunk };
    post({ type: 'started' });
    loop();
  },
  pause() {
    run.paused = true;
  },
  resume() {
    if (!trainer) return;
    run.paused = false;
    loop();
  },
  stop() {
    if (!trainer) return;
    run.stopped = true;
    // A paused run has no loop to notice the stop: finish here.
    if (!run.looping) {
      run.paused = false;
      finish().catch((e) => post({ type: 'error', error: e?.message ?? String(e) }));
    }
  },
  attack({ pixels, eta, seed }) {
    const d = plain(session.prepareDirection('trained', Float32Array.from(pixels), 'linf', -1, 0.5, BigInt(seed)));
    const before = plain(session.predict('trained', Float32Array.from(pixels)));
    const r = plain(session.adversarialAt(eta));
    post({
      type: 'attacked',
      before,
      after: r.prediction,
      flipEta: d.flipEta,
      adversarial: Float32Array.from(r.adversarial),
      perturbation: Float32Array.from(r.perturbation),
    });
  },
};

self.onmessage = async (ev) => {
  const { op, args } = ev.data || {};
  try {
    await ready;
    if (!ops[op]) throw new Error(`error.internal: unknown operation ${op}`);
    await ops[op](args || {});
  } catch (e) {
    post({ type: 'error', error: e?.message ?? String(e) });
  }
};
