// Embedding, classroom, offline and figure export (issue 8): the <adversarial-lab> web component, embed.html, the
// classroom link, the service worker and the PNG/SVG figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, waitAnalysed, readPrediction, offOrigin, ROOT, waitPrecached } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

const HASH = 'model=mnist-cnn&attack=fgsm&eta=0.1&seed=7&sample=3';

/** A widget's prediction ({class, confidence}) from the shadow DOM; testid as on the page. */
async function widgetPrediction(frame, sel, testid) {
  const el = frame.locator(`${sel} [data-testid="${testid}"]`);
  return { class: Number(await el.getAttribute('data-class')), confidence: Number(await el.getAttribute('data-confidence')) };
}

async function waitWidget(frame, sel) {
  await frame.waitForSelector(`${sel}[data-ready="true"]`, { timeout: 30000 });
  await frame.locator(`${sel} [data-testid="adv-prediction"][data-class]`).waitFor({ timeout: 30000 });
}

/** The controls of a widget that are visible, by data-control name. */
async function visibleWidgetControls(frame, sel) {
  return frame.locator(sel).evaluate((host) =>
    [...host.shadowRoot.querySelectorAll('[data-control]')].filter((e) => e.checkVisibility()).map((e) => e.dataset.control).sort(),
  );
}

