// Privacy: after drawing, uploading a photo and running an attack, nothing of the image is stored anywhere in the
// browser — not in localStorage, sessionStorage, IndexedDB or cookies, and the service worker's Cache Storage holds
// only the app shell (files the server ships), never a blob or data URL or anything the visitor made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, drawStrokes, DIGITS, upload, paperDigit, ROOT } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** Everything the page's origin keeps in the browser. */
async function stored(page) {
  return page.evaluate(async () => {
    const dump = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => s.key(i)).map((k) => [k, s.getItem(k)]));
    const dbs = indexedDB.databases ? await indexedDB.databases() : [];
    const caches_ = {};
    if (globalThis.caches) {
      for (const name of await caches.keys()) {
        const c = await caches.open(name);
        caches_[name] = [];
        for (const req of await c.keys()) {
          const res = await c.match(req);
          caches_[name].push({ url: req.url, type: res.headers.get('content-type') || '', size: (await res.clone().arrayBuffer()).byteLength });
        }
      }
    }
    return { local: dump(localStorage), session: dump(sessionStorage), dbs: dbs.map((d) => d.name), cookie: document.cookie, caches: caches_ };
  });
}

test('drawing, uploading and attacking store no image data anywhere; the cache holds only the app shell', async () => {
  // Service workers allowed here: the offline cache is part of what must stay clean.
  const ctx = await env.browser.newContext({ serviceWorkers: 'allow' });
  const page = await openPage(env, { context: ctx, hash: 'model=mnist-cnn', serviceWorkers: 'allow' });
  await page.evaluate(() => navigator.serviceWorker?.ready);
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[2]);
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
  await upload(page, { name: 'mine.png', mimeType: 'image/png', buffer: await paperDigit(page, 'image/png', 200) });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
  await page.selectOption('[data-testid="attack-select"]', 'bim');
  await page.waitForFunction(() => /\d/.test(document.getElementById('job-status').textContent), null, { timeout: 60000 });
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 60000 });
  // Change a setting and the language: settings may be kept (in the URL), images never.
  await page.selectOption('[data-testid="lang-select"]', 'nl');
  await page.waitForTimeout(500);

  const s = await stored(page);
  assert.deepEqual(s.local, {}, 'localStorage is empty (settings live in the URL hash)');
  assert.deepEqual(s.session, {}, 'sessionStorage is empty');
  assert.deepEqual(s.dbs, [], 'no IndexedDB database');
  assert.equal(s.cookie, '', 'no cookie');
  assert.ok(Object.values(s.caches).flat().length > 0, 'the service worker cached the app shell (so the cache check checks something)');
  for (const [name, entries] of Object.entries(s.caches)) {
    for (const e of entries) {
      assert.ok(e.url.startsWith(env.origin + '/'), `${name}: ${e.url} is a file of this origin, not blob:/data:`);
      const file = path.join(ROOT, decodeURIComponent(new URL(e.url).pathname.replace(/\/$/, '/index.html')));
      assert.ok(fs.existsSync(file), `${name}: ${e.url} is a shipped file of the app, not something the visitor made`);
      // Every cached file is a file the server has: fetching it from the network gives the same bytes' length.
      const fresh = await page.evaluate((u) => fetch(u, { cache: 'no-store' }).then(async (r) => ({ ok: r.ok, size: (await r.arrayBuffer()).byteLength })), e.url);
      assert.ok(fresh.ok, `${e.url} is served`);
      assert.equal(e.size, fresh.size, `${e.url}: the cached copy is the shipped file`);
    }
  }
  // The uploaded file's name does not leak into the URL either.
  assert.doesNotMatch(page.url(), /mine\.png|blob:|data:/);
  assert.deepEqual(offOrigin(page, env.origin), [], 'no telemetry, no request off the origin');
  await ctx.close();
});
