// Hostile photos for the ImageNet model (#model=imagenet-efficientnet-lite0): files a visitor's phone or disk may
// hold that the photo path must survive. Each upload ends either in a message from the i18n files (never a raw
// key, never engine internals; one case on the page switched to lang=nl, in Dutch) or in a prediction of one of
// the 1000 classes, and the page then still classifies a good photo (www/samples/photos/chelsea.jpg → 282 tiger
// cat, as its CREDITS file says). One page, sequential uploads; nothing leaves the origin.
// Fixtures: tests/e2e/fixtures/photo/ (made by make.mjs there); the 48-megapixel photo and the thin strips are
// drawn in the page at test time (a 48 MP JPEG is 300 KB: too big to commit for one test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, upload, ROOT, assertTranslated } from './helpers.mjs';

const PHOTO = 'imagenet-efficientnet-lite0';
const FIX = path.join(ROOT, 'tests/e2e/fixtures/photo');
const CATS = [281, 282, 283, 284, 285]; // tabby, tiger cat, Persian, Siamese, Egyptian cat

/** Nothing on the page that a person should never see: a raw i18n key, a Rust panic, a JS exception name. */
async function assertClean(page) {
  const text = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, /\b(error|hash|upload|camera|photos|download)\.[a-z][A-Za-z_]+\b/, 'no raw i18n key on the page');
  assert.doesNotMatch(text, /panicked|unreachable|RuntimeError|TypeError|undefined|NaN/, 'no engine internals on the page');
  assert.deepEqual(page.errors.filter((e) => /panicked|unreachable|Uncaught/i.test(e)), []);
}

/** An upload that ended in the translated message `key` (assertTranslated), containing `extra` when given. */
function assertMessage(result, lang, key, extra) {
  assert.equal(result.kind, 'message', `a message, not ${JSON.stringify(result)}`);
  assertTranslated(result.text, lang, key);
  if (extra) assert.match(result.text, extra);
}

function assertPrediction(result) {
  assert.equal(result.kind, 'prediction', `a prediction, not ${JSON.stringify(result)}`);
  assert.ok(Number.isInteger(result.cls) && result.cls >= 0 && result.cls <= 999, `class ${result.cls}`);
  assert.ok(result.conf > 0 && result.conf <= 1, `confidence ${result.conf}`);
}

let env;
let page;
let log = () => {};

/** The analysis of the current input is complete (prediction, flip point, adversarial view), and shown. */
const ANALYSED = () => {
  const { R, lab } = globalThis.advlab;
  const p = document.querySelector('[data-testid="prediction"]');
  return lab.isPhoto && R.clean && R.dir && R.adv && p.dataset.class === String(R.clean.class);
};

/**
 * Uploads `file` and waits for its outcome: { kind: 'message', text, ms } when the message region shows
 * something, { kind: 'prediction', cls, conf, width, height, ms } when a new input was analysed.
 */
async function tryUpload(file, { timeout = 60000 } = {}) {
  await page.evaluate(() => {
    globalThis.__before = globalThis.advlab.R.input;
    document.querySelector('[data-testid="message"]').hidden = true;
  });
  const t0 = Date.now();
  await upload(page, file);
  const handle = await page.waitForFunction(
    () => {
      const el = document.querySelector('[data-testid="message"]');
      if (el && !el.hidden && el.textContent.trim()) return 'message';
      const { R, lab } = globalThis.advlab;
      const p = document.querySelector('[data-testid="prediction"]');
      const analysed = lab.isPhoto && R.clean && R.dir && R.adv && p.dataset.class === String(R.clean.class);
      if (R.input !== globalThis.__before && R.input?.source === 'upload' && analysed) return 'prediction';
      return false;
    },
    null,
    { timeout, polling: 100 },
  );
  const kind = await handle.jsonValue();
  const ms = Date.now() - t0;
  let r;
  if (kind === 'message') r = { kind, ms, text: (await page.locator('[data-testid="message"]').textContent()).trim() };
  else {
    const p = page.locator('[data-testid="prediction"]');
    const photo = await page.evaluate(() => ({ width: globalThis.advlab.R.photo?.width, height: globalThis.advlab.R.photo?.height }));
    r = { kind, ms, cls: Number(await p.getAttribute('data-class')), conf: Number(await p.getAttribute('data-confidence')), ...photo };
  }
  log(`${file.name}: ${JSON.stringify(r)}`);
  return r;
}

const fixture = (name, mimeType) => ({ name, mimeType, buffer: fs.readFileSync(path.join(FIX, name)) });

/** A JPEG drawn in the page (gradient, a few shapes): { name, mimeType, buffer }. */
async function drawnJpeg(width, height, name) {
  const b64 = await page.evaluate(
    async ({ width, height }) => {
      const c = new OffscreenCanvas(width, height);
      const x = c.getContext('2d');
      const g = x.createLinearGradient(0, 0, width, height);
      g.addColorStop(0, '#8ab4f8');
      g.addColorStop(1, '#3c6e2a');
      x.fillStyle = g;
      x.fillRect(0, 0, width, height);
      x.fillStyle = '#c0392b';
      x.beginPath();
      x.arc(width * 0.4, height * 0.55, Math.min(width, height) * 0.25, 0, 2 * Math.PI);
      x.fill();
      x.fillStyle = '#f1c40f';
      x.fillRect(width * 0.6, height * 0.2, width * 0.2, height * 0.3);
      const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.85 })).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { width, height },
  );
  return { name, mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') };
}

