// A pool of lesson workers for robustness curves: one module worker (own wasm Session) per core
// (navigator.hardwareConcurrency), work split by image index into small chunks that idle workers take from a
// queue, so a slow worker never holds the rest back. Chunk counts add up exactly to `advlab eval` (see
// src/lessons: per-image seeds are derived from the global image index, not from the worker).
import { Engine } from '../engine.js';
import { ensureModel } from '../models.js';

/** Images per request: small enough that the workers finish together (≈ 8 chunks per worker), at most 16. */
export function chunkSize(n, workers) {
  return Math.max(1, Math.min(16, Math.ceil(n / (workers * 8))));
}

export class CurvePool {
  /** kind: the engine each worker runs (engine.js): 'lab' for the curves, 'photo' (the full engine) for the audit. */
  constructor(size = navigator.hardwareConcurrency || 2, { kind = 'lab' } = {}) {
    this.size = Math.max(1, Math.min(16, size | 0));
    this.kind = kind;
    this.workers = [];
    this.generation = 0;
  }

  engines() {
    while (this.workers.length < this.size) {
      this.workers.push(new Engine(`curves-${this.workers.length}`, { kind: this.kind }));
    }
    return this.workers;
  }

  /** Loads a model into every worker (before timing anything). */
  async load(id, file) {
    await Promise.all(this.engines().map((e) => ensureModel(e, id, file)));
  }

  /**
   * Loads a model from its bytes (a file the user opened: never fetched, never uploaded) into every worker; each
   * engine keeps it for its restarts. Resolves to the first worker's ModelInfo; rejects with the engine's error
   * (error.model_file: … for a file that is no model).
   */
  async loadBytes(id, bytes) {
    const infos = await Promise.all(this.engines().map((e) => e.loadModel(id, bytes)));
    return infos[0];
  }

  /**
   * One request per item over every worker: task(engine, i) for i = 0 … n−1, the next index going to whichever
   * worker is free, so a slow image (an audit's robust one) never holds the others back. onResult(i, value) as each
   * answers. Rejects with error.cancelled after cancel(), or with the first failing request's error.
   */
  async each(n, task, onResult = () => {}) {
    const gen = ++this.generation;
    let next = 0;
    const worker = async (eng) => {
      while (next < n) {
        if (gen !== this.generation) throw new Error('error.cancelled:');
        const i = next++;
        let value;
        try {
          value = await task(eng, i);
        } catch (e) {
          // A failed request stops the other workers too (their answers are no longer wanted).
          if (gen === this.generation) this.generation += 1;
          throw e;
        }
        if (gen !== this.generation) throw new Error('error.cancelled:');
        onResult(i, value);
      }
    };
    const runs = this.engines().map(worker);
    // The first real error wins over the error.cancelled it causes in the other workers.
    const settled = await Promise.allSettled(runs);
    const failed = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);
    const real = failed.find((e) => !/^error\.cancelled/.test(String(e?.message)));
    if (real) throw real;
    if (failed.length || gen !== this.generation) throw new Error('error.cancelled:');
  }

  /**
   * Correct counts at each η over all images: {counts: number[], n}. job: {id, file, attack, params, etas,
   * images: Float32Array(n·784), labels: Uint32Array(n)}. onProgress(done, n) as images finish.
   */
  async run(job, onProgress = () => {}) {
    const gen = ++this.generation;
    const n = job.labels.length;
    const sz = job.images.length / n;
    await this.load(job.id, job.file);
    const counts = new Array(job.etas.length).fill(0);
    const chunk = chunkSize(n, this.size);
    const doneBy = new Map();
    let next = 0;
    const report = () => onProgress([...doneBy.values()].reduce((a, b) => a + b, 0), n);
    const worker = async (eng) => {
      while (next < n) {
        if (gen !== this.generation) throw new Error('error.cancelled:');
        const start = next;
        const end = Math.min(n, start + chunk);
        next = end;
        const key = `${start}`;
        const c = await eng.call(
          'robustnessChunk',
          [
            job.id, job.attack, JSON.stringify(job.params), Float32Array.from(job.etas),
            job.images.slice(start * sz, end * sz), job.labels.slice(start, end), start,
          ],
          { onProgress: (p) => { doneBy.set(key, p.done); report(); } },
        );
        doneBy.set(key, end - start);
        report();
        for (let k = 0; k < counts.length; k++) counts[k] += c[k];
      }
    };
    await Promise.all(this.engines().map(worker));
    if (gen !== this.generation) throw new Error('error.cancelled:');
    return { counts, n };
  }

  /** Stops the running job at once: every worker is terminated and replaced (models are re-sent). */
  cancel() {
    this.generation += 1;
    for (const e of this.workers) if (e.busy) e.cancel();
  }
}
