// Classroom photo lesson (issue: "a classroom link can preset the photo model; the step-by-step guide gets a photo
// path"): the teacher panel's "Photos (ImageNet)" preset builds a link that opens the lab in photo mode on a
// sample photo with a prediction; with the photo model loaded the step guide walks take a photo → predict →
// add noise → flip → why so little noise, each step highlighting a visible part of the page, in English and Dutch
// (in Dutch the teacher switches the guide to its Photos path, which loads the photo model); nothing leaves the
// origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin } from './helpers.mjs';

const PHOTO = 'imagenet-efficientnet-lite0';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** Waits for photo mode with a clean prediction of a class 0–999. */
async function photoReady(page) {
  await page.waitForFunction(() => globalThis.advlab?.lab?.isPhoto && document.body.dataset.mode === 'photo', null, { timeout: 60000 });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 60000 });
  const cls = Number(await page.getAttribute('[data-testid="prediction"]', 'data-class'));
  assert.ok(Number.isInteger(cls) && cls >= 0 && cls <= 999, `an ImageNet class: ${cls}`);
  return cls;
}

/** The guide's current step: its title, texts, lesson link and whether each highlighted part is visible. */
const readStep = (page) =>
  page.evaluate(() => {
    const g = document.querySelector('[data-testid="step-guide"]');
    const link = g.querySelector('a.lesson-link');
    const focus = [...document.querySelectorAll('.step-focus')];
    return {
      path: g.dataset.path,
      key: g.dataset.step,
      title: g.querySelector('h2').textContent,
      text: g.querySelector('[data-testid="step-text"]').textContent,
      more: g.querySelector('[data-testid="step-more"]').hidden ? '' : g.querySelector('[data-testid="step-more"]').textContent,
      link: link.hidden ? null : link.getAttribute('href'),
      focus: focus.map((el) => el.id || el.className.split(' ')[0]),
      visible: focus.map((el) => el.checkVisibility()),
      guideVisible: g.checkVisibility(),
    };
  });

/** Walks the photo path forward and back; returns the steps seen. */
async function walkPhotoSteps(page, { next, back }) {
  const guide = page.locator('[data-testid="step-guide"]');
  const seen = [];
  for (let i = 0; i < 5; i++) {
    const s = await readStep(page);
    assert.equal(s.path, 'photo', `step ${i + 1} is on the photo path`);
    assert.ok(s.guideVisible, 'the guide is on screen');
    assert.ok(s.focus.length >= 1, `step ${i + 1} (${s.key}) highlights something`);
    assert.ok(s.visible.every(Boolean), `step ${i + 1} (${s.key}): every highlighted part is visible: ${s.focus}`);
    seen.push(s);
    if (i < 4) await guide.getByRole('button', { name: next }).click();
  }
  assert.equal(await guide.getByRole('button', { name: next }).isDisabled(), true, 'the last step has no next');
  await guide.getByRole('button', { name: back }).click();
  assert.equal((await readStep(page)).key, 'photoFlip', 'Back goes to the flip step');
  await guide.getByRole('button', { name: next }).click();
  return seen;
}

