// The photo model in the widget and the iframe (issue: `<adversarial-lab model="imagenet-efficientnet-lite0"
// sample="…">` works, with the model loaded lazily): an article whose photo figure is below the fold fetches
// nothing photo-related until the reader scrolls to it; then the download is shown in MB, and the figure shows
// sample photo 1 (the coffee cup) with an ImageNet prediction (0–999), its top 5, the dog/pig/neither verdict and
// the flip η on the photo scale (grey levels). The model menu switches to digits and back. embed.html with the
// same hash shows the same prediction. Nothing leaves the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin } from './helpers.mjs';

const PHOTO = 'imagenet-efficientnet-lite0';
const PHOTO_FILES = /imagenet-efficientnet-lite0\.safetensors|advlab_photo|samples\/photos\/|\/photos\.js|\/upload\.js|engine=photo/;

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** The widget's prediction boxes, group verdict, flip point and texts, read from its shadow DOM. */
const readWidget = (page, sel) =>
  page.locator(sel).evaluate((host) => {
    const r = host.shadowRoot;
    const q = (id) => r.querySelector(`[data-testid="${id}"]`);
    const cls = (el) => (el.dataset.class === undefined ? null : Number(el.dataset.class));
    return {
      mode: r.querySelector('.w').dataset.mode,
      cls: cls(q('prediction')),
      conf: Number(q('prediction').dataset.confidence),
      adv: cls(q('adv-prediction')),
      bars: [...q('prediction').querySelectorAll('.bar')].map((b) => Number(b.dataset.class)),
      advBars: q('adv-prediction').querySelectorAll('.bar').length,
      group: q('group-verdict').dataset.group,
      groupText: q('group-verdict').textContent,
      groupShown: !q('group-verdict').hidden,
      flip: q('flip-eta').dataset.eta,
      flipText: q('flip-eta').textContent,
      eta: r.querySelector('.eta-out').textContent,
      ticks: [...r.querySelectorAll('.tick')].map((s) => s.textContent),
      note: r.querySelector('.sample-note').textContent,
      canvas: r.querySelector('.orig').width,
      random: r.querySelector('.random').textContent,
      downloadShown: !r.querySelector('[data-testid="model-download"]').hidden,
    };
  });

/** Waits for a photo view: mode photo, both predictions and the flip point in. */
const waitPhotoView = (page, sel, timeout = 60000) =>
  page.waitForFunction(
    (s) => {
      const r = document.querySelector(s)?.shadowRoot;
      if (!r || r.querySelector('.w').dataset.mode !== 'photo') return false;
      const q = (id) => r.querySelector(`[data-testid="${id}"]`);
      return q('prediction').dataset.class && q('adv-prediction').dataset.class && q('flip-eta').dataset.eta && q('group-verdict').dataset.group;
    },
    sel,
    { timeout },
  );

function checkPhotoView(v, lang) {
  assert.equal(v.mode, 'photo');
  assert.ok(Number.isInteger(v.cls) && v.cls >= 0 && v.cls <= 999, `an ImageNet class: ${v.cls}`);
  assert.ok(v.conf > 0 && v.conf <= 1);
  assert.ok(Number.isInteger(v.adv) && v.adv >= 0 && v.adv <= 999);
  assert.equal(v.bars.length, 5, 'the top 5 of 1000 classes');
  assert.equal(v.bars[0], v.cls, 'the top bar is the prediction');
  assert.equal(v.advBars, 5);
  assert.ok(['dog', 'pig', 'other'].includes(v.group), v.group);
  assert.equal(v.groupShown, true);
  assert.ok(Number(v.flip) > 0 && Number(v.flip) <= 16 / 255 + 1e-6, `a photo flips within 16/255: ${v.flip}`);
  assert.equal(v.canvas, 224, 'the 224×224 crop the model sees');
  assert.deepEqual(v.ticks.slice(1), ['2/255', '4/255', '8/255', '16/255'], 'the photo slider scale in grey levels');
  assert.match(v.eta, /\/255\)$/, `η with its grey levels: ${v.eta}`);
  assert.equal(v.downloadShown, false, 'the download box goes when the model is in');
  if (lang === 'nl') {
    assert.match(v.groupText, /^Hond, varken of geen van beide\? Het model zegt: /);
    assert.match(v.flipText, /^Het antwoord slaat om bij η = 0,\d+ \([\d,]+\/255\)\.$/);
    assert.match(v.note, /^Voorbeeldfoto: Een kop koffie\./);
    assert.equal(v.random, 'Willekeurige foto');
  } else {
    assert.match(v.groupText, /^Dog, pig, or neither\? The model says: /);
    assert.match(v.flipText, /^The answer flips at η = 0\.\d+ \([\d.]+\/255\)\.$/);
    assert.match(v.note, /^Sample photo: A cup of coffee\./);
    assert.equal(v.random, 'Random photo');
  }
}

