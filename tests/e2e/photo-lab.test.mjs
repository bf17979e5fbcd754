// Photos in the page (issue 17): the photo model chosen from the menu or the link, lazily, with a progress bar;
// an uploaded CC0 photo predicted as the CLI predicts it; the slider walked until the top-1 flips, at the CLI's
// flip η; "airliner" reached with PGD at 2/255; the camera from preview to prediction with its stream stopped;
// Dutch class names in the bars and the goal search; the three-way verdict; nothing off the device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, openPage, offOrigin, upload, advlab, ROOT, FAKE_CAMERA, unionBox, inViewport } from './helpers.mjs';

const PHOTO = 'imagenet-efficientnet-lite0';
const MODEL_FILE = `www/models/${PHOTO}.safetensors`;
const SAMPLES = path.join(ROOT, 'www/samples/photos');

let env;
before(async () => {
  env = await launch({ args: FAKE_CAMERA });
});
after(async () => {
  await env?.close();
});

/** Records CSP violations and every media stream the page opens (to check that each track ends). */
const WATCH = () => {
  globalThis.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => globalThis.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  globalThis.__streams = [];
  const md = navigator.mediaDevices;
  if (md?.getUserMedia) {
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      const s = await original(c);
      globalThis.__streams.push(s);
      return s;
    };
  }
};

async function photoPage(hash, opts = {}) {
  const context = await env.browser.newContext({ viewport: opts.viewport || { width: 1366, height: 900 }, serviceWorkers: 'block' });
  await context.addInitScript(WATCH);
  const page = await openPage(env, { hash, context });
  await page.waitForFunction(() => globalThis.advlab.lab.isPhoto, null, { timeout: 60000 });
  return page;
}

/** Waits until the analysis of the current input (source) is in: clean prediction, flip point, adversarial view. */
async function analysed(page, source) {
  await page.waitForFunction(
    (src) => {
      const { R } = globalThis.advlab;
      return globalThis.advlab.lab.isPhoto && R.input?.source === src && R.clean && R.dir && R.adv && document.querySelector('[data-testid="flip-eta"]').dataset.eta;
    },
    source,
    { timeout: 60000 },
  );
}

const read = (page) =>
  page.evaluate(() => {
    const p = document.querySelector('[data-testid="prediction"]');
    const a = document.querySelector('[data-testid="adv-prediction"]');
    const g = document.querySelector('[data-testid="group-verdict"]');
    return {
      cls: Number(p.dataset.class),
      conf: Number(p.dataset.confidence),
      adv: a.dataset.class === undefined ? null : Number(a.dataset.class),
      flip: document.querySelector('[data-testid="flip-eta"]').dataset.eta,
      group: g.dataset.group,
      advGroup: g.dataset.advGroup,
    };
  });

/** Uploads a file and waits for the analysis of that new input (not the one before it). */
async function uploadPhoto(page, file) {
  await page.evaluate(() => (globalThis.__before = globalThis.advlab.R.input));
  await upload(page, file);
  await page.waitForFunction(() => globalThis.advlab.R.input !== globalThis.__before, null, { timeout: 60000 });
  await analysed(page, 'upload');
}

