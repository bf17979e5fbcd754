// #lesson=scale, "the article's η·m·n, measured": a digit and a photo side by side with their median flip η, the
// photo's at least 5× smaller; the numbers are the committed measurement (www/lessons/scale.json, from
// scripts/scale-medians.mjs) and the linear models' are measured again in the page; the chart has a real height;
// English and Dutch; a phone's width; nothing off the origin, and no photo model unless asked for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, advlab, ROOT } from './helpers.mjs';

const read = (p) => JSON.parse(fs.readFileSync(path.join(ROOT, p), 'utf8'));
const en = read('www/i18n/en.json');
const nl = read('www/i18n/nl.json');
const data = read('www/lessons/scale.json');
const PHOTO_MODEL = /imagenet-efficientnet-lite0\.safetensors|advlab_photo/;

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

async function open(lang, viewport) {
  const page = await openPage(env, { hash: `lesson=scale&lang=${lang}`, viewport });
  await page.waitForSelector('[data-testid="lesson-scale"][data-ready="true"]', { timeout: 30000 });
  // The linear models measured in this browser (200 test digits × 3 models).
  await page.waitForSelector('[data-testid="scale-medians"][data-live="true"]', { timeout: 30000 });
  return page;
}

const medians = (page) =>
  page.$eval('[data-testid="scale-medians"]', (e) => Object.fromEntries(Object.entries(e.dataset).filter(([k]) => k !== 'testid').map(([k, v]) => [k, v === 'true' ? true : Number(v)])));

test('the committed medians are measured: the photo ones by the CLI, per image, and their median', async () => {
  // Each photo's flip η is the CLI's: re-run it on a committed sample photo (the labelled ones are not committed).
  const sample = data.samplePhotos.perImage.find((p) => p.file === 'chelsea.jpg');
  const cli = JSON.parse(await advlab(['attack', '--model', 'www/models/imagenet-efficientnet-lite0.safetensors', '--image', 'www/samples/photos/chelsea.jpg', '--attack', 'fgsm', '--eta', '0.1', '--json']));
  assert.ok(Math.abs(cli.flip_eta - sample.flip_eta) < 1e-6, `CLI ${cli.flip_eta} vs committed ${sample.flip_eta}`);
  // The photo median is the median of the committed per-image values of the correctly classified photos.
  const ok = data.photo.perImage.filter((p) => p.pred === p.label).map((p) => p.flip_eta ?? Infinity).sort((a, b) => a - b);
  assert.equal(ok.length, data.photo.counted);
  const h = ok.length >> 1;
  const med = ok.length % 2 ? ok[h] : (ok[h - 1] + ok[h]) / 2;
  assert.ok(Math.abs(med - data.photo.median) < 1e-6, `${med} vs ${data.photo.median}`);
  assert.equal(data.photo.n, 3 * 224 * 224);
  assert.match(data.generatedBy, /scripts\/scale-medians\.mjs/);
});