test('a photo widget below the fold: nothing photo-related before the reader gets there, then the photo view', async () => {
  const page = await openPage(env, { path: 'tests/e2e/fixtures/widget-photo.html', waitReady: false, viewport: { width: 1366, height: 768 } });
  try {
    // The widget has started (menus filled, waiting for the viewport) and says what it will load.
    await page.waitForFunction(() => {
      const r = document.querySelector('#p')?.shadowRoot;
      return r && r.querySelector('.model').options.length > 1 && /MB/.test(r.querySelector('.dl-text').textContent);
    }, null, { timeout: 30000 });
    await page.waitForTimeout(1000);
    assert.match(await page.locator('#p .dl-text').textContent(), /^The photo model \(9\.3 MB\) loads when this figure comes into view\.$/);
    assert.equal(await page.locator('#p [data-testid="model-select"]').inputValue(), PHOTO);
    assert.deepEqual(page.requests.filter((u) => PHOTO_FILES.test(u)), [], 'no photo engine, model, helper or sample photo yet');

    // Watch the download box while the reader scrolls to the figure: MB text and a progress value.
    await page.locator('#p').evaluate((host) => {
      globalThis.__dl = [];
      const r = host.shadowRoot;
      const box = r.querySelector('[data-testid="model-download"]');
      new MutationObserver(() => {
        if (!box.hidden) globalThis.__dl.push({ text: r.querySelector('.dl-text').textContent, value: r.querySelector('.dl-bar').value });
      }).observe(box, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.locator('#p').scrollIntoViewIfNeeded();
    await page.waitForSelector('#p[data-ready="true"]', { timeout: 60000 });
    await waitPhotoView(page, '#p');
    const seen = await page.evaluate(() => globalThis.__dl);
    assert.ok(seen.some((s) => /^Downloading the photo model: [\d.]+ of 9\.3 MB$/.test(s.text)), `progress in MB: ${JSON.stringify(seen.slice(-3))}`);
    assert.equal(page.requests.filter((u) => u.includes(`${PHOTO}.safetensors`)).length, 1, 'the photo model is fetched once');
    assert.ok(page.requests.some((u) => u.endsWith('samples/photos/coffee.jpg')), 'sample="1" is the coffee cup');
    const view = await readWidget(page, '#p');
    checkPhotoView(view, 'en');

    // The slider moves the adversarial view on the photo scale: at η = 0 it is the photo itself.
    await page.locator('#p [data-testid="eta-slider"]').focus();
    await page.keyboard.press('Home');
    await page.waitForFunction(
      (c) => document.querySelector('#p').shadowRoot.querySelector('[data-testid="adv-prediction"]').dataset.confidence === c,
      view.conf.toFixed(6),
      { timeout: 30000 },
    );
    assert.equal((await readWidget(page, '#p')).adv, view.cls);

    // The menu: a digit model, then the photo model again (already loaded: no second download).
    const select = page.locator('#p [data-testid="model-select"]');
    await select.selectOption('mnist-linear');
    await page.waitForFunction(() => {
      const r = document.querySelector('#p').shadowRoot;
      const c = r.querySelector('[data-testid="adv-prediction"]').dataset.class;
      return r.querySelector('.w').dataset.mode === 'digits' && c !== undefined && Number(c) < 10 && r.querySelector('[data-testid="flip-eta"]').dataset.eta;
    }, null, { timeout: 30000 });
    const digits = await readWidget(page, '#p');
    assert.equal(digits.canvas, 28);
    assert.equal(digits.groupShown, false, 'no dog/pig question for digits');
    assert.equal(digits.ticks.at(-1), '0.5', 'the digits slider scale');
    assert.equal(digits.bars.length, 10);
    await select.selectOption(PHOTO);
    await waitPhotoView(page, '#p');
    checkPhotoView(await readWidget(page, '#p'), 'en');
    assert.equal(page.requests.filter((u) => u.includes(`${PHOTO}.safetensors`)).length, 1, 'still one download');

    // Dutch: the class names, the verdict and the slider in Dutch.
    await page.locator('#p').evaluate((el) => el.setAttribute('lang', 'nl'));
    await page.waitForFunction(() => document.querySelector('#p').shadowRoot.querySelector('[data-testid="group-verdict"]').textContent.startsWith('Hond'));
    const nl = await readWidget(page, '#p');
    checkPhotoView(nl, 'nl');
    const names = await page.locator('#p').evaluate((host) => [...host.shadowRoot.querySelectorAll('[data-testid="prediction"] .bar-name')].map((e) => e.textContent));
    assert.ok(names.includes('kopje') || names.includes('koffiemok'), `Dutch class names: ${names.join(', ')}`);

    assert.deepEqual(offOrigin(page, env.origin), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

test('embed.html#model=imagenet-efficientnet-lite0&sample=1: the iframe shows the same photo view', async () => {
  const widget = await openPage(env, { path: 'tests/e2e/fixtures/widget-photo.html', waitReady: false, viewport: { width: 1366, height: 768 } });
  const embed = await openPage(env, { path: 'embed.html', hash: `model=${PHOTO}&sample=1&lang=nl`, waitReady: false, viewport: { width: 390, height: 844 } });
  try {
    await widget.locator('#p').scrollIntoViewIfNeeded();
    await waitPhotoView(widget, '#p');
    await embed.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
    await waitPhotoView(embed, '#lab');
    const a = await readWidget(widget, '#p');
    const b = await readWidget(embed, '#lab');
    checkPhotoView(b, 'nl');
    assert.deepEqual([b.cls, b.conf, b.adv, b.flip, b.group], [a.cls, a.conf, a.adv, a.flip, a.group], 'the same prediction, flip point and verdict');
    // The narrow iframe keeps the top 5 visible (photo and adversarial photo side by side).
    assert.equal(await embed.locator('#lab [data-testid="prediction"] .bars').isVisible(), true);
    assert.deepEqual(offOrigin(embed, env.origin), []);
    assert.deepEqual(embed.errors, []);
  } finally {
    await widget.context().close();
    await embed.context().close();
  }
});
