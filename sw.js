// The service worker that keeps Adversarial Lab usable offline (a classroom with poor Wi-Fi, a USB stick).
// Scope: this folder (index.html, embed.html, www/). On install it precaches the app shell; then every same-origin
// GET is answered from the cache first (the network only for what is not cached yet, and that answer is cached).
// VERSION names the cache: `./build.sh dist` stamps a hash of dist/'s files into it, so a new release installs
// a new cache and the old one is deleted on activation. Unstamped (the repository served as is, for development)
// the worker goes to the network first and falls back to the cache, so edited files show at once.
// Photo mode is opt-in: its engine, its 10 MB model and its sample photos (PHOTO) are never stored from passing
// fetches. The page's "Keep for offline use" button (offline.js keepPhotoOffline) sends {op: 'keep-photo'}; the
// worker then fetches the list www/pkg/photo-offline.json (scripts/precache.mjs) into the cache, with a marker
// (KEPT) saying the visitor asked; {op: 'forget-photo'} removes them again.
const VERSION = 'dev';
const CACHE = `advlab-${VERSION}`;
const CACHE_FIRST = VERSION !== 'dev';

function hasWasmSimd() {
  // (func (result v128) (i8x16.splat (i32.const 0))): valid only where wasm SIMD is.
  const probe = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11];
  try {
    return WebAssembly.validate(new Uint8Array(probe));
  } catch {
    return false;
  }
}

// What to precache is not listed here: `./build.sh build` and `./build.sh dist` write it into www/pkg/precache.json
// from the files really shipped (scripts/precache.mjs). Paths are relative to this file; missing files are skipped.
const LIST = 'www/pkg/precache.json';
// The one wasm build this browser runs (the choice of www/wasm-simd.js; its probe repeated here, because a classic
// service worker cannot import an ES module): never both, a classroom's Wi-Fi pays for every byte.
const WASM = () => (hasWasmSimd() ? 'www/pkg/advlab_bg.wasm' : 'www/pkg/advlab_compat_bg.wasm');

const here = (p) => new URL(p, self.registration.scope).href;

// Photo mode's files: stored only after the visitor asks (keep-photo), never from a passing fetch.
const PHOTO = /\/www\/(models\/imagenet-[^/]*\.safetensors|pkg\/advlab_photo[^/]*|samples\/photos\/[^/]*)$/;
const isPhoto = (url) => PHOTO.test(new URL(url).pathname);
// The list of what photo mode needs offline, written from the files really shipped (like precache.json).
const PHOTO_LIST = 'www/pkg/photo-offline.json';
// The photo engine's worker is worker.js with ?engine=photo: the same module, but its own cache entry.
const PHOTO_WORKER = 'www/worker.js?engine=photo';
// Present in the cache while the visitor has kept photo mode offline (no such file exists on the server).
const KEPT = () => here('www/pkg/photo-kept');

async function put(cache, url) {
  try {
    const res = await fetch(url, { cache: 'reload' });
    if (res.ok) await cache.put(url, res);
    return res.ok;
  } catch {
    // Offline during install, or the file does not exist: skip it.
    return false;
  }
}

async function shell() {
  try {
    const res = await fetch(here(LIST), { cache: 'reload' });
    const list = res.ok ? (await res.json()).files : [];
    return Array.isArray(list) ? list.filter((f) => typeof f === 'string') : [];
  } catch {
    return [];
  }
}

async function precache() {
  const cache = await caches.open(CACHE);
  const files = [...(await shell()), WASM()];
  const ok = await Promise.all(files.map((p) => put(cache, here(p))));
  // A file that failed while dozens were in flight gets one more try, alone (a missing one fails again: skipped).
  for (const [i, p] of files.entries()) if (!ok[i]) await put(cache, here(p));
  // The page's default model, whatever index.json names.
  try {
    const idx = await (await cache.match(here('www/models/index.json'))).clone().json();
    const entry = (idx.models || []).find((m) => m.id === idx.default);
    if (entry) await put(cache, here(`www/models/${entry.file}`));
  } catch {
    // No index: nothing more to cache.
  }
}

self.addEventListener('install', (ev) => {
  ev.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(
    caches.keys().then(async (keys) => {
      const old = keys.filter((k) => k.startsWith('advlab-') && k !== CACHE);
      // A visitor who kept photo mode offline keeps it across releases: the old copies move over at once (so
      // offline use never has a gap), then are refreshed from the network in the background.
      const carried = await carryPhoto(old);
      await Promise.all(old.map((k) => caches.delete(k)));
      if (carried) keepPhoto(() => {}).catch(() => {});
    }),
  );
});

async function carryPhoto(oldKeys) {
  const cache = await caches.open(CACHE);
  if (await cache.match(KEPT())) return false;
  for (const k of oldKeys) {
    const old = await caches.open(k);
    if (!(await old.match(KEPT()))) continue;
    for (const req of await old.keys()) {
      if (isPhoto(req.url) || req.url === here(PHOTO_WORKER)) await cache.put(req, await old.match(req));
    }
    await cache.put(KEPT(), await old.match(KEPT()));
    return true;
  }
  return false;
}