test('two widgets with different models: each its own prediction, sliders independent, one wasm fetch', async () => {
  const page = await openPage(env, { path: 'tests/e2e/fixtures/two-widgets.html', waitReady: false });
  await waitWidget(page, '#a');
  await waitWidget(page, '#b');
  const a = await widgetPrediction(page, '#a', 'prediction');
  const b = await widgetPrediction(page, '#b', 'prediction');
  assert.equal(a.class, 7, 'test image 0 is a 7; the linear model gets it right');
  assert.equal(b.class, 7, 'the CNN gets it right too');
  assert.notEqual(a.confidence, b.confidence, 'two models, two different confidences');

  // Each widget's numbers are its model's own: the same as a page with that model alone (embed.html).
  for (const [sel, model, mine] of [['#a', 'mnist-linear', a], ['#b', 'mnist-cnn', b]]) {
    const solo = await openPage(env, { path: 'embed.html', hash: `model=${model}&sample=0&eta=0.05` });
    const p = await widgetPrediction(solo, '#lab', 'prediction');
    assert.deepEqual(p, mine, `${sel} shows ${model}'s prediction`);
    await solo.context().close();
  }

  // Each widget speaks its own language although they share one i18n module: a in English, b (lang="nl") in Dutch.
  assert.equal(await page.locator('#a .eta-out').textContent(), '0.05');
  assert.equal(await page.locator('#b .eta-out').textContent(), '0,05');
  assert.match(await page.locator('#b [data-testid="flip-eta"]').textContent(), /^Het antwoord slaat om bij η = 0,\d+\.$/);
  assert.match(await page.locator('#a [data-testid="flip-eta"]').textContent(), /^The answer flips at η = 0\.\d+\.$/);

  // Move a's slider: a's adversarial view changes, b's does not.
  const advA = await widgetPrediction(page, '#a', 'adv-prediction');
  const advB = await widgetPrediction(page, '#b', 'adv-prediction');
  const etaB = await page.locator('#b .eta-out').textContent();
  const slider = page.locator('#a [data-testid="eta-slider"]');
  await slider.focus();
  await page.keyboard.press('Home');
  await page.waitForFunction(() => {
    const p = document.querySelector('#a').shadowRoot.querySelector('[data-testid="adv-prediction"]');
    return p.dataset.class === '7';
  });
  const advA0 = await widgetPrediction(page, '#a', 'adv-prediction');
  assert.notDeepEqual(advA0, advA, 'η = 0 in widget a gives back the clean answer');
  assert.equal(advA0.confidence, a.confidence, 'at η = 0 the adversarial image is the original');
  await page.waitForTimeout(300);
  assert.deepEqual(await widgetPrediction(page, '#b', 'adv-prediction'), advB, "b's adversarial prediction did not move");
  assert.equal(await page.locator('#b .eta-out').textContent(), etaB, "b's η did not move");

  const wasm = page.requests.filter((u) => u.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `the wasm file is fetched once: ${wasm.join(', ')}`);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);

  // The controls attribute hides exactly the controls it does not name, and follows changes.
  assert.deepEqual(await visibleWidgetControls(page, '#a'), ['eta', 'sample']);
  assert.deepEqual(await visibleWidgetControls(page, '#b'), ['eta']);
  await page.locator('#b').evaluate((el) => el.setAttribute('controls', 'model,attack'));
  assert.deepEqual(await visibleWidgetControls(page, '#b'), ['attack', 'model']);
  await page.locator('#b').evaluate((el) => el.removeAttribute('controls'));
  assert.deepEqual(await visibleWidgetControls(page, '#b'), ['attack', 'eta', 'lang', 'model', 'sample', 'target']);

  // Attributes are live: a's model becomes b's, and a then shows b's clean prediction.
  await page.locator('#a').evaluate((el) => el.setAttribute('model', 'mnist-cnn'));
  await page.waitForFunction((conf) => document.querySelector('#a').shadowRoot.querySelector('[data-testid="prediction"]').dataset.confidence === conf, b.confidence.toFixed(6));
  // A widget made by script, its attributes set after it is in the page, starts with those attributes.
  await page.evaluate(() => {
    const w = document.createElement('adversarial-lab');
    w.id = 'c';
    document.body.append(w);
    w.setAttribute('model', 'mnist-linear');
    w.setAttribute('sample', '1');
  });
  await waitWidget(page, '#c');
  await page.waitForFunction(() => document.querySelector('#c').shadowRoot.querySelector('.sample-note').textContent.includes('1'));
  assert.equal((await widgetPrediction(page, '#c', 'prediction')).class, 2, 'test image 1 is a 2');
  assert.equal(page.requests.filter((u) => u.endsWith('.wasm')).length, 1, 'still one wasm fetch with three widgets');

  // Each widget fills its container's width, and its layout follows the container, not the window.
  const widths = await page.evaluate(() => ['#a', '#b'].map((s) => [document.querySelector(s).getBoundingClientRect().width, document.querySelector(s).parentElement.clientWidth]));
  for (const [w, container] of widths) assert.equal(Math.round(w), Math.round(container));
  assert.equal(await page.locator('#a').evaluate((el) => el.shadowRoot.querySelector('.w').dataset.size), 'm');
  await page.locator('#a').evaluate((el) => {
    el.parentElement.classList.replace('wide', 'tiny');
  });
  await page.waitForFunction(() => document.querySelector('#a').shadowRoot.querySelector('.w').dataset.size === 's');
  assert.ok((await page.locator('#a').boundingBox()).width <= 360);

  await page.context().close();
});

test('the widgets pass axe-core (light and dark theme, English and Dutch)', async () => {
  // bypassCSP only lets the test inject axe as an inline script; the widgets themselves run under the strict CSP.
  const context = await env.browser.newContext({ bypassCSP: true, serviceWorkers: 'block' });
  const page = await openPage(env, { path: 'tests/e2e/fixtures/two-widgets.html', waitReady: false, context });
  await waitWidget(page, '#a');
  await waitWidget(page, '#b');
  await page.locator('#b').evaluate((el) => el.removeAttribute('controls'));
  await page.addScriptTag({ content: fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8') });
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact));
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
  await context.close();
});

