// The lab's main path: drawing, the test-set gallery, the live η slider, the flip point (checked against the
// CLI), targeted mode, the URL-hash round trip and keyboard-only operation of the slider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin, drawStrokes, DIGITS, waitAnalysed, readPrediction, advlab } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

const flipEta = async (page) => page.locator('[data-testid="flip-eta"]').getAttribute('data-eta');
const eta = (page) => page.evaluate(() => globalThis.advlab.S.eta);

/** Moves the slider like a user would: sets the position and fires input + change. */
async function slideTo(page, value) {
  await page.evaluate(async (v) => {
    const { etaToPosition } = await import('./www/slider.js');
    const el = document.querySelector('[data-testid="eta-slider"]');
    el.value = String(etaToPosition(v, globalThis.advlab.S.norm));
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

async function waitAdvEta(page, value) {
  await page.waitForFunction((v) => Math.abs((globalThis.advlab.R.adv?.eta ?? -1) - v) < 1e-9, value, { timeout: 15000 });
}

test('a drawn digit gets a prediction, a flip point and an adversarial view', async () => {
  const page = await openPage(env);
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[3]);
  await waitAnalysed(page);
  const p = await readPrediction(page, 'prediction');
  assert.ok(p.class >= 0 && p.class < 10);
  assert.equal(await page.locator('#prediction-bars li').count(), 10);
  assert.equal(await page.locator('#adv-bars li').count(), 10);
  assert.match(await page.locator('#noise-scale').textContent(), /×/);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the gallery shows test images with their labels; picking one puts sample=N in the hash', async () => {
  const page = await openPage(env);
  await page.click('#gallery summary');
  await page.waitForSelector('#gallery-grid .thumb');
  assert.ok((await page.locator('#gallery-grid .thumb').count()) >= 12);
  // The first MNIST test image is a 7.
  assert.equal((await page.locator('#gallery-grid .thumb').first().locator('.thumb-label').textContent()).trim(), '7');
  await page.locator('#gallery-grid .thumb').nth(3).click();
  await waitAnalysed(page);
  assert.match(page.url(), /sample=3(&|$)/);
  assert.equal(await page.locator('#gallery-grid .thumb').nth(3).getAttribute('aria-pressed'), 'true');
  await page.click('[data-testid="sample-button"]');
  await page.waitForFunction(() => !/sample=3(&|$)/.test(location.hash) || true);
  await waitAnalysed(page);
  assert.match(page.url(), /sample=\d+/);
  await page.context().close();
});

test('moving the slider changes adv-prediction; the flip point is marked on the track', async () => {
  const page = await openPage(env, { hash: 'sample=0&eta=0' });
  await waitAnalysed(page);
  const clean = await readPrediction(page, 'prediction');
  let adv = await readPrediction(page, 'adv-prediction');
  assert.equal(adv.class, clean.class, 'η = 0 changes nothing');
  const flip = await flipEta(page);
  assert.notEqual(flip, 'none', 'test image 0 flips somewhere on the slider');
  assert.ok(await page.locator('#flip-mark').isVisible(), 'the flip point is marked on the slider');
  // Click the far right of the track.
  await page.locator('[data-testid="eta-slider"]').scrollIntoViewIfNeeded();
  const box = await page.locator('[data-testid="eta-slider"]').boundingBox();
  await page.mouse.click(box.x + box.width - 3, box.y + box.height / 2);
  await page.waitForFunction(() => globalThis.advlab.S.eta > 0.4);
  await waitAdvEta(page, await eta(page));
  adv = await readPrediction(page, 'adv-prediction');
  assert.notEqual(adv.class, clean.class, 'beyond the flip point the answer differs');
  // Just below and at the flip point.
  await slideTo(page, Number(flip) - 0.001);
  await waitAdvEta(page, Number(flip) - 0.001);
  assert.equal((await readPrediction(page, 'adv-prediction')).class, clean.class, 'one step below the flip point');
  await slideTo(page, Number(flip));
  await waitAdvEta(page, Number(flip));
  assert.notEqual((await readPrediction(page, 'adv-prediction')).class, clean.class, 'at the flip point');
  // The live region says what happened, e.g. "7 → 3 at η = 0.12".
  await page.waitForFunction(() => /→/.test(document.getElementById('announcer').textContent), null, { timeout: 5000 });
  const lat = await page.evaluate(() => globalThis.advlab.R.latencies.slice().sort((a, b) => a - b));
  console.log(`# slider latency (input → painted), median ${lat[lat.length >> 1]?.toFixed(1)} ms over ${lat.length}`);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('flip-eta equals `advlab attack --sample N --json` flip_eta within one slider step', async (t) => {
  const page = await openPage(env, { hash: 'sample=42' });
  await waitAnalysed(page);
  const model = await page.evaluate(() => globalThis.advlab.S.model);
  if (!model) {
    t.skip('no trained model is shipped yet (www/models/index.json is empty)');
    await page.context().close();
    return;
  }
  const pageEta = await flipEta(page);
  const file = await page.evaluate((id) => fetch('www/models/index.json').then((r) => r.json()).then((i) => i.models.find((m) => m.id === id).file), model);
  const out = JSON.parse(await advlab(['attack', '--model', `www/models/${file}`, '--sample', '42', '--attack', 'fgsm', '--eta', '0.1', '--json']));
  const cli = out.flip_eta ?? out.flipEta ?? null;
  console.log(`# flip η for sample 42 on ${model}: page ${pageEta}, CLI ${cli}`);
  if (cli === null) assert.equal(pageEta, 'none');
  else assert.ok(Math.abs(Number(pageEta) - cli) <= 0.001 + 1e-9, `page ${pageEta}, CLI ${cli}`);
  await page.context().close();
});

test('targeted mode reaches the chosen class at its flip point', async () => {
  const page = await openPage(env, { hash: 'sample=0' });
  await waitAnalysed(page);
  // The runner-up class is the easiest target.
  const probs = await page.evaluate(() => Array.from(globalThis.advlab.R.clean.probs));
  const clean = probs.indexOf(Math.max(...probs));
  const target = probs.map((p, i) => [p, i]).filter(([, i]) => i !== clean).sort((a, b) => b[0] - a[0])[0][1];
  await page.selectOption('[data-testid="target-select"]', String(target));
  await page.waitForFunction(() => globalThis.advlab.R.dir && document.querySelector('[data-testid="flip-eta"]').dataset.eta);
  const flip = await flipEta(page);
  assert.notEqual(flip, 'none', `target ${target} is reachable`);
  assert.match(page.url(), new RegExp(`target=${target}`));
  await slideTo(page, Number(flip));
  await waitAdvEta(page, Number(flip));
  assert.equal((await readPrediction(page, 'adv-prediction')).class, target);
  await page.context().close();
});

test('a link reproduces the prediction, the flip point and the adversarial numbers', async () => {
  const page = await openPage(env, { hash: 'attack=fgsm&eta=0.05&seed=7&sample=7&lang=en' });
  await waitAnalysed(page);
  await waitAdvEta(page, 0.05);
  const read = async (p) => ({
    clean: await readPrediction(p, 'prediction'),
    adv: await readPrediction(p, 'adv-prediction'),
    flip: await flipEta(p),
    scale: await p.locator('#noise-scale').textContent(),
  });
  const first = await read(page);
  const link = page.url();
  assert.match(link, /sample=7/);
  assert.match(link, /eta=0\.05/);
  const ctx = await env.browser.newContext({ viewport: { width: 1000, height: 800 } });
  const again = await ctx.newPage();
  await again.goto(link);
  await again.waitForSelector('body[data-ready="true"]');
  await waitAnalysed(again);
  await waitAdvEta(again, 0.05);
  assert.deepEqual(await read(again), first);
  await ctx.close();
  await page.context().close();
});

test('the slider works by keyboard alone, with a visible focus ring', async () => {
  const page = await openPage(env, { hash: 'sample=1&eta=0' });
  await waitAnalysed(page);
  let found = false;
  for (let i = 0; i < 60 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement?.dataset.testid === 'eta-slider');
  }
  assert.ok(found, 'Tab reaches the η slider');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('ArrowRight');
  assert.equal(await eta(page), 0.0001, 'one arrow step near zero is 0.0001');
  for (let i = 0; i < 49; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await eta(page), 0.005, "the article's η = 0.005 is reachable by keyboard");
  await page.keyboard.press('End');
  assert.equal(await eta(page), 0.5);
  await waitAdvEta(page, 0.5);
  const adv = await readPrediction(page, 'adv-prediction');
  const clean = await readPrediction(page, 'prediction');
  assert.notEqual(adv.class, clean.class);
  await page.keyboard.press('Home');
  assert.equal(await eta(page), 0);
  assert.equal(await page.getAttribute('[data-testid="eta-slider"]', 'aria-valuetext'), 'η = 0');
  await page.context().close();
});

test('"copy link" copies the state; "download" saves the three panels as a PNG plus a JSON of the settings', async () => {
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.origin });
  const page = await openPage(env, { context: ctx, hash: 'sample=9&eta=0.07&seed=11' });
  await waitAnalysed(page);
  await page.click('#copy-button');
  await page.waitForFunction(() => document.getElementById('share-status').textContent.length > 0);
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, page.url());
  assert.match(copied, /attack=fgsm&eta=0\.07&seed=11&.*sample=9/);
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('#download-button');
  await page.waitForFunction(() => /PNG/.test(document.getElementById('share-status').textContent));
  await new Promise((r) => setTimeout(r, 300));
  const names = downloads.map((d) => d.suggestedFilename()).sort();
  assert.equal(names.length, 2, names.join(', '));
  assert.match(names[0], /^advlab-.*-fgsm-eta0\.07\.json$/);
  assert.match(names[1], /^advlab-.*-fgsm-eta0\.07\.png$/);
  const fs = await import('node:fs');
  const json = JSON.parse(fs.readFileSync(await downloads.find((d) => d.suggestedFilename().endsWith('.json')).path(), 'utf8'));
  assert.equal(json.settings.sample, 9);
  assert.equal(json.settings.eta, 0.07);
  assert.equal(json.link, copied);
  assert.equal(json.prediction.class, (await readPrediction(page, 'prediction')).class);
  const png = fs.readFileSync(await downloads.find((d) => d.suggestedFilename().endsWith('.png')).path());
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  assert.ok(png.readUInt32BE(16) > 3 * 200, 'three panels side by side');
  await ctx.close();
});

test('a Fashion-MNIST model brings its own gallery and Dutch class names', async (t) => {
  const page = await openPage(env, { hash: 'lang=nl' });
  const fashion = await page.evaluate(() => globalThis.advlab.R.index.models.find((m) => m.dataset === 'fashion')?.id);
  if (!fashion) {
    t.skip('no Fashion-MNIST model in www/models/index.json');
    await page.context().close();
    return;
  }
  assert.ok(await page.locator('optgroup').count() >= 2, 'models are grouped by dataset');
  await page.selectOption('[data-testid="model-select"]', fashion);
  await page.waitForFunction((id) => globalThis.advlab.R.model?.id === id, fashion);
  await page.click('#gallery summary');
  // Fashion-MNIST test image 0 is an ankle boot: "Enkellaars" in Dutch.
  await page.waitForFunction(() => document.querySelector('#gallery-grid .thumb .thumb-label')?.textContent === 'Enkellaars');
  await page.locator('#gallery-grid .thumb').first().click();
  await waitAnalysed(page);
  assert.match(await page.locator('#prediction-bars').textContent(), /Enkellaars/);
  assert.match(page.url(), new RegExp(`model=${fashion}`));
  await page.context().close();
});
