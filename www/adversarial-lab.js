// <adversarial-lab>: one live adversarial-example figure for an article, loaded by one script tag:
//
//   <script type="module" src="…/www/adversarial-lab.js"></script>
//   <adversarial-lab model="mnist-linear" attack="fgsm" eta="0.1" sample="0" controls="eta,sample"></adversarial-lab>
//
// Attributes: model (an id of models/index.json; default: the smallest MNIST model, see WIDGET_DEFAULT), attack,
// eta, target (a class, or absent for untargeted), sample (test-set index), lang (en | nl), controls (the controls
// to show, comma-separated, from CONTROLS; absent = all), height (CSS length; default: as tall as the content) and
// theme (light | dark). Every attribute may change later; the widget follows.
//
// Every widget on a page shares ONE worker and so one wasm module (the .wasm file is fetched once); each widget has
// its own wasm Session there (widget-worker.js), so its cached FGSM direction is its own. The widget reuses the
// page's modules: engine.js (RPC), slider.js (η positions, flip mark), panels.js, noise-map.js, bars.js, i18n.js,
// samples.js, models.js, attacks.js.
import { Engine } from './engine.js';
import { loadLanguage, pickLanguage, t, className, formatPercent, formatEta, translateError, LANGS } from './i18n.js';
import { EtaSlider, maxEta } from './slider.js';
import { paintGray, blank } from './panels.js';
import { paintPerturbation } from './noise-map.js';
import { renderBars } from './bars.js';
import { loadSamples, toPixels } from './samples.js';
import { loadIndex, modelTitle, ensureModel } from './models.js';
import { fillAttackSelect, fillTargetSelect, attackParams } from './attacks.js';
import { STATE, WIDGET_CONTROLS, readAttribute } from './state.js';

/** The controls a `controls` list may name (state.js's table; the page's classroom links use the same names). */
export const CONTROLS = WIDGET_CONTROLS;

/** The widget's default model: the linear MNIST model, 32 KB gzip, which keeps an embed within its size budget. */
export const WIDGET_DEFAULT = 'mnist-linear';

