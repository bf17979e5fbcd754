// The engine's thread: one wasm Session per worker. The page talks to it through engine.js (request/response by id).
import init, { Session, version } from './pkg/advlab.js';

let session = null;
const ready = init().then(() => {
  session = new Session();
  return version();
});

const ops = {
  version: () => ready,
  loadModel: ({ id, bytes }) => session.loadModel(id, new Uint8Array(bytes)),
  loadPlaceholder: ({ id, seed }) => session.loadPlaceholder(id, BigInt(seed)),
  predict: ({ id, pixels }) => session.predict(id, pixels),
  preprocess: ({ rgba, width, height, invert }) => {
    const r = session.preprocess(new Uint8Array(rgba), width, height, invert);
    return r;
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
    self.postMessage({ id, ok: false, error: String(e?.message ?? e) });
  }
};
