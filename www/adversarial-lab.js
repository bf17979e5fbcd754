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
//
// A photo model (index.json `engine: "photo"`, e.g. model="imagenet-efficientnet-lite0") is loaded lazily: nothing
// photo-related (the photo engine, its 9 MB of weights, photos.js, upload.js, the sample photos) is fetched until
// such a model is chosen AND the widget is near the viewport (an IntersectionObserver); then the download shows
// its progress in MB, and the widget shows sample photo `sample` (www/samples/photos/index.json) as the 224×224
// crop the model sees, in RGB, with the top 5 of its 1000 classes, the article's dog/pig/neither verdict and the
// photo slider scale (grey levels, up to 16/255). A digit widget fetches exactly what it fetched before.
import { Engine } from './engine.js';
import { loadTable, inLang, applyTranslations, pickLanguage, t, className, formatPercent, formatEta, formatNumber, translateError, LANGS } from './i18n.js';
import { EtaSlider, maxEta, formatSliderEta, greyLevels } from './slider.js';
import { paintGray, blank, paintRGB, paintPerturbationRGB } from './panels.js';
import { paintPerturbation } from './noise-map.js';
import { renderBars } from './bars.js';
import { renderCaveat } from './caveat.js';
import { renderVerdict } from './verdict.js';
import { loadSamples, toPixels } from './samples.js';
import { loadIndex, modelTitle, fetchBytes } from './models.js';
import { fillAttackSelect, fillTargetSelect } from './attacks.js';
import { LabController } from './lab/controller.js';
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
      photo: null, // the photo engine (its own worker and wasm), started when a widget first loads a photo model
    };
  }
  return shared;
}

/** The photo engine every photo widget on the page shares (one worker, one copy of the 9 MB model per Session). */
function sharedPhotoEngine() {
  const S = sharedState();
  S.photo ??= new Engine('adversarial-lab-photo', { kind: 'photo', timeout: 60000 });
  return S.photo;
}

let photoMods = null;
/** The page's photo helpers (photos.js: the sample list and the class names; upload.js: the decoder), on demand. */
function photoModules() {
  photoMods ??= Promise.all([import('./photos.js'), import('./upload.js')])
    .then(([photos, upload]) => ({ photos, upload }))
    .catch((e) => {
      photoMods = null;
      throw e;
    });
  return photoMods;
}

/** The slider's first L∞ η on photos before the model's catalog is in (the catalog's FGSM default, then). */
const PHOTO_ETA = 2 / 255;

let nextInstance = 1;

