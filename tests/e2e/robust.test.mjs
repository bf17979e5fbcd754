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

test('a worker crash restarts the engine, says so, and keeps the drawing', async () => {
  const page = await openPage(env);
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[4]);
  await waitAnalysed(page);
  const before = await readPrediction(page, 'prediction');
  const inkBefore = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="draw-canvas"]');
    return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((v, i) => i % 4 === 0 && v > 128).length;
  });
  await page.evaluate(() => globalThis.advlab.live.call('crash').catch(() => {}));
  const msg = await waitMessage(page);
  assert.match(msg, /restarted/);
  // The view is rebuilt for the same drawing.
  await waitAnalysed(page);
  assert.deepEqual(await readPrediction(page, 'prediction'), before);
  const inkAfter = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="draw-canvas"]');
    return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.filter((v, i) => i % 4 === 0 && v > 128).length;
  });
  assert.equal(inkAfter, inkBefore, 'the drawing is kept');
  // The slider still works on the new worker.
  await page.focus('[data-testid="eta-slider"]');
  await page.keyboard.press('End');
  await page.waitForFunction(() => globalThis.advlab.R.adv?.eta === 0.5);
  await page.context().close();
});

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