async function slideToPosition(page, pos) {
  await page.evaluate((p) => {
    const el = document.querySelector('[data-testid="eta-slider"]');
    el.value = String(p);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, pos);
  await page.waitForFunction(() => Math.abs((globalThis.advlab.R.adv?.eta ?? -1) - globalThis.advlab.S.eta) < 1e-9, null, { timeout: 20000 });
}

function assertClean(page) {
  assert.deepEqual(offOrigin(page, env.origin), [], 'no request leaves the origin');
  assert.deepEqual(page.errors.filter((e) => !/favicon/.test(e)), [], 'no page errors');
}

test('the default page fetches nothing of the photo model; choosing it shows a progress bar in MB, then a photo and its verdict', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1366, height: 900 }, serviceWorkers: 'block' });
  await context.addInitScript(WATCH);
  const page = await openPage(env, { context });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 30000 });
  const photoFiles = (list) => list.filter((u) => /advlab_photo|imagenet-|samples\/photos/.test(u));
  assert.deepEqual(photoFiles(page.requests), [], 'the default page requests no photo file');
  // Watch the download box: it must become visible with an MB text and a progress value.
  await page.evaluate(() => {
    globalThis.__download = [];
    const box = document.getElementById('model-download');
    new MutationObserver(() => {
      if (!box.hidden) globalThis.__download.push({ text: document.getElementById('model-progress-text').textContent, value: document.getElementById('model-progress').value });
    }).observe(box, { attributes: true, subtree: true, childList: true, characterData: true });
    globalThis.advlab.lab.addEventListener('download', (e) => globalThis.__download.push({ bytes: e.detail.loaded }));
  });
  await page.selectOption('[data-testid="model-select"]', PHOTO);
  await analysed(page, 'sample');
  const seen = await page.evaluate(() => globalThis.__download);
  assert.ok(seen.some((s) => /MB/.test(s.text ?? '')), `a progress text in MB: ${JSON.stringify(seen.slice(0, 3))}`);
  assert.ok(seen.some((s) => s.bytes > 9e6), `the download reports its bytes: ${JSON.stringify(seen.filter((s) => 'bytes' in s).slice(-3))} of ${seen.length}`);
  assert.equal(await page.locator('#model-download').isVisible(), false, 'the bar goes when the model is in');
  assert.ok(photoFiles(page.requests).length >= 2, 'now the photo engine and model are fetched');
  // The drawing pad is hidden for the photo model; the photo with its crop is shown.
  assert.equal(await page.locator('[data-testid="draw-canvas"]').isVisible(), false);
  assert.equal(await page.locator('[data-testid="photo-canvas"]').isVisible(), true);
  const v = await read(page);
  assert.ok(['dog', 'pig', 'other'].includes(v.group), `the three-way verdict: ${v.group}`);
  assert.ok(['dog', 'pig', 'other'].includes(v.advGroup), `and after the noise: ${v.advGroup}`);
  assert.match(await page.locator('[data-testid="group-verdict"]').innerText(), /dog.*pig/i);
  // Top-5 bars, not 1000.
  assert.equal(await page.locator('#prediction-bars li').count(), 5);
  assert.match(page.url(), /model=imagenet-efficientnet-lite0/);
  assert.match(page.url(), /sample=0/);
  assertClean(page);
  assert.deepEqual(await page.evaluate(() => globalThis.__csp), [], 'no CSP violation');
  await context.close();
});

test('a cancelled download keeps the previous model and says so', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1366, height: 900 }, serviceWorkers: 'block' });
  // Hold the model file back so that the cancel lands during the download.
  await context.route(`**/${MODEL_FILE}`, async (route) => {
    await new Promise((r) => setTimeout(r, 4000));
    await route.continue().catch(() => {});
  });
  const page = await openPage(env, { context });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 30000 });
  const before = await page.evaluate(() => globalThis.advlab.S.model);
  await page.selectOption('[data-testid="model-select"]', PHOTO);
  await page.waitForSelector('#model-download:not([hidden])');
  await page.click('[data-testid="model-cancel"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="message"]').textContent.length > 0);
  assert.match(await page.locator('[data-testid="message"]').innerText(), /cancelled/i);
  assert.equal(await page.evaluate(() => globalThis.advlab.S.model), before);
  assert.equal(await page.locator('[data-testid="model-select"]').inputValue(), before);
  assert.equal(await page.evaluate(() => globalThis.advlab.lab.isPhoto), false);
  await context.close();
});

