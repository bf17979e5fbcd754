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

// Paths relative to this file. Missing files are skipped (a checkout without trained models still installs).
const SHELL = [
  './',
  'index.html',
  'embed.html',
  'www/styles.css',
  'www/embed.css',
  'www/adversarial-lab.css',
  'www/icon.svg',
  'www/app.js',
  'www/announce.js',
  'www/attacks.js',
  'www/bars.js',
  'www/curve.js',
  'www/download.js',
  'www/draw.js',
  'www/engine.js',
  'www/gallery.js',
  'www/i18n.js',
  'www/models.js',
  'www/noise-map.js',
  'www/panels.js',
  'www/samples.js',
  'www/slider.js',
  'www/state.js',
  'www/upload.js',
  'www/view.js',
  'www/worker.js',
  'www/widget-worker.js',
  'www/adversarial-lab.js',
  'www/embed.js',
  'www/offline.js',
  'www/classroom.js',
  'www/figure.js',
  'www/lessons/router.js',
  'www/lessons/common.js',
  'www/lessons/plot.js',
  'www/lessons/pool.js',
  'www/lessons/worker.js',
  'www/lessons/linear.js',
  'www/lessons/blackbox.js',
  'www/lessons/onepixel.js',
  'www/lessons/curves.js',
  'www/lessons/lessons.css',
  'www/lessons/data.json',
  // The lessons (index.html and app.js load their entry modules on every visit).
  'www/defences/chart.js',
  'www/defences/defences.css',
  'www/defences/route.js',
  'www/defences/view.js',
  'www/lessons/bench.js',
  'www/training/view.js',
  'www/training/worker.js',
  'www/models/lessons/mnist-linear-7.safetensors',
  'www/models/lessons/mnist-linear-14.safetensors',
  'www/models/lessons/mnist-linear-28.safetensors',
  'www/i18n/en.json',
  'www/i18n/nl.json',
  'www/wasm-simd.js',
  'www/pkg/advlab.js',
  // The one wasm build this browser runs (the choice of www/wasm-simd.js; its probe repeated here, because a
  // classic service worker cannot import an ES module): never both, a classroom's Wi-Fi pays for every byte.
  hasWasmSimd() ? 'www/pkg/advlab_bg.wasm' : 'www/pkg/advlab_compat_bg.wasm',
  'www/models/index.json',
  'www/models/mnist-linear.safetensors',
  'www/samples/mnist-test-images.idx',
  'www/samples/mnist-test-labels.idx',
  'www/samples/fashion-test-images.idx',
  'www/samples/fashion-test-labels.idx',
];

const here = (p) => new URL(p, self.registration.scope).href;

async function put(cache, url) {
  try {
    const res = await fetch(url, { cache: 'reload' });
    if (res.ok) await cache.put(url, res);
  } catch {
    // Offline during install, or the file does not exist: skip it.
  }
}

async function precache() {
  const cache = await caches.open(CACHE);
  await Promise.all(SHELL.map((p) => put(cache, here(p))));
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
