// The service worker that keeps Adversarial Lab usable offline (a classroom with poor Wi-Fi, a USB stick).
// Scope: this folder (index.html, embed.html, www/). On install it precaches the app shell; then every same-origin
// GET is answered from the cache first (the network only for what is not cached yet, and that answer is cached).
// VERSION names the cache: `./build.sh dist` stamps a hash of dist/'s files into it, so a new release installs
// a new cache and the old one is deleted on activation. Unstamped (the repository served as is, for development)
// the worker goes to the network first and falls back to the cache, so edited files show at once.
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
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith('advlab-') && k !== CACHE).map((k) => caches.delete(k)))),
  );
});

// The page sends the files it has already loaded (before this worker controlled it): cache those too.
self.addEventListener('message', (ev) => {
  if (ev.data?.op !== 'cache' || !Array.isArray(ev.data.urls)) return;
  const scope = self.registration.scope;
  const urls = ev.data.urls.filter((u) => typeof u === 'string' && u.startsWith(scope));
  ev.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      for (const u of urls) if (!(await cache.match(u))) await put(cache, u);
    }),
  );
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
    if (res.ok && res.type === 'basic') cache.put(req, res.clone());
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
