// Main-thread client of one engine worker (worker.js; this is the only file in www/ that starts one): a promise
// per request (matched by id), progress callbacks, cancel by termination, and restart after a crash. Every model
// loaded through it is remembered and re-sent to a fresh worker, so a restart (crash or cancel) never loses the
// user's model. The protocol (see worker.js): {id, op, args: [...], session?, progress?} → {id, progress} |
// {id, ok, value | error}.

/** Error messages that mean the wasm instance is dead or poisoned: the worker must be replaced. */
const FATAL = /RuntimeError|unreachable|memory access out of bounds|recursive use of an object|already borrowed|null pointer passed to rust|out of memory/i;

const MAX_CRASHES = 3;

export class Engine extends EventTarget {
  /**
   * timeout: ms after which a call counts as a hung worker (crash + restart); 0 = wait forever (jobs).
   * after: a promise the worker waits for before it starts (and fetches the wasm), e.g. the page's first paint, so
   * the engine's downloads do not compete with the first screen; calls made before then simply queue.
   * kind: 'lab' (the digits engine, pkg/advlab.js) or 'photo' (pkg/advlab_photo.js, the full engine: the photo layers
   * and the AutoAttack audit; loaded only for photo models and the audit view).
   */
  constructor(name, { timeout = 0, after = null, kind = 'lab' } = {}) {
    super();
    this.name = name;
    this.kind = kind;
    this.timeout = timeout;
    this.url = new URL('./worker.js', import.meta.url);
    if (kind === 'photo') this.url.search = '?engine=photo';
    this.nextId = 1;
    this.pending = new Map();
    this.models = new Map(); // "session/id" → {op: 'loadModel'|'loadPlaceholder', args, session}
    this.restarts = 0;
    this.crashTimes = [];
    this.dead = false;
    this.worker = null;
    if (after) {
      this.boot = Promise.resolve(after)
        .catch(() => {})
        .then(() => {
          if (!this.worker && !this.dead) this.start();
          return this.boot;
        });
    } else this.start();
  }

  start() {
    const worker = new Worker(this.url, { type: 'module', name: this.name });
    this.worker = worker;
    worker.onmessage = (ev) => {
      const { id, ok, value, error, progress, fatal } = ev.data || {};
      const p = this.pending.get(id);
      if (!p) return;
      if (progress) {
        p.onProgress?.(progress);
        return;
      }
      this.pending.delete(id);
      if (ok) p.resolve(value);
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
    const replays = [...this.models.values()].map((m) => this.post(m.op, m.args, { session: m.session }).catch(() => {}));
    this.boot = Promise.all(replays);
  }

  /** Replaces the worker: everything in flight rejects with `key`, models are re-sent. */
  replace(key, reason) {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker?.terminate();
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
      this.worker?.terminate();
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
    this.replace('error.cancelled', ''); // no detail: the worker's name ("curves-0") means nothing to a reader
  }

  get busy() {
    return this.pending.size > 0;
  }

  post(op, args = [], { transfer = [], onProgress, session } = {}) {
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
      const msg = { id, op, args: Array.isArray(args) ? args : [args] };
      if (session) msg.session = session;
      if (onProgress) msg.progress = true;
      worker.postMessage(msg, transfer);
    });
  }

  /** Runs `op` (a Session method or one of worker.js's own) with positional `args`. */
  async call(op, args = [], opts = {}) {
    if (this.dead) throw new Error('error.worker: stopped after repeated crashes');
    await this.boot;
    return this.post(op, args, opts);
  }

  /** Loads a model (safetensors bytes) into `session` (default: the worker's main one) and remembers it for restarts. */
  loadModel(id, bytes, session) {
    this.models.set(modelKey(session, id), { op: 'loadModel', args: [id, bytes], session });
    return this.call('loadModel', [id, bytes], { session });
  }

  loadPlaceholder(id, seed, session) {
    this.models.set(modelKey(session, id), { op: 'loadPlaceholder', args: [id, BigInt(seed)], session });
    return this.call('loadPlaceholder', [id, BigInt(seed)], { session });
  }

  hasModel(id, session) {
    return this.models.has(modelKey(session, id));
  }

  unloadModel(id, session) {
    this.models.delete(modelKey(session, id));
    return this.call('unloadModel', [id], { session }).catch(() => {});
  }

  /** Frees a whole session in the worker (a widget removed from its page) and forgets its models. */
  dispose(session) {
    for (const [k, m] of this.models) if (m.session === session) this.models.delete(k);
    return this.call('dispose', [], { session }).catch(() => {});
  }
}

const modelKey = (session, id) => `${session ?? 'main'}/${id}`;
