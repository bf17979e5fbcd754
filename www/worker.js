// The engine's thread, the only one in www/ (engine.js is the only file that starts it). Every view talks to it
// through engine.js with one protocol:
//   request  {id, op, args: [...], session?, progress?}
//   answers  {id, progress}   (any number, only when the request asked for progress)
//            {id, ok: true, value} | {id, ok: false, error, fatal}
// `op` is a method of the wasm `Session` (src/web/session.rs, lessons.rs), called with `args` as its positional
// arguments; the list of ops is read from `Session.prototype` below, so a new Session method is an op with no JS.
// `session` names the wasm Session the call runs in (default "main"): every <adversarial-lab> on a page has its own
// in one shared worker, so its cached FGSM direction is its own. With `progress: true` the request's last argument
// is a callback that posts `{id, progress}`; the engine throttles it (Rust, 50 ms), never this file.
// A few ops are the worker's own (WORKER_OPS): the version, memory, free functions, failure drills, disposing a
// session, and browser training (a Trainer that yields between chunks so pause and stop arrive).
// Which engine this worker runs is in its URL: `worker.js` is the lab engine (pkg/advlab.js, digits, inside the
// default page's budget); `worker.js?engine=photo` is the photo engine (pkg/advlab_photo.js: the same Session API
// plus the photo layers and preparePhoto/photoInfo), fetched only when a photo model is chosen.
import { initWasm, asWasmError } from './wasm-simd.js';

export const ENGINE = new URLSearchParams(self.location?.search ?? '').get('engine') === 'photo' ? 'photo' : 'lab';

// The glue's exports once loaded (the handler below is set at once, so no early message is lost; every call
// awaits `ready`).
let G = null;
let wasm = null; // the module's exports: its memory is reported to the soak test
/** The Session methods: every op that is not the worker's own. */
let SESSION_OPS = [];
const ready = (ENGINE === 'photo' ? import('./pkg/advlab_photo.js') : import('./pkg/advlab.js'))
  .then(async (glue) => {
    G = glue;
    wasm = await initWasm(glue.default, undefined, ENGINE);
    const proto = glue.Session.prototype;
    SESSION_OPS = Object.getOwnPropertyNames(proto).filter(
      (n) => n !== 'constructor' && n !== 'free' && !n.startsWith('__') && typeof proto[n] === 'function',
    );
  })
  .catch((e) => {
    // No WebAssembly (or no SIMD and no fallback): every call says so, translated, instead of failing obscurely.
    throw asWasmError(e);
  });

const sessions = new Map();
function session(name = 'main') {
  if (!sessions.has(name)) sessions.set(name, new G.Session());
  return sessions.get(name);
}

/** serde-wasm-bindgen turns JSON objects into Maps; the page wants plain objects. */
function plain(v) {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && Object.getPrototypeOf(v) === Object.prototype) {
    for (const k of Object.keys(v)) v[k] = plain(v[k]);
  }
  return v;
}

/** Typed arrays leave by transfer: each whole buffer once (a view into a larger buffer is left to be copied). */
function transferables(value, out = new Set()) {
  if (ArrayBuffer.isView(value)) {
    if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) out.add(value.buffer);
  } else if (value && typeof value === 'object') {
    for (const k of Object.keys(value)) transferables(value[k], out);
  }
  return out;
}

/** Bytes may arrive as an ArrayBuffer: wasm-bindgen's `&[u8]` wants a typed array. */
const arg = (a) => (a instanceof ArrayBuffer ? new Uint8Array(a) : a);

// ---------------------------------------------------------------- browser training (#lesson=train)

let training = null; // {trainer, paused, stopped, wake}
const tick = () => new Promise((r) => setTimeout(r, 0));

async function train(args, post, name) {
  const { arch, hidden, seed, adversarial, eta, epochs, batch, lr, heldout, chunk, images, labels } = args;
  training?.trainer.free();
  const run = {
    trainer: new G.Trainer(arch, hidden, BigInt(seed), adversarial, eta, arg(images), arg(labels), heldout, epochs, batch, lr),
    paused: false,
    stopped: false,
    wake: null,
  };
  training = run;
  while (!run.stopped) {
    if (run.paused) {
      post({ paused: true });
      await new Promise((r) => (run.wake = r));
      continue;
    }
    const t0 = performance.now();
    const r = plain(run.trainer.step(chunk));
    post({ ...r, ms: performance.now() - t0 });
    if (r.done) break;
    await tick();
  }
  if (training !== run) throw new Error('error.cancelled: training');
  const held = plain(run.trainer.evaluate());
  const bytes = run.trainer.export();
  session(name).loadModel('trained', bytes);
  return { heldout: held, stopped: run.stopped, bytes: bytes.length };
}

function trainControl(what) {
  const run = training;
  if (!run) return false;
  if (what === 'pause') run.paused = true;
  else if (what === 'resume') run.paused = false;
  else if (what === 'stop') {
    run.stopped = true;
    run.paused = false;
  }
  else throw new Error(`error.internal: training ${what}`);
  if (!run.paused && run.wake) {
    run.wake();
    run.wake = null;
  }
  return true;
}

// ---------------------------------------------------------------- the worker's own ops

const WORKER_OPS = {
  version: () => G.version(),
  engine: () => ENGINE,
  memory: () => wasm.memory.buffer.byteLength,
  ops: () => [...SESSION_OPS, ...Object.keys(WORKER_OPS)],
  downsample: (pixels, side, r) => G.downsample(pixels, side, r),
  changedPixels: (before, after, channels) => G.changedPixels(before, after, channels),
  /** A widget removed from the page frees its Session (models and direction). */
  dispose: (_args, { session: name }) => {
    sessions.get(name)?.free();
    sessions.delete(name);
  },
  train: ([args], { post, session: name }) => train(args, post, name),
  trainControl: ([what]) => trainControl(what),
  // Failure drills for the end-to-end recovery tests: a Rust panic and an out-of-memory abort trap the wasm
  // instance (RuntimeError, reported as fatal below); an uncaught error kills the worker itself.
  panic: () => G.selfTestPanic(),
  outOfMemory: () => G.selfTestOutOfMemory(),
  crash: () => {
    setTimeout(() => {
      throw new Error('deliberate crash');
    });
    return new Promise(() => {});
  },
};
for (const name of ['downsample', 'changedPixels', 'version', 'engine', 'memory', 'panic', 'outOfMemory', 'crash', 'ops']) {
  const f = WORKER_OPS[name];
  WORKER_OPS[name] = (args) => f(...args);
}

self.onmessage = async (ev) => {
  const { id, op, args = [], session: name = 'main', progress = false } = ev.data || {};
  try {
    await ready;
    const list = (Array.isArray(args) ? args : [args]).map(arg);
    const post = (p) => self.postMessage({ id, progress: plain(p) });
    let value;
    if (Object.hasOwn(WORKER_OPS, op)) {
      value = await WORKER_OPS[op](list, { post, session: name });
    } else if (SESSION_OPS.includes(op)) {
      const s = session(name);
      // The engine's progress callback: only an explicit `false` would cancel; cancelling is by termination.
      if (progress) list.push((p) => (post(p), true));
      value = s[op](...list);
    } else {
      throw new Error(`error.internal: unknown operation ${op}`);
    }
    value = plain(value);
    self.postMessage({ id, ok: true, value }, [...transferables(value)]);
  } catch (e) {
    const fatal = e instanceof WebAssembly.RuntimeError;
    const error = e instanceof Error ? e.message : String(e);
    self.postMessage({ id, ok: false, error: fatal ? `RuntimeError: ${error}` : error, fatal });
  }
};
