// The page's entry point: owns the state (mirrored in the URL hash), the two engine workers and the inputs
// (drawing | upload | test image → 28×28). The flow prediction → FGSM direction + flip point → adversarial view
// (slider, jobs) is lab/controller.js's, shared with the <adversarial-lab> widget; this file renders its events
// through view.js and wires every control.
import { Engine } from './engine.js';
import { DrawPad } from './draw.js';
import { pickLanguage, loadLanguage, applyTranslations, t, translateError, className, formatPercent, formatEta, LANGS } from './i18n.js';
import { DEFAULTS, FIRST_VIEW, parseHash, writeHash, etaString } from './state.js';
import { EtaSlider, maxEta, positionToEta, etaToPosition } from './slider.js';
import { decodeImageFile, wireUpload } from './upload.js';
import { loadSamples, toPixels } from './samples.js';
import { Gallery } from './gallery.js';
import { paintGray, paintInto, blank } from './panels.js';
import { paintLegend } from './noise-map.js';
import { curveEtas, curveTop } from './chart.js';
import { loadIndex, fillModelSelect } from './models.js';
import { fillAttackSelect, fillNormSelect, fillTargetSelect, mountBudget } from './attacks.js';
import { LabController } from './lab/controller.js';
import { setRegion, announce } from './announce.js';
import { downloadResult } from './download.js';
import * as view from './view.js';
import { initClassroom } from './classroom.js';
import { registerOffline } from './offline.js';
import { ownsHash } from './lessons/router.js';

const $ = (id) => document.getElementById(id);

/** The state that the URL hash holds. */
const S = { ...DEFAULTS };

// The first screen is painted before the engine starts: the worker's wasm (≈ 280 KB) and then the model's weights
// would otherwise download while the page is still waiting to paint, and on a slow phone the first screen would
// wait for them (issue 16: largest paint). main() resolves this after the page's first frame with its text.
let painted;
const firstPaint = new Promise((r) => (painted = r));
const afterNextPaint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

// The live worker answers in milliseconds; one that is silent for 20 s is hung and gets replaced.
const live = new Engine('live', { timeout: 20000, after: firstPaint });
let job = null;

function jobEngine(create) {
  if (!job && create) {
    job = new Engine('job');
    job.addEventListener('restart', () => sayKey('error.worker'));
  }
  return job;
}

/** How far the flip point is searched (the CLI's default `--max-eta`, catalog.rs `flip_search_max`): the slider's end. */
const flipMax = () => maxEta(S.norm);

const lab = new LabController({
  engine: live,
  jobEngine,
  flipMax,
  curveEtas: (flipEta) => curveEtas(curveTop(S.norm, flipEta, maxEta(S.norm))),
});
mountBudget(lab, $('attack-desc'));

/** Everything else the page knows; the analysis (model, catalog, clean, dir, adv, curve, …) is the controller's. */
const R = {
  version: '',
  index: { default: null, models: [] },
  flipEtas: { models: {} }, // www/models/flip-etas.json: each model's median flip η over test images
  input: null, // { source: 'draw'|'upload'|'sample', pixels, label?, upload? }
  message: null, // { render: () => string, kind }
  get attacks() {
    return lab.attacks; // the engine's attack catalog for the loaded model (attackCatalog)
  },
  get model() {
    return lab.model; // ModelInfo
  },
  get clean() {
    return lab.clean; // Prediction of the input
  },
  get dir() {
    return lab.dir; // { trueClass, flipEta } or { error }
  },
  get adv() {
    return lab.adv; // { adversarial, perturbation, prediction, linf, l2, l0?, queries?, steps?, eta }
  },
  get curve() {
    return lab.curve; // { etas, adversarial, random }
  },
  get gen() {
    return lab.gen;
  },
  get jobCache() {
    return lab.jobCache;
  },
  get latencies() {
    return lab.latencies;
  },
};
let pad;
let slider;
let gallery;

// ---------------------------------------------------------------- messages

