// The first five minutes in a classroom (issue 16): a fresh visit shows the claim (a flip at L∞ ≤ 0.1, with the
// model's typical flip η beside it); the slider, the adversarial image and the verdict fit on one screen at three
// sizes; present mode shows the lab and nothing else; a classroom link has no teacher chrome (teacher=1 brings it
// back); the Embed snippet's height shows the slider; nothing moves after the first paint. Screenshots of each
// view at the three sizes in en and nl go to target/screenshots/first5-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, waitAnalysed, offOrigin, ROOT, unionBox, inViewport } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'target', 'screenshots');
const SIZES = [
  [1920, 1080],
  [1366, 768],
  [390, 844],
];
const typical = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/models/flip-etas.json'), 'utf8'));

let env;
before(async () => {
  env = await launch();
  fs.mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await env?.close();
});

test('a fresh visit shows a flip at L∞ ≤ 0.1, and how typical that is', async () => {
  const page = await openPage(env);
  await waitAnalysed(page);
  await page.waitForFunction(() => globalThis.advlab?.R?.adv);
  const st = await page.evaluate(() => ({ eta: advlab.S.eta, norm: advlab.S.norm, attack: advlab.S.attack, model: advlab.R.model.id, linf: advlab.R.adv.linf, sample: advlab.S.sample }));
  assert.equal(st.norm, 'linf');
  assert.equal(st.attack, 'fgsm');
  assert.ok(st.eta <= 0.1, `default η ${st.eta}`);
  assert.ok(st.linf <= 0.1 + 1e-6, `L∞ of the adversarial ${st.linf}`);
  const before = Number(await page.locator('[data-testid="prediction"]').getAttribute('data-class'));
  const afterClass = Number(await page.locator('[data-testid="adv-prediction"]').getAttribute('data-class'));
  assert.notEqual(afterClass, before, 'the adversarial image is classified differently');
  assert.ok(await page.locator('[data-testid="adv-prediction"]').evaluate((e) => e.classList.contains('flipped')));
  const flip = Number(await page.locator('[data-testid="flip-eta"]').getAttribute('data-eta'));
  assert.ok(flip > 0 && flip <= st.eta, `flip point ${flip} at or below the default η`);
  // Beside it: the model's median flip η over test images, from the committed measurement.
  const median = typical.models[st.model].median;
  assert.ok(median > flip, 'the first image is an easy one, and the page says how typical it is');
  assert.equal(Number(await page.locator('[data-testid="flip-typical"]').getAttribute('data-median')), median);
  assert.match(await page.locator('[data-testid="flip-typical"]').textContent(), new RegExp(`η = ${median}`));
  // The link now names the image, so it can be shared.
  assert.match(page.url(), new RegExp(`sample=${st.sample}`));
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [w, h] of SIZES) {
  test(`${w}×${h}: the slider, the adversarial image and the verdict are on screen together while η moves`, async () => {
    const page = await openPage(env, { viewport: { width: w, height: h } });
    await waitAnalysed(page);
    const sels = ['[data-testid="eta-slider"]', '[data-testid="adv-canvas"]', '#adv-verdict'];
    // The three together fit in the viewport: scroll to the top of their union and all three are inside.
    const union = await unionBox(page, sels);
    assert.ok(union.bottom - union.top <= h, `slider, image and verdict span ${union.bottom - union.top}px > ${h}px`);
    await page.evaluate((y) => scrollTo(0, Math.max(0, y)), union.top - 8);
    const slider = page.locator('[data-testid="eta-slider"]');
    await slider.focus();
    const eta0 = await page.evaluate(() => advlab.S.eta);
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((e) => advlab.S.eta !== e, eta0);
    await page.waitForTimeout(200);
    const inside = await inViewport(page, sels);
    assert.deepEqual(inside, Object.fromEntries(sels.map((s) => [s, true])), `at ${w}×${h}`);
    await page.context().close();
  });
}

test('present mode: the panels, the verdict, the slider and the flip chart fill the screen, nothing else', async () => {
  for (const [w, h] of SIZES.slice(0, 2)) {
    const page = await openPage(env, { hash: 'sample=8&present=1', viewport: { width: w, height: h } });
    await waitAnalysed(page);
    await page.waitForSelector('#curve path.adversarial');
    const vis = await page.evaluate(() => {
      const v = (s) => [...document.querySelectorAll(s)].some((e) => e.checkVisibility());
      return {
        panels: v('.panels-card'), verdict: v('#adv-verdict'), slider: v('[data-testid="eta-slider"]'), chart: v('#curve'),
        input: v('.input-card'), nav: v('.lesson-nav'), brand: v('.brand'), foot: v('.foot'), teacher: v('#teacher-button'),
        steps: v('#steps-button'), embed: v('#embed-button'), attackSelect: v('#attack-select'), model: v('#model-select'), share: v('.actions'),
      };
    });
    assert.deepEqual(vis, {
      panels: true, verdict: true, slider: true, chart: true,
      input: false, nav: false, brand: false, foot: false, teacher: false, steps: false, embed: false, attackSelect: false, model: false, share: false,
    });
    const inside = await inViewport(page, ['.panels-card', '#adv-verdict', '[data-testid="eta-slider"]', '#curve']);
    assert.ok(Object.values(inside).every(Boolean), `everything on one screen at ${w}×${h}: ${JSON.stringify(inside)}`);
    // The result's bars are readable from the back: wider than the 40 px of before.
    const bar = await page.locator('#adv-bars .bar-track').first().boundingBox();
    assert.ok(bar.width >= 80, `bars ${bar.width}px wide`);
    await page.screenshot({ path: path.join(SHOTS, `first5-present-${w}x${h}-en.png`) });
    await page.context().close();
  }
});

test('a classroom link shows no teacher chrome; teacher=1 brings it back', async () => {
  const chrome = (p) =>
    p.evaluate(() => ['.classroom-bar', '.lesson-nav', '#teacher-button', '#steps-button', '#embed-button'].map((s) => document.querySelector(s).checkVisibility()));
  const cls = await openPage(env, { hash: 'sample=8&controls=eta,attack' });
  await waitAnalysed(cls);
  assert.deepEqual(await chrome(cls), [false, false, false, false, false]);
  assert.equal(await cls.locator('[data-testid="eta-slider"]').isVisible(), true);
  assert.equal(await cls.locator('[data-testid="model-select"]').isVisible(), false);
  await cls.screenshot({ path: path.join(SHOTS, 'first5-classroom-1366x768-en.png') });
  await cls.context().close();
  const teacher = await openPage(env, { hash: 'sample=8&controls=eta,attack&teacher=1' });
  await waitAnalysed(teacher);
  assert.deepEqual(await chrome(teacher), [true, true, true, true, true]);
  // The student's controls are still the link's.
  assert.equal(await teacher.locator('[data-testid="model-select"]').isVisible(), false);
  // The teacher panel's link is the students' one: no teacher=1 in it.
  await teacher.click('[data-testid="teacher-button"]');
  assert.doesNotMatch(await teacher.locator('[data-testid="classroom-link"]').inputValue(), /teacher=/);
  await teacher.context().close();
});

test("the Embed snippets: the page's origin, the measured height shows the slider, no cut lines", async () => {
  const page = await openPage(env, { hash: 'model=mnist-cnn&sample=8&eta=0.1' });
  await waitAnalysed(page);
  await page.click('[data-testid="embed-button"]');
  await page.waitForSelector('[data-testid="embed-dialog"][data-measured]', { timeout: 40000 });
  const measured = Number(await page.locator('[data-testid="embed-dialog"]').getAttribute('data-measured'));
  assert.ok(measured > 560, `measured ${measured}`);
  const iframe = await page.locator('[data-testid="embed-iframe"]').inputValue();
  const component = await page.locator('[data-testid="embed-component"]').inputValue();
  assert.ok(iframe.startsWith(`<iframe src="${env.origin}/embed.html#`), iframe);
  assert.ok(component.includes(`src="${env.origin}/www/adversarial-lab.js"`), component);
  assert.match(iframe, new RegExp(`height="${measured}"`));
  // Neither box hides a line.
  for (const id of ['embed-iframe', 'embed-component']) {
    const { sh, ch } = await page.locator(`[data-testid="${id}"]`).evaluate((e) => ({ sh: e.scrollHeight, ch: e.clientHeight }));
    assert.ok(sh <= ch + 1, `${id}: ${sh} > ${ch}`);
  }
  // The dialog says where each works.
  const text = await page.locator('[data-testid="embed-dialog"]').textContent();
  assert.match(text, /any site/);
  assert.match(text, /serves these files itself/);
  await page.screenshot({ path: path.join(SHOTS, 'first5-embed-dialog-1280x900-en.png') });

  // Pasted into an article column 700 px wide, the iframe shows the whole widget down to its slider.
  const article = await page.context().newPage();
  await article.setViewportSize({ width: 760, height: 1200 });
  await article.goto(env.url + 'tests/e2e/fixtures/article.html');
  await article.locator('#host').evaluate((el, html) => {
    el.style.width = '700px';
    el.innerHTML = html;
  }, iframe);
  const frame = article.frameLocator('iframe');
  await frame.locator('#lab[data-ready="true"]').waitFor({ timeout: 30000 });
  const frameBox = await article.locator('iframe').boundingBox();
  const inFrame = await article.locator('iframe').evaluate((f) => {
    const d = f.contentDocument;
    const lab = d.getElementById('lab');
    const slider = lab.shadowRoot.querySelector('[data-testid="eta-slider"]');
    return { slider: slider.getBoundingClientRect().bottom, doc: d.documentElement.scrollHeight, inner: f.contentWindow.innerHeight };
  });
  assert.ok(Math.abs(frameBox.height - measured) <= 1, `frame ${frameBox.height}px, snippet ${measured}px`);
  assert.ok(inFrame.slider <= inFrame.inner, `slider bottom ${inFrame.slider} inside the frame's ${inFrame.inner}px`);
  assert.ok(inFrame.doc <= inFrame.inner + 1, `the whole widget (${inFrame.doc}px) fits the frame (${inFrame.inner}px)`);
  await page.context().close();
});

test('dark embed: "Open the full lab" ≥ 4.5:1 and the perturbation panel is not white', async () => {
  const page = await openPage(env, { path: 'embed.html', hash: 'model=mnist-cnn&sample=8&theme=dark' });
  await page.locator('#lab [data-testid="adv-prediction"][data-class]').waitFor({ timeout: 30000 });
  const { fg, bg } = await page.evaluate(() => ({ fg: getComputedStyle(document.getElementById('open-full')).color, bg: getComputedStyle(document.body).backgroundColor }));
  const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const x = v / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [l1, l2] = [lum(rgb(fg)), lum(rgb(bg))].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)}:1 (${fg} on ${bg})`);
  // The perturbation panel's mean brightness as the reader sees it (a screenshot of it): dark where δ = 0.
  const shot = await page.locator('#lab [data-testid="noise-canvas"]').screenshot();
  const mean = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    for (let i = 0; i < d.length; i += 4) s += (d[i] + d[i + 1] + d[i + 2]) / 3;
    return s / (d.length / 4);
  }, shot.toString('base64'));
  assert.ok(mean < 150, `perturbation panel mean brightness ${mean.toFixed(0)} of 255`);
  await page.screenshot({ path: path.join(SHOTS, 'first5-embed-dark-1280x900.png') });
  await page.context().close();
});

// (#lesson=linear's own shifts come from the lesson's content, www/lessons/: not checked here.)
test('nothing moves after the first paint: layout shift ≤ 0.05 on / and /embed.html', async () => {
  for (const [p, hash] of [['index.html', ''], ['embed.html', 'model=mnist-linear&sample=3']]) {
    for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
      const ctx = await env.browser.newContext({ viewport, serviceWorkers: 'block' });
      const page = await ctx.newPage();
      await page.addInitScript(() => {
        globalThis.__cls = 0;
        new PerformanceObserver((l) => {
          for (const e of l.getEntries()) if (!e.hadRecentInput) globalThis.__cls += e.value;
        }).observe({ type: 'layout-shift', buffered: true });
      });
      await page.goto(env.url + p + (hash ? '#' + hash : ''));
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
      await page.waitForTimeout(2500);
      const cls = await page.evaluate(() => globalThis.__cls);
      assert.ok(cls <= 0.05, `${p}#${hash} at ${viewport.width}×${viewport.height}: CLS ${cls.toFixed(3)}`);
      await ctx.close();
    }
  }
});