test('an uploaded CC0 photo gets the top-1 of `advlab predict`; walking the slider flips it at `advlab attack` flip_eta', async () => {
  const page = await photoPage(`model=${PHOTO}`);
  await analysed(page, 'sample');
  for (const file of ['camera.png', 'coffee.jpg']) {
    await uploadPhoto(page, path.join(SAMPLES, file));
    const cli = JSON.parse(await advlab(['predict', '--model', MODEL_FILE, '--image', path.join(SAMPLES, file), '--json']));
    const top = cli.class ?? cli.top?.[0]?.class ?? cli.prediction?.class;
    const v = await read(page);
    console.log(`# ${file}: page ${v.cls} (${v.conf}), CLI ${top} (${JSON.stringify(cli).slice(0, 120)})`);
    assert.equal(v.cls, top, `${file}: the page's top-1 is the CLI's`);
    assert.doesNotMatch(page.url(), /sample=/, 'an uploaded photo never goes into the link');
  }
  // camera.png is a PNG: the page and the CLI see the same pixels, so the flip η is the CLI's exactly.
  await uploadPhoto(page, path.join(SAMPLES, 'camera.png'));
  const v = await read(page);
  const cli = JSON.parse(await advlab(['attack', '--model', MODEL_FILE, '--image', path.join(SAMPLES, 'camera.png'), '--attack', 'fgsm', '--eta', '0.007', '--json']));
  console.log(`# camera.png flip η: page ${v.flip}, CLI ${cli.flip_eta}`);
  assert.notEqual(v.flip, 'none');
  assert.ok(Math.abs(Number(v.flip) - cli.flip_eta) < 1e-6, `page ${v.flip} = CLI ${cli.flip_eta}`);
  // Walk the slider up from 0, position by position, until the top-1 changes: the first such η lies at or just
  // past the flip point (one photo step is 1/1020).
  let flippedAt = null;
  for (let pos = 0; pos <= 40 && flippedAt === null; pos++) {
    await slideToPosition(page, pos);
    const now = await read(page);
    if (now.adv !== v.cls) flippedAt = await page.evaluate(() => globalThis.advlab.S.eta);
  }
  assert.ok(flippedAt !== null, 'the top-1 flips on the slider');
  assert.ok(flippedAt >= Number(v.flip) - 1e-9 && flippedAt < Number(v.flip) + 1 / 1020 + 1e-6, `flipped at ${flippedAt}, flip point ${v.flip}`);
  assert.ok(await page.locator('#flip-mark').isVisible(), 'the flip point is marked on the slider');
  // The perturbation's range reads in grey levels.
  assert.match(await page.locator('#noise-scale').innerText(), /grey levels of 255/);
  assertClean(page);
  await page.context().close();
});

test('target "airliner" in one click and reach it with PGD at L∞ ≤ 2/255', async () => {
  const page = await photoPage(`model=${PHOTO}&sample=0`);
  await analysed(page, 'sample');
  await page.click('[data-testid="target-airliner"]');
  await page.waitForFunction(() => globalThis.advlab.S.target === 404);
  assert.match(page.url(), /target=404/);
  await page.selectOption('[data-testid="attack-select"]', 'pgd');
  await slideToPosition(page, 8).catch(() => {}); // 8 steps of 1/1020 = 2/255; the job follows on release
  await page.waitForFunction(() => globalThis.advlab.R.adv?.steps !== undefined && Math.abs(globalThis.advlab.R.adv.eta - 2 / 255) < 1e-4, null, { timeout: 240000 });
  const r = await page.evaluate(() => ({ cls: globalThis.advlab.R.adv.prediction.class, linf: globalThis.advlab.R.adv.linf }));
  console.log(`# PGD to airliner: class ${r.cls}, L∞ ${r.linf} (2/255 = ${2 / 255})`);
  assert.equal(r.cls, 404, 'PGD reaches airliner');
  assert.ok(r.linf <= 2 / 255 + 1e-6, `L∞ ${r.linf} ≤ 2/255`);
  assert.equal(Number(await page.getAttribute('[data-testid="adv-prediction"]', 'data-class')), 404);
  assertClean(page);
  await page.context().close();
});