const TEMPLATE = `
<div class="w" part="widget" data-mode="digits">
  <div class="bar-top">
    <label class="field" data-control="model"><span data-i18n="settings.model"></span>
      <select data-testid="model-select" class="model"></select></label>
    <label class="field" data-control="attack"><span data-i18n="settings.attack"></span>
      <select data-testid="attack-select" class="attack"></select></label>
    <label class="field" data-control="target"><span data-i18n="settings.target"></span>
      <select data-testid="target-select" class="target"></select></label>
    <label class="field" data-control="lang"><span data-i18n="settings.language"></span>
      <select data-testid="lang-select" class="lang"><option value="en" lang="en">English</option><option value="nl" lang="nl">Nederlands</option></select></label>
  </div>
  <div class="download" data-testid="model-download" hidden>
    <progress class="dl-bar" data-i18n-aria="download.label"></progress>
    <span class="small dl-text"></span>
  </div>
  <div class="panels">
    <figure class="panel"><figcaption data-i18n="panels.original"></figcaption>
      <canvas class="pixels orig" width="28" height="28" role="img" data-i18n-aria="panels.originalAlt"></canvas>
      <div class="prediction" data-testid="prediction"><p class="verdict"></p><div class="caveat" data-testid="caveat" role="note" hidden></div><ol class="bars"></ol></div></figure>
    <figure class="panel"><figcaption data-i18n="panels.noise"></figcaption>
      <canvas class="pixels noise" data-testid="noise-canvas" width="28" height="28" role="img" data-i18n-aria="panels.noiseAlt"></canvas>
      <p class="small scale"></p></figure>
    <figure class="panel"><figcaption data-i18n="panels.adversarial"></figcaption>
      <canvas class="pixels adv" data-testid="adv-canvas" width="28" height="28" role="img" data-i18n-aria="panels.advAlt"></canvas>
      <div class="prediction adv-pred" data-testid="adv-prediction"><p class="verdict"></p><ol class="bars"></ol></div></figure>
  </div>
  <p class="group" data-testid="group-verdict" hidden></p>
  <div class="eta-block" data-control="eta">
    <label class="eta-label"><span data-i18n="slider.label"></span> <span class="eta-value">η = <output class="eta-out"></output></span>
      <span class="slider-wrap"><input type="range" class="eta" data-testid="eta-slider"><span class="flip-mark" aria-hidden="true" hidden></span></span></label>
    <div class="ticks" aria-hidden="true"></div>
  </div>
  <p class="flip" data-testid="flip-eta"></p>
  <div class="row sample-row" data-control="sample">
    <button type="button" class="secondary prev" data-i18n="gallery.prev"></button>
    <span class="small sample-note" data-testid="sample-note"></span>
    <button type="button" class="secondary next" data-i18n="gallery.next"></button>
    <button type="button" class="secondary random" data-testid="sample-button" data-i18n="input.sample"></button>
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
    this.lab = null; // the LabController (lab/controller.js) this widget renders, made at start
    this.pixels = null;
    this.started = false;
  }

  // What the controller knows, as the renderer reads it.
  get info() {
    return this.lab?.model ?? null; // ModelInfo of the loaded model
  }

  get clean() {
    return this.lab?.clean ?? null;
  }

  get flipInfo() {
    return this.lab?.dir ?? null;
  }

  get adv() {
    return this.lab?.adv ?? null;
  }

  get attacks() {
    return this.lab?.attacks ?? [];
  }

  // ---------------------------------------------------------- attributes

  get uiLang() {
    const a = this.getAttribute('lang');
    return LANGS.includes(a) ? a : pickLanguage(document.documentElement.lang);
  }

  // The attributes mean what the page's link keys mean (state.js reads both), so embed.html shows what index.html
  // shows.
  get eta() {
    const eta = readAttribute(this, 'eta');
    if (this.scale() !== 'photo') return Math.min(eta, maxEta(this.norm));
    // A photo's slider ends at 16/255: an η beyond it (the attribute's default 0.1 is a digits value) starts where
    // photos flip, the catalog's FGSM default, as the full page does.
    const max = maxEta(this.norm, 'photo');
    if (eta <= max) return eta;
    const d = (this.lab?.isPhoto && this.lab.attackInfo('fgsm')?.default_eta) || PHOTO_ETA;
    return this.norm === 'linf' ? d : Math.min(max, d * 10);
  }

  /** The slider's scale: 'photo' with a photo model loaded or waiting to load, else 'digits'. */
  scale() {
    return this.lab?.isPhoto || this.photoPending ? 'photo' : 'digits';
  }

  /** How far the flip point is searched: the catalog's slider end on photos, the digits slider's end otherwise. */
  flipMax() {
    if (this.lab?.isPhoto) return this.lab.attacks?.[0]?.slider_end?.[this.norm] ?? maxEta(this.norm, 'photo');
    return maxEta(this.norm);
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
    // Unseen until its first answer (or 4 s), so that neither its unstyled first frame nor its menus and bars
    // filling in move anything the reader sees (Lighthouse's layout shift); it keeps its place meanwhile. (Not in
    // the constructor: an element made by createElement must not gain attributes there.)
    if (!this.ready) {
      this.style.visibility = 'hidden';
      setTimeout(() => this.style.removeProperty('visibility'), 4000);
    }
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
      this.downloading?.ctl.abort();
      this.engine.dispose(this.inst);
      if (this.lab.engine !== this.engine) this.lab.engine.dispose(this.inst);
      this.lab.model = null;
      this.lab.photo = null;
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
      // Another model while a photo model waits to come into view (or downloads): that wait or download ends now.
      if (old !== value && name === 'model' && (this.photoPending || this.downloading)) this.chooseModel().catch(() => {});
      return;
    }
    if (name === 'controls') this.applyControls();
    else if (name === 'theme' || name === 'height') this.applyLook();
    else if (name === 'lang') this.setLanguage();
    else if (name === 'eta') {
      this.sliderSet(this.eta);
      this.moved();
    } else if (name === 'norm') {
      this.sliderSet(this.eta);
      this.analyze();
    } else if (name === 'model') this.chooseModel().then((latest) => latest && this.pick(this.sample), (e) => this.say(e));
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
      await this.chooseModel()
        .then(() => this.latestModel())
        .catch((e) => this.say(e));
      this.ready = true;
      await this.pick(this.sample);
      return;
    }
    this.engine = S.engine;
    this.lab = new LabController({
      engine: this.engine,
      session: this.inst,
      flipMax: () => this.flipMax(),
      photoEngine: () => {
        const photo = sharedPhotoEngine();
        if (!this.photoWired) {
          this.photoWired = true;
          photo.addEventListener('restart', () => {
            if (this.ready && this.isConnected && this.lab.isPhoto) this.analyze();
          });
        }
        return photo;
      },
    });
    this.wireLab();
    // A crashed worker is replaced and the models re-sent (engine.js); the cached directions must be redone.
    this.engine.addEventListener('restart', () => {
      if (this.ready && this.isConnected && !this.lab.isPhoto) this.analyze();
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
      await Promise.all([loadTable('en'), loadTable(this.uiLang)]);
      this.translate();
      this.sliderSet(this.eta);
      this.index = await S.index;
      this.sliderSet(this.eta);
      this.stale = false;
      await this.chooseModel();
      await this.latestModel();
      this.ready = true;
      await this.pick(this.sample);
      // Attributes that changed during the start (a page setting them after the element was defined).
      while (this.stale) {
        this.stale = false;
        await this.setLanguage();
        this.sliderSet(this.eta);
        await this.chooseModel();
        await this.latestModel();
        await this.pick(this.sample);
      }
    } catch (e) {
      this.say(e);
    }
    this.ready = true;
    this.dataset.ready = 'true';
    requestAnimationFrame(() => this.style.removeProperty('visibility'));
  }

  /** The slider at η, its text in this widget's language. */
  sliderSet(eta) {
    this.slider.set(eta, this.norm, this.scale());
  }

  translate() {
    applyTranslations(this.shadowRoot);
    this.$('.lang').value = this.uiLang;
    this.$('.w').lang = this.uiLang;
    if (this.index) this.fillMenus();
  }

  fillMenus() {
    const sel = this.$('.model');
    // A photo model says what choosing it costs: its download in MB.
    const title = (m) => (m.engine === 'photo' && m.bytes ? t('widget.modelSize', { title: modelTitle(m), size: mb(m.bytes) }) : modelTitle(m));
    sel.replaceChildren(...this.index.models.map((m) => new Option(title(m), m.id)));
    const shown = this.photoPending ?? this.info; // a photo model waiting for the viewport is the one chosen
    if (shown) sel.value = shown.id;
    fillAttackSelect(this.$('.attack'), this.attacks, this.attack);
    if (this.info) fillTargetSelect(this.$('.target'), this.names(), this.target);
  }

  async setLanguage() {
    await loadTable(this.uiLang);
    this.translate();
    this.sliderSet(this.slider.eta);
    this.render();
  }

  names() {
    if (!this.info) return [];
    if (this.lab.isPhoto && this.P) {
      // The 1000 ImageNet names, Dutch from the model's own list (photoInfo), cached per model and language.
      const key = `${this.info.id}/${this.uiLang}`;
      if (this.photoNames?.key !== key) this.photoNames = { key, list: this.P.photos.classNames(this.info, this.lab.photo, this.uiLang) };
      return this.photoNames.list;
    }
    return this.info.classNames.map((n, i) => className(this.info.dataset, i, n));
  }

  say(err) {
    if (err && /^error\.cancelled/.test(err.message ?? '')) return; // a download given up for another model
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

  /**
   * Loads the model the attribute names (one load at a time, in order). A newer choice ends a photo model's wait
   * for the viewport and its download. Resolves true when this is still the newest choice (then pick the sample).
   */
  chooseModel() {
    const gen = (this.chooseGen = (this.chooseGen ?? 0) + 1);
    const entry = this.index ? this.entry() : null;
    if (this.downloading && this.downloading.entry !== entry) this.downloading.ctl.abort();
    this.wake?.();
    const run = () => this.chooseNow(gen);
    this.modelChain = (this.modelChain ?? Promise.resolve()).then(run, run);
    return this.modelChain.then(() => gen === this.chooseGen);
  }

  /** Waits until the newest model choice (also one made meanwhile) is done. */
  async latestModel() {
    let gen;
    do {
      gen = this.chooseGen;
      await this.modelChain;
    } while (gen !== this.chooseGen);
  }

  async chooseNow(gen) {
    if (gen !== this.chooseGen) return; // a newer choice is queued behind this one
    const entry = this.entry();
    if (!entry) throw new Error('error.model_missing: models/index.json');
    const want = this.getAttribute('model');
    this.modelWarning = want && want !== entry.id ? want : null;
    if (this.info?.id === entry.id) return;
    if (entry.engine === 'photo') {
      // Lazily: nothing of the photo model is fetched before the widget is near the viewport.
      this.photoPending = entry;
      this.applyMode();
      this.fillMenus();
      await this.nearViewport();
      if (gen !== this.chooseGen) return;
      try {
        await this.loadPhoto(entry);
      } catch (e) {
        if (gen !== this.chooseGen) return; // given up for a newer choice
        this.photoPending = null;
        this.applyMode();
        throw e;
      }
    } else {
      this.photoPending = null;
      await this.lab.loadModel(entry);
    }
    this.photoPending = null;
    this.applyMode();
    this.fillMenus();
  }

  /** Resolves once the widget is within 200 px of the viewport (at once if it has been), or a newer choice wakes it. */
  nearViewport() {
    if (this.seen) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      this.io ??= new IntersectionObserver(
        (entries) => {
          if (!entries.some((e) => e.isIntersecting)) return;
          this.seen = true;
          this.io.disconnect();
          this.io = null;
          this.wake?.();
        },
        { rootMargin: '200px' },
      );
      this.io.observe(this);
      // Seen meanwhile: the widget shows what is coming instead of an empty, hidden box.
      this.showWaiting();
    });
  }

  /** A photo model's weights (and the photo helpers), with the download's progress in MB. */
  async loadPhoto(entry) {
    const ctl = new AbortController();
    this.downloading = { entry, ctl };
    const onDownload = ({ detail }) => this.showDownload(detail, entry.bytes);
    this.lab.addEventListener('download', onDownload);
    this.showDownload({ loaded: 0, total: entry.bytes ?? 0 }, entry.bytes);
    try {
      const [, P] = await Promise.all([this.lab.loadModel(entry, { signal: ctl.signal }), photoModules()]);
      this.P = P;
    } finally {
      this.lab.removeEventListener('download', onDownload);
      if (this.downloading?.ctl === ctl) this.downloading = null;
      this.showDownload(null);
    }
  }

  /** The download box: `p` {loaded, total} in bytes (total 0: index.json's `bytes`), or null when done. */
  showDownload(p, bytes = 0) {
    const box = this.$('.download');
    box.hidden = !p;
    if (!p) return;
    const total = p.total || bytes || 0;
    const bar = this.$('.dl-bar');
    bar.hidden = false;
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(p.loaded, total);
    } else bar.removeAttribute('value');
    this.$('.dl-text').textContent = total > 0 ? t('download.progress', { loaded: mb(p.loaded), total: mb(total) }) : t('download.starting');
    this.reveal();
  }

  /** Before the viewport: what will load, and its size. */
  showWaiting() {
    const entry = this.photoPending;
    if (!entry || this.seen) return;
    this.$('.download').hidden = false;
    this.$('.dl-bar').hidden = true;
    this.$('.dl-text').textContent = t('widget.photoWaiting', { size: mb(entry.bytes ?? 0) });
    this.reveal();
  }

  /** Shows the widget now (it is hidden until its first answer, so that nothing moves while it fills in). */
  reveal() {
    if (this.style.visibility) requestAnimationFrame(() => this.style.removeProperty('visibility'));
  }

  /** Digit mode or photo mode: panels, captions, slider scale, the verdict line and the sample buttons. */
  applyMode() {
    const photo = this.scale() === 'photo';
    const mode = photo ? 'photo' : 'digits';
    const w = this.$('.w');
    const changed = w.dataset.mode !== mode;
    w.dataset.mode = mode;
    this.$('.group').hidden = !photo;
    this.$('.orig').dataset.i18nAria = photo ? 'widget.photoOriginalAlt' : 'panels.originalAlt';
    this.$('.noise').dataset.i18nAria = photo ? 'widget.photoNoiseAlt' : 'panels.noiseAlt';
    this.$('.random').dataset.i18n = photo ? 'widget.randomPhoto' : 'input.sample';
    applyTranslations(this.shadowRoot);
    this.$('.eta').disabled = photo && !this.lab?.isPhoto; // waiting for the photo model
    if (!changed && !photo) return;
    if (changed) {
      const side = photo ? 224 : 28;
      this.pixels = null;
      blank(this.$('.orig'), side, photo ? '#222' : '#000');
      blank(this.$('.noise'), side, photo ? '#808080' : '#fff');
      blank(this.$('.adv'), side, photo ? '#222' : '#000');
      for (const box of this.shadowRoot.querySelectorAll('.prediction')) {
        delete box.dataset.class;
        delete box.dataset.confidence;
        box.querySelector('.verdict').textContent = '';
        box.querySelector('.bars').replaceChildren();
      }
      this.$('.scale').textContent = '';
      this.$('.flip').textContent = '';
      delete this.$('.flip').dataset.eta;
      this.$('.sample-note').textContent = '';
    }
    this.sliderSet(this.eta);
  }

  async step(delta) {
    const samples = this.lab.isPhoto ? { count: (await this.P.photos.loadList()).length } : await loadSamples(this.info.dataset);
    const next = delta === 0 ? Math.floor(Math.random() * samples.count) : (this.sample + delta + samples.count) % samples.count;
    this.setAttribute('sample', String(next));
  }

  async pick(i) {
    if (this.lab?.isPhoto) return this.pickPhoto(i);
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

  /** Sample photo i of www/samples/photos/index.json: decoded, cropped to 224 by the engine's recipe, analysed. */
  async pickPhoto(i) {
    const seq = (this.photoSeq = (this.photoSeq ?? 0) + 1);
    const model = this.info;
    try {
      const list = await this.P.photos.loadList();
      const k = Math.max(0, Math.min(i, list.length - 1));
      const bytes = await fetchBytes(`samples/photos/${list[k].file}`, 'samples_missing');
      const upload = await this.P.upload.decodeImageFile(new Blob([bytes]));
      upload.bitmap?.close?.();
      if (seq !== this.photoSeq || this.info !== model) return;
      const prep = await this.lab.preparePhoto(upload);
      if (seq !== this.photoSeq || this.info !== model) return;
      this.pixels = prep.pixels;
      this.side = prep.side;
      this.photoItem = list[k];
      this.label = undefined;
      this.sampleIndex = k;
      paintRGB(this.$('.orig'), prep.pixels, prep.side);
      await this.analyze();
    } catch (e) {
      this.say(e);
    }
  }

  isDirection() {
    return this.lab.isDirection;
  }

  /** The controller's events, rendered in this widget's language. */
  wireLab() {
    const lab = this.lab;
    lab.addEventListener('clean', ({ detail: { prediction: pred } }) => {
      // For the benchmark: ms since the page's navigation started, and the predict call's own time.
      if (this.firstPredictionAt === undefined) {
        this.firstPredictionAt = performance.now();
        this.dataset.firstPrediction = this.firstPredictionAt.toFixed(1);
        this.dataset.predictMs = (this.firstPredictionAt - this.analyzeStart).toFixed(1);
      }
      this.render();
      this.dispatchEvent(new CustomEvent('prediction', { detail: { class: pred.class, confidence: pred.confidence } }));
    });
    lab.addEventListener('flip', ({ detail: { dir } }) => inLang(this.uiLang, () => this.slider.setFlip(dir.error ? null : dir.flipEta)));
    const shown = () => {
      this.render();
      this.say(null);
    };
    lab.addEventListener('adv', shown);
    lab.addEventListener('job-done', shown);
    lab.addEventListener('error', ({ detail: { error } }) => this.say(error));
  }

  /** Prediction, FGSM direction and flip point for the current image, then the adversarial view at η. */
  async analyze() {
    if (!this.pixels || !this.info) return;
    this.analyzeStart = performance.now();
    this.lab.set({ attack: this.attack, norm: this.norm, target: this.target, seed: this.seed, eta: this.slider.eta });
    this.lab.setInput(this.pixels);
    await this.lab.analyze();
  }

  /** A slider move: one forward pass on clip(x + η·s), coalesced by the controller (one in flight). */
  moved() {
    this.slider.refresh();
    if (!this.flipInfo || !this.isDirection()) {
      this.lab.set({ eta: this.slider.eta });
      this.render();
      return;
    }
    this.lab.setEta(this.slider.eta);
  }

  settled() {
    if (this.flipInfo && !this.isDirection()) {
      this.lab.set({ eta: this.slider.eta });
      this.lab.runJob();
    }
    this.announce();
  }

  announce() {
    if (!this.clean || !this.adv) return;
    const n = this.names();
    const from = this.clean.class;
    const to = this.adv.prediction.class;
    this.$('.live').textContent =
      from === to
        ? t('announce.same', { label: n[from], eta: formatSliderEta(this.adv.eta, this.norm, this.scale()) })
        : t('announce.flip', { from: n[from], to: n[to], eta: formatSliderEta(this.adv.eta, this.norm, this.scale()) });
  }

  // ---------------------------------------------------------- rendering

  render() {
    if (this.ticksLang !== this.uiLang) {
      this.slider.renderTicks();
      this.ticksLang = this.uiLang;
    }
    this.slider.refresh();
    const n = this.names();
    const photo = this.lab.isPhoto;
    if (photo !== (this.$('.w').dataset.mode === 'photo')) return; // between modes: the next model's view is coming
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
      renderBars(bars, p.probs, n, photo ? { highlight: p.class, target: this.target, top: 5 } : { highlight: p.class, target: this.target });
    };
    verdict(this.$('.prediction'), this.clean);
    renderCaveat(this.$('.caveat'), this.clean);
    verdict(this.$('.adv-pred'), this.adv?.prediction, this.clean?.class);
    if (this.adv && photo) {
      paintRGB(this.$('.adv'), this.adv.adversarial, this.side ?? 224);
      const s = paintPerturbationRGB(this.$('.noise'), this.adv.perturbation, this.side ?? 224);
      // A photo's noise reads in grey levels of 255, as in the article.
      this.$('.scale').textContent =
        s.peak > 1e-9 ? t('noise.scalePhoto', { factor: formatNumber(s.amplification, 0), min: greyLevels(s.min), max: greyLevels(s.max) }) : t('noise.zero');
    } else if (this.adv) {
      paintGray(this.$('.adv'), this.adv.adversarial);
      const s = paintPerturbation(this.$('.noise'), this.adv.perturbation);
      this.$('.scale').textContent =
        s.peak > 0 ? t('noise.scale', { factor: formatEta(s.amplification), min: formatEta(s.min), max: formatEta(s.max) }) : t('noise.zero');
    }
    if (photo) this.renderGroups();
    const flip = this.$('.flip');
    if (this.flipInfo && photo) {
      const fmt = (e) => formatSliderEta(e, this.norm, 'photo');
      flip.dataset.eta = this.flipInfo.flipEta === null ? 'none' : String(this.flipInfo.flipEta);
      flip.textContent = this.flipInfo.flipEta === null ? t('flip.none', { max: fmt(this.flipMax()) }) : t('flip.at', { eta: fmt(this.flipInfo.flipEta) });
    } else if (this.flipInfo) {
      flip.dataset.eta = this.flipInfo.flipEta === null ? 'none' : String(this.flipInfo.flipEta);
      flip.textContent =
        this.flipInfo.flipEta === null
          ? t('flip.none', { max: formatEta(Math.min(1, maxEta(this.norm))) })
          : t('flip.at', { eta: formatEta(this.flipInfo.flipEta) });
    } else {
      delete flip.dataset.eta;
      flip.textContent = this.clean ? t('flip.pending') : '';
    }
    if (photo && this.photoItem) {
      const p = this.photoItem;
      this.$('.sample-note').textContent = t('input.photoNote', { title: p.title?.[this.uiLang] ?? p.title?.en ?? p.file, credit: p.credit, licence: p.licence });
    } else if (!photo && this.info && this.sampleIndex !== undefined) {
      this.$('.sample-note').textContent = t('input.sampleNote', { index: this.sampleIndex, label: n[this.label] ?? this.label });
    }
  }

  /** The article's question, dog / pig / neither, for the photo and, with noise, the adversarial one. */
  renderGroups() {
    renderVerdict(this.$('.group'), this.clean, this.adv);
  }
}

/** Bytes as megabytes with one decimal, in the current language ("9.3", "9,3"). */
const mb = (bytes) => formatNumber(bytes / 1e6, 1);

// Translation per root: everything the widget writes is in its own `lang`, never by switching the page's language
// (i18n.js inLang runs each of these in the widget's language and restores the page's after).
for (const name of ['translate', 'fillMenus', 'names', 'say', 'render', 'announce', 'moved', 'sliderSet', 'showDownload', 'showWaiting', 'applyMode']) {
  const f = AdversarialLab.prototype[name];
  AdversarialLab.prototype[name] = function inWidgetLang(...args) {
    return inLang(this.uiLang, () => f.apply(this, args));
  };
}

if (!customElements.get('adversarial-lab')) customElements.define('adversarial-lab', AdversarialLab);
