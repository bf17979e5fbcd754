// Benchmark worker (developer file, not shipped): runs one of the two wasm builds in pkg/ (named by the first
// message) so bench-common.js compareBuilds() can time the simd128 build against the no-SIMD fallback in one run.
import init, { Session } from '../pkg/advlab.js';
import { oursOps, timeBlock } from './bench-common.js';

const ID = 'm';
let session = null;
let ops = null;

const handlers = {
  async init({ file }) {
    await init({ module_or_path: new URL(`../pkg/${file}`, import.meta.url) });
    session = new Session();
    return file;
  },
  load({ bytes, params }) {
    session.loadModel(ID, new Uint8Array(bytes));
    ops = oursOps(session, ID, params);
    return true;
  },
  logits({ imgs }) {
    return imgs.map((px) => Array.from(session.logits(ID, px)));
  },
  time({ name, imgs, start, budgetMs, min }) {
    ops[name](imgs[0]); // warm-up
    return timeBlock(ops[name], imgs, start, budgetMs, min, null).samples;
  },
};

self.onmessage = async (e) => {
  const { id, op } = e.data;
  try {
    self.postMessage({ id, ok: true, result: await handlers[op](e.data) });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err?.message ?? err) });
  }
};
