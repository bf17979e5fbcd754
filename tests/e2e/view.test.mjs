// How the main view looks and reads: Dutch with no English left, zero serious or critical axe-core violations,
// and screenshots at phone and projector sizes (target/screenshots/) in which no main panel overlaps another
// and nothing scrolls sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, waitAnalysed, visibleTexts, ROOT } from './helpers.mjs';

const SHOTS = path.join(ROOT, 'target', 'screenshots');
let env;
before(async () => {
  env = await launch();
  fs.mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await env?.close();
});

const en = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/i18n/en.json'), 'utf8'));
const nl = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/i18n/nl.json'), 'utf8'));

test('the Dutch and English tables have the same keys and placeholders', () => {
  assert.deepEqual(Object.keys(nl).sort(), Object.keys(en).sort());
  const vars = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const k of Object.keys(en)) assert.deepEqual(vars(nl[k]), vars(en[k]), k);
});

test('switching to Dutch leaves no English string on the main view', async () => {
  const page = await openPage(env, { hash: 'sample=0&eta=0.25' });
  await waitAnalysed(page);
  await page.click('#gallery summary');
  await page.selectOption('[data-testid="lang-select"]', 'nl');
  await page.waitForFunction(() => document.documentElement.lang === 'nl');
  await waitAnalysed(page);
  assert.match(page.url(), /lang=nl/);
  // English fragments: every English string that differs from its Dutch one, cut at its placeholders.
  const fragments = new Set();
  for (const [k, v] of Object.entries(en)) {
    if (nl[k] === v) continue;
    for (const part of v.split(/\{\w+\}/)) {
      const p = part.trim();
      if (p.length >= 4 && !Object.values(nl).some((n) => n.includes(p))) fragments.add(p);
    }
  }
  const texts = await visibleTexts(page);
  const english = texts.filter((s) => [...fragments].some((f) => s.includes(f)));
  assert.deepEqual(english, [], 'English left on the Dutch page');
  // Numbers follow the locale: η with a decimal comma.
  assert.match(await page.locator('#eta-output').textContent(), /^0,25$/);
  assert.match(await page.locator('[data-testid="flip-eta"]').textContent(), /η = \d+,\d+|tot η = 0,5/);
  // Back to English, everything follows.
  await page.selectOption('[data-testid="lang-select"]', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(await page.locator('#eta-output').textContent(), '0.25');
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('axe-core finds no serious or critical violation on the main view (both languages)', async () => {
  // bypassCSP only lets the test inject axe as an inline script; the page itself runs under its strict CSP.
  const context = await env.browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await openPage(env, { hash: 'sample=0&eta=0.25', context });
  await waitAnalysed(page);
  await page.click('#gallery summary');
  await page.addScriptTag({ content: fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8') });
  for (const lang of ['en', 'nl']) {
    await page.selectOption('[data-testid="lang-select"]', lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
    assert.deepEqual(bad, [], `axe violations in ${lang}`);
  }
  await page.context().close();
});

const overlaps = (a, b) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;

for (const [w, h, name] of [[390, 844, 'phone'], [1920, 1080, 'projector']]) {
  test(`${w}×${h} (${name}): screenshot, no overlapping panels, no sideways scrolling`, async () => {
    const page = await openPage(env, { hash: 'sample=0&eta=0.12', viewport: { width: w, height: h } });
    await waitAnalysed(page);
    await page.waitForSelector('#curve path.adversarial');
    await page.screenshot({ path: path.join(SHOTS, `lab-${w}x${h}.png`), fullPage: false });
    await page.screenshot({ path: path.join(SHOTS, `lab-${w}x${h}-full.png`), fullPage: true });
    const boxes = await page.evaluate(() => {
      const sel = [
        '.input-card', '.attack-card', '.panels-card', '.flip-card',
        '#draw-canvas', '#orig-canvas', '[data-testid="noise-canvas"]', '[data-testid="adv-canvas"]',
        '[data-testid="prediction"]', '[data-testid="adv-prediction"]', '.noise-info', '#curve',
        '[data-testid="eta-slider"]', '[data-testid="flip-eta"]',
      ];
      return sel.map((s) => {
        const r = document.querySelector(s).getBoundingClientRect();
        return { s, x: r.x, y: r.y + scrollY, width: r.width, height: r.height };
      });
    });
    for (const b of boxes) assert.ok(b.width > 0 && b.height > 0, `${b.s} is visible`);
    // Cards must not overlap each other; inside the panels card, pictures, bars and legend must not overlap.
    const groups = [boxes.slice(0, 4), boxes.slice(5, 12)];
    for (const g of groups)
      for (let i = 0; i < g.length; i++)
        for (let j = i + 1; j < g.length; j++) assert.ok(!overlaps(g[i], g[j]), `${g[i].s} overlaps ${g[j].s}`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(sideways <= 0, `the page scrolls sideways by ${sideways}px`);
    // Every text stays inside its card.
    const spill = await page.evaluate(() =>
      [...document.querySelectorAll('.card')].flatMap((card) => {
        const c = card.getBoundingClientRect();
        return [...card.querySelectorAll('p, h2, label, button, select, .bar, figcaption')]
          .filter((e) => e.offsetParent !== null)
          .filter((e) => {
            const r = e.getBoundingClientRect();
            return r.right > c.right + 1 || r.left < c.left - 1;
          })
          .map((e) => e.id || e.className || e.tagName);
      }),
    );
    assert.deepEqual(spill, []);
    await page.context().close();
  });
}
