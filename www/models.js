// The model menu: www/models/index.json lists the shipped models; the menu groups them by dataset (<optgroup>,
// labels from the i18n table) and titles them in the current language.
import { t, lang, has, formatPercent } from './i18n.js';

/** { default, models: [{ id, file, dataset, arch, title: { en, nl } }] }; an empty list if the index is absent. */
export async function loadIndex() {
  try {
    const res = await fetch(new URL('./models/index.json', import.meta.url));
    if (!res.ok) return { default: null, models: [] };
    const idx = await res.json();
    const models = (Array.isArray(idx.models) ? idx.models : []).filter((m) => m && typeof m.id === 'string' && typeof m.file === 'string');
    return { default: typeof idx.default === 'string' ? idx.default : models[0]?.id ?? null, models };
  } catch {
    return { default: null, models: [] };
  }
}

/**
 * A model's menu label. index.json may give a title per language; otherwise (scripts/models-index.mjs writes
 * id, dataset, arch, variant and clean_accuracy) the label is built from translated parts: "MNIST · CNN · 99.1 %".
 */
export function modelTitle(m) {
  if (!m) return '';
  if (m.title && typeof m.title === 'object') return m.title[lang()] || m.title.en || m.id;
  if (typeof m.title === 'string') return m.title;
  const part = (key, fallback) => (has(key) ? t(key) : fallback);
  const variant = m.variant || m.arch;
  const arch = variant ? part(`variant.${variant}`, part(`arch.${m.arch}`, variant)) : m.id;
  const name = t('model.title', { dataset: part(`datasetShort.${m.dataset}`, m.dataset || ''), arch });
  return typeof m.clean_accuracy === 'number'
    ? t('model.titleAccuracy', { name, accuracy: formatPercent(m.clean_accuracy) })
    : name;
}

export function fillModelSelect(select, models, current) {
  select.replaceChildren();
  if (models.length === 0) {
    select.append(new Option(t('model.placeholderName'), 'placeholder'));
    select.value = 'placeholder';
    return;
  }
  const groups = new Map();
  for (const m of models) {
    const ds = m.dataset || 'other';
    if (!groups.has(ds)) {
      const g = document.createElement('optgroup');
      g.label = t(`dataset.${ds}`);
      groups.set(ds, g);
      select.append(g);
    }
    groups.get(ds).append(new Option(modelTitle(m), m.id));
  }
  if (current) select.value = current;
}

// ---------------------------------------------------------------- model files (every view fetches through here)

const bytesCache = new Map();

/**
 * Asks this site's service worker (sw.js, registered by offline.js) to keep `url` for offline use. A file fetched
 * before the worker controls the page (the whole first visit) does not pass through it, so every view's model and
 * data files are handed over here, once they have loaded. Only our own worker is asked (a widget on another
 * site's page leaves that site's worker alone).
 */
export function keepOffline(url) {
  const sw = globalThis.navigator?.serviceWorker;
  if (!sw) return;
  const ours = new URL('../sw.js', import.meta.url).href;
  sw.ready
    .then((r) => {
      if (r.active?.scriptURL === ours) r.active.postMessage({ op: 'cache', urls: [String(url)] });
    })
    .catch(() => {});
}

/** A JSON file under www/ ("models/robustness.json", "lessons/data.json"), fetched and kept offline like the bytes. */
export async function fetchJson(path, missing = 'model_missing') {
  const bytes = await fetchBytes(path, missing);
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * Files that are kept offline only when the visitor asks ("Keep for offline use", offline.js keepPhotoOffline):
 * the photo engine and its 10 MB model. sw.js has the same rule (PHOTO), so neither stores them uninvited.
 */
export const OPT_IN_OFFLINE = /(imagenet-[^/]*\.safetensors|advlab_photo[^/]*)$/;

/** Reads a response body, reporting (loaded, total) bytes as they arrive; total is 0 when the server does not say. */
async function readWithProgress(r, onProgress) {
  const total = Number(r.headers.get('content-length')) || 0;
  if (!onProgress || !r.body?.getReader) return new Uint8Array(await r.arrayBuffer());
  const reader = r.body.getReader();
  const chunks = [];
  let loaded = 0;
  onProgress(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The bytes of a file under www/ (e.g. "models/mnist-cnn.safetensors", "data/mnist-train-5000-labels.idx"),
 * fetched once per page and shared by every view (the lab, the widgets, the lessons, the defences, training). A
 * failed fetch is forgotten, so the next call tries again; it fails as `missing` ("error.<key>: file (HTTP …)").
 * Callers get their own copy (bytes sent to a worker are not shared). `onProgress(loaded, total)` follows the
 * download; `signal` (an AbortSignal) cancels it (error.cancelled).
 */
export async function fetchBytes(path, missing = 'model_missing', { onProgress = null, signal = null } = {}) {
  if (!bytesCache.has(path)) {
    const name = path.replace(/^models\//, '');
    const url = new URL(`./${path}`, import.meta.url);
    const p = fetch(url, signal ? { signal } : {}).then(
      async (r) => {
        if (!r.ok) throw new Error(`error.${missing}: ${name} (HTTP ${r.status})`);
        const bytes = await readWithProgress(r, onProgress).catch((e) => {
          throw signal?.aborted ? new Error('error.cancelled: download') : e;
        });
        if (!OPT_IN_OFFLINE.test(path)) keepOffline(url);
        return bytes;
      },
      () => {
        if (signal?.aborted) throw new Error('error.cancelled: download');
        // Offline, say plainly that this file needs a connection once.
        throw new Error(`error.${navigator.onLine === false ? 'offline_needed' : missing}: ${name}`);
      },
    );
    p.catch(() => bytesCache.delete(path));
    bytesCache.set(path, p);
  }
  return (await bytesCache.get(path)).slice();
}

/** A model file under www/models/ ("mnist-cnn.safetensors", "lessons/mnist-linear-7.safetensors"). */
export const modelBytes = (file, opts) => fetchBytes(`models/${file}`, 'model_missing', opts);

const loading = new WeakMap(); // engine → Map("session/id" → promise of ModelInfo)

/**
 * Loads model `id` from `file` into an engine's `session` once (the engine re-sends it after a restart); returns
 * its ModelInfo. `opts`: fetchBytes' {onProgress, signal}.
 */
export function ensureModel(engine, id, file, session, opts = {}) {
  if (!loading.has(engine)) loading.set(engine, new Map());
  const mine = loading.get(engine);
  const key = `${session ?? 'main'}/${id}`;
  const known = mine.get(key);
  if (!known || (known.settled && !engine.hasModel(id, session))) {
    const p = modelBytes(file, opts).then((b) => engine.loadModel(id, b, session));
    p.then(() => (p.settled = true), () => mine.delete(key));
    mine.set(key, p);
  }
  return mine.get(key);
}
