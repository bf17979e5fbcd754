// The page's entry point: owns the state (mirrored in the URL hash), the two engine workers and the inputs
// (drawing | upload | test image → 28×28). The flow prediction → FGSM direction + flip point → adversarial view
// (slider, jobs) is lab/controller.js's, shared with the <adversarial-lab> widget; this file renders its events
// through view.js and wires every control.
import { Engine } from './engine.js';
import { DrawPad } from './draw.js';
import { pickLanguage, loadLanguage, applyTranslations, t, translateError, className, formatPercent, formatEta, LANGS } from './i18n.js';
import { DEFAULTS, FIRST_VIEW, parseHash, writeHash, etaString } from './state.js';
import { EtaSlider, maxEta, maxPosition, positionToEta, etaToPosition, scaleFor } from './slider.js';
import { decodeImageFile, wireUpload } from './upload.js';
import { loadSamples, toPixels } from './samples.js';
import { Gallery } from './gallery.js';
import { paintGray, paintInto, blank, paintRGB, paintPhoto } from './panels.js';
import { Camera } from './camera.js';
import * as photos from './photos.js';
import { paintLegend } from './noise-map.js';
import { curveEtas, curveTop } from './chart.js';
import { loadIndex, fillModelSelect, fetchBytes } from './models.js';
import { fillAttackSelect, fillNormSelect, fillTargetSelect, mountBudget } from './attacks.js';
import { LabController } from './lab/controller.js';
import { setRegion, announce } from './announce.js';
import { downloadResult } from './download.js';
import * as view from './view.js';
import { initClassroom } from './classroom.js';
import { registerOffline, wireKeepOffline } from './offline.js';
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

/** The slider's scale for the loaded model: 'photo' or 'digits' (from the catalog's slider_end). */
const scale = () => scaleFor(lab.attacks?.[0]);

/**
 * How far the flip point is searched (the CLI's default `--max-eta`, catalog.rs `flip_search_max`, which the
 * catalog gives as `slider_end`): the slider's end.
 */
const flipMax = () => lab.attacks?.[0]?.slider_end?.[S.norm] ?? maxEta(S.norm, scale());