test('en: both medians shown, the photo one ≥ 5× smaller, the chart > 100 px tall, no photo model downloaded', async () => {
  const page = await open('en', { width: 1366, height: 768 });
  const m = await medians(page);
  assert.equal(m.nMnist, 784);
  assert.equal(m.nPhoto, 150528);
  assert.ok(m.medianMnist > 0 && m.medianPhoto > 0, JSON.stringify(m));
  assert.ok(m.medianPhoto * 5 <= m.medianMnist, `photo ${m.medianPhoto} vs digits ${m.medianMnist}`);
  // The linear 28×28 model, measured in this page, also needs ≥ 5× the photo's η, and equals the committed number.
  assert.ok(m.medianPhoto * 5 <= m.medianMnistLinear, `photo ${m.medianPhoto} vs linear digits ${m.medianMnistLinear}`);
  assert.ok(Math.abs(m.medianMnistLinear - data.digits.find((d) => d.n === 784).median) < 1e-6);
  assert.equal(m.medianMnist, data.cnn.median);
  assert.equal(m.medianPhoto, data.photo.median);
  // Both medians are on screen, as people read them.
  for (const [id, v] of [['digits', m.medianMnist], ['photos', m.medianPhoto]]) {
    const loc = page.locator(`[data-testid="scale-median-${id}"]`);
    assert.ok(await loc.isVisible());
    const shown = Number((await loc.innerText()).replace(/^η = /, ''));
    assert.ok(Math.abs(shown - v) <= 5e-5 + 1e-9, `${id}: ${shown} vs ${v}`);
  }
  // The plot: every live point, and a real height (a 0-px chart once passed).
  const box = await page.locator('[data-testid="scale-plot"] svg.plot-svg').boundingBox();
  assert.ok(box && box.height > 100 && box.width > 200, JSON.stringify(box));
  const pts = JSON.parse(await page.$eval('[data-testid="scale-plot"]', (e) => e.dataset.points));
  assert.deepEqual(pts.map((p) => p.n), [49, 196, 784, 784, 150528]);
  assert.equal(await page.locator('[data-testid="scale-plot"] svg.plot-svg .plot-point').count(), 5);
  // The blue line falls: the 28×28 model needs less than the 7×7 one.
  assert.ok(pts[2].median < pts[0].median, JSON.stringify(pts));
  // Plain takeaway first, the formulas in the fold.
  assert.equal((await page.textContent('[data-testid="takeaway-scale"]')).trim(), en['lessons.scale.takeaway']);
  const order = await page.$$eval('#lesson-scale > *', (els) => els.map((e) => e.className || e.tagName));
  assert.ok(order.indexOf('lesson-takeaway') < order.indexOf('lesson-maths'), order.join(','));
  assert.match(await page.locator('#lesson-scale details.lesson-maths .lesson-text').innerText(), /η·m·n.*Goodfellow/s);
  assert.equal(await page.textContent('#lesson-scale h3'), en['lessons.scale.title']);
  assert.equal(await page.getAttribute('[data-lesson-link="scale"]', 'aria-current'), 'page');
  // The default view never fetches the photo model nor the photo engine.
  assert.deepEqual(page.requests.filter((u) => PHOTO_MODEL.test(u)), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('nl on a phone (390×844): Dutch text and numbers, no sideways scrolling, the chart still > 100 px tall', async () => {
  const page = await open('nl', { width: 390, height: 844 });
  assert.equal((await page.textContent('[data-testid="takeaway-scale"]')).trim(), nl['lessons.scale.takeaway']);
  assert.equal(await page.textContent('#lesson-scale h3'), nl['lessons.scale.title']);
  assert.equal(await page.locator('#lesson-scale details.lesson-maths summary').textContent(), nl['lessons.maths']);
  assert.equal(await page.textContent('[data-testid="scale-median-digits"]'), `η = ${String(data.cnn.median).replace('.', ',')}`);
  assert.match(await page.textContent('[data-testid="scale-card-photos"]'), /150\.528 getallen/);
  assert.match(await page.textContent('[data-testid="scale-ratio"]'), /zoveel getallen/);
  assert.match(await page.textContent('[data-testid="scale-plot"]'), /lineaire modellen op cijfers/);
  const box = await page.locator('[data-testid="scale-plot"] svg.plot-svg').boundingBox();
  assert.ok(box && box.height > 100, JSON.stringify(box));
  assert.ok(box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
  assert.equal(await page.$eval('[data-testid="scale-plot"]', (e) => e.dataset.layout), 'narrow');
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(wide <= 390, `page is ${wide} px wide`);
  for (const id of ['digits', 'photos']) {
    const b = await page.locator(`[data-testid="scale-card-${id}"]`).boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= 390, `${id} card ${JSON.stringify(b)}`);
  }
  // A language switch back to English re-renders the generated text.
  await page.selectOption('[data-testid="lang-select"]', 'en');
  await page.waitForFunction((t) => document.querySelector('[data-testid="takeaway-scale"]').textContent.trim() === t, en['lessons.scale.takeaway']);
  assert.match(await page.textContent('[data-testid="scale-card-photos"]'), /150,528 numbers/);
  assert.deepEqual(page.requests.filter((u) => PHOTO_MODEL.test(u)), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('on request: the photo model measures the sample photos in the page, as the CLI did', async () => {
  const page = await open('en', { width: 1280, height: 900 });
  assert.deepEqual(page.requests.filter((u) => PHOTO_MODEL.test(u)), []);
  await page.click('[data-testid="scale-measure-photos"]');
  await page.waitForSelector('[data-testid="scale-medians"][data-median-photo-here]', { timeout: 40000 });
  const m = await medians(page);
  assert.ok(page.requests.some((u) => /imagenet-efficientnet-lite0\.safetensors/.test(u)));
  // The browser decodes the JPEGs itself (not the CLI's decoder): the same order of size, well below the digits.
  assert.ok(m.medianPhotoHere > 0 && m.medianPhotoHere * 5 <= m.medianMnist, JSON.stringify(m));
  assert.ok(m.medianPhotoHere <= 2 * data.samplePhotos.median + 1e-4 && m.medianPhotoHere >= data.samplePhotos.median / 2 - 1e-4, `${m.medianPhotoHere} vs CLI ${data.samplePhotos.median}`);
  assert.equal(await page.locator('[data-testid="scale-plot"] svg.plot-svg .plot-point').count(), 6);
  assert.match(await page.textContent('[data-testid="scale-status"]'), /measured in this browser/);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('no serious or critical axe-core violation (en, nl) at 360 px', async () => {
  // bypassCSP only lets the test inject axe as an inline script; the page itself runs under its strict CSP.
  const axe = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  const context = await env.browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 800 } });
  const page = await openPage(env, { hash: 'lesson=scale', context });
  await page.waitForSelector('[data-testid="scale-medians"][data-live="true"]', { timeout: 30000 });
  await page.addScriptTag({ content: axe });
  for (const lang of ['en', 'nl']) {
    await page.selectOption('[data-testid="lang-select"]', lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    const result = await page.evaluate(() => globalThis.axe.run(document.getElementById('lesson-scale'), { resultTypes: ['violations'] }));
    const bad = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
    assert.deepEqual(bad, [], `axe violations (${lang})`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `${overflow} px of sideways scrolling at 360 px`);
  assert.deepEqual(page.errors, []);
  await context.close();
});