/** Parses a `controls` value into a Set of names; null (attribute absent) means every control. */
export function parseControls(value) {
  if (value === null || value === undefined) return null;
  return new Set(
    String(value)
      .split(/[\s,]+/)
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

// ------------------------------------------------------------ shared by every widget on the page

let shared = null;
/** The one worker, the model index, the attack list and the model files, fetched once per page. */
function sharedState() {
  if (!shared) {
    const engine = new Engine('adversarial-lab', { timeout: 20000 });
    shared = {
      engine,
      index: loadIndex(),
    };
  }
  return shared;
}

let nextInstance = 1;

const TEMPLATE = `
<div class="w" part="widget">
  <div class="bar-top">
    <label class="field" data-control="model"><span data-t="settings.model"></span>
      <select data-testid="model-select" class="model"></select></label>
    <label class="field" data-control="attack"><span data-t="settings.attack"></span>
      <select data-testid="attack-select" class="attack"></select></label>
    <label class="field" data-control="target"><span data-t="settings.target"></span>
      <select data-testid="target-select" class="target"></select></label>
    <label class="field" data-control="lang"><span data-t="settings.language"></span>
      <select data-testid="lang-select" class="lang"><option value="en" lang="en">English</option><option value="nl" lang="nl">Nederlands</option></select></label>
  </div>
  <div class="panels">
    <figure class="panel"><figcaption data-t="panels.original"></figcaption>
      <canvas class="pixels orig" width="28" height="28" role="img" data-t-aria="panels.originalAlt"></canvas>
      <div class="prediction" data-testid="prediction"><p class="verdict"></p><ol class="bars"></ol></div></figure>
    <figure class="panel"><figcaption data-t="panels.noise"></figcaption>
      <canvas class="pixels noise" data-testid="noise-canvas" width="28" height="28" role="img" data-t-aria="panels.noiseAlt"></canvas>
      <p class="small scale"></p></figure>
    <figure class="panel"><figcaption data-t="panels.adversarial"></figcaption>
      <canvas class="pixels adv" data-testid="adv-canvas" width="28" height="28" role="img" data-t-aria="panels.advAlt"></canvas>
      <div class="prediction adv-pred" data-testid="adv-prediction"><p class="verdict"></p><ol class="bars"></ol></div></figure>
  </div>
  <div class="eta-block" data-control="eta">
    <label class="eta-label"><span data-t="slider.label"></span> <span class="eta-value">η = <output class="eta-out"></output></span>
      <span class="slider-wrap"><input type="range" class="eta" data-testid="eta-slider"><span class="flip-mark" aria-hidden="true" hidden></span></span></label>
    <div class="ticks" aria-hidden="true"></div>
  </div>
  <p class="flip" data-testid="flip-eta"></p>
  <div class="row sample-row" data-control="sample">
    <button type="button" class="secondary prev" data-t="gallery.prev"></button>
    <span class="small sample-note"></span>
    <button type="button" class="secondary next" data-t="gallery.next"></button>
    <button type="button" class="secondary random" data-testid="sample-button" data-t="input.sample"></button>
  </div>
  <p class="message" data-testid="message" role="alert" hidden></p>
  <p class="sr-only live" aria-live="polite" aria-atomic="true"></p>
</div>`;

export class AdversarialLab extends HTMLElement {
  static get observedAttributes() {
    return [...STATE.filter((r) => r.attr).map((r) => r.key), 'height'];
  }

  constructor() {
    super();
    this.inst = `w${nextInstance++}`;
    const root = this.attachShadow({ mode: 'open' });
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('./adversarial-lab.css', import.meta.url).href;
    const tpl = document.createElement('template');
    tpl.innerHTML = TEMPLATE;
    root.append(link, tpl.content.cloneNode(true));
    this.$ = (sel) => root.querySelector(sel);
    this.gen = 0;
    this.info = null; // ModelInfo of the loaded model
    this.loadedKey = null;
    this.pixels = null;
    this.clean = null;
    this.flipInfo = null;
    this.adv = null;
    this.started = false;
  }

  // ---------------------------------------------------------- attributes

  get uiLang() {
    const a = this.getAttribute('lang');
    return LANGS.includes(a) ? a : pickLanguage(document.documentElement.lang);
  }

  // The attributes mean what the page's link keys mean (state.js reads both), so embed.html shows what index.html
  // shows.
  get eta() {
    return Math.min(readAttribute(this, 'eta'), maxEta(this.norm));
  }

  get norm() {
    return readAttribute(this, 'norm');
  }

  get seed() {
    return readAttribute(this, 'seed');
  }

  get target() {
    return readAttribute(this, 'target');
  }

  get sample() {
    return readAttribute(this, 'sample');
  }

  get attack() {
    return readAttribute(this, 'attack');
  }

  connectedCallback() {
    this.applyLook();
    this.applyControls();
    if (!this.resizer) {
      // Sizes itself to its container: the layout steps down at the container's width, not the window's.
      this.resizer = new ResizeObserver(([e]) => {
        const w = e.contentRect.width;
        this.$('.w').dataset.size = w < 420 ? 's' : w < 760 ? 'm' : 'l';
      });
    }
    this.resizer.observe(this);
    if (!this.started) {
      this.started = true;
      this.start();
    }
    const w = this.getBoundingClientRect().width;
    if (w) this.$('.w').dataset.size = w < 420 ? 's' : w < 760 ? 'm' : 'l';
  }

  disconnectedCallback() {
    this.resizer?.disconnect();
    // Moved within the page: reconnected at once, keep everything. Removed: free this widget's wasm Session.
    setTimeout(() => {
      if (this.isConnected || !this.engine) return;
      this.engine.dispose(this.inst);
      this.loadedKey = null;
      this.info = null;
      this.started = false;
      this.ready = false;
    });
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.ready) {
      if (name === 'controls') this.applyControls();
      if (name === 'theme' || name === 'height') this.applyLook();
      // Set while the widget was starting: start() picks it up once its first view is done.
      if (old !== value && this.started && !['controls', 'theme', 'height'].includes(name)) this.stale = true;
      return;
    }
    if (name === 'controls') this.applyControls();
    else if (name === 'theme' || name === 'height') this.applyLook();
    else if (name === 'lang') this.setLanguage();
    else if (name === 'eta') {
      this.slider.set(this.eta, this.norm);
      this.moved();
    } else if (name === 'norm') {
      this.slider.set(this.eta, this.norm);
      this.analyze();
    } else if (name === 'model') this.chooseModel().then(() => this.pick(this.sample), (e) => this.say(e));
    else if (name === 'sample') this.pick(this.sample);
    else this.analyze();
  }

  applyLook() {
    const w = this.$('.w');
    w.dataset.theme = this.getAttribute('theme') === 'dark' ? 'dark' : 'light';
    const h = this.getAttribute('height');
    this.style.height = h ? (/^[0-9]+$/.test(h) ? `${h}px` : h) : '';
  }

  /** Hides exactly the controls that the `controls` list does not name (all shown without the attribute). */
  applyControls() {
    const show = parseControls(this.getAttribute('controls'));
    for (const el of this.shadowRoot.querySelectorAll('[data-control]')) el.hidden = show !== null && !show.has(el.dataset.control);
  }

  // ---------------------------------------------------------- start

  async start() {
    const S = sharedState();
    if (this.engine) {
      // Re-attached after removal: the worker lost this widget's Session; load again.
      await this.chooseModel().catch((e) => this.say(e));
      this.ready = true;
      await this.pick(this.sample);
      return;
    }
    this.engine = S.engine;
    // A crashed worker is replaced and the models re-sent (engine.js); the cached directions must be redone.
    this.engine.addEventListener('restart', () => {
      if (this.ready && this.isConnected) this.analyze();
    });
    this.slider = new EtaSlider({
      input: this.$('.eta'),
      marker: this.$('.flip-mark'),
      ticks: this.$('.ticks'),
      output: this.$('.eta-out'),
    });
    this.slider.addEventListener('input', () => this.moved());
    this.slider.addEventListener('change', () => this.settled());
    this.$('.model').addEventListener('change', (e) => this.setAttribute('model', e.target.value));
    this.$('.attack').addEventListener('change', (e) => this.setAttribute('attack', e.target.value));
    this.$('.target').addEventListener('change', (e) => {
      if (e.target.value === '-1') this.removeAttribute('target');
      else this.setAttribute('target', e.target.value);
    });
    this.$('.lang').addEventListener('change', (e) => this.setAttribute('lang', e.target.value));
    this.$('.prev').addEventListener('click', () => this.step(-1));
    this.$('.next').addEventListener('click', () => this.step(1));
    this.$('.random').addEventListener('click', () => this.step(0));
    blank(this.$('.orig'));
    blank(this.$('.noise'), 28, '#fff');
    blank(this.$('.adv'));
    try {
      await Promise.all([loadLanguage('en'), loadLanguage(this.uiLang)]);
      this.translate();
      this.slider.set(this.eta, this.norm);
      this.index = await S.index;
      this.attacks = [];
      this.slider.set(this.eta, this.norm);
      this.stale = false;
      await this.chooseModel();
      this.ready = true;
      await this.pick(this.sample);
      // Attributes that changed during the start (a page setting them after the element was defined).
      while (this.stale) {
        this.stale = false;
        await this.setLanguage();
        this.slider.set(this.eta, this.norm);
        await this.chooseModel();
        await this.pick(this.sample);
      }
    } catch (e) {
      this.say(e);
    }
    this.ready = true;
    this.dataset.ready = 'true';
  }

  useLang() {
    // The table is loaded: loadLanguage switches synchronously, so what follows renders in this widget's language.
    loadLanguage(this.uiLang);
  }

  translate() {
    this.useLang();
    const root = this.shadowRoot;
    for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
    for (const el of root.querySelectorAll('[data-t-aria]')) el.setAttribute('aria-label', t(el.dataset.tAria));
    this.$('.lang').value = this.uiLang;
    this.$('.w').lang = this.uiLang;
    if (this.index) this.fillMenus();
  }

  fillMenus() {
    const sel = this.$('.model');
    sel.replaceChildren(...this.index.models.map((m) => new Option(modelTitle(m), m.id)));
    if (this.info) sel.value = this.info.id;
    fillAttackSelect(this.$('.attack'), this.attacks, this.attack);
    if (this.info) fillTargetSelect(this.$('.target'), this.names(), this.target);
  }

  async setLanguage() {
    await loadLanguage(this.uiLang);
    this.translate();
    this.slider.set(this.slider.eta, this.norm);
    this.render();
  }

  names() {
    this.useLang();
    return this.info ? this.info.classNames.map((n, i) => className(this.info.dataset, i, n)) : [];
  }

  say(err) {
    this.useLang();
    const m = this.$('.message');
    // With no error, a model the attribute names but index.json lacks is still worth saying.
    const warn = !err && this.modelWarning ? t('hash.model', { value: this.modelWarning }) : '';
    m.hidden = !err && !warn;
    m.textContent = err ? translateError(err) : warn;
  }

  // ---------------------------------------------------------- model and image

  entry() {
    const models = this.index.models;
    const want = this.getAttribute('model');
    return (
      models.find((m) => m.id === want) ||
      models.find((m) => m.id === WIDGET_DEFAULT) ||
      models.find((m) => m.id === this.index.default) ||
      models[0]
    );
  }

  async chooseModel() {
    const entry = this.entry();
    if (!entry) throw new Error('error.model_missing: models/index.json');
    const want = this.getAttribute('model');
    this.modelWarning = want && want !== entry.id ? want : null;
    const key = entry.id;
    if (this.loadedKey === key) return;
    const info = await ensureModel(this.engine, key, entry.file, this.inst);
    this.attacks = await this.engine.call('attackCatalog', [key], { session: this.inst });
    if (this.loadedKey && this.loadedKey !== key) this.engine.unloadModel(this.loadedKey, this.inst);
    this.loadedKey = key;
    this.info = info;
    this.fillMenus();
  }

  async step(delta) {
    const samples = await loadSamples(this.info.dataset);
    const next = delta === 0 ? Math.floor(Math.random() * samples.count) : (this.sample + delta + samples.count) % samples.count;
    this.setAttribute('sample', String(next));
  }

  async pick(i) {
    try {
      const samples = await loadSamples(this.info.dataset);
      const k = Math.min(i, samples.count - 1);
      this.pixels = toPixels(samples.image(k));
      this.label = samples.label(k);
      this.sampleIndex = k;
      paintGray(this.$('.orig'), this.pixels);
      await this.analyze();
    } catch (e) {
      this.say(e);
    }
  }

  isDirection() {
    return (this.attacks.find((a) => a.name === this.attack) || {}).kind === 'direction';
  }

  /** Prediction, FGSM direction and flip point for the current image, then the adversarial view at η. */
  async analyze() {
    const g = ++this.gen;
    this.clean = null;
    this.flipInfo = null;
    this.adv = null;
    if (!this.pixels || !this.info) return;
    const id = this.loadedKey;
    const pixels = this.pixels;
    const t0 = performance.now();
    try {
      const pred = await this.engine.call('predict', [id, pixels], { session: this.inst });
      if (g !== this.gen) return;
      this.clean = pred;
      // For the benchmark: ms since the page's navigation started, and the predict call's own time.
      if (this.firstPredictionAt === undefined) {
        this.firstPredictionAt = performance.now();
        this.dataset.firstPrediction = this.firstPredictionAt.toFixed(1);
        this.dataset.predictMs = (this.firstPredictionAt - t0).toFixed(1);
      }
      this.render();
      this.dispatchEvent(new CustomEvent('prediction', { detail: { class: pred.class, confidence: pred.confidence } }));
      const dir = await this.engine.call('prepareDirection', [id, pixels, this.norm, this.target, Math.min(1, maxEta(this.norm)), BigInt(this.seed)], {
        session: this.inst,
      });
      if (g !== this.gen) return;
      this.flipInfo = { ...dir, flipEta: dir.flipEta === null || dir.flipEta === undefined ? null : Number(dir.flipEta.toFixed(6)) };
      this.useLang();
      this.slider.setFlip(this.flipInfo.flipEta);
      if (this.isDirection()) await this.advAt(this.slider.eta, g);
      else await this.runJob(g);
      this.say(null);
    } catch (e) {
      if (g === this.gen) this.say(e);
    }
  }

  async advAt(eta, g = this.gen) {
    const r = await this.engine.call('adversarialAt', [eta], { session: this.inst });
    if (g !== this.gen) return;
    this.adv = { ...r, eta };
    this.render();
  }

  async runJob(g = this.gen) {
    const eta = this.slider.eta;
    const params = attackParams({ eta, norm: this.norm, seed: this.seed });
    const r = await this.engine.call('runAttack', [this.loadedKey, this.pixels, this.attack, params, this.target], { session: this.inst, onProgress: () => {} });
    if (g !== this.gen) return;
    this.adv = { ...r, prediction: { class: r.predAfter, confidence: r.probsAfter[r.predAfter], probs: r.probsAfter }, eta };
    this.render();
  }

  /** A slider move: one forward pass on clip(x + η·s), coalesced so at most one is in flight. */
  moved() {
    this.useLang();
    this.slider.refresh();
    if (!this.flipInfo || !this.isDirection()) {
      this.render();
      return;
    }
    this.wanted = this.slider.eta;
    if (this.busy) return;
    this.busy = true;
    const loop = async () => {
      while (this.wanted !== null && this.wanted !== undefined) {
        const eta = this.wanted;
        this.wanted = null;
        try {
          await this.advAt(eta);
        } catch (e) {
          this.say(e);
        }
      }
      this.busy = false;
    };
    loop();
  }

  settled() {
    if (this.flipInfo && !this.isDirection()) this.runJob().catch((e) => this.say(e));
    this.announce();
  }

  announce() {
    if (!this.clean || !this.adv) return;
    this.useLang();
    const n = this.names();
    const from = this.clean.class;
    const to = this.adv.prediction.class;
    this.$('.live').textContent =
      from === to
        ? t('announce.same', { label: n[from], eta: formatEta(this.adv.eta) })
        : t('announce.flip', { from: n[from], to: n[to], eta: formatEta(this.adv.eta) });
  }

  // ---------------------------------------------------------- rendering

  render() {
    this.useLang();
    if (this.ticksLang !== this.uiLang) {
      this.slider.renderTicks();
      this.ticksLang = this.uiLang;
    }
    this.slider.refresh();
    const n = this.names();
    const verdict = (box, p, from) => {
      const v = box.querySelector('.verdict');
      const bars = box.querySelector('.bars');
      if (!p) {
        delete box.dataset.class;
        delete box.dataset.confidence;
        v.textContent = t('result.thinking');
        bars.replaceChildren();
        return;
      }
      box.dataset.class = String(p.class);
      box.dataset.confidence = p.confidence.toFixed(6);
      const flipped = from !== undefined && from !== p.class;
      box.classList.toggle('flipped', flipped);
      v.textContent = flipped
        ? t('result.flipped', { from: n[from], to: n[p.class], confidence: formatPercent(p.confidence) })
        : t('result.verdict', { label: n[p.class], confidence: formatPercent(p.confidence) });
      renderBars(bars, p.probs, n, { highlight: p.class, target: this.target });
    };
    verdict(this.$('.prediction'), this.clean);
    verdict(this.$('.adv-pred'), this.adv?.prediction, this.clean?.class);
    if (this.adv) {
      paintGray(this.$('.adv'), this.adv.adversarial);
      const s = paintPerturbation(this.$('.noise'), this.adv.perturbation);
      this.$('.scale').textContent =
        s.peak > 0 ? t('noise.scale', { factor: formatEta(s.amplification), min: formatEta(s.min), max: formatEta(s.max) }) : t('noise.zero');
    }
    const flip = this.$('.flip');
    if (this.flipInfo) {
      flip.dataset.eta = this.flipInfo.flipEta === null ? 'none' : String(this.flipInfo.flipEta);
      flip.textContent =
        this.flipInfo.flipEta === null
          ? t('flip.none', { max: formatEta(Math.min(1, maxEta(this.norm))) })
          : t('flip.at', { eta: formatEta(this.flipInfo.flipEta) });
    } else {
      delete flip.dataset.eta;
      flip.textContent = this.clean ? t('flip.pending') : '';
    }
    if (this.info && this.sampleIndex !== undefined) {
      this.$('.sample-note').textContent = t('input.sampleNote', { index: this.sampleIndex, label: n[this.label] ?? this.label });
    }
  }
}

if (!customElements.get('adversarial-lab')) customElements.define('adversarial-lab', AdversarialLab);