test('the embed button\'s iframe snippet renders the same prediction as the full page for the same hash', async () => {
  const page = await openPage(env, { hash: HASH });
  await waitAnalysed(page);
  await page.waitForFunction(() => globalThis.advlab?.R?.adv);
  const full = await readPrediction(page, 'prediction');
  const fullAdv = await readPrediction(page, 'adv-prediction');
  await page.click('[data-testid="embed-button"]');
  const iframe = await page.locator('[data-testid="embed-iframe"]').inputValue();
  const component = await page.locator('[data-testid="embed-component"]').inputValue();
  assert.match(iframe, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\.html#[^"]*model=mnist-cnn[^"]*sample=3/);
  assert.match(component, /<script type="module" src="[^"]+\/www\/adversarial-lab\.js"><\/script>/);
  assert.match(component, /<adversarial-lab model="mnist-cnn" attack="fgsm" eta="0.1" sample="3"[^>]*><\/adversarial-lab>/);

  // An article page holding the snippet.
  const article = await page.context().newPage();
  await article.goto(env.url + 'tests/e2e/fixtures/article.html');
  await article.locator('#host').evaluate((el, html) => {
    el.innerHTML = html;
  }, iframe);
  const frame = article.frameLocator('iframe');
  await frame.locator('#lab[data-ready="true"]').waitFor({ timeout: 30000 });
  const embedded = await widgetPrediction(frame, '#lab', 'prediction');
  const embeddedAdv = await widgetPrediction(frame, '#lab', 'adv-prediction');
  assert.deepEqual(embedded, full);
  assert.deepEqual(embeddedAdv, fullAdv);
  await page.context().close();

  // L2, a target and another seed travel through the hash too.
  const l2 = 'model=mnist-mlp&attack=fgsm&norm=l2&eta=1.5&target=3&seed=11&sample=1';
  const page2 = await openPage(env, { hash: l2 });
  await waitAnalysed(page2);
  await page2.waitForFunction(() => globalThis.advlab?.R?.adv);
  const embed2 = await openPage(env, { path: 'embed.html', hash: l2 });
  assert.deepEqual(await widgetPrediction(embed2, '#lab', 'adv-prediction'), await readPrediction(page2, 'adv-prediction'));
  assert.equal(await embed2.locator('#lab [data-testid="flip-eta"]').getAttribute('data-eta'), await page2.locator('[data-testid="flip-eta"]').getAttribute('data-eta'));
  await page2.context().close();
  await embed2.context().close();
});

test('the page and embed.html work offline after the first visit (service worker)', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'allow' });
  const page = await openPage(env, { hash: HASH, context });
  await waitAnalysed(page);
  const online = await readPrediction(page, 'prediction');
  // The worker is installed (its precache done) once it is active.
  await waitPrecached(page);
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await waitAnalysed(page);
  assert.deepEqual(await readPrediction(page, 'prediction'), online, 'offline, the same prediction');
  assert.equal(await page.evaluate(() => !!navigator.serviceWorker.controller), true, 'served by the service worker');

  const embed = await context.newPage();
  await embed.goto(env.url + 'embed.html#' + HASH);
  await embed.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  assert.deepEqual(await widgetPrediction(embed, '#lab', 'prediction'), online, 'embed.html offline too');
  await context.close();
});

