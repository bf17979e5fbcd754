// The engine's thread: one wasm Session per worker. The page talks to it through engine.js (request/response by
// id). Two of these run: "live" (predictions and the η slider, always responsive) and "job" (iterative and
// black-box attacks, which post progress and are cancelled by terminating the worker).
import init, { Session, version, selfTestPanic, selfTestOutOfMemory } from './pkg/advlab.js';
import { initWasm, asWasmError } from './wasm-simd.js';

let session = null;
let wasm = null; // the module's exports: its memory is reported to the soak test
const ready = initWasm(init)
  .then((exports) => {
    wasm = exports;
    session = new Session();
    return version();
  })
  .catch((e) => {
    // No WebAssembly (or no SIMD and no fallback): every call says so, translated, instead of failing obscurely.
    throw asWasmError(e);
  });

/** Typed arrays leave by transfer; a view into wasm memory is copied first (its buffer is not ours to give). */
function transferables(value, out = []) {
  if (ArrayBuffer.isView(value)) {
    out.push(value);
  } else if (value && typeof value === 'object') {
    for (const k of Object.keys(value)) transferables(value[k], out);
  }
  return out;
}

function detach(result) {
  const views = transferables(result);
  const buffers = new Set();
  for (const v of views) {
    if (v.byteOffset !== 0 || v.byteLength !== v.buffer.byteLength || buffers.has(v.buffer)) continue;
    buffers.add(v.buffer);
  }
  return [...buffers];
}

function f32(a) {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** serde-wasm-bindgen turns JSON objects into Maps; the page wants plain objects. */
function plain(v) {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function need(name) {
  if (typeof session[name] !== 'function') throw new Error(`error.unsupported: ${name}`);
}

const ops = {
  version: () => ready,
  memory: () => wasm.memory.buffer.byteLength,
  loadModel: ({ id, bytes }) => session.loadModel(id, new Uint8Array(bytes)),
  loadPlaceholder: ({ id, seed }) => session.loadPlaceholder(id, BigInt(seed)),
  unloadModel: ({ id }) => session.unloadModel(id),
  predict: ({ id, pixels }) => session.predict(id, f32(pixels)),
  preprocess: ({ rgba, width, height, invert }) => {
    need('preprocess');
    const r = session.preprocess(new Uint8Array(rgba), width, height, invert);
    return { pixels: f32(r.pixels), inverted: !!r.inverted, empty: !!r.empty };
  },
  attackNames: () => {
    need('attackNames');
    return plain(session.attackNames());
  },
  prepareDirection: ({ id, pixels, norm, target, maxEta, seed }) => {
    need('prepareDirection');
    return session.prepareDirection(id, f32(pixels), norm, target, maxEta, BigInt(seed));
  },
  adversarialAt: ({ eta }) => {
    need('adversarialAt');
    const r = session.adversarialAt(eta);
    return { ...r, adversarial: f32(r.adversarial), perturbation: f32(r.perturbation) };
  },
  confidenceCurve: ({ etas }) => {
    need('confidenceCurve');
    const r = session.confidenceCurve(f32(etas));
    return { adversarial: f32(r.adversarial), random: f32(r.random) };
  },
  runAttack: ({ id, pixels, attack, params, target }, reqId) => {
    need('runAttack');
    let last = 0;
    const progress = (p) => {
      const now = performance.now();
      if (now - last > 40 || p?.step === p?.total) {
        last = now;
        self.postMessage({ id: reqId, progress: { step: p.step, total: p.total, queries: p.queries } });
      }
      return true;
    };
    const r = session.runAttack(id, f32(pixels), attack, JSON.stringify(params), target, progress);
    return { ...r, adversarial: f32(r.adversarial), perturbation: f32(r.perturbation) };
  },
  // Failure drills for the end-to-end recovery tests: a Rust panic and an out-of-memory abort trap the wasm
  // instance (RuntimeError, reported as fatal below); an uncaught error kills the worker itself.
  panic: () => selfTestPanic(),
  outOfMemory: () => selfTestOutOfMemory(),
  crash: () => {
    setTimeout(() => {
      throw new Error('deliberate crash');
    });
    return new Promise(() => {});
  },
};

self.onmessage = async (ev) => {
  const { id, op, args } = ev.data;
  try {
    await ready;
    const fn = ops[op];
    if (!fn) throw new Error(`error.internal: unknown operation ${op}`);
    const result = await fn(args || {}, id);
    self.postMessage({ id, ok: true, result }, detach(result));
  } catch (e) {
    const fatal = e instanceof WebAssembly.RuntimeError;
    const error = e instanceof Error ? e.message : String(e);
    self.postMessage({ id, ok: false, error: fatal ? `RuntimeError: ${error}` : error, fatal });
  }
};
