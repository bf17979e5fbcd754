// Registers the service worker (../sw.js, scope: the folder holding index.html and embed.html), so that after the
// first visit the page works with the network off. Registration waits until the page is ready: the first visit's
// own requests never go through the worker, and the worker does not claim the page that registered it.
// The worker then caches, besides its own list, every file this page has already loaded.
import { t, formatNumber } from './i18n.js';

/** Starts the registration; resolves to the registration, or null where service workers are unavailable. */
export async function registerOffline() {
  if (!('serviceWorker' in navigator) || !globalThis.isSecureContext) return null;
  try {
    const reg = await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), {
      scope: new URL('../', import.meta.url).pathname,
      type: 'classic',
    });
    navigator.serviceWorker.ready.then((r) => {
      const urls = performance.getEntriesByType('resource').map((e) => e.name);
      urls.push(location.href.split('#')[0]);
      r.active?.postMessage({ op: 'cache', urls });
    });
    return reg;
  } catch {
    // Offline use is a bonus: a page without it still works online.
    return null;
  }
}

// ---------------------------------------------------------------- photo mode, kept offline on request
// Photo mode's engine, its 10 MB model and its sample photos are never stored uninvited (sw.js PHOTO): the
// visitor asks with the "Keep for offline use" button, and the worker fetches them into its cache.

const KEPT = new URL('./pkg/photo-kept', import.meta.url).href;
const OURS = new URL('../sw.js', import.meta.url).href;

const unsupported = () => Object.assign(new Error('offline use is not available in this browser'), { i18nKey: 'offline.photo.unsupported' });

/** Our own active service worker (registering it if the page has not yet), or an error if there is none. */
async function ourWorker() {
  const sw = globalThis.navigator?.serviceWorker;
  if (!sw || !globalThis.isSecureContext) throw unsupported();
  let reg = await sw.getRegistration(new URL('../', import.meta.url).href);
  if (!reg || reg.active?.scriptURL !== OURS) reg = await registerOffline();
  if (!reg) throw unsupported();
  if (!reg.active) {
    const w = reg.installing || reg.waiting;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(unsupported()), 30000);
      w?.addEventListener('statechange', () => {
        if (reg.active) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  return reg.active;
}

/** Sends `op` to the worker over a MessageChannel; `onMessage` sees every reply; resolves with the one marked done. */
async function ask(op, onMessage = () => {}) {
  const worker = await ourWorker();
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = ({ data }) => {
      onMessage(data);
      if (data?.done) {
        ch.port1.close();
        resolve(data);
      }
    };
    worker.postMessage({ op }, [ch.port2]);
  });
}

/**
 * Keeps photo mode offline: the worker fetches the photo engine, model and samples into its cache.
 * `onProgress({loaded, total})` follows the bytes. Resolves to {ok: true} or {ok: false, missing: [paths]}.
 */
export async function keepPhotoOffline({ onProgress = null } = {}) {
  return ask('keep-photo', (m) => m?.progress && onProgress?.(m.progress));
}

/** Removes photo mode's files from the offline cache. */
export async function forgetPhotoOffline() {
  return ask('forget-photo');
}

/** Whether photo mode is kept offline (the worker's marker is in its cache). */
export async function photoKeptOffline() {
  try {
    return !!globalThis.caches && !!(await caches.match(KEPT));
  } catch {
    return false;
  }
}

/** The bytes keepPhotoOffline downloads (the list sw.js uses; the model's size from index.json without it). */
async function photoBytes() {
  try {
    const list = await (await fetch(new URL('./pkg/photo-offline.json', import.meta.url))).json();
    const n = list.files.reduce((a, f) => a + (Number(f.bytes) || 0), 0);
    if (n > 0) return n;
  } catch {
    // no list
  }
  try {
    const idx = await (await fetch(new URL('./models/index.json', import.meta.url))).json();
    return idx.models.filter((m) => m.engine === 'photo').reduce((a, m) => a + (Number(m.bytes) || 0), 0);
  } catch {
    return 0;
  }
}

const mb = (bytes) => formatNumber(bytes / 1e6, 1);

/**
 * The "Keep for offline use" button of photo mode. Shown only while `isPhoto()` (default: body[data-mode=photo])
 * and where service workers work; it re-reads its state when the page's mode or language changes (body data-mode,
 * html lang). A click keeps photo mode offline, with progress in the label; once kept, a click removes it.
 * `onChange(kept)` is told after each change. Returns {update}, to call if the mode changes some other way.
 */
export function wireKeepOffline(button, { isPhoto = () => document.body.dataset.mode === 'photo', onChange = () => {} } = {}) {
  if (!button) return { update: async () => {} };
  const supported = 'serviceWorker' in navigator && globalThis.isSecureContext && !!globalThis.caches;
  let state = 'idle'; // idle | busy | kept | failed | removing
  let percent = 0;
  let bytes = 0;
  const render = () => {
    button.hidden = !supported || !isPhoto();
    button.dataset.state = state;
    button.disabled = state === 'busy' || state === 'removing';
    button.setAttribute('aria-busy', String(button.disabled));
    button.setAttribute('aria-pressed', String(state === 'kept'));
    const size = mb(bytes);
    const label = {
      idle: () => t('offline.photo.keep', { size }),
      busy: () => t('offline.photo.progress', { percent: formatNumber(percent, 0) }),
      kept: () => t('offline.photo.kept'),
      failed: () => t('offline.photo.failed', { size }),
      removing: () => t('offline.photo.removing'),
    }[state];
    button.textContent = label();
    button.title = state === 'kept' || state === 'removing' ? t('offline.photo.keptHint') : t('offline.photo.keepHint', { size });
  };
  const update = async () => {
    // Nothing is fetched or read until photo mode shows the button: the digits page pays no request for it.
    if (!supported || !isPhoto()) return render();
    if (!bytes) bytes = await photoBytes();
    if (state !== 'busy' && state !== 'removing' && state !== 'failed') state = (await photoKeptOffline()) ? 'kept' : 'idle';
    render();
  };
  button.addEventListener('click', async () => {
    if (state === 'busy' || state === 'removing') return;
    try {
      if (state === 'kept') {
        state = 'removing';
        render();
        await forgetPhotoOffline();
        state = 'idle';
      } else {
        state = 'busy';
        percent = 0;
        render();
        const r = await keepPhotoOffline({
          onProgress: ({ loaded, total }) => {
            percent = total ? Math.min(100, Math.floor((100 * loaded) / total)) : 0;
            render();
          },
        });
        state = r.ok ? 'kept' : 'failed';
      }
    } catch {
      state = 'failed';
    }
    render();
    onChange(state === 'kept');
  });
  const watch = new MutationObserver(() => update());
  watch.observe(document.body, { attributes: true, attributeFilter: ['data-mode'] });
  watch.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  update();
  return { update };
}