function say(render, kind = 'error') {
  R.message = render ? { render, kind } : null;
  view.message($('message'), R.message);
}
const sayError = (err) => say(() => translateError(err), 'error');
const sayKey = (key, vars, kind = 'error') => say(() => t(key, vars), kind);
const clearMessage = () => say(null);

// ---------------------------------------------------------------- names

const attackInfo = (name) => lab.attackInfo(name);
const isDirection = () => attackInfo(S.attack)?.kind === 'direction';
const names = () => (R.model ? R.model.classNames.map((n, i) => className(R.model.dataset, i, n)) : []);
const ctx = () => ({ S, R, names: names(), isDirection: isDirection(), maxEta: flipMax() });

// ---------------------------------------------------------------- hash

let hashTimer = 0;
function saveHash(now = false) {
  clearTimeout(hashTimer);
  if (ownsHash(location.hash)) return; // a page lesson owns the hash (lessons/router.js)
  if (now) writeHash(S);
  else hashTimer = setTimeout(() => writeHash(S), 200);
}

// ---------------------------------------------------------------- models

/** Loads a model by id (index.json's default if unknown); on failure keeps the old one, or falls back. */
async function selectModel(id) {
  const models = R.index.models;
  const entry = models.find((m) => m.id === id) || models.find((m) => m.id === R.index.default) || models[0];
  const info = await lab.loadModel(entry || null);
  fillAttackSelect($('attack-select'), R.attacks, S.attack);
  S.model = entry ? entry.id : null;
  $('model-select').value = entry ? entry.id : 'placeholder';
  if (S.target >= info.classNames.length) {
    // A goal class this model does not have (e.g. #target=99): say so, next to the link's other problems.
    const prev = R.message?.kind === 'warning' ? R.message.render : null;
    const vars = { value: String(S.target) };
    say(() => (prev ? prev() + ' ' : '') + t('hash.target', vars), 'warning');
    S.target = -1;
  }
  view.modelNote($('model-note'), info);
  fillTargets();
  return info;
}

async function onModelChosen(id) {
  const before = R.model?.dataset;
  try {
    await selectModel(id);
  } catch (e) {
    sayError(e);
    if (R.model) $('model-select').value = R.model.id;
    return;
  }
  clearMessage();
  saveHash(true);
  await refreshGallery();
  if (R.input?.source === 'sample' && R.model.dataset !== before) await pickSample(S.sample);
  else analyze();
}

// ---------------------------------------------------------------- selects

function fillTargets() {
  if (!R.model) return;
  fillTargetSelect($('target-select'), names(), S.target);
}

function fillSelects() {
  fillModelSelect($('model-select'), R.index.models, S.model);
  if (!R.index.models.length) $('model-select').value = 'placeholder';
  fillAttackSelect($('attack-select'), R.attacks, S.attack);
  fillNormSelect($('norm-select'), attackInfo(S.attack)?.norms || ['linf'], S.norm);
  fillTargets();
  $('invert-select').value = S.invert;
  view.attackDescription($('attack-desc'), S.attack);
}

// ---------------------------------------------------------------- inputs

function setInput(input) {
  R.input = input;
  lab.setInput(input.pixels);
  paintGray($('orig-canvas'), input.pixels);
  analyze();
}

function clearInput() {
  pad.clear();
  R.input = null;
  lab.setInput(null);
  S.sample = null;
  gallery.mark(null);
  view.inputNote($('input-note'), null);
  saveHash(true);
  analyze();
}

async function onDrawn() {
  try {
    const img = pad.image();
    const pre = await live.call('preprocess', [img.rgba, img.width, img.height, 'no'], { transfer: [img.rgba] });
    if (pre.empty) return;
    S.sample = null;
    gallery.mark(null);
    saveHash(true);
    clearMessage();
    view.inputNote($('input-note'), null);
    setInput({ source: 'draw', pixels: pre.pixels });
  } catch (e) {
    sayError(e);
  }
}

async function preprocessUpload(upload) {
  const rgba = upload.rgba.slice(0);
  const pre = await live.call('preprocess', [rgba, upload.width, upload.height, S.invert], { transfer: [rgba] });
  if (pre.empty) throw Object.assign(new Error('upload.noInk'), { i18nKey: 'upload.noInk' });
  view.inputNote($('input-note'), { inverted: pre.inverted, mode: S.invert });
  return pre;
}

