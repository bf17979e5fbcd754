// The lessons' engine thread: one wasm Session per worker (the curves pool runs one per core). Same message
// protocol as ../worker.js ({id, op, args} → {id, ok, result} | {id, progress}), so ../engine.js drives it.
import init, { Session, downsample, changedPixels } from '../pkg/advlab.js';
import { initWasm, asWasmError } from '../wasm-simd.js';

let session = null;
const ready = initWasm(init)
  .then(() => {
    session = new Session();
  })
  .catch((e) => {
    throw asWasmError(e);
  });

const f32 = (a) => (a instanceof Float32Array ? a : Float32Array.from(a));
const copy = (o) => {
  const out = {};
  for (const [k, v] of Object.entries(o)) out[k] = ArrayBuffer.isView(v) ? v.slice() : v;
  return out;
};

function progressPoster(reqId) {
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (now - last > 40) {
      last = now;
      self.postMessage({ id: reqId, progress: p });
    }
    return true;
  };
}

const ops = {
  loadModel: ({ id, bytes }) => session.loadModel(id, new Uint8Array(bytes)),
  predict: ({ id, pixels }) => session.predict(id, f32(pixels)),
  linearWeights: ({ id }) => copy(session.linearWeights(id)),
  linearDecomposition: ({ id, pixels, target, eta }) => copy(session.linearDecomposition(id, f32(pixels), target, eta)),
  flipEtas: ({ id, images, maxEta }) => session.flipEtas(id, f32(images), maxEta),
  downsample: ({ pixels, side, r }) => downsample(f32(pixels), side, r),
  changedPixels: ({ before, after, channels }) => changedPixels(f32(before), f32(after), channels),
  runAttack: ({ id, pixels, attack, params, target }, reqId) => {
    const post = progressPoster(reqId);
    const r = session.runAttack(id, f32(pixels), attack, JSON.stringify(params), target, (p) =>
      post({ step: p.step, total: p.total, queries: p.queries }),
    );
    return copy(r);
  },
  robustnessChunk: ({ id, attack, params, etas, images, labels, start }, reqId) => {
    const post = progressPoster(reqId);
    return session.robustnessChunk(id, attack, JSON.stringify(params), f32(etas), f32(images), Uint32Array.from(labels), start, (done) =>
      post({ done }),
    );
  },
};

self.onmessage = async (ev) => {
  const { id, op, args } = ev.data;
  try {
    await ready;
    const fn = ops[op];
    if (!fn) throw new Error(`error.internal: unknown operation ${op}`);
    const result = await fn(args || {}, id);
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    const fatal = e instanceof WebAssembly.RuntimeError;
    const error = e instanceof Error ? e.message : String(e);
    self.postMessage({ id, ok: false, error: fatal ? `RuntimeError: ${error}` : error, fatal });
  }
};