async function setLang(lang) {
  await page.evaluate((l) => (location.hash = `#model=imagenet-efficientnet-lite0&lang=${l}`), lang);
  await page.waitForFunction((l) => document.documentElement.lang === l && globalThis.advlab.S.lang === l, lang);
}

before(async () => {
  env = await launch();
  page = await openPage(env, { hash: `model=${PHOTO}` });
  await page.waitForFunction(() => globalThis.advlab.lab.isPhoto, null, { timeout: 60000 });
  // The first view of photo mode: a sample photo, analysed.
  await page.waitForFunction(ANALYSED, null, { timeout: 60000 });
});
after(async () => {
  await page?.context().close();
  await env?.close();
});

test('a JPEG whose header declares 30 000 × 30 000 is refused from the header alone (upload.tooLarge), at once', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload(fixture('bomb-30000.jpg', 'image/jpeg'));
  assertMessage(r, 'en', 'upload.tooLarge', /30[ ,.\u202f\u00a0]?000 × 30[ ,.\u202f\u00a0]?000/);
  assert.ok(r.ms < 5000, `refused in ${r.ms} ms, without decoding 900 MP`);
  await assertClean(page);
});

test('a 1 × 1 PNG is too small for the photo model (upload.tooSmall)', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload(fixture('one-pixel.png', 'image/png'));
  assertMessage(r, 'en', 'upload.tooSmall', /1 × 1\b.*32/s);
  await assertClean(page);
});

test('an HEIC photo (iPhone) is recognised and explained (upload.heic), in English and on a lang=nl page in Dutch', async (t) => {
  log = (m) => t.diagnostic(m);
  const heic = { ...fixture('photo.heic', 'image/heic'), name: 'IMG_0001.HEIC' };
  const r = await tryUpload(heic);
  assertMessage(r, 'en', 'upload.heic', /HEIC.*JPEG/s);
  await setLang('nl');
  try {
    const nl = await tryUpload({ ...heic, mimeType: '' }); // a dropped file often has no type: the bytes decide
    assertMessage(nl, 'nl', 'upload.heic', /HEIC-foto.*JPEG/s);
    assert.doesNotMatch(nl.text, /browser cannot|try again/i, 'no English on the Dutch page');
    const small = await tryUpload(fixture('one-pixel.png', 'image/png'));
    assertMessage(small, 'nl', 'upload.tooSmall', /1 × 1\b.*32/s);
    await assertClean(page);
  } finally {
    await setLang('en');
  }
});

test('images too thin to crop are refused (upload.tooSmall / upload.tooThin); a 4000 × 40 strip is not', async (t) => {
  log = (m) => t.diagnostic(m);
  assertMessage(await tryUpload(await drawnJpeg(20, 300, 'narrow.jpg')), 'en', 'upload.tooSmall', /20 × 300/);
  assertMessage(await tryUpload(await drawnJpeg(6000, 40, 'strip.jpg')), 'en', 'upload.tooThin', /6[ ,.\u202f\u00a0]?000 × 40/);
  const strip = await tryUpload(await drawnJpeg(4000, 40, 'panorama.jpg'));
  assertPrediction(strip);
  assert.ok(Math.min(strip.width, strip.height) >= 32 && Math.max(strip.width, strip.height) <= 4096, `decoded ${strip.width} × ${strip.height}`);
  await assertClean(page);
});

test('a CMYK JPEG (Adobe APP14) decodes in its true colours: the cat photo is still a cat', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload(fixture('cmyk.jpg', 'image/jpeg'));
  assertPrediction(r);
  assert.ok(CATS.includes(r.cls), `a cat class, got ${r.cls}`);
  assert.deepEqual([r.width, r.height], [240, 160]);
  await assertClean(page);
});

test('a fully transparent 256 × 256 PNG is read as white paper and classified', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload(fixture('transparent-256.png', 'image/png'));
  assertPrediction(r);
  await assertClean(page);
});

test('an animated GIF is classified on one frame', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload(fixture('animated.gif', 'image/gif'));
  assertPrediction(r);
  assert.deepEqual([r.width, r.height], [96, 96]);
  await assertClean(page);
});

test('a photo JPEG cut at half is either shown in part or called damaged (upload.corrupt), never a hang', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload(fixture('truncated.jpg', 'image/jpeg'), { timeout: 45000 });
  if (r.kind === 'message') assertMessage(r, 'en', 'upload.corrupt');
  else assertPrediction(r);
  await assertClean(page);
});

test('a 48-megapixel phone photo (8000 × 6000) decodes, downscaled to 1024 before the engine sees it', async (t) => {
  log = (m) => t.diagnostic(m);
  const big = await drawnJpeg(8000, 6000, 'PXL_20260101_120000.jpg');
  const r = await tryUpload(big);
  assertPrediction(r);
  assert.deepEqual([r.width, r.height], [1024, 768]);
  await assertClean(page);
});

test('afterwards the page still works: chelsea.jpg is a tiger cat (282); nothing left the origin', async (t) => {
  log = (m) => t.diagnostic(m);
  const r = await tryUpload({ name: 'chelsea.jpg', mimeType: 'image/jpeg', buffer: fs.readFileSync(path.join(ROOT, 'www/samples/photos/chelsea.jpg')) });
  assertPrediction(r);
  assert.equal(r.cls, 282);
  assert.ok(Math.abs(r.conf - 0.38) < 0.03, `confidence ${r.conf}`);
  await assertClean(page);
  assert.equal(await page.evaluate(() => globalThis.advlab.lab.isPhoto), true);
  assert.deepEqual(offOrigin(page, env.origin), []);
});
