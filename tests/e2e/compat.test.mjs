// The no-SIMD fallback (www/wasm-simd.js, pkg/advlab_compat_bg.wasm) for browsers without wasm SIMD.
// Chromium always has SIMD, so the test plays the old browser at the network: every request for the simd128
// module gets the fallback's bytes. The page must then run exactly as it does with SIMD: the same prediction,
// flip point and adversarial verdict for the same link, and a widget too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { launch, openPage, offOrigin, waitAnalysed, readPrediction, ROOT } from './helpers.mjs';

const COMPAT = path.join(ROOT, 'www/pkg/advlab_compat_bg.wasm');
const HASH = 'model=mnist-cnn&attack=fgsm&eta=0.15&seed=7&sample=42';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** Opens the page with the simd128 module swapped for the fallback; returns the page and the swap count. */
async function openWithoutSimd(hash, p = 'index.html') {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  const swapped = { simd: 0, compat: 0 };
  const body = fs.readFileSync(COMPAT);
  await context.route('**/www/pkg/*.wasm', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    if (name === 'advlab_bg.wasm') swapped.simd++;
    else swapped.compat++;
    return route.fulfill({ status: 200, contentType: 'application/wasm', body });
  });
  const page = await openPage(env, { hash, path: p, context });
  return { page, swapped };
}

async function readView(page) {
  await waitAnalysed(page);
  await page.waitForFunction(() => globalThis.advlab.R.adv && document.querySelector('[data-testid="flip-eta"]').dataset.eta);
  return {
    clean: await readPrediction(page, 'prediction'),
    adv: await readPrediction(page, 'adv-prediction'),
    flip: await page.locator('[data-testid="flip-eta"]').getAttribute('data-eta'),
  };
}

test('the fallback module holds no SIMD instruction (counted in its disassembly; thousands in the simd128 build)', () => {
  assert.ok(fs.statSync(COMPAT).size > 100000, 'pkg/advlab_compat_bg.wasm is built');
  // binaryen's text format names every SIMD type and instruction: v128, i8x16.*, i16x8.*, i32x4.*, f32x4.*, …
  const simdOps = (file) => {
    const text = execFileSync(path.join(ROOT, 'node_modules/.bin/wasm-dis'), [file], { maxBuffer: 1 << 30 }).toString();
    return (text.match(/v128|[if](8x16|16x8|32x4|64x2)\./g) || []).length;
  };
  assert.equal(simdOps(COMPAT), 0);
  // The count can fail: it finds the kernels' SIMD in the simd128 build.
  assert.ok(simdOps(path.join(ROOT, 'www/pkg/advlab_bg.wasm')) > 100);
});

test('without SIMD the page gives the same prediction, flip point and adversarial verdict for the same link', async () => {
  const simd = await openPage(env, { hash: HASH });
  const withSimd = await readView(simd);
  await simd.context().close();

  const { page, swapped } = await openWithoutSimd(HASH);
  const without = await readView(page);
  assert.ok(swapped.simd >= 1, `the page's workers asked for the simd128 module (${JSON.stringify(swapped)})`);
  assert.equal(without.clean.class, withSimd.clean.class);
  assert.ok(Math.abs(without.clean.confidence - withSimd.clean.confidence) < 1e-3, `${without.clean.confidence} vs ${withSimd.clean.confidence}`);
  assert.equal(without.flip, withSimd.flip);
  assert.equal(without.adv.class, withSimd.adv.class);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('without SIMD the embed widget and a lesson (its own worker) run too', async () => {
  const { page, swapped } = await openWithoutSimd('model=mnist-linear&eta=0.1&sample=3', 'embed.html');
  await page.locator('adversarial-lab [data-testid="adv-prediction"][data-class]').waitFor({ timeout: 30000 });
  assert.match(await page.locator('adversarial-lab [data-testid="prediction"]').getAttribute('data-class'), /^\d$/);
  assert.ok(swapped.simd >= 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  const lesson = await openWithoutSimd('lesson=linear');
  await lesson.page.waitForSelector('[data-testid="linear-delta"][data-delta]', { timeout: 30000 });
  assert.ok(Number.isFinite(Number(await lesson.page.getAttribute('[data-testid="linear-delta"]', 'data-delta'))));
  assert.deepEqual(lesson.page.errors, []);
  await lesson.page.context().close();
});
