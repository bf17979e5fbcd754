// The overconfidence caveat (src/data/familiar.rs, www/caveat.js): a photo (the CC0 coffee cup) on an MNIST model
// gets "this does not look like the digits the model learned from" next to its verdict, in en and nl; the test
// digits, a drawn digit and a photo of a 7 on paper do not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, waitAnalysed, upload, paperDigit, housePhoto, drawStrokes, DIGITS, ROOT } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => env?.close());

const caveat = (page) => page.evaluate(() => {
  const el = document.querySelector('#prediction [data-testid="caveat"]');
  return { hidden: el.hidden, text: el.textContent, height: el.getBoundingClientRect().height };
});

test('a photo on mnist-cnn gets the caveat next to its verdict, in en and nl', async () => {
  const page = await openPage(env, { hash: 'model=mnist-cnn' });
  const buffer = fs.readFileSync(path.join(ROOT, 'www/samples/photos/coffee.jpg'));
  await upload(page, { name: 'coffee.jpg', mimeType: 'image/jpeg', buffer });
  await page.waitForFunction(() => !document.querySelector('#prediction [data-testid="caveat"]').hidden, null, { timeout: 30000 });
  let c = await caveat(page);
  assert.match(c.text, /does not look like the handwritten digits/);
  assert.match(c.text, /Soft grey, not pen strokes/);
  assert.ok(c.height > 10, `the caveat is on screen (${c.height} px)`);
  await page.selectOption('[data-testid="lang-select"]', 'nl');
  await page.waitForFunction(() => /handgeschreven cijfers waarvan het model leerde/.test(document.querySelector('#prediction [data-testid="caveat"]').textContent));
  c = await caveat(page);
  assert.ok(!c.hidden);
  await page.context().close();
});

test('a photo of a house on mnist-cnn gets the caveat, whatever digit the model answers', async () => {
  const page = await openPage(env, { hash: 'model=mnist-cnn' });
  await upload(page, { name: 'house.jpg', mimeType: 'image/jpeg', buffer: await housePhoto(page) });
  await page.waitForFunction(() => !document.querySelector('#prediction [data-testid="caveat"]').hidden, null, { timeout: 30000 });
  const c = await caveat(page);
  assert.match(c.text, /does not look like the handwritten digits/);
  assert.ok(c.height > 10, `the caveat is on screen (${c.height} px)`);
  const verdict = await page.getAttribute('[data-testid="prediction"]', 'data-class');
  assert.match(verdict ?? '', /^[0-9]$/, 'the model still answers a digit: the caveat is what warns');
  await page.context().close();
});

test('the test digits, a drawn digit and a photo of a 7 on paper get no caveat', async () => {
  for (const sample of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const page = await openPage(env, { hash: `model=mnist-cnn&sample=${sample}` });
    await waitAnalysed(page);
    const c = await caveat(page);
    assert.ok(c.hidden && c.text === '', `sample ${sample}: ${c.text}`);
    if (sample === 8) {
      await page.click('[data-testid="clear-button"]');
      await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[3]);
      await waitAnalysed(page);
      assert.ok((await caveat(page)).hidden, 'a drawn digit is a digit');
    }
    if (sample === 9) {
      await upload(page, { name: 'seven.png', mimeType: 'image/png', buffer: await paperDigit(page, 'image/png', 640) });
      await page.waitForFunction(() => document.querySelector('#input-note') && !document.querySelector('#input-note').hidden, null, { timeout: 30000 });
      await waitAnalysed(page);
      assert.ok((await caveat(page)).hidden, 'a photo of a 7 on paper is a digit');
    }
    await page.context().close();
  }
});
