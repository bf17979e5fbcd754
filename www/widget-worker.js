// The thread shared by every <adversarial-lab> on a page: ONE wasm module (pkg/advlab_bg.wasm is fetched and
// compiled once), and one wasm `Session` per widget, so each widget keeps its own models and its own cached FGSM
// direction (a Session caches one direction; two widgets in one Session would overwrite each other's).
// Model ids are "<widget>/<model>" (engine.js replays them after a restart as they are); the other calls name
// their widget in `inst`.
import init, { Session } from './pkg/advlab.js';
import { initWasm, asWasmError } from './wasm-simd.js';

const sessions = new Map();
const ready = initWasm(init).catch((e) => {
  throw asWasmError(e);
});

function session(inst) {
  if (typeof inst !== 'string' || !inst) throw new Error('error.internal: no widget id');
  if (!sessions.has(inst)) sessions.set(inst, new Session());
  return sessions.get(inst);
}
const owner = (id) => String(id).split('/')[0];
const f32 = (a) => (a instanceof Float32Array ? a : Float32Array.from(a));
const plain = (v) =>
  v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])) : Array.isArray(v) ? v.map(plain) : v;

const ops = {
  version: () => ready.then(() => 'ok'),
  loadModel: ({ id, bytes }) => session(owner(id)).loadModel(id, new Uint8Array(bytes)),
  unloadModel: ({ id }) => session(owner(id)).unloadModel(id),
  attackNames: ({ inst }) => plain(session(inst).attackNames()),
  predict: ({ id, pixels }) => session(owner(id)).predict(id, f32(pixels)),
  prepareDirection: ({ id, pixels, norm, target, maxEta, seed }) =>
    session(owner(id)).prepareDirection(id, f32(pixels), norm, target, maxEta, BigInt(seed)),
  adversarialAt: ({ inst, eta }) => {
    const r = session(inst).adversarialAt(eta);
    return { ...r, adversarial: f32(r.adversarial).slice(), perturbation: f32(r.perturbation).slice() };
  },
  confidenceCurve: ({ inst, etas }) => {
    const r = session(inst).confidenceCurve(f32(etas));
    return { adversarial: f32(r.adversarial).slice(), random: f32(r.random).slice() };
  },
  runAttack: ({ id, pixels, attack, params, target }) => {
    const r = session(owner(id)).runAttack(id, f32(pixels), attack, JSON.stringify(params), target, () => true);
    return { ...r, adversarial: f32(r.adversarial).slice(), perturbation: f32(r.perturbation).slice() };
  },
  /** A widget removed from the page frees its Session (models and direction). */
  dispose: ({ inst }) => {
    sessions.get(inst)?.free();
    sessions.delete(inst);
  },
};

self.onmessage = async (ev) => {
  const { id, op, args } = ev.data;
  try {
    await ready;
    const fn = ops[op];
    if (!fn) throw new Error(`error.internal: unknown operation ${op}`);
    const result = await fn(args || {});
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    const fatal = e instanceof WebAssembly.RuntimeError;
    const error = e instanceof Error ? e.message : String(e);
    self.postMessage({ id, ok: false, error: fatal ? `RuntimeError: ${error}` : error, fatal });
  }
};
