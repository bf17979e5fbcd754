// Issue 16, item 7: after one online visit of each view, every view and every model works with the network off.
// The first visit is not controlled by the service worker (it registers late and claims nothing), so the files a
// view fetches later (the MLP, the robust models, robustness.json, the training subset) reach the cache only
// because models.js hands each of them to the worker (keepOffline).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, waitPrecached, ROOT } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

// The digit models: the photo model is kept offline only on request (its own test, photo-offline).
const all = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/models/index.json'), 'utf8'));
const index = { ...all, models: all.models.filter((m) => m.engine !== 'photo') };

async function showModel(page, id) {
  await page.evaluate((m) => {
    location.hash = `#model=${m}`;
  }, id);
  await page.waitForFunction(
    (m) => document.querySelector('[data-testid="model-select"], #model-select')?.value === m && !!document.querySelector('[data-testid="prediction"][data-class]'),
    id,
    { timeout: 60000 },
  );
}

async function cached(page, files) {
  return page.evaluate(async (list) => {
    const keys = await caches.keys();
    if (!keys.length) return list;
    const c = await caches.open(keys[0]);
    const missing = [];
    for (const f of list) if (!(await c.match(f))) missing.push(f);
    return missing;
  }, files);
}

test('after one online visit of each view, every view and model works offline', { timeout: 600000 }, async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'allow' });
  const page = await openPage(env, { context, hash: 'sample=0' });
  await waitPrecached(page);
  // Online: every model in the lab, the defences view, a short training run.
  for (const m of index.models) await showModel(page, m.id);
  await page.evaluate(() => (location.hash = '#lesson=defences'));
  await page.waitForSelector('[data-testid="def-curves"] path, [data-testid="def-curves"] polyline', { timeout: 60000 });
  await page.waitForSelector('[data-testid^="verdict-"]:not(:empty)', { timeout: 60000 });
  await page.evaluate(() => (location.hash = '#lesson=train'));
  await page.click('[data-testid="train-start"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-progress"]')?.value) > 0, null, { timeout: 120000 });
  await page.click('[data-testid="train-stop"]').catch(() => {});
  const files = [
    ...index.models.map((m) => `www/models/${m.file}`),
    'www/models/robustness.json',
    'www/data/mnist-train-5000-images.idx.gzip',
    'www/data/mnist-train-5000-labels.idx',
    'www/lessons/data.json',
  ];
  const deadline = Date.now() + 60000;
  let missing = await cached(page, files);
  while (missing.length && Date.now() < deadline) {
    await page.waitForTimeout(500);
    missing = await cached(page, files);
  }
  const keys = missing.length ? await page.evaluate(async () => Promise.all((await caches.keys()).map(async (k) => [k, (await (await caches.open(k)).keys()).length]))) : [];
  assert.deepEqual(missing, [], `everything the views fetched is in the service worker cache (${JSON.stringify(keys)})`);

  // Offline: a fresh load of each view and each model.
  await context.setOffline(true);
  await page.goto(env.url + 'index.html#sample=0');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  for (const m of index.models) await showModel(page, m.id);
  await page.evaluate(() => (location.hash = '#lesson=defences'));
  await page.waitForSelector('[data-testid="def-curves"] path, [data-testid="def-curves"] polyline', { timeout: 60000 });
  await page.waitForSelector('[data-testid^="verdict-"]:not(:empty)', { timeout: 60000 });
  const verdicts = await page.$$eval('[data-testid^="verdict-"]', (els) => els.map((e) => e.textContent));
  assert.ok(verdicts.every((v) => !/went wrong|Failed to fetch/.test(v)), verdicts.join(' | '));
  await page.evaluate(() => (location.hash = '#lesson=train'));
  await page.click('[data-testid="train-start"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-progress"]')?.value) > 0, null, { timeout: 120000 });
  const status = await page.textContent('[data-testid="train-status"]');
  assert.ok(!/went wrong|Failed to fetch|could not/.test(status), status);
  await page.click('[data-testid="train-stop"]').catch(() => {});
  await context.close();
});

test('offline, a file never fetched before says plainly that it needs a connection', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  const page = await openPage(env, { context });
  await context.setOffline(true);
  const msg = await page.evaluate(async () => {
    const { fetchBytes } = await import('./www/models.js');
    const { translateError } = await import('./www/i18n.js');
    try {
      await fetchBytes('models/never-fetched.safetensors');
      return 'fetched';
    } catch (e) {
      return translateError(e);
    }
  });
  assert.match(msg, /needs an internet connection/);
  await context.close();
});
