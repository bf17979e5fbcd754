// Hostile input: files, links, model files and runtime values that a careless or malicious visitor (or article
// author) could hand the page. Every case must end with a visible message taken from the i18n files (never a raw
// key, never English on a Dutch page) and a page that still classifies a drawing. Complements upload.test.mjs
// (text file, empty file, corrupt JPEG, SVG, 12000×12000 PNG), robust.test.mjs (eta=abc, model=nope, eta=-3,
// target=x, sample=999999) and models.test.mjs (truncated / lying / NaN / 4 GB weight files) without repeating them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { launch, openPage, offOrigin, drawStrokes, DIGITS, ROOT, waitMessage, upload, encodePng, assertTranslated, translated } from './helpers.mjs';
import { pngChunk } from './fixtures/png-chunks.mjs';

/** Message checks shared by every case: visible, translated, no raw key, no engine internals. */
const assertMessage = assertTranslated;

/** The page still works: it answers and classifies a freshly drawn digit. */
async function stillWorks(page) {
  assert.equal(await page.evaluate(() => 1 + 1), 2);
  await page.click('[data-testid="clear-button"]');
  await page.waitForFunction(() => !document.querySelector('[data-testid="prediction"]').hasAttribute('data-class'));
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[1]);
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
  const cls = Number(await page.getAttribute('[data-testid="prediction"]', 'data-class'));
  assert.ok(cls >= 0 && cls < 10);
  assert.deepEqual(page.errors.filter((e) => /panicked|unreachable|Uncaught/i.test(e)), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
}

let env;
let page; // one page for the upload cases
before(async () => {
  env = await launch();
  page = await openPage(env);
});
after(async () => {
  await page?.context().close();
  await env?.close();
});

// ---------------------------------------------------------------- files

/** A PNG whose IHDR declares width×height, with a tiny (wrong) IDAT: the page must refuse it from the header alone. */
function declaredPng(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const FILES = [
  ['a PNG declaring 30 000 × 30 000 pixels', () => ({ name: 'bomb.png', mimeType: 'image/png', buffer: declaredPng(30000, 30000) }), 'upload.tooLarge', /30[ ,.\u202f\u00a0]?000 × 30[ ,.\u202f\u00a0]?000/],
  ['a PNG declaring 0 × 0 pixels', () => ({ name: 'zero.png', mimeType: 'image/png', buffer: declaredPng(0, 0) }), 'upload.corrupt'],
  [
    'a truncated PNG',
    async () => {
      const full = await encodePng(64, 64, (x, y) => [x * 4, y * 4, 128, 255]);
      return { name: 'cut.png', mimeType: 'image/png', buffer: full.subarray(0, 60) };
    },
    'upload.corrupt',
  ],
  [
    'GIF garbage',
    () => ({ name: 'x.gif', mimeType: 'image/gif', buffer: Buffer.concat([Buffer.from('GIF89a'), Buffer.from([28, 0, 28, 0]), crypto.randomBytes(200)]) }),
    'upload.corrupt',
  ],
  [
    'BMP garbage',
    () => {
      const b = Buffer.concat([Buffer.from('BM'), crypto.randomBytes(300)]);
      b.writeInt32LE(28, 18);
      b.writeInt32LE(-28, 22);
      return { name: 'x.bmp', mimeType: 'image/bmp', buffer: b };
    },
    'upload.corrupt',
  ],
  ['random bytes named .png', () => ({ name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff)) }), 'upload.notImage'],
  [
    'an HTML page with a script, named .jpg',
    () => ({ name: 'evil.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('<html><script>window.pwned=1</script><img src=x onerror="window.pwned=2"></html>') }),
    'upload.notImage',
  ],
];

for (const [what, make, key, extra] of FILES) {
  test(`file: ${what} → ${key}, page keeps working`, async () => {
    await page.click('[data-testid="clear-button"]');
    await page.evaluate(() => (document.querySelector('[data-testid="message"]').hidden = true));
    await upload(page, await make());
    const msg = await waitMessage(page);
    assertMessage(msg, 'en', key);
    if (extra) assert.match(msg, extra);
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'nothing from the file ran');
    await stillWorks(page);
  });
}

// ---------------------------------------------------------------- link (hash) values

const HASHES = [
  ['eta=NaN', 'en', 'hash.eta'],
  ['eta=1e309', 'en', 'hash.eta'],
  ['eta=-1&lang=nl', 'nl', 'hash.eta'],
  ['target=99', 'en', 'hash.target'],
  ['sample=-3', 'en', 'hash.sample'],
  ['seed=abc&lang=nl', 'nl', 'hash.seed'],
  ['attack=nope', 'en', 'hash.attack'],
  ['lang=xx', 'en', 'hash.lang'],
  ['model=%3Cimg%20src%3Dx%20onerror%3Dwindow.pwned%3D1%3E', 'en', 'hash.model'],
];