test('the classroom link hides exactly the controls not listed; present mode', async () => {
  const page = await openPage(env, { hash: HASH });
  // The Present toggle: on, the body says so and the link carries present=1; off again, neither.
  await page.click('[data-testid="present-button"]');
  assert.equal(await page.evaluate(() => document.body.classList.contains('present')), true);
  assert.equal(await page.locator('[data-testid="present-button"]').getAttribute('aria-pressed'), 'true');
  assert.match(await page.evaluate(() => location.hash), /present=1/);
  await page.click('[data-testid="present-button"]');
  assert.equal(await page.evaluate(() => document.body.classList.contains('present')), false);
  assert.doesNotMatch(await page.evaluate(() => location.hash), /present=/);

  const all = await page.evaluate(() => [...new Set([...document.querySelectorAll('[data-control]')].map((e) => e.dataset.control))].sort());
  assert.deepEqual(all, ['attack', 'draw', 'eta', 'lang', 'model', 'norm', 'sample', 'share', 'target', 'upload']);
  await page.click('[data-testid="teacher-button"]');
  for (const name of all) {
    const box = page.locator(`[data-testid="control-${name}"]`);
    if (['eta', 'attack'].includes(name) !== (await box.isChecked())) await box.click();
  }
  await page.locator('[data-testid="teacher-present"]').check();
  const link = await page.locator('[data-testid="classroom-link"]').inputValue();
  assert.match(link, /controls=attack,eta/);
  assert.match(link, /present=1/);
  await page.context().close();

  const visible = async (p) =>
    p.evaluate(() => [...new Set([...document.querySelectorAll('[data-control]')].filter((e) => e.checkVisibility()).map((e) => e.dataset.control))].sort());
  const cls = await openPage(env, { hash: link.split('#')[1] });
  assert.deepEqual(await visible(cls), ['attack', 'eta']);
  assert.equal(await cls.evaluate(() => document.body.classList.contains('present')), true);
  const big = await cls.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.ok(big >= 20, `present mode has large type (${big}px)`);
  // The state survives the page rewriting its hash.
  await cls.locator('[data-testid="eta-slider"]').focus();
  await cls.keyboard.press('ArrowRight');
  await cls.waitForTimeout(400);
  assert.match(await cls.evaluate(() => location.hash), /controls=attack,eta.*present=1|present=1.*controls=attack,eta/);
  // A hand-edited hash re-applies.
  await cls.evaluate(() => {
    location.hash = location.hash.replace(/controls=[^&]*/, 'controls=model');
  });
  await cls.waitForFunction(() => document.querySelector('.eta-block').classList.contains('control-off'));
  assert.deepEqual(await visible(cls), ['model']);
  await cls.context().close();
});

test('step-by-step mode walks draw → predict → noise → flip → why linear → defences', async () => {
  const page = await openPage(env, { hash: HASH });
  await page.click('[data-testid="steps-button"]');
  const guide = page.locator('[data-testid="step-guide"]');
  const titles = [];
  const links = [];
  for (let i = 0; i < 6; i++) {
    titles.push(await guide.locator('h2').textContent());
    const a = guide.locator('a.lesson-link');
    if (await a.isVisible()) links.push(await a.getAttribute('href'));
    if (i < 5) await guide.getByRole('button', { name: 'Next step' }).click();
  }
  assert.deepEqual(titles, ['1 · Draw', '2 · Predict', '3 · Add noise', '4 · Flip', '5 · Why linear', '6 · Defences']);
  assert.deepEqual(links, ['#lesson=linear', '#lesson=defences']);
  assert.equal(await guide.getByRole('button', { name: 'Next step' }).isDisabled(), true);
  await page.context().close();
});

/** PNG width and height from the IHDR chunk. */
function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString('ascii'), 'PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test('figure export: the view as a PNG at 2×, the curve as SVG, both captioned', async () => {
  const page = await openPage(env, { hash: HASH });
  await waitAnalysed(page);
  await page.waitForFunction(() => globalThis.advlab?.R?.curve && globalThis.advlab?.R?.adv);
  const box = await page.locator('.panels-card').boundingBox();
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="figure-png"]')]);
  assert.match(png.suggestedFilename(), /^advlab-mnist-cnn-fgsm-eta0\.1-seed7\.png$/);
  const buf = fs.readFileSync(await png.path());
  const size = pngSize(buf);
  const css = (await page.evaluate(() => document.body.dataset.figure)).split('x').map(Number);
  assert.equal(css[0], Math.round(box.width));
  assert.equal(size.width, 2 * css[0], 'twice the view\'s width');
  assert.equal(size.height, 2 * (css[1] + 30), 'twice the view\'s height plus the caption band');

  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="figure-svg"]')]);
  const text = fs.readFileSync(await svg.path(), 'utf8');
  assert.match(text, /^<\?xml/);
  assert.match(text, /<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(text, /model mnist-cnn · attack FGSM · η = 0\.1 · seed 7/);
  assert.match(text, /<path[^>]*stroke="rgb\(213, 94, 0\)"/, 'styles are inlined: the adversarial line keeps its vermillion');
  // The file is valid SVG: the browser parses it.
  const ok = await page.evaluate((s) => new DOMParser().parseFromString(s, 'image/svg+xml').querySelector('parsererror') === null, text);
  assert.equal(ok, true);
  await page.context().close();
});
