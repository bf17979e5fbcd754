// The lab's flow, once, with no DOM: the full page (app.js) and every <adversarial-lab> are renderers of a
// LabController. It owns the model (and the engine's attack catalog for it), the input image, the settings, the
// cached FGSM direction and its flip point, the slider's coalescing (one forward pass in flight, newer η values
// replace older ones), and the jobs (iterative and query attacks). It says what happened through events:
//   model      {info}                  a model is loaded (its catalog in .attacks; a photo model's class names,
//                                      groups and licence in .photo)
//   download   {loaded, total}         a photo model's weights arriving (bytes; total 0 when unknown)
//   reset      {}                      a new analysis starts: clean, dir, adv and curve are cleared
//   clean      {prediction}            the clean prediction
//   flip       {dir}                   the flip point ({trueClass, flipEta} or {error})
//   adv        {adv, latency?}         an adversarial view (slider path: latency from the input event, ms)
//   curve      {curve}                 the confidence curve ({etas, adversarial, random}), when asked for
//   warm       {}                      every slider position is computed ahead (photos; `warmed` = that gen)
//   job-start / job-progress {p} / job-done {adv} / job-cancelled {adv} / job-idle
//                                      (job-cancelled: .adv is back to the last result of this analysis, or to the
//                                      unattacked image: a cancelled run never leaves the panels waiting)
//   error      {error, during}         an engine error (during: 'predict' | 'direction' | 'adv' | 'job' | 'curve')
// Late answers for an older analysis (another image, model or goal) are dropped by generation.
import { ensureModel } from '../models.js';
import { Engine } from '../engine.js';
import { attackParams } from '../attacks.js';

/** The engine's f32 grid value (0.011 arrives as 0.010999999…): back to the decimal it stands for. */
const tidyFlip = (f) => (f === null || f === undefined ? null : Number(f.toFixed(6)));