for (const [hash, lang, key] of HASHES) {
  test(`link: #${hash} → ${key}, page keeps working`, async () => {
    const p = await openPage(env, { hash: hash.includes('lang=') ? hash : `${hash}&lang=${lang}` });
    try {
      const msg = await waitMessage(p);
      assertMessage(msg, lang, key);
      assert.equal(await p.evaluate(() => window.pwned), undefined, 'nothing from the link ran');
      assert.equal(await p.locator('[data-testid="message"] img').count(), 0, 'the link text is text, not markup');
      await stillWorks(p);
    } finally {
      await p.context().close();
    }
  });
}

test('link: a bad value typed into the address bar at runtime (hashchange) is reported and ignored', async () => {
  const p = await openPage(env, { hash: 'eta=0.2' });
  try {
    await p.evaluate(() => (location.hash = '#eta=Infinity&seed=-5'));
    const msg = await waitMessage(p);
    assertMessage(msg, 'en', 'hash.eta');
    assert.match(msg, translated('en', 'hash.seed'));
    const eta = await p.evaluate(() => globalThis.advlab.S.eta);
    assert.ok(Number.isFinite(eta) && eta >= 0 && eta <= 1, `η stays usable: ${eta}`);
    await stillWorks(p);
  } finally {
    await p.context().close();
  }
});

// ---------------------------------------------------------------- model files

const MODEL_FILES = {
  'random bytes': () => crypto.randomBytes(4096),
  'an empty body': () => Buffer.alloc(0),
  'a shape of 65536 × 65536 inside valid offsets': () => {
    const buf = fs.readFileSync(`${ROOT}/www/models/mnist-cnn.safetensors`);
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    header['layers.0.weight'].shape = [65536, 65536];
    const h = Buffer.from(JSON.stringify(header), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, buf.subarray(8 + n)]);
  },
};

for (const [what, make] of Object.entries(MODEL_FILES)) {
  test(`model file: ${what} → error.model_file, page keeps working`, async () => {
    const ctx = await env.browser.newContext({ serviceWorkers: 'block' });
    const body = make();
    await ctx.route('**/www/models/mnist-cnn.safetensors', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body }));
    const p = await openPage(env, { context: ctx, hash: 'model=mnist-cnn' });
    try {
      const msg = await waitMessage(p);
      assertMessage(msg, 'en', 'error.model_file');
      // Another model still loads and classifies.
      await p.selectOption('[data-testid="model-select"]', 'mnist-mlp');
      await stillWorks(p);
    } finally {
      await ctx.close();
    }
  });
}

test('model file: a server error (HTTP 500) → error.model_missing in Dutch, page keeps working', async () => {
  const ctx = await env.browser.newContext({ serviceWorkers: 'block' });
  await ctx.route('**/www/models/mnist-cnn.safetensors', (route) => route.fulfill({ status: 500, body: 'oops' }));
  const p = await openPage(env, { context: ctx, hash: 'model=mnist-cnn&lang=nl' });
  try {
    const msg = await waitMessage(p);
    assertMessage(msg, 'nl', 'error.model_missing');
    await stillWorks(p);
  } finally {
    await ctx.close();
  }
});

// ---------------------------------------------------------------- parameter values sent to the engine

for (const [what, params] of [
  ['a NaN η', { eta: 'NaN' }],
  ['a negative step count', { steps: -5 }],
  ['a query budget of 10^12', { max_queries: 1e12 }],
]) {
  test(`parameters: ${what} sent to the engine is refused as error.parameter`, async () => {
    const p = await openPage(env, { hash: 'sample=3' });
    try {
      await p.waitForSelector('[data-testid="prediction"][data-class]');
      const err = await p.evaluate(async (params) => {
        const { R, live } = globalThis.advlab;
        const fixed = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === 'NaN' ? NaN : v]));
        try {
          await live.call('runAttack', [R.model.id, R.input.pixels, 'pgd', JSON.stringify({ eta: 0.1, steps: 3, ...fixed }), -1], { onProgress: () => {} });
          return null;
        } catch (e) {
          return String(e?.message ?? e);
        }
      }, params);
      assert.ok(err, 'the engine refuses it');
      assert.match(err, /^error\.parameter/, err);
      const msg = await p.evaluate(async (e) => (await import('./www/i18n.js')).translateError(new Error(e)), err);
      assertMessage(msg, 'en', 'error.parameter');
      await stillWorks(p);
    } finally {
      await p.context().close();
    }
  });
}
