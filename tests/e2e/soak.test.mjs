// Long sessions: a 50-minute lesson must not leak. Short form (CI): 1000 slider moves, 20 image changes, 5 model
// switches and 10 iterative attacks cancelled halfway; SOAK=full runs 10 000 / 200 / 50 / 100. After a warm-up the
// live worker's wasm memory may grow by at most 1 MB and the page's JS heap (after a forced GC) by at most 10 MB.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, openPage, offOrigin } from './helpers.mjs';

const FULL = process.env.SOAK === 'full';
const N = FULL ? { moves: 10000, images: 200, models: 50, attacks: 100 } : { moves: 1000, images: 20, models: 5, attacks: 10 };
const MB = 1024 * 1024;

let env;
before(async () => {
  const { server, url } = await startServer({ root: ROOT });
  // Precise heap numbers (not bucketed) and a callable gc() so the heap is measured without garbage.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
    headless: true,
  });
  env = {
    url,
    origin: new URL(url).origin,
    browser,
    close: async () => {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
});
after(async () => {
  await env?.close();
});

async function measure(page) {
  return page.evaluate(async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    return { heap: performance.memory.usedJSHeapSize, wasm: await globalThis.advlab.live.call('memory') };
  });
}

const MODELS = ['mnist-mlp', 'mnist-linear', 'mnist-cnn'];

test(`soak (${FULL ? 'full' : 'short'}): ${N.moves} slider moves, ${N.images} image changes, ${N.models} model switches, ${N.attacks} cancelled attacks`, { timeout: FULL ? 3 * 3600e3 : 600e3 }, async (t) => {
  const page = await openPage(env, { hash: 'model=mnist-cnn&sample=0&attack=fgsm&eta=0.05' });
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 30000 });
  const slider = page.locator('[data-testid="eta-slider"]');
  let sample = 0;
  let model = 0;
  let cancelled = 0;

  const moves = async (n) => {
    await slider.focus();
    for (let i = 0; i < n; i++) await page.keyboard.press(i % 40 < 20 ? 'ArrowRight' : 'ArrowLeft'); // a triangle wave: back where it began every 40
    // The last move is answered: the adversarial side shows the slider's η.
    await page.waitForFunction(() => Math.abs((globalThis.advlab.R.adv?.eta ?? -1) - globalThis.advlab.S.eta) < 1e-6, null, { timeout: 20000 });
  };
  const changeImage = async () => {
    sample = (sample + 7) % 100;
    await page.evaluate((i) => {
      const q = new URLSearchParams(location.hash.slice(1));
      q.set('sample', String(i));
      location.hash = '#' + q;
    }, sample);
    await page.waitForFunction((i) => globalThis.advlab.S.sample === i && document.querySelector('[data-testid="prediction"]').hasAttribute('data-class'), sample, { timeout: 20000 });
  };
  const switchModel = async () => {
    const id = MODELS[model++ % MODELS.length];
    await page.selectOption('[data-testid="model-select"]', id);
    await page.waitForFunction((m) => globalThis.advlab.R.model?.id === m, id, { timeout: 20000 });
    await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
  };
  const cancelledAttack = async () => {
    // η too small to flip anything: the black-box attack would spend its whole query budget.
    await page.evaluate(() => {
      const q = new URLSearchParams(location.hash.slice(1));
      q.set('eta', '0.001');
      location.hash = '#' + q;
    });
    await page.waitForFunction(() => globalThis.advlab.S.eta === 0.001);
    await page.selectOption('[data-testid="attack-select"]', 'square');
    // On a small model the whole budget can be spent (or the result cached) before the button shows.
    const started = await page.waitForSelector('#cancel-button:not([hidden])', { timeout: 3000 }).then(() => true, () => false);
    if (started) {
      // Halfway: once some progress is shown.
      await page.waitForFunction(() => /\d/.test(document.getElementById('job-status').textContent) || document.getElementById('cancel-button').hidden, null, { timeout: 20000 });
      if (await page.locator('#cancel-button').isVisible()) {
        await page.click('#cancel-button');
        cancelled++;
      }
      await page.waitForFunction(() => document.getElementById('cancel-button').hidden, null, { timeout: 20000 });
    }
    await page.selectOption('[data-testid="attack-select"]', 'fgsm');
    await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 20000 });
    await moves(20); // back to a visible η
  };

  // One round of everything, in proportion; run `rounds` of them.
  const rounds = N.models;
  const round = async (r) => {
    const per = (k) => Math.floor((N[k] * (r + 1)) / rounds) - Math.floor((N[k] * r) / rounds);
    await switchModel();
    for (let i = 0; i < per('images'); i++) {
      await changeImage();
      await moves(Math.floor(per('moves') / Math.max(1, per('images'))));
    }
    for (let i = 0; i < per('attacks'); i++) await cancelledAttack();
  };

  // Warm-up: one of each, so lazily created things (job worker, caches, every model's buffers) exist.
  for (let i = 0; i < MODELS.length; i++) await switchModel();
  await changeImage();
  await moves(40);
  await cancelledAttack();
  const start = await measure(page);
  const t0 = Date.now();
  for (let r = 0; r < rounds; r++) await round(r);
  const end = await measure(page);
  const wasmGrowth = end.wasm - start.wasm;
  const heapGrowth = end.heap - start.heap;
  t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(0)} s; wasm ${(start.wasm / MB).toFixed(1)} → ${(end.wasm / MB).toFixed(1)} MB; JS heap ${(start.heap / MB).toFixed(1)} → ${(end.heap / MB).toFixed(1)} MB; ${cancelled} attacks cancelled while running`);
  assert.ok(cancelled >= N.attacks / 2, `${cancelled} of ${N.attacks + 1} attacks were cancelled while running`);
  assert.ok(wasmGrowth <= 1 * MB, `wasm memory grew by ${(wasmGrowth / MB).toFixed(2)} MB`);
  assert.ok(heapGrowth <= 10 * MB, `JS heap grew by ${(heapGrowth / MB).toFixed(2)} MB`);
  assert.deepEqual(page.errors.filter((e) => /panicked|unreachable|Uncaught/i.test(e)), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await page.context().close();
});