test('the teacher panel builds a photo link; it opens in photo mode and the guide walks the photo path (en)', async () => {
  const page = await openPage(env, { hash: 'sample=8&lang=en', viewport: { width: 1366, height: 768 } });
  await page.click('[data-testid="teacher-button"]');
  const preset = page.locator('[data-testid="classroom-preset"]');
  assert.equal(await preset.inputValue(), 'current', 'the panel starts from the page as it is');
  assert.equal(await page.locator('#classroom-preset-note').isVisible(), false);
  await preset.selectOption('photo');
  assert.match(await page.locator('#classroom-preset-note').innerText(), /9 MB/, 'the teacher is told about the download');
  const link = await page.locator('[data-testid="classroom-link"]').inputValue();
  const q = new URLSearchParams(link.split('#')[1]);
  assert.equal(q.get('model'), PHOTO);
  assert.equal(q.get('attack'), 'fgsm');
  assert.equal(q.get('sample'), '3');
  assert.equal(q.get('eta'), '0', 'the class adds the noise itself');
  assert.ok(q.get('controls').split(',').includes('upload'));
  // The airliner preset: PGD towards class 404.
  await preset.selectOption('airliner');
  const air = new URLSearchParams((await page.locator('[data-testid="classroom-link"]').inputValue()).split('#')[1]);
  assert.deepEqual([air.get('model'), air.get('attack'), air.get('target')], [PHOTO, 'pgd', '404']);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await page.context().close();

  // The students' link: photo mode, a sample photo, a prediction, the camera and the sample photos there.
  const cls = await openPage(env, { hash: link.split('#')[1], viewport: { width: 1366, height: 768 } });
  await photoReady(cls);
  for (const id of ['camera-button', 'photo-canvas', 'eta-slider']) assert.ok(await cls.locator(`[data-testid="${id}"]`).isVisible(), `${id} is shown`);
  assert.ok(await cls.locator('#photo-grid').isVisible(), 'the sample photos are shown');
  assert.equal(await cls.locator('[data-testid="steps-button"]').isVisible(), false, 'no teacher chrome for the class');
  assert.deepEqual(offOrigin(cls, env.origin), []);
  assert.deepEqual(cls.errors.filter((e) => !/favicon/.test(e)), []);
  await cls.context().close();

  // The teacher's own copy (teacher=1): the guide follows the photo model.
  const t = await openPage(env, { hash: `${link.split('#')[1]}&teacher=1`, viewport: { width: 1366, height: 768 } });
  await photoReady(t);
  await t.waitForSelector('[data-testid="flip-eta"][data-eta]', { timeout: 60000 });
  await t.click('[data-testid="steps-button"]');
  assert.equal(await t.getAttribute('[data-testid="steps-path-photo"]', 'aria-pressed'), 'true');
  const seen = await walkPhotoSteps(t, { next: 'Next step', back: 'Back' });
  assert.deepEqual(seen.map((s) => s.key), ['photoTake', 'photoPredict', 'photoNoise', 'photoFlip', 'photoWhy']);
  assert.match(seen[0].text, /camera/i);
  assert.match(seen[1].text, /dog, pig, or neither/);
  assert.ok(seen[1].focus.includes('group-verdict'), 'the predict step shows the dog/pig/neither verdict');
  assert.match(seen[3].text, /orange mark/);
  const why = seen[4];
  assert.match(why.title, /so little noise/);
  assert.match(why.text, /150\s528/);
  assert.match(why.text, /grey level/);
  assert.match(why.more, /η × m × n/);
  assert.equal(why.link, '#lesson=scale');
  // The lesson link keeps the lab's state beside the lesson.
  await t.locator('[data-testid="step-guide"] a.lesson-link').click();
  await t.waitForFunction(() => /lesson=scale/.test(location.hash));
  assert.match(await t.evaluate(() => location.hash), new RegExp(`model=${PHOTO}`));
  assert.deepEqual(offOrigin(t, env.origin), []);
  assert.deepEqual(t.errors.filter((e) => !/favicon/.test(e)), []);
  await t.context().close();
});

test('in Dutch the teacher picks the guide’s photo path: the photo model loads and the steps follow it (nl)', async () => {
  const page = await openPage(env, { hash: 'sample=8&lang=nl', viewport: { width: 390, height: 844 } });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 30000 });
  await page.click('[data-testid="steps-button"]');
  assert.equal((await readStep(page)).key, 'draw', 'a digit page opens the digit path');
  await page.click('[data-testid="steps-path-photo"]');
  assert.equal((await readStep(page)).path, 'photo', 'the guide shows the photo path at once');
  await photoReady(page);
  await page.waitForSelector('[data-testid="flip-eta"][data-eta]', { timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('.step-focus')?.checkVisibility());
  assert.match(page.url(), new RegExp(`model=${PHOTO}`));
  const seen = await walkPhotoSteps(page, { next: 'Volgende stap', back: 'Terug' });
  assert.equal(seen[0].title, '1 · Maak een foto');
  assert.match(seen[1].text, /hond, varken of geen van beide/);
  const why = seen[4];
  assert.match(why.title, /zo weinig ruis/);
  assert.match(why.text, /150\s528/);
  assert.match(why.text, /grijstint/);
  assert.equal(why.link, '#lesson=scale');
  // Back to digits from the guide: the digit path and a digit model again.
  await page.click('[data-testid="steps-path-digits"]');
  await page.waitForFunction(() => document.body.dataset.mode === 'digits' && !globalThis.advlab.lab.isPhoto, null, { timeout: 30000 });
  assert.equal((await readStep(page)).key, 'draw');
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors.filter((e) => !/favicon/.test(e)), []);
  await page.context().close();
});