async function onFile(file) {
  try {
    const upload = await decodeImageFile(file);
    const pre = await preprocessUpload(upload);
    paintInto($('draw-canvas'), upload.bitmap);
    pad.dirty = false;
    S.sample = null;
    gallery.mark(null);
    saveHash(true);
    clearMessage();
    setInput({ source: 'upload', pixels: pre.pixels, upload: { rgba: upload.rgba, width: upload.width, height: upload.height } });
  } catch (e) {
    sayError(e);
  }
}

async function onInvertChosen(mode) {
  S.invert = mode;
  saveHash(true);
  if (R.input?.source !== 'upload') return;
  try {
    const pre = await preprocessUpload(R.input.upload);
    setInput({ ...R.input, pixels: pre.pixels });
  } catch (e) {
    sayError(e);
  }
}

async function refreshGallery() {
  if (!R.model) return null;
  try {
    const samples = await loadSamples(R.model.dataset);
    gallery.setSamples(samples, (label) => names()[label] ?? String(label));
    $('sample-button').disabled = false;
    return samples;
  } catch (e) {
    $('sample-button').disabled = true;
    return null;
  }
}

/** Shows test image i of the current model's dataset (exactly bytes/255, as the CLI's --sample i). */
async function pickSample(i) {
  let samples;
  try {
    samples = await loadSamples(R.model.dataset);
  } catch (e) {
    sayError(e);
    return;
  }
  if (!Number.isInteger(i) || i < 0 || i >= samples.count) {
    // Adds to the link's other problems, if any, rather than hiding them.
    const prev = R.message?.kind === 'warning' ? R.message.render : null;
    const vars = { value: String(i), max: samples.count - 1 };
    say(() => (prev ? prev() + ' ' : '') + t('hash.badSample', vars), 'warning');
    S.sample = null;
    saveHash(true);
    return;
  }
  const pixels = toPixels(samples.image(i));
  S.sample = i;
  saveHash(true);
  gallery.mark(i);
  const small = $('orig-canvas');
  paintGray(small, pixels);
  paintInto($('draw-canvas'), small);
  pad.dirty = false;
  view.inputNote($('input-note'), { sample: i, label: names()[samples.label(i)] });
  setInput({ source: 'sample', pixels, label: samples.label(i), index: i });
}

async function randomSample() {
  const samples = await refreshGallery();
  if (!samples) {
    sayKey('error.samples_missing');
    return;
  }
  clearMessage();
  await pickSample(Math.floor(Math.random() * samples.count));
}

// ---------------------------------------------------------------- the analysis

/** The page's settings, handed to the controller before it works. */
function sync() {
  lab.set({ attack: S.attack, norm: S.norm, target: S.target, seed: S.seed, eta: S.eta });
}

function analyze() {
  sync();
  return lab.analyze();
}

function requestAdv(t0) {
  sync();
  lab.setEta(S.eta, t0);
}

function startJob(opts) {
  sync();
  return lab.runJob(opts);
}

function announceResult() {
  if (!R.clean || !R.adv) return;
  announce(view.resultSentence(ctx()));
}

/** The controller's events, rendered. */
function wireLab() {
  lab.addEventListener('reset', () => {
    view.jobIdle(ctx());
    renderAll();
  });
  lab.addEventListener('clean', ({ detail: { prediction } }) => {
    view.clean(ctx());
    view.adv(ctx());
    announce(t('result.announce', { label: names()[prediction.class], confidence: formatPercent(prediction.confidence) }), 600);
    view.flip(ctx(), slider, 'pending');
  });
  lab.addEventListener('flip', () => view.flip(ctx(), slider));
  lab.addEventListener('curve', () => view.curve(ctx()));
  lab.addEventListener('adv', ({ detail: { latency } }) => {
    view.adv(ctx());
    document.body.dataset.latency = latency.toFixed(1);
  });
  lab.addEventListener('job-start', () => view.jobStart(ctx()));
  lab.addEventListener('job-progress', ({ detail: { p } }) => view.jobProgress(ctx(), p));
  lab.addEventListener('job-done', ({ detail: { adv, cached } }) => {
    view.adv(ctx());
    view.jobDone(ctx(), adv);
    if (!cached) announceResult();
  });
  lab.addEventListener('job-cancelled', () => {
    view.adv(ctx());
    view.jobCancelled(ctx());
  });
  lab.addEventListener('error', ({ detail: { error, during } }) => {
    if (during === 'job') view.jobIdle(ctx());
    sayError(error);
  });
}

