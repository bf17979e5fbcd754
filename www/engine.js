// Main-thread client of the engine worker: promise per request, restart after a crash.
export class Engine extends EventTarget {
  constructor(url = new URL('./worker.js', import.meta.url)) {
    super();
    this.url = url;
    this.nextId = 1;
    this.pending = new Map();
    this.start();
  }

  start() {
    this.worker = new Worker(this.url, { type: 'module' });
    this.worker.onmessage = (ev) => {
      const { id, ok, result, error } = ev.data;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      ok ? p.resolve(result) : p.reject(new Error(error));
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.crash(ev.message || 'worker error');
    };
  }

  /** Rejects everything in flight, starts a fresh worker and tells listeners ('restart'). */
  crash(reason) {
    for (const p of this.pending.values()) p.reject(new Error(`error.worker: ${reason}`));
    this.pending.clear();
    this.worker.terminate();
    this.start();
    this.dispatchEvent(new CustomEvent('restart', { detail: reason }));
  }

  call(op, args = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }
}
