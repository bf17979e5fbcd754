// The page's entry point: wires the drawing pad, the engine worker, the model menu and the result view.
import { Engine } from './engine.js';
import { DrawPad } from './draw.js';
import { renderBars } from './bars.js';
import { pickLanguage, loadLanguage, applyTranslations, t, formatPercent, translateError } from './i18n.js';

const $ = (id) => document.getElementById(id);

const state = {
  models: [], // entries of www/models/index.json
  model: null, // ModelInfo of the current model
  pixels: null, // the 28×28 the model sees
};

const engine = new Engine();

function showMessage(text, kind = 'error') {
  const el = $('message');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = !text;
}

engine.addEventListener('restart', () => {
  showMessage(t('error.worker'));
  loadModel(state.model?.id).catch(() => {});
});

async function loadIndex() {
  try {
    const res = await fetch(new URL('./models/index.json', import.meta.url));
    if (!res.ok) return [];
    const idx = await res.json();
    return Array.isArray(idx.models) ? idx.models : [];
  } catch {
    return [];
  }
}

function fillModelSelect() {
  const sel = $('model-select');
  sel.replaceChildren();
  if (state.models.length === 0) {
    const o = new Option(t('model.placeholder'), 'placeholder');
    sel.append(o);
    return;
  }
  for (const m of state.models) sel.append(new Option(m.title || m.id, m.id));
}

async function loadModel(id) {
  const entry = state.models.find((m) => m.id === id) || state.models[0];
  if (!entry) {
    state.model = await engine.call('loadPlaceholder', { id: 'placeholder', seed: 1 });
  } else {
    const res = await fetch(new URL(`./models/${entry.file}`, import.meta.url));
    if (!res.ok) throw new Error(`error.model_missing: ${entry.file} (HTTP ${res.status})`);
    const bytes = await res.arrayBuffer();
    state.model = await engine.call('loadModel', { id: entry.id, bytes }, [bytes]);
  }
  $('model-select').value = state.model.id;
  const note = $('model-note');
  note.hidden = !state.model.untrained;
  note.textContent = state.model.untrained ? t('model.placeholder') : '';
}

async function classify() {
  if (!state.pixels) return;
  const pred = await engine.call('predict', { id: state.model.id, pixels: state.pixels });
  const el = $('prediction');
  const label = state.model.classNames[pred.class];
  el.dataset.class = String(pred.class);
  el.dataset.confidence = pred.confidence.toFixed(6);
  $('prediction-verdict').textContent = t('result.verdict', { label, confidence: formatPercent(pred.confidence) });
  renderBars($('prediction-bars'), pred.probs, state.model.classNames, pred.class);
}

async function onDrawn(pad) {
  try {
    const img = pad.image();
    const pre = await engine.call('preprocess', { ...img, invert: 'no' }, [img.rgba]);
    if (pre.empty) return;
    state.pixels = pre.pixels;
    await classify();
    showMessage('');
  } catch (e) {
    showMessage(translateError(e));
  }
}

async function main() {
  const lang = pickLanguage(new URLSearchParams(location.hash.slice(1)).get('lang'));
  await loadLanguage(lang);
  $('lang-select').value = lang;
  applyTranslations();

  const pad = new DrawPad($('draw-canvas'));
  pad.addEventListener('change', () => onDrawn(pad));
  $('clear-button').addEventListener('click', () => {
    pad.clear();
    state.pixels = null;
    const el = $('prediction');
    delete el.dataset.class;
    delete el.dataset.confidence;
    $('prediction-verdict').textContent = t('result.empty');
    $('prediction-bars').replaceChildren();
  });
  $('lang-select').addEventListener('change', async (e) => {
    await loadLanguage(e.target.value);
    applyTranslations();
    fillModelSelect();
    if (state.model) $('model-select').value = state.model.id;
    await classify();
  });
  $('model-select').addEventListener('change', async (e) => {
    try {
      await loadModel(e.target.value);
      await classify();
    } catch (err) {
      showMessage(translateError(err));
    }
  });

  try {
    const version = await engine.call('version');
    $('engine-version').textContent = t('app.engine', { version });
    state.models = await loadIndex();
    fillModelSelect();
    await loadModel(state.models[0]?.id);
  } catch (e) {
    showMessage(translateError(e));
  }
  document.body.dataset.ready = 'true';
}

main();
