// Uploads: a PNG and a JPEG photo of a dark digit on paper (made by the browser's own encoders) reach the model
// through the preprocessing recipe, inverted automatically; bad files get a clear, translated message and the tab
// stays alive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin, waitAnalysed, readPrediction, waitMessage, paperDigit, upload, encodeHugeGreyPng, drawStrokes, DIGITS } from './helpers.mjs';

let env;
let page;
before(async () => {
  env = await launch();
  page = await openPage(env);
});
after(async () => {
  await page?.context().close();
  await env?.close();
});

/** The page is alive: the main thread answers, the engine answers, and drawing still classifies. */
async function alive() {
  assert.equal(await page.evaluate(() => 1 + 1), 2);
  assert.equal(await page.getAttribute('body', 'data-ready'), 'true');
}

async function clear() {
  await page.click('[data-testid="clear-button"]');
  await page.waitForFunction(() => !document.querySelector('[data-testid="prediction"]').dataset.class);
}

for (const [type, name] of [['image/png', 'digit.png'], ['image/jpeg', 'digit.jpg']]) {
  test(`a ${type} photo of a dark 7 on paper is inverted automatically and classified`, async () => {
    await clear();
    const buffer = await paperDigit(page, type, 640);
    await upload(page, { name, mimeType: type, buffer });
    await waitAnalysed(page);
    const p = await readPrediction(page, 'prediction');
    assert.ok(p.class >= 0 && p.class < 10);
    const note = page.locator('#input-note');
    assert.ok(await note.isVisible(), 'the page says it inverted the photo');
    assert.match(await note.textContent(), /invert/i);
    // The 28×28 the model sees is shown: light ink on black, centred.
    const stats = await page.evaluate(() => {
      const c = document.getElementById('orig-canvas');
      const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
      let ink = 0;
      let [x0, y0, x1, y1] = [28, 28, -1, -1];
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
        const v = d[4 * (y * 28 + x)];
        if (v > 128) ink++;
        if (v > 32) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
      return { w: c.width, ink, side: Math.max(x1 - x0 + 1, y1 - y0 + 1) };
    });
    assert.equal(stats.w, 28);
    assert.ok(stats.ink > 20, `ink pixels ${stats.ink}`);
    assert.ok(stats.side >= 16 && stats.side <= 22, `the MNIST recipe fits the ink in 20×20 (${stats.side})`);
    if ((await page.evaluate(() => globalThis.advlab.R.model.untrained)) === false) assert.equal(p.class, 7);
  });
}

const BAD = [
  ['a text file', () => ({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello, this is not an image\n') }), /not an image/],
  ['an empty file', () => ({ name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) }), /empty/],
  [
    'a corrupt JPEG',
    () => ({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), Buffer.from('JFIF garbage '.repeat(40))]) }),
    /damaged|cannot be decoded/,
  ],
  [
    'an SVG',
    () => ({ name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><circle cx="14" cy="14" r="8"/></svg>') }),
    /SVG/,
  ],
];

for (const [what, make, pattern] of BAD) {
  test(`${what} gets a clear message and the page keeps working`, async () => {
    await clear();
    await page.evaluate(() => (document.querySelector('[data-testid="message"]').hidden = true));
    await upload(page, make());
    const msg = await waitMessage(page);
    assert.match(msg, pattern);
    await alive();
  });
}

test('a 12000×12000 PNG is refused clearly, without freezing the tab', async () => {
  await clear();
  const buffer = await encodeHugeGreyPng(12000, 12000, 255);
  await upload(page, { name: 'huge.png', mimeType: 'image/png', buffer });
  const msg = await waitMessage(page);
  assert.match(msg, /12[,.]?000 × 12[,.]?000|12000 × 12000/);
  await alive();
  // …and the page still classifies a drawing afterwards.
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[1]);
  await waitAnalysed(page);
  assert.deepEqual(offOrigin(page, env.origin), []);
});

test('a Dutch page says it in Dutch', async () => {
  await page.selectOption('[data-testid="lang-select"]', 'nl');
  await upload(page, { name: 'leeg.png', mimeType: 'image/png', buffer: Buffer.alloc(0) });
  await page.waitForFunction(() => /leeg/.test(document.querySelector('[data-testid="message"]').textContent));
  await upload(page, { name: 'x.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
  await page.waitForFunction(() => /niet ondersteund/.test(document.querySelector('[data-testid="message"]').textContent));
  await page.selectOption('[data-testid="lang-select"]', 'en');
});