/** [{path, bytes}] photo mode needs offline: PHOTO_LIST, or (no list) the engine and index.json's photo models. */
async function photoFiles() {
  let files = null;
  try {
    const res = await fetch(here(PHOTO_LIST), { cache: 'reload' });
    const list = res.ok ? (await res.json()).files : null;
    if (Array.isArray(list)) files = list.filter((f) => f && typeof f.path === 'string' && isPhoto(here(f.path)));
  } catch {
    // No list (a checkout not built with ./build.sh build): the fallback below.
  }
  if (!files) {
    files = [{ path: 'www/pkg/advlab_photo.js' }, { path: 'www/pkg/advlab_photo_bg.wasm' }];
    try {
      const idx = await (await fetch(here('www/models/index.json'))).json();
      for (const m of idx.models || []) if (m?.engine === 'photo' && typeof m.file === 'string') files.push({ path: `www/models/${m.file}`, bytes: m.bytes });
    } catch {
      // No index: the engine alone.
    }
  }
  return [{ path: PHOTO_WORKER }, ...files];
}

/**
 * Fetches every photo file into the cache, reporting {loaded, total} bytes; on success sets KEPT and resolves to
 * {ok: true}; if any file fails, removes what it stored and resolves to {ok: false, missing: [paths]}.
 */
let keeping = null;
function keepPhoto(report) {
  keeping ??= (async () => {
    const cache = await caches.open(CACHE);
    const files = await photoFiles();
    const total = files.reduce((a, f) => a + (Number(f.bytes) || 0), 0);
    let loaded = 0;
    let last = 0;
    const tick = (force) => {
      const now = Date.now();
      if (force || now - last > 100) {
        last = now;
        report({ loaded, total: Math.max(total, loaded) });
      }
    };
    tick(true);
    const missing = [];
    for (const f of files) {
      const url = here(f.path);
      try {
        const res = await fetch(url, { cache: 'reload' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const storing = cache.put(url, res.clone());
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          loaded += value.length;
          tick(false);
        }
        await storing;
      } catch {
        missing.push(f.path);
      }
    }
    tick(true);
    if (missing.length) {
      await forgetPhoto(cache);
      return { ok: false, missing };
    }
    await cache.put(KEPT(), new Response(JSON.stringify({ files: files.map((f) => f.path), at: new Date().toISOString() }), { headers: { 'content-type': 'application/json' } }));
    return { ok: true, bytes: loaded };
  })().finally(() => {
    keeping = null;
  });
  return keeping;
}

async function forgetPhoto(cache) {
  cache ??= await caches.open(CACHE);
  await cache.delete(KEPT());
  for (const req of await cache.keys()) if (isPhoto(req.url)) await cache.delete(req);
  return { ok: true };
}

self.addEventListener('message', (ev) => {
  const op = ev.data?.op;
  // The reply goes to the MessageChannel port the page sent, or else back to the page itself.
  const reply = (msg) => (ev.ports?.[0] ? ev.ports[0].postMessage(msg) : ev.source?.postMessage(msg));
  if (op === 'keep-photo') {
    ev.waitUntil(
      keepPhoto((p) => reply({ op, progress: p }))
        .then((r) => reply({ op, done: true, ...r }))
        .catch((e) => reply({ op, done: true, ok: false, error: String(e?.message ?? e) })),
    );
  } else if (op === 'forget-photo') {
    ev.waitUntil(
      (keeping || Promise.resolve())
        .catch(() => {})
        .then(() => forgetPhoto())
        .then((r) => reply({ op, done: true, ...r }))
        .catch((e) => reply({ op, done: true, ok: false, error: String(e?.message ?? e) })),
    );
  } else if (op === 'cache' && Array.isArray(ev.data.urls)) {
    // The page sends the files it has already loaded (before this worker controlled it): cache those too, except
    // photo mode's, which wait for the visitor to ask.
    const scope = self.registration.scope;
    const urls = ev.data.urls.filter((u) => typeof u === 'string' && u.startsWith(scope) && !isPhoto(u));
    ev.waitUntil(
      caches.open(CACHE).then(async (cache) => {
        for (const u of urls) if (!(await cache.match(u))) await put(cache, u);
      }),
    );
  }
});

async function fromCache(req) {
  const cache = await caches.open(CACHE);
  const hit = (await cache.match(req, { ignoreSearch: false })) || (req.mode === 'navigate' ? await cache.match(here('index.html')) : null);
  return { cache, hit };
}

async function respond(req) {
  const { cache, hit } = await fromCache(req);
  if (hit && CACHE_FIRST) return hit;
  try {
    const res = await fetch(req);
    if (res.ok && res.type === 'basic' && (!isPhoto(req.url) || (await cache.match(KEPT())))) cache.put(req, res.clone());
    return res;
  } catch (e) {
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || !req.url.startsWith(self.registration.scope)) return;
  ev.respondWith(respond(req));
});