const lab = new LabController({
  engine: live,
  jobEngine,
  flipMax,
  // A photo's curve: 13 points (each is a forward pass of EfficientNet-Lite0, twice), up to a few flip points.
  curveEtas: (flipEta) =>
    lab.isPhoto ? curveEtas(photos.curveTop(flipEta, flipMax()), 13) : curveEtas(curveTop(S.norm, flipEta, maxEta(S.norm))),
  // A photo's 41 slider positions are computed ahead (a digit's forward pass is too quick to bother).
  sliderEtas: () => (lab.isPhoto ? Array.from({ length: maxPosition('photo') + 1 }, (_, p) => positionToEta(p, S.norm, 'photo')) : null),
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
// Photo class names: the model's Dutch list on a Dutch page (photoInfo), else its English names, cached per language.
let namesCache = { key: null, list: [] };
const names = () => {
  if (!R.model) return [];
  const key = `${R.model.id}/${S.lang}`;
  if (namesCache.key !== key) {
    const list = lab.isPhoto
      ? photos.classNames(R.model, lab.photo, S.lang)
      : R.model.classNames.map((n, i) => className(R.model.dataset, i, n));
    namesCache = { key, list };
  }
  return namesCache.list;
};
const ctx = () => ({ S, R, names: names(), isDirection: isDirection(), maxEta: flipMax(), photo: lab.isPhoto, side: lab.photo?.side ?? 28, scale: scale() });

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
  const wasPhoto = lab.isPhoto;
  const hadModel = !!lab.model; // the first load keeps the link's sample
  const info = await loadWithProgress(entry || null);
  if (hadModel && wasPhoto !== lab.isPhoto) {
    // Digits and photos do not mix: the old input goes, and the page switches its controls and slider scale.
    R.input = null;
    S.sample = null; // a test digit's index means nothing among the sample photos, and back
    camera.stop();
    view.inputNote($('input-note'), null);
  }
  // η beyond the new slider's end: chosen by switching models (or not chosen at all), it quietly becomes the
  // catalog's first η; from the link, checkAttack says so.
  applyMode({ fitEta: hadModel || !etaFromLink });
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

let etaFromLink = false; // whether the opening link set η (then a too-large one is reported, not fitted)
let modelDownload = null; // the AbortController of a photo model's download

/** Loads a model; a photo model's weights (10 MB) come with a progress bar in MB and a cancel button. */
async function loadWithProgress(entry) {
  if (entry?.engine !== 'photo' || lab.model?.id === entry.id) return lab.loadModel(entry);
  modelDownload?.abort();
  const ctl = (modelDownload = new AbortController());
  const onDownload = ({ detail }) => view.download(detail, entry.bytes);
  lab.addEventListener('download', onDownload);
  view.download({ loaded: 0, total: entry.bytes ?? 0 }, entry.bytes);
  try {
    return await lab.loadModel(entry, { signal: ctl.signal });
  } finally {
    lab.removeEventListener('download', onDownload);
    if (modelDownload === ctl) modelDownload = null;
    view.download(null);
  }
}

async function onModelChosen(id) {
  const before = R.model?.dataset;
  try {
    await selectModel(id);
  } catch (e) {
    if (/^error\.cancelled/.test(e.message)) sayKey('download.cancelled', {}, 'info');
    else sayError(e);
    if (R.model) $('model-select').value = R.model.id;
    return;
  }
  clearMessage();
  saveHash(true);
  await refreshGallery();
  if (lab.isPhoto && !R.input) await pickSample(Number.isInteger(S.sample) ? S.sample : 0);
  else if (before === 'imagenet' && !R.input) await pickSample(FIRST_VIEW.sample); // back from photos: a digit to flip
  else if (R.input?.source === 'sample' && R.model.dataset !== before) await pickSample(S.sample);
  else analyze();
}

/** Photo mode or digit mode: which controls show (CSS: body[data-mode]), the slider's scale, the goal search. */
function applyMode({ fitEta = true } = {}) {
  const photo = lab.isPhoto;
  document.body.dataset.mode = photo ? 'photo' : 'digits';
  const max = maxEta(S.norm, scale());
  if (fitEta && S.eta > max) {
    // Coming from digits (η = 0.1) to photos, whose slider ends at 16/255: start where photos flip.
    const d = lab.attackInfo('fgsm')?.default_eta ?? max;
    S.eta = S.norm === 'linf' ? d : Math.min(max, d * 10);
  }
  slider?.set(S.eta, S.norm, scale());
  if (photo) {
    photos.fillTargetSearch(targetUi(), names(), R.model, lab.photo, S.lang, S.target);
  } else camera.stop();
}

// ---------------------------------------------------------------- selects

function fillTargets() {
  if (!R.model) return;
  fillTargetSelect($('target-select'), names(), S.target);
  if (lab.isPhoto) photos.fillTargetSearch(targetUi(), names(), R.model, lab.photo, S.lang, S.target);
}

const targetUi = () => ({ input: $('target-search'), list: $('target-list'), airliner: $('target-airliner'), clear: $('target-clear'), chosen: $('target-chosen') });

/** A goal class chosen (−1: any wrong class): into the link, and a new analysis. */
function setTarget(target) {
  if (target === S.target) return;
  S.target = target;
  $('target-select').value = String(target);
  if (lab.isPhoto) photos.showTarget(targetUi(), names(), target);
  saveHash(true);
  analyze();
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
  if (lab.isPhoto) return onPhotoFile(file);
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

// ---------------------------------------------------------------- photos (a photo model is loaded)

let inputSeq = 0; // the newest photo input: a slower one that arrives later is dropped
const camera = new Camera(document.getElementById('camera-video'));

/**
 * A decoded photo ({rgba, width, height, bitmap}) → the model's 224×224 (the Rust recipe), shown with its crop
 * outlined, and analysed. `source`: 'upload' | 'camera' | 'sample' (only a sample's index goes into the link).
 */
async function setPhoto(upload, { source, index = null }) {
  const seq = ++inputSeq;
  const prep = await lab.preparePhoto(upload);
  if (seq !== inputSeq || !lab.isPhoto) return;
  R.photo = { bitmap: upload.bitmap, crop: prep.crop, width: upload.width, height: upload.height };
  paintPhoto($('photo-canvas'), upload.bitmap, prep.crop);
  R.input = { source, pixels: prep.pixels, index: index ?? undefined };
  lab.setInput(prep.pixels);
  paintRGB($('orig-canvas'), prep.pixels, prep.side);
  analyze();
}

async function onPhotoFile(file) {
  try {
    const upload = await decodeImageFile(file, { minSide: 32 });
    S.sample = null; // an own photo never goes into the link
    photos.markGallery($('photo-grid'), null);
    saveHash(true);
    clearMessage();
    view.inputNote($('input-note'), null);
    await setPhoto(upload, { source: 'upload' });
  } catch (e) {
    sayError(e);
  }
}

/** Sample photo i (www/samples/photos/index.json), by its index in the link's `sample`. */
async function pickPhoto(i) {
  try {
    const list = await photos.loadList();
    if (!Number.isInteger(i) || i < 0 || i >= list.length) {
      const prev = R.message?.kind === 'warning' ? R.message.render : null;
      const vars = { value: String(i), max: list.length - 1 };
      say(() => (prev ? prev() + ' ' : '') + t('hash.badSample', vars), 'warning');
      S.sample = null;
      saveHash(true);
      return;
    }
    const bytes = await fetchBytes(`samples/photos/${list[i].file}`, 'samples_missing');
    const upload = await decodeImageFile(new Blob([bytes]));
    S.sample = i;
    saveHash(true);
    photos.markGallery($('photo-grid'), i);
    view.inputNote($('input-note'), { photo: list[i] });
    await setPhoto(upload, { source: 'sample', index: i });
  } catch (e) {
    sayError(e);
  }
}

async function startCamera() {
  try {
    clearMessage();
    $('camera-video').hidden = false;
    $('camera-row').hidden = false;
    $('camera-button').hidden = true;
    await camera.start();
    $('camera-shoot').focus();
  } catch (e) {
    stopCamera();
    sayKey(e.message.startsWith('camera.') ? e.message : 'camera.failed');
  }
}

function stopCamera() {
  camera.stop();
  $('camera-video').hidden = true;
  $('camera-row').hidden = true;
  $('camera-button').hidden = false;
}

async function takePhoto() {
  try {
    const shot = camera.take(); // the stream stops here
    stopCamera();
    S.sample = null; // a camera photo never goes into the link
    photos.markGallery($('photo-grid'), null);
    saveHash(true);
    view.inputNote($('input-note'), null);
    await setPhoto(shot, { source: 'camera' });
  } catch (e) {
    stopCamera();
    sayKey(e.message.startsWith('camera.') ? e.message : 'camera.failed');
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
  if (lab.isPhoto) {
    try {
      const list = await photos.loadList();
      photos.renderGallery({ grid: $('photo-grid'), credits: $('photo-credits') }, list, S.lang, (i) => {
        clearMessage();
        pickPhoto(i);
      });
      photos.markGallery($('photo-grid'), R.input?.source === 'sample' ? S.sample : null);
      $('sample-button').disabled = false;
      return { count: list.length };
    } catch (e) {
      $('sample-button').disabled = true;
      return null;
    }
  }
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
  if (lab.isPhoto) return pickPhoto(i);
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
    view.groups(ctx());
    announce(t('result.announce', { label: names()[prediction.class], confidence: formatPercent(prediction.confidence) }), 600);
    view.flip(ctx(), slider, 'pending');
  });
  lab.addEventListener('flip', () => view.flip(ctx(), slider));
  lab.addEventListener('curve', () => view.curve(ctx()));
  lab.addEventListener('adv', ({ detail: { latency } }) => {
    view.adv(ctx());
    view.groups(ctx());
    document.body.dataset.latency = latency.toFixed(1);
  });
  lab.addEventListener('job-start', () => view.jobStart(ctx()));
  lab.addEventListener('job-progress', ({ detail: { p } }) => view.jobProgress(ctx(), p));
  lab.addEventListener('job-done', ({ detail: { adv, cached } }) => {
    view.adv(ctx());
    view.groups(ctx());
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
  view.groups(ctx());
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
  slider.set(S.eta, S.norm, scale());
  slider.setFlip(R.dir?.flipEta ?? null);
  if (lab.isPhoto) refreshGallery();
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
  $('camera-button').addEventListener('click', startCamera);
  $('camera-shoot').addEventListener('click', takePhoto);
  $('camera-stop').addEventListener('click', stopCamera);
  $('model-cancel').addEventListener('click', () => modelDownload?.abort());
  photos.wireTargetSearch(targetUi(), setTarget);
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
    S.eta = positionToEta(etaToPosition(S.eta, old, scale()), S.norm, scale());
    slider.set(S.eta, S.norm, scale());
    saveHash(true);
    analyze();
  });
  $('target-select').addEventListener('change', (e) => setTarget(Number(e.target.value)));
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
  slider.set(S.eta, S.norm, scale());
  if (modelChanged) {
    try {
      await selectModel(state.model);
      await refreshGallery();
    } catch (e) {
      sayError(e);
    }
  }
  if (sampleChanged && state.sample !== null) await pickSample(state.sample);
  else if (lab.isPhoto && !R.input) await pickSample(0); // into photos by the link: a sample photo to flip
  else if (modelChanged && !R.input) await pickSample(FIRST_VIEW.sample); // and back to digits
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
  const max = maxEta(S.norm, scale());
  if (S.eta > max) {
    const fallback = Math.min(lab.isPhoto ? lab.attackInfo('fgsm')?.default_eta ?? max : DEFAULTS.eta, max);
    // The number is fine, it is only too large: say that, with the slider's end.
    problems.push({ key: 'etaMax', value: etaString(S.eta), vars: { max: formatEta(max), fallback: formatEta(fallback) } });
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
  etaFromLink = /(?:^#?|&)eta=/.test(location.hash);
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
  slider.set(S.eta, S.norm, scale());
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
    slider.set(S.eta, S.norm, scale());
    await refreshGallery();
    saveHash(true);
    // A photo link without a photo opens on the first sample photo: something to flip at once.
    if (S.sample !== null) pickSample(S.sample);
    else if (lab.isPhoto) pickSample(0);
  } catch (e) {
    sayError(e);
  }
  view.message($('message'), R.message);
  document.body.dataset.ready = 'true';
  registerOffline();
  wireKeepOffline($('keep-offline'), { isPhoto: () => lab.isPhoto });
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
