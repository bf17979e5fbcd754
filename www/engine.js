// Main-thread client of one engine worker: a promise per request (matched by id), progress callbacks, cancel by
// termination, and restart after a crash. Every model loaded through it is remembered and re-sent to a fresh
// worker, so a restart (crash or cancel) never loses the user's model.

/** Error messages that mean the wasm instance is dead or poisoned: the worker must be replaced. */
const FATAL = /RuntimeError|unreachable|memory access out of bounds|recursive use of an object|already borrowed|null pointer passed to rust|out of memory/i;

const MAX_CRASHES = 3;

export class Engine extends EventTarget {
  /** timeout: ms after which a call counts as a hung worker (crash + restart); 0 = wait forever (jobs). */
  constructor(name, { url = new URL('./worker.js', import.meta.url), timeout = 0 } = {}) {
    super();
    this.name = name;
    this.timeout = timeout;
    this.url = url;
    this.nextId = 1;
    this.pending = new Map();
    this.models = new Map(); // id → {op: 'loadModel'|'loadPlaceholder', args}
    this.restarts = 0;
    this.crashTimes = [];
    this.dead = false;
    this.start();
  }

  start() {
    const worker = new Worker(this.url, { type: 'module', name: this.name });
    this.worker = worker;
    worker.onmessage = (ev) => {
      const { id, ok, result, error, progress, fatal } = ev.data || {};
      const p = this.pending.get(id);
      if (!p) return;
      if (progress) {
        p.onProgress?.(progress);
        return;
      }
      this.pending.delete(id);
      if (ok) p.resolve(result);
      else if (fatal || FATAL.test(error)) {
        p.reject(new Error(`error.worker: ${error}`));
        this.crash(error);
      } else p.reject(new Error(error));
    };
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      if (this.worker === worker) this.crash(ev.message || 'worker error');
    };
    worker.onmessageerror = () => {
      if (this.worker === worker) this.crash('message could not be read');
    };
    // Models first: every later call queues behind them.
    const replays = [...this.models.entries()].map(([id, m]) => this.post(m.op, structuredCopy(m.args)).catch(() => {}));
    this.boot = Promise.all(replays);
  }

  /** Replaces the worker: everything in flight rejects with `key`, models are re-sent. */
  replace(key, reason) {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker.terminate();
    for (const p of pending) p.reject(new Error(`${key}: ${reason}`));
    this.start();
  }

  /**
   * A crash: restart and tell listeners ('restart'), so the page can say so and redo its view. A worker that
   * dies again and again (say, a model that crashes the engine as it loads) is given up after MAX_CRASHES within
   * a minute: calls then fail at once with error.worker instead of looping.
   */
  crash(reason) {
    this.restarts += 1;
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < 60000).concat(now);
    if (this.crashTimes.length > MAX_CRASHES) {
      this.dead = true;
      const pending = [...this.pending.values()];
      this.pending.clear();
      this.worker.terminate();
      for (const p of pending) p.reject(new Error(`error.worker: ${reason}`));
      this.dispatchEvent(new CustomEvent('dead', { detail: reason }));
      return;
    }
    this.replace('error.worker', reason);
    this.dispatchEvent(new CustomEvent('restart', { detail: reason }));
  }

  /** Cancels whatever runs now, immediately: the worker is terminated and a fresh one started. */
  cancel() {
    if (this.dead) return;
    this.replace('error.cancelled', this.name);
  }

  get busy() {
    return this.pending.size > 0;
  }

  post(op, args = {}, { transfer = [], onProgress } = {}) {
    const id = this.nextId++;
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      let timer = 0;
      const done = (fn) => (v) => {
        clearTimeout(timer);
        fn(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject), onProgress });
      if (this.timeout) {
        timer = setTimeout(() => {
          if (this.pending.has(id) && this.worker === worker) this.crash(`${op} did not answer within ${this.timeout} ms`);
        }, this.timeout);
      }
      worker.postMessage({ id, op, args }, transfer);
    });
  }

  async call(op, args = {}, opts = {}) {
    if (this.dead) throw new Error('error.worker: stopped after repeated crashes');
    await this.boot;
    return this.post(op, args, opts);
  }

  /** Loads a model (safetensors bytes) and remembers it for restarts. */
  loadModel(id, bytes) {
    this.models.set(id, { op: 'loadModel', args: { id, bytes } });
    return this.call('loadModel', { id, bytes: structuredCopy({ bytes }).bytes });
  }

  loadPlaceholder(id, seed) {
    this.models.set(id, { op: 'loadPlaceholder', args: { id, seed } });
    return this.call('loadPlaceholder', { id, seed });
  }

  unloadModel(id) {
    this.models.delete(id);
    return this.call('unloadModel', { id }).catch(() => {});
  }
}

function structuredCopy(v) {
  return structuredClone(v);
}