// ---------------------------------------------------------------- rendering all (language change, new input)

function renderAll() {
  view.clean(ctx());
  view.adv(ctx());
  view.flip(ctx(), slider, R.clean && !R.dir ? 'pending' : undefined);
  view.curve(ctx());
  view.message($('message'), R.message);
}

async function setLanguage(l) {
  await loadLanguage(l);
  S.lang = l;
  $('lang-select').value = l;
  applyTranslations();
  document.title = t('app.title');
  fillSelects();
  slider.set(S.eta, S.norm);
  slider.setFlip(R.dir?.flipEta ?? null);
  if (R.version) $('engine-version').textContent = t('app.engine', { version: R.version });
  if (R.model) view.modelNote($('model-note'), R.model);
  view.inputNote($('input-note'), view.lastInputNote);
  if (gallery.samples) gallery.setSamples(gallery.samples, (label) => names()[label] ?? String(label));
  renderAll();
  view.jobRefresh(ctx());
  saveHash(true);
}

// ---------------------------------------------------------------- wiring

function wire() {
  wireLab();
  setRegion($('announcer'));
  paintLegend($('legend-canvas'));
  blank($('orig-canvas'));
  blank($('noise-canvas'), 28, '#fff');
  blank($('adv-canvas'));

  pad = new DrawPad($('draw-canvas'));
  pad.addEventListener('start', () => {
    if (R.input && R.input.source !== 'draw') {
      pad.clear();
      view.inputNote($('input-note'), null);
    }
  });
  pad.addEventListener('change', onDrawn);
  $('brush-size').addEventListener('input', (e) => pad.setBrush(Number(e.target.value)));
  $('clear-button').addEventListener('click', clearInput);

  wireUpload({ input: $('upload-input'), zone: $('drop-zone'), onFile });
  $('invert-select').addEventListener('change', (e) => onInvertChosen(e.target.value));
  $('sample-button').addEventListener('click', randomSample);

  gallery = new Gallery({
    grid: $('gallery-grid'),
    prev: $('gallery-prev'),
    next: $('gallery-next'),
    status: $('gallery-status'),
    onPick: (i) => {
      clearMessage();
      pickSample(i);
    },
  });

  slider = new EtaSlider({ input: $('eta-slider'), marker: $('flip-mark'), ticks: $('eta-ticks'), output: $('eta-output') });
  slider.addEventListener('input', () => {
    const t0 = performance.now();
    S.eta = slider.eta;
    saveHash();
    view.etaMoved(ctx());
    if (isDirection() && R.dir && !R.dir.error) requestAdv(t0);
  });
  let jobTimer = 0;
  slider.addEventListener('change', () => {
    saveHash(true);
    if (isDirection()) {
      // Let the last live answer land before speaking.
      setTimeout(announceResult, 60);
    } else {
      clearTimeout(jobTimer);
      jobTimer = setTimeout(startJob, 250);
    }
  });

  $('attack-select').addEventListener('change', (e) => {
    S.attack = e.target.value;
    if (R.message?.kind === 'warning') clearMessage(); // the link's problems are about the old settings
    const norms = attackInfo(S.attack)?.norms || ['linf'];
    if (!norms.includes(S.norm)) S.norm = norms[0];
    fillNormSelect($('norm-select'), norms, S.norm);
    view.attackDescription($('attack-desc'), S.attack);
    saveHash(true);
    analyze();
  });
  $('norm-select').addEventListener('change', (e) => {
    const old = S.norm;
    S.norm = e.target.value;
    // Keep the thumb where it was: η scales with the norm's range.
    S.eta = positionToEta(etaToPosition(S.eta, old), S.norm);
    slider.set(S.eta, S.norm);
    saveHash(true);
    analyze();
  });
  $('target-select').addEventListener('change', (e) => {
    S.target = Number(e.target.value);
    saveHash(true);
    analyze();
  });
  $('model-select').addEventListener('change', (e) => onModelChosen(e.target.value));
  $('lang-select').addEventListener('change', (e) => setLanguage(e.target.value));

  $('run-button').addEventListener('click', () => startJob({ fresh: true }));
  $('cancel-button').addEventListener('click', () => lab.cancelJob());

  $('copy-button').addEventListener('click', copyLink);
  $('download-button').addEventListener('click', download);

  live.addEventListener('restart', () => {
    sayKey('error.worker');
    lab.resetLive();
    // Models are re-sent by the engine; redo the view for the same input (the drawing stays).
    if (live.restarts <= 3) analyze();
  });

  // The curve's user-space width follows its box (wide screens get a wide chart).
  let lastWidth = 0;
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width / 40);
    if (w === lastWidth) return;
    lastWidth = w;
    requestAnimationFrame(() => view.curve(ctx()));
  }).observe($('curve').parentElement);

  live.addEventListener('dead', () => sayKey('error.worker_dead'));

  window.addEventListener('hashchange', onHashChange);
}