export class LabController extends EventTarget {
  /**
   * engine: the live engine (predictions, direction, slider); session: its wasm Session name (a widget's own);
   * jobEngine: () => the engine that runs jobs (default: the live one; the page gives its cancellable job worker);
   * flipMax: () => how far the flip point is searched; curveEtas: (flipEta) => η values of the confidence curve,
   * or null for no curve. A photo model (index.json `engine: "photo"`) runs in the photo engine instead, which is
   * started only when one is chosen: `photoEngine` () => the live one, `photoJobEngine` (create) => the one that
   * runs jobs, started at the first job (defaults: the controller's own; two workers, so cancelling a job never
   * costs the live view its direction). sliderEtas: () => the slider's positions as η, or null: once the analysis
   * is in, the engine computes them ahead of the user (Session.warmSlider), nearest first, so that a move to one
   * costs no forward pass (a photo's 33 ms); slider moves go first.
   */
  constructor({ engine, session, jobEngine = null, photoEngine = null, photoJobEngine = null, flipMax = () => 0.5, curveEtas = null, sliderEtas = null }) {
    super();
    this.engine = engine;
    this.labEngine = engine;
    this.session = session;
    this.labJobOf = jobEngine || (() => engine);
    this.jobEngineOf = this.labJobOf;
    this.photoEngineOf = photoEngine || (() => (this.ownPhoto ??= new Engine('photo', { kind: 'photo', timeout: 60000 })));
    this.photoJobOf = photoJobEngine || ((create) => (create ? (this.ownPhotoJob ??= new Engine('photo-job', { kind: 'photo' })) : this.ownPhotoJob ?? null));
    this.flipMax = flipMax;
    this.curveEtas = curveEtas;
    this.sliderEtas = sliderEtas;
    // budget: the attacks' budget knobs by catalog param ({pixels: 3}); unset knobs take the engine's default.
    this.settings = { attack: 'fgsm', norm: 'linf', target: -1, seed: 7, eta: 0.1, budget: {} };
    this.model = null; // ModelInfo
    this.photo = null; // a photo model's photoInfo: {license, classNamesI18n: {nl: […]}, classGroups, side}
    this.entry = null; // the index.json entry it came from (null: the placeholder)
    this.attacks = []; // the engine's catalog for this model
    this.pixels = null;
    this.clean = null;
    this.dir = null;
    this.adv = null;
    this.curve = null;
    this.gen = 0;
    this.jobCache = new Map();
    this.latencies = [];
    this.advBusy = false;
    this.advWanted = null;
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  opts(extra = {}) {
    return this.session ? { session: this.session, ...extra } : extra;
  }

  attackInfo(name = this.settings.attack) {
    return this.attacks.find((a) => a.name === name);
  }

  get isDirection() {
    return this.attackInfo()?.kind === 'direction';
  }

  /** Whether the loaded model takes photos (RGB, ImageNet) rather than digits. */
  get isPhoto() {
    return !!this.photo;
  }

  // ------------------------------------------------------------ model, input, settings

  /**
   * Loads index.json entry `entry` (null: a seeded untrained placeholder) and its catalog; unloads the previous.
   * A photo model goes to the photo engine; `signal` (an AbortSignal) cancels its download, which reports
   * 'download' events on the way.
   */
  async loadModel(entry, { signal } = {}) {
    const previous = this.model;
    const previousEngine = this.engine;
    const id = entry ? entry.id : 'placeholder';
    if (previous?.id === id) return previous;
    const photo = entry?.engine === 'photo';
    const eng = photo ? this.photoEngineOf() : this.labEngine;
    const onProgress = (loaded, total) => this.emit('download', { loaded, total });
    const info = entry
      ? await ensureModel(eng, id, entry.file, this.session, photo ? { onProgress, signal } : {})
      : await eng.loadPlaceholder(id, 1, this.session);
    const attacks = await eng.call('attackCatalog', [id], this.opts());
    const photoInfo = info.preprocess === 'imagenet' ? await eng.call('photoInfo', [id], this.opts()) : null;
    if (previous && previous.id !== id) {
      previousEngine.unloadModel(previous.id, this.session);
      const job = this.jobEngineOf(false);
      if (job && job !== previousEngine) job.unloadModel(previous.id, this.session);
    }
    this.engine = eng;
    this.jobEngineOf = photo ? this.photoJobOf : this.labJobOf;
    this.model = info;
    this.photo = photoInfo;
    this.entry = entry;
    this.attacks = attacks;
    if (eng !== previousEngine) this.pixels = null; // a digit is no photo, and back: the input goes with the engine
    this.jobCache.clear();
    this.emit('model', { info });
    return info;
  }

  /**
   * A photo (RGBA from the browser's decoder, EXIF orientation applied) → the model's input by the photo recipe
   * (Rust, `Session.preparePhoto`: short side 256, centre crop 224): `{pixels, side, crop: {left, top, side}}`.
   */
  preparePhoto({ rgba, width, height }) {
    const copy = rgba.slice(0);
    return this.engine.call('preparePhoto', [copy, width, height], { ...this.opts(), transfer: [copy] });
  }

  /** The next image (no analysis yet: call analyze()). */
  setInput(pixels) {
    this.pixels = pixels;
    this.jobCache.clear();
  }

  /** Changes settings (attack, norm, target, seed, eta) without analysing. */
  set(settings) {
    Object.assign(this.settings, settings);
  }

  // ------------------------------------------------------------ the analysis

  /** Prediction, FGSM direction and flip point for the current image, then the adversarial view at η. */
  async analyze() {
    const g = ++this.gen;
    const stale = () => g !== this.gen;
    const job = this.jobEngineOf(false);
    if (job && job !== this.engine && job.busy) job.cancel();
    this.clean = null;
    this.dir = null;
    this.adv = null;
    this.curve = null;
    this.emit('reset');
    if (!this.pixels || !this.model) return;
    const id = this.model.id;
    const pixels = this.pixels;
    const { norm, target, seed } = this.settings;
    let pred;
    try {
      pred = await this.engine.call('predict', [id, pixels], this.opts());
    } catch (error) {
      if (!stale()) this.emit('error', { error, during: 'predict' });
      return;
    }
    if (stale()) return;
    this.clean = pred;
    this.emit('clean', { prediction: pred });
    try {
      const dir = await this.engine.call('prepareDirection', [id, pixels, norm, target, this.flipMax(), BigInt(seed)], this.opts());
      this.dir = { ...dir, flipEta: tidyFlip(dir.flipEta) };
    } catch (error) {
      if (stale()) return;
      this.dir = { error };
      this.emit('error', { error, during: 'direction' });
    }
    if (stale()) return;
    this.emit('flip', { dir: this.dir });
    if (this.isDirection) {
      if (!this.dir.error) this.setEta(this.settings.eta, performance.now());
    } else {
      this.runJob();
    }
    if (this.dir.error) return;
    // Background work, after the first answer: the slider's positions first (what a drag needs), then the curve.
    // On a photo each piece is a forward pass or two and waits for any slider move in flight, so a drag never
    // queues behind more than one piece.
    await this.warmSlider(g);
    if (!stale()) await this.computeCurve(g);
  }

  /** Waits while a slider move is in flight (the slider goes first). */
  async sliderFirst(g) {
    while (this.advBusy && g === this.gen) await new Promise((r) => setTimeout(r, 15));
  }

  /** The confidence curve: one call on digits; on photos (sliderEtas given) one η per call, between slider moves. */
  async computeCurve(g) {
    if (!this.curveEtas) return;
    try {
      const etas = this.curveEtas(this.dir.flipEta);
      const piece = this.sliderEtas?.() ? 1 : etas.length;
      const adversarial = [];
      const random = [];
      for (let i = 0; i < etas.length; i += piece) {
        await this.sliderFirst(g);
        if (g !== this.gen) return;
        const part = await this.engine.call('confidenceCurve', [etas.slice(i, i + piece)], this.opts());
        adversarial.push(...part.adversarial);
        random.push(...part.random);
      }
      if (g !== this.gen) return;
      this.curve = { etas, adversarial: Float32Array.from(adversarial), random: Float32Array.from(random) };
      this.emit('curve', { curve: this.curve });
    } catch (error) {
      if (g === this.gen) this.emit('error', { error, during: 'curve' });
    }
  }

  /**
   * Warms the slider's positions, one at a time, whenever no slider move is in flight (see the constructor).
   * `warmed` is the analysis generation whose positions are all in (the photo benchmark waits for it).
   */
  async warmSlider(g) {
    const etas = this.isDirection ? this.sliderEtas?.() : null;
    if (!etas?.length || g !== this.gen) return;
    const at = this.settings.eta;
    const order = [...etas].sort((a, b) => Math.abs(a - at) - Math.abs(b - at));
    for (const eta of order) {
      await this.sliderFirst(g);
      if (g !== this.gen || !this.isDirection) return;
      try {
        await this.engine.call('warmSlider', [Float32Array.of(eta)], this.opts());
      } catch {
        return; // an engine without it, or a restart: the slider simply computes each move
      }
    }
    if (g === this.gen) {
      this.warmed = g;
      this.emit('warm', {});
    }
  }

  /**
   * The slider's live path (direction attacks): one adversarialAt (one forward pass) in flight at most; newer η
   * values coalesce, and the latency is measured from the oldest input event they stand for.
   */
  setEta(eta, t0 = performance.now()) {
    this.settings.eta = eta;
    if (!this.isDirection || !this.dir || this.dir.error) return;
    this.advWanted = { eta, gen: this.gen, t0: this.advWanted?.t0 ?? t0 };
    if (!this.advBusy) this.sendAdv();
  }

  async sendAdv() {
    this.advBusy = true;
    while (this.advWanted) {
      const want = this.advWanted;
      this.advWanted = null;
      try {
        const r = await this.engine.call('adversarialAt', [want.eta], this.opts());
        if (want.gen === this.gen && this.isDirection) {
          this.adv = { ...r, eta: want.eta };
          const latency = performance.now() - want.t0;
          this.latencies.push(latency);
          if (this.latencies.length > 200) this.latencies.shift();
          this.emit('adv', { adv: this.adv, latency });
        }
      } catch (error) {
        if (want.gen === this.gen) this.emit('error', { error, during: 'adv' });
      }
    }
    this.advBusy = false;
  }

  /** Drops a coalesced slider request (the engine restarted under it). */
  resetLive() {
    this.advBusy = false;
    this.advWanted = null;
  }

  // ------------------------------------------------------------ jobs (iterative and query attacks)

  jobKey() {
    const s = this.settings;
    const knob = this.attackInfo()?.budget?.param;
    const budget = knob ? s.budget?.[knob] ?? '' : '';
    return [this.gen, this.model?.id, s.attack, s.norm, Number(s.eta.toFixed(6)), s.target, s.seed, budget].join('|');
  }

  async ensureJobModel(eng) {
    const id = this.model.id;
    if (eng === this.engine || eng.hasModel(id, this.session)) return;
    if (!this.entry) await eng.loadPlaceholder(id, 1, this.session);
    else await ensureModel(eng, id, this.entry.file, this.session);
  }

  /** Runs the chosen attack at η (cached per analysis and settings; `fresh` runs it again). */
  async runJob({ fresh = false } = {}) {
    if (!this.pixels || !this.model || this.isDirection) return;
    const key = this.jobKey();
    if (fresh) this.jobCache.delete(key);
    const cached = this.jobCache.get(key);
    if (cached) {
      this.adv = cached;
      this.emit('job-done', { adv: cached, cached: true });
      return;
    }
    const eng = this.jobEngineOf(true);
    if (eng !== this.engine && eng.busy) eng.cancel();
    const g = this.gen;
    const seq = (this.jobSeq = (this.jobSeq ?? 0) + 1); // a newer job replaces this one: its cancel is silent
    const { attack, norm, eta, seed, target } = this.settings;
    const before = this.adv;
    this.emit('job-start');
    try {
      await this.ensureJobModel(eng);
      const r = await eng.call('runAttack', [this.model.id, this.pixels, attack, attackParams({ eta, norm, seed, info: this.attackInfo(attack), budget: this.settings.budget }), target], {
        ...this.opts(),
        onProgress: (p) => {
          if (g === this.gen) this.emit('job-progress', { p });
        },
      });
      if (g !== this.gen || key !== this.jobKey()) return;
      const pred = r.predAfter;
      // A photo's answer carries its class group (dog / pig / other): one forward pass for the full Prediction.
      const full = this.photo ? await this.engine.call('predict', [this.model.id, r.adversarial], this.opts()).catch(() => null) : null;
      if (g !== this.gen || key !== this.jobKey()) return;
      this.adv = {
        adversarial: r.adversarial,
        perturbation: r.perturbation,
        prediction: full ?? { class: pred, confidence: r.probsAfter[pred], probs: r.probsAfter },
        linf: r.linf,
        l2: r.l2,
        l0: r.l0,
        queries: r.queries,
        steps: r.steps,
        flipped: r.flipped,
        eta,
      };
      this.jobCache.set(key, this.adv);
      this.emit('job-done', { adv: this.adv });
    } catch (error) {
      if (g !== this.gen || seq !== this.jobSeq) return;
      if (/^error\.cancelled/.test(error.message)) {
        this.adv = before ?? this.unattacked(eta);
        this.emit('job-cancelled', { adv: this.adv });
      }
      else this.emit('error', { error, during: 'job' });
    }
  }

  /** The input itself as an "adversarial" view: no change, the clean prediction (what a cancelled first run shows). */
  unattacked(eta) {
    if (!this.pixels || !this.clean) return null;
    const n = this.pixels.length;
    return { adversarial: Float32Array.from(this.pixels), perturbation: new Float32Array(n), prediction: this.clean, linf: 0, l2: 0, l0: 0, eta };
  }

  /** Stops the running job at once (its engine is terminated and restarted; models are re-sent). */
  cancelJob() {
    const eng = this.jobEngineOf(false);
    if (eng && eng !== this.engine) eng.cancel();
  }
}