test('the camera: live preview, take photo, a prediction, and the stream is stopped; nothing is stored or sent', async () => {
  const page = await photoPage(`model=${PHOTO}`);
  await analysed(page, 'sample');
  const sent = [];
  page.on('request', (r) => sent.push({ method: r.method(), url: r.url(), body: r.postData()?.length ?? 0 }));
  await page.click('[data-testid="camera-button"]');
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="camera-video"]');
    return v && !v.hidden && v.videoWidth > 0 && !v.paused;
  }, null, { timeout: 20000 });
  assert.equal(await page.evaluate(() => globalThis.__streams.length), 1, 'one stream opened');
  await page.click('[data-testid="camera-shoot"]');
  await analysed(page, 'camera');
  const s = await page.evaluate(() => ({
    tracks: globalThis.__streams.flatMap((st) => st.getTracks().map((t) => t.readyState)),
    src: document.querySelector('[data-testid="camera-video"]').srcObject,
    hidden: document.querySelector('[data-testid="camera-video"]').hidden,
    storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
  }));
  assert.ok(s.tracks.length > 0 && s.tracks.every((t) => t === 'ended'), `every track stopped: ${s.tracks}`);
  assert.equal(s.src, null);
  assert.equal(s.hidden, true);
  assert.ok(s.storage.length < 2000, 'no image in storage');
  const v = await read(page);
  assert.ok(v.cls >= 0 && v.cls < 1000);
  assert.doesNotMatch(page.url(), /sample=/, 'a camera photo never goes into the link');
  assert.deepEqual(sent.filter((r) => r.method !== 'GET' || r.body > 0), [], 'nothing is sent with the frame: GET requests only, no bodies');
  assert.ok(!(await page.evaluate(() => 'caches' in self && caches.keys().then((k) => k.length))), 'no cache written');
  assertClean(page);
  assert.deepEqual(await page.evaluate(() => globalThis.__csp), [], 'no CSP violation with the camera');
  await page.context().close();
});

test('Dutch: class names in the bars and in the goal search, which finds both languages', async () => {
  const page = await photoPage(`model=${PHOTO}&sample=0&lang=nl`);
  await analysed(page, 'sample');
  const nl = await page.evaluate(() => globalThis.advlab.lab.photo.classNamesI18n.nl);
  const v = await read(page);
  const firstBar = await page.locator('#prediction-bars li .bar-name').first().innerText();
  assert.equal(firstBar, nl[v.cls], 'the top bar is the Dutch name');
  assert.match(await page.locator('[data-testid="target-airliner"]').innerText(), /lijnvliegtuig/);
  const options = await page.$$eval('#target-list option', (os) => os.map((o) => o.value));
  assert.equal(options.length, 1000);
  assert.ok(options.includes('lijnvliegtuig — airliner'), 'Dutch first, English after it');
  // A Dutch name typed in full, then an English one: both pick their class.
  await page.fill('[data-testid="target-search"]', 'lijnvliegtuig');
  await page.waitForFunction(() => globalThis.advlab.S.target === 404);
  await page.fill('[data-testid="target-search"]', 'tabby');
  await page.waitForFunction(() => globalThis.advlab.S.target === 281);
  assert.match(await page.locator('#target-chosen').innerText(), /cyperse kat|klasse 281/);
  assert.match(await page.locator('[data-testid="group-verdict"]').innerText(), /hond/i);
  assertClean(page);
  await page.context().close();
});

test('a laptop (1366×768) and a phone (390×844): the photo slider, the adversarial photo and its verdict fit on one screen', async () => {
  for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    const page = await photoPage('model=imagenet-efficientnet-lite0&sample=1&eta=0.0078', { viewport });
    await analysed(page, 'sample');
    const sels = ['[data-testid="eta-slider"]', '[data-testid="adv-canvas"]', '#adv-verdict', '[data-testid="group-verdict"]'];
    const box = await unionBox(page, sels);
    assert.ok(box.heights.every((h) => h > 0), `each part is rendered: ${box.heights}`);
    assert.ok(box.bottom - box.top <= viewport.height, `${viewport.width}×${viewport.height}: they span ${Math.round(box.bottom - box.top)} px`);
    // Scrolled to them, a slider step repaints the photo while all of them stay in view.
    await page.evaluate((y) => scrollTo(0, Math.max(0, y)), box.top - 8);
    const slider = page.locator('[data-testid="eta-slider"]');
    await slider.focus();
    const before = await page.evaluate(() => globalThis.advlab.R.adv.linf);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((b) => globalThis.advlab.R.adv?.linf > b, before);
    const inside = await inViewport(page, sels);
    assert.deepEqual(inside, Object.fromEntries(sels.map((s) => [s, true])), `${viewport.width}×${viewport.height}: all in view after the step`);
    await page.context().close();
  }
});
