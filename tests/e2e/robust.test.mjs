// Bad links, missing model files, a dying worker and long attacks: each ends in a clear, translated message and
// a page that still works, never in a frozen or blank tab.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin, waitAnalysed, readPrediction, waitMessage, messageText, drawStrokes, DIGITS } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test('a wrong hash value (eta=abc, model=nope) is reported and replaced by the default', async () => {
  const page = await openPage(env, { hash: 'model=nope&eta=abc&attack=fgsm&sample=5' });
  const msg = await waitMessage(page);
  assert.match(msg, /“abc”/);
  assert.match(msg, /“nope”/);
  await waitAnalysed(page);
  assert.equal(await page.evaluate(() => globalThis.advlab.S.eta), 0.1);
  const def = await page.evaluate(() => fetch('www/models/index.json').then((r) => r.json()));
  const model = await page.inputValue('[data-testid="model-select"]');
  assert.equal(model, def.default || def.models[0]?.id || 'placeholder');
  // The address bar is rewritten to what is shown.
  assert.match(page.url(), /eta=0\.1(&|$)/);
  assert.doesNotMatch(page.url(), /nope/);
  await page.context().close();
});

test('the same problems in Dutch, and a sample number out of range', async () => {
  const page = await openPage(env, { hash: 'lang=nl&eta=-3&target=x&sample=999999' });
  const msg = await waitMessage(page);
  assert.match(msg, /geen bruikbaar getal/);
  await page.waitForFunction(() => /bestaat niet/.test(document.querySelector('[data-testid="message"]').textContent));
  await page.context().close();
});

test('a missing model file is reported; the page falls back and keeps working', async () => {
  const ctx = await env.browser.newContext();
  await ctx.route('**/www/models/index.json', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({ default: 'ghost', models: [{ id: 'ghost', file: 'ghost.safetensors', dataset: 'mnist', arch: 'cnn', title: { en: 'Ghost', nl: 'Spook' } }] }),
    }),
  );
  const page = await openPage(env, { context: ctx, hash: 'sample=3' });
  const msg = await waitMessage(page);
  assert.match(msg, /model could not be downloaded/);
  assert.match(msg, /ghost\.safetensors/);
  await waitAnalysed(page);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await ctx.close();
});

// Three ways the engine dies: an uncaught JS error kills the worker; a Rust panic and an out-of-memory abort trap
// the wasm instance (RuntimeError: unreachable), which the worker reports as fatal. Each time the engine restarts,
// the page says so in the visitor's language, keeps the drawing and classifies it again.
const RESTARTED = { en: /stopped unexpectedly and was restarted; your image is kept/, nl: /stopte onverwacht en is opnieuw gestart; je afbeelding is bewaard/ };
for (const [op, what, lang] of [
  ['crash', 'an uncaught error kills the worker', 'en'],
  ['panic', 'a Rust panic traps the wasm instance', 'en'],
  ['outOfMemory', 'an out-of-memory in wasm (the memory cannot grow past 4 GiB) aborts the instance', 'nl'],
]) {
  test(`recovery: ${what} → the engine restarts, says so (${lang}), and keeps the drawing`, async () => {
    const page = await openPage(env, { hash: lang === 'nl' ? 'lang=nl' : '' });
    await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[4]);
    await waitAnalysed(page);
    const before = await readPrediction(page, 'prediction');
    const ink = () =>
      page.evaluate(() => {
        const c = document.querySelector('[data-testid="draw-canvas"]');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((v, i) => i % 4 === 0 && v > 128).length;
      });
    const inkBefore = await ink();
    assert.ok(inkBefore > 50, 'something is drawn');
    const restarts = await page.evaluate(() => globalThis.advlab.live.restarts);
    const failure = await page.evaluate((o) => globalThis.advlab.live.call(o).then(() => 'answered', (e) => String(e.message)), op);
    if (op !== 'crash') assert.match(failure, /^error\.worker: RuntimeError/, `the ${op} call fails as a trapped instance`);
    await page.waitForFunction((n) => globalThis.advlab.live.restarts === n + 1, restarts, { timeout: 15000 });
    const msg = await waitMessage(page);
    assert.match(msg, RESTARTED[lang]);
    // The view is rebuilt for the same drawing, on the new worker.
    await waitAnalysed(page);
    await page.waitForFunction(
      (b) => document.querySelector('[data-testid="prediction"]')?.dataset.class === String(b.class),
      before,
      { timeout: 15000 },
    );
    assert.deepEqual(await readPrediction(page, 'prediction'), before);
    assert.equal(await ink(), inkBefore, 'the drawing is kept');
    // The slider still works on the new worker, and the old instance's memory is gone with it.
    await page.focus('[data-testid="eta-slider"]');
    await page.keyboard.press('End');
    await page.waitForFunction(() => globalThis.advlab.R.adv?.eta === 0.5);
    const bytes = await page.evaluate(() => globalThis.advlab.live.call('memory'));
    assert.ok(bytes < 256 << 20, `the new worker's wasm memory is small (${bytes} bytes)`);
    assert.equal(await page.evaluate(() => globalThis.advlab.live.dead), false);
    await page.context().close();
  });
}

test('an iterative attack shows progress and its cancel button stops it at once', async (t) => {
  // η = 0.001 is too small to flip anything, so the black-box attack spends its whole query budget.
  const page = await openPage(env, { hash: 'sample=0&attack=fgsm&eta=0.001' });
  await waitAnalysed(page);
  const untrained = await page.evaluate(() => globalThis.advlab.R.model.untrained);
  if (!untrained) {
    await page.selectOption('[data-testid="attack-select"]', 'square');
    await page.waitForSelector('#cancel-button:not([hidden])');
    await page.waitForFunction(() => /\d/.test(document.getElementById('job-status').textContent), null, { timeout: 15000 });
    const t0 = Date.now();
    await page.click('#cancel-button');
    await page.waitForFunction(() => document.getElementById('cancel-button').hidden);
    assert.ok(Date.now() - t0 < 1500, `cancel took ${Date.now() - t0} ms`);
    assert.match(await page.locator('#job-status').textContent(), /Cancelled/);
  } else {
    t.diagnostic('the untrained placeholder answers a whole query budget too fast to cancel; cancel is checked with trained models');
  }
  // A completed run reports steps and queries, and fills the adversarial side.
  await page.selectOption('[data-testid="attack-select"]', 'bim');
  await page.waitForFunction(() => /steps/.test(document.getElementById('job-status').textContent), null, { timeout: 60000 });
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]');
  assert.equal(await messageText(page), '');
  // The live worker stays free while a job runs: switching back to FGSM answers at once.
  await page.selectOption('[data-testid="attack-select"]', 'fgsm');
  await waitAnalysed(page);
  await page.context().close();
});