test('screenshots: every view this issue touched, at three sizes, in en and nl', async () => {
  const views = [
    ['lab', 'index.html', (l) => (l === 'nl' ? 'sample=8&lang=nl' : '')],
    ['present', 'index.html', (l) => `sample=8&present=1&lang=${l}`],
    ['classroom', 'index.html', (l) => `sample=8&controls=eta,attack&lang=${l}`],
    ['embed', 'embed.html', (l) => `model=mnist-cnn&sample=8&lang=${l}`],
    ['embed-dark', 'embed.html', (l) => `model=mnist-cnn&sample=8&theme=dark&lang=${l}`],
  ];
  for (const lang of ['en', 'nl']) {
    for (const [w, h] of SIZES) {
      for (const [name, p, hash] of views) {
        const page = await openPage(env, { path: p, hash: hash(lang), viewport: { width: w, height: h } });
        if (p === 'index.html') {
          await waitAnalysed(page);
          await page.waitForSelector('#curve path.adversarial');
        } else await page.locator('#lab [data-testid="adv-prediction"][data-class]').waitFor({ timeout: 30000 });
        await page.waitForTimeout(150);
        await page.screenshot({ path: path.join(SHOTS, `first5-${name}-${w}x${h}-${lang}.png`) });
        await page.context().close();
      }
    }
  }
});
