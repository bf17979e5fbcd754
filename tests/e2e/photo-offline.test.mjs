// Issue 17, offline: "Keep for offline use" precaches photo mode (its engine, its 10 MB model, its sample photos);
// without it the service worker stores none of them, whatever the page fetches. Once kept, the photo model loads
// and predicts with the network off; "remove" takes the files out of the cache again. Nothing leaves the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, waitPrecached, ROOT } from './helpers.mjs';

const PHOTO = 'imagenet-efficientnet-lite0';
const FILES = ['www/pkg/advlab_photo.js', 'www/pkg/advlab_photo_bg.wasm', `www/models/${PHOTO}.safetensors`, 'www/samples/photos/chelsea.jpg', 'www/samples/photos/CREDITS'];

let env;
before(async () => {
  for (const f of FILES) assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is built (./build.sh build)`);
  assert.ok(fs.existsSync(path.join(ROOT, 'www/pkg/photo-offline.json')), 'www/pkg/photo-offline.json is written (node scripts/precache.mjs)');
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** The files of `list` that are in the service worker's cache (any of this origin's caches). */
const inCache = (page, list) => page.evaluate(async (l) => (await Promise.all(l.map(async (f) => ((await caches.match(f)) ? f : null)))).filter(Boolean), list);

/** The keep-offline button, wired by the page (app.js) or, until it is, by this test through offline.js. */
async function keepButton(page) {
  await page.evaluate(async () => {
    const b = document.querySelector('[data-testid="keep-offline"]');
    if (!b.dataset.state) (await import('/www/offline.js')).wireKeepOffline(b);
  });
  return page.locator('[data-testid="keep-offline"]');
}

/** The photo model chosen from the menu, until its prediction (of the first sample photo) is on the page. */
async function photoPredicts(page) {
  await page.selectOption('[data-testid="model-select"]', PHOTO);
  await page.waitForSelector('body[data-mode="photo"] [data-testid="prediction"][data-class]', { timeout: 45000 });
}

test('photo mode is cached only on request, then works offline; remove empties the cache again', { timeout: 90000 }, async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'allow' });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await openPage(env, { context, hash: 'sample=0' });
  await waitPrecached(page);
  // The second visit is controlled by the worker: every fetch below passes through it.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the page is controlled by sw.js');

  // Uninvited: the photo model chosen in the page, every photo file fetched, and handed over as offline.js does.
  await photoPredicts(page);
  await page.evaluate(async (files) => {
    const urls = files.map((f) => new URL(f, document.baseURI).href);
    await Promise.all(urls.map((u) => fetch(u).then((r) => r.arrayBuffer())));
    navigator.serviceWorker.controller.postMessage({ op: 'cache', urls });
  }, FILES);
  await page.waitForTimeout(1000);
  assert.deepEqual(await inCache(page, FILES), [], 'no photo file is stored uninvited');
  const precached = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/pkg/precache.json'), 'utf8')).files;
  assert.deepEqual(precached.filter((f) => /imagenet-|advlab_photo|samples\/photos\//.test(f)), [], 'precache.json lists no photo file');

  // The button, in photo mode: its size, then progress, then kept.
  const button = await keepButton(page);
  await button.waitFor({ state: 'visible', timeout: 10000 });
  await page.waitForFunction(() => /Keep for offline use \(\d+(\.\d)? MB\)/.test(document.querySelector('[data-testid="keep-offline"]').textContent), null, { timeout: 10000 });
  await page.evaluate(() => {
    const b = document.querySelector('[data-testid="keep-offline"]');
    globalThis.__labels = [];
    new MutationObserver(() => globalThis.__labels.push(b.textContent)).observe(b, { childList: true, characterData: true, subtree: true });
  });
  await button.click();
  await page.waitForSelector('[data-testid="keep-offline"][data-state="kept"]', { timeout: 30000 });
  assert.equal((await button.textContent()).trim(), 'Kept for offline use ✓ — remove');
  const labels = await page.evaluate(() => globalThis.__labels);
  assert.ok(labels.some((l) => /Saving for offline use… \d+ %/.test(l)), `progress is shown: ${JSON.stringify(labels.slice(0, 5))}`);
  assert.ok(await page.evaluate(async () => (await import('/www/offline.js')).photoKeptOffline()), 'photoKeptOffline() says kept');
  assert.deepEqual((await inCache(page, FILES)).sort(), [...FILES].sort(), 'every photo file is in the cache');

  // keepPhotoOffline() itself reports byte progress up to the total.
  const progress = await page.evaluate(async () => {
    const seen = [];
    const r = await (await import('/www/offline.js')).keepPhotoOffline({ onProgress: (p) => seen.push(p) });
    return { r, first: seen[0], last: seen.at(-1), n: seen.length };
  });
  assert.equal(progress.r.ok, true, JSON.stringify(progress.r));
  assert.ok(progress.n >= 2 && progress.first.loaded === 0 && progress.last.loaded === progress.last.total && progress.last.total > 9e6, JSON.stringify(progress));

  // Offline: a fresh load of the photo model's link, a prediction.
  await context.setOffline(true);
  await page.goto(env.url + `index.html#model=${PHOTO}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await page.waitForSelector('body[data-mode="photo"] [data-testid="prediction"][data-class]', { timeout: 45000 });
  const cls = Number(await page.getAttribute('[data-testid="prediction"]', 'data-class'));
  assert.ok(cls >= 0 && cls < 1000, `offline, the photo model predicts (class ${cls})`);
  // The photo engine answers a direct call too (its own worker, its wasm and the model from the cache).
  const direct = await page.evaluate(async (file) => {
    const { Engine } = await import('/www/engine.js');
    const { fetchBytes } = await import('/www/models.js');
    const e = new Engine('photo-offline-test', { kind: 'photo', timeout: 60000 });
    const info = await e.call('loadModel', ['t', await fetchBytes(`models/${file}`)]);
    const p = await e.call('predict', ['t', new Float32Array(3 * 224 * 224)]);
    e.worker.terminate();
    return { classes: info.classNames.length, probs: p.probs.length };
  }, `${PHOTO}.safetensors`);
  assert.deepEqual(direct, { classes: 1000, probs: 1000 });

  // Remove: the files leave the cache (offline still), and the button offers to keep them again.
  const again = await keepButton(page);
  await page.waitForSelector('[data-testid="keep-offline"][data-state="kept"]', { timeout: 10000 });
  await again.click();
  await page.waitForSelector('[data-testid="keep-offline"][data-state="idle"]', { timeout: 10000 });
  assert.deepEqual(await inCache(page, FILES), [], 'removed from the cache');
  assert.equal(await page.evaluate(async () => (await import('/www/offline.js')).photoKeptOffline()), false);

  const off = requests.filter((u) => !u.startsWith(env.origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(off, [], 'no request off the origin');
  await context.close();
});