async function copyLink() {
  saveHash(true);
  const link = location.href;
  try {
    await navigator.clipboard.writeText(link);
    view.shareStatus($('share-status'), 'share.copied', {});
  } catch {
    view.shareStatus($('share-status'), 'share.copyFailed', { link });
  }
}

async function download() {
  if (!R.clean) {
    view.shareStatus($('share-status'), 'share.nothing', {});
    return;
  }
  saveHash(true);
  const c = ctx();
  try {
    await downloadResult({
      panels: view.downloadPanels(c),
      settings: view.downloadSettings(c, location.href),
      baseName: `advlab-${R.model.id}-${S.attack}-eta${etaString(S.eta)}`,
    });
    view.shareStatus($('share-status'), 'share.downloaded', {});
  } catch (e) {
    sayError(e);
  }
}

/** A hash typed or pasted by hand: apply whatever changed. */
async function onHashChange() {
  if (ownsHash(location.hash)) return;
  const { state, problems } = parseHash(location.hash);
  reportHashProblems(problems);
  const langChanged = state.lang && state.lang !== S.lang && LANGS.includes(state.lang);
  const modelChanged = state.model && state.model !== S.model;
  const sampleChanged = state.sample !== S.sample;
  Object.assign(S, { attack: state.attack, norm: state.norm, eta: state.eta, target: state.target, seed: state.seed, invert: state.invert });
  validateAgainstData(problems);
  if (langChanged) await setLanguage(state.lang);
  fillSelects();
  slider.set(S.eta, S.norm);
  if (modelChanged) {
    try {
      await selectModel(state.model);
      await refreshGallery();
    } catch (e) {
      sayError(e);
    }
  }
  if (sampleChanged && state.sample !== null) await pickSample(state.sample);
  else analyze();
}

/** The link's attack, norm and η against the loaded model's catalog and the slider's range (adds to `problems`). */
function checkAttack(problems) {
  if (!attackInfo(S.attack)) {
    problems.push({ key: 'attack', value: S.attack });
    S.attack = 'fgsm';
  }
  const norms = attackInfo(S.attack)?.norms || ['linf'];
  if (!norms.includes(S.norm)) S.norm = norms[0];
  if (S.eta > maxEta(S.norm)) {
    const fallback = Math.min(DEFAULTS.eta, maxEta(S.norm));
    // The number is fine, it is only too large: say that, with the slider's end.
    problems.push({ key: 'etaMax', value: etaString(S.eta), vars: { max: formatEta(maxEta(S.norm)), fallback: formatEta(fallback) } });
    S.eta = fallback;
  }
}

function validateAgainstData(problems) {
  checkAttack(problems);
  reportHashProblems(problems);
}

/** Says the link's problems; `append`: after the warning already shown (e.g. the model's), not instead of it. */
function reportHashProblems(problems, append = false) {
  if (!problems.length) return;
  const list = problems.slice();
  const prev = append && R.message?.kind === 'warning' ? R.message.render : null;
  say(() => (prev ? prev() + ' ' : '') + list.map((p) => t(`hash.${p.key}`, { value: p.value ?? '', ...p.vars })).join(' '), 'warning');
}

// ---------------------------------------------------------------- start

/** The typical flip η of each model (www/models/flip-etas.json, scripts/flip-medians.mjs), or none without it. */
const loadFlipEtas = () =>
  fetch(new URL('./models/flip-etas.json', import.meta.url))
    .then((r) => r.json())
    .catch(() => ({ models: {} }));

async function main() {
  // A fresh visit (no hash at all) opens on FIRST_VIEW's test image, so the first thing a class sees is a flip.
  const fresh = location.hash.replace(/^#/, '') === '';
  const { state, problems } = parseHash(location.hash);
  Object.assign(S, state);
  if (S.lang !== null && !LANGS.includes(S.lang)) problems.push({ key: 'lang', value: S.lang });
  S.lang = pickLanguage(S.lang);
  await loadLanguage(S.lang);
  $('lang-select').value = S.lang;
  applyTranslations();
  document.title = t('app.title');
  document.body.dataset.translated = 'true'; // lessons/router.js builds a lesson's card from here on
  wire();
  initClassroom({ S, save: () => saveHash(true), figureState: () => ({ model: R.model?.id ?? 'placeholder', attack: S.attack, eta: S.eta, seed: S.seed }) });
  slider.set(S.eta, S.norm);
  view.flip(ctx(), slider);
  view.curve(ctx());
  view.clean(ctx());
  view.adv(ctx());
  afterNextPaint().then(painted);

  try {
    R.version = await live.call('version');
    $('engine-version').textContent = t('app.engine', { version: R.version });
    [R.index, R.flipEtas] = await Promise.all([loadIndex(), loadFlipEtas()]);
    const wanted = S.model;
    if (wanted && !R.index.models.some((m) => m.id === wanted)) problems.push({ key: 'model', value: wanted });
    reportHashProblems(problems);
    try {
      await selectModel(wanted);
    } catch (e) {
      // The chosen model's file is missing: say so, and fall back to any model that loads, or the placeholder.
      sayError(e);
      for (const m of R.index.models) {
        if (R.model) break;
        await selectModel(m.id).catch(() => {});
      }
      if (!R.model) {
        R.index = { default: null, models: [] };
        await selectModel(null);
      }
    }
    // The attack is checked against the catalog of the model that loaded.
    const more = [];
    checkAttack(more);
    reportHashProblems(more, true);
    fillSelects();
    slider.set(S.eta, S.norm);
    await refreshGallery();
    saveHash(true);
    if (S.sample !== null) pickSample(S.sample);
  } catch (e) {
    sayError(e);
  }
  view.message($('message'), R.message);
  document.body.dataset.ready = 'true';
  registerOffline();
  if (fresh) firstView();
}

/**
 * A fresh visit's first view (state.js FIRST_VIEW): its test image, 300 ms after the page is ready, unless the
 * visitor has already started (a touch, a key, a drop or paste, a file, a new hash) or an image is there.
 */
function firstView() {
  const events = ['pointerdown', 'keydown', 'drop', 'paste', 'change', 'hashchange'];
  let started = false;
  const start = () => (started = true);
  for (const e of events) addEventListener(e, start, true);
  setTimeout(() => {
    for (const e of events) removeEventListener(e, start, true);
    if (!started && R.model && R.input === null) pickSample(FIRST_VIEW.sample);
  }, 300);
}

// For the end-to-end tests and curious readers of the console.
globalThis.advlab = { S, R, lab, live, get job() { return job; } };

main();
