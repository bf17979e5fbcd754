// axe-core on every view that lessons.test.mjs (the four inline lessons) does not scan (issue 16): the lab, the
// defences and training lessons, present mode, the classroom panel and the step-by-step guide, the Embed dialog,
// and the embedded widget in its dark theme, each in English and Dutch. Zero serious or critical violations.
// bypassCSP only lets the test inject axe as an inline script; the pages themselves run under their strict CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, waitAnalysed, offOrigin, ROOT } from './helpers.mjs';

const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

/** The serious and critical violations axe finds in `scope` (a selector; the whole document by default). */
async function serious(page, scope = null) {
  if (!(await page.evaluate(() => !!globalThis.axe))) await page.addScriptTag({ content: AXE });
  const result = await page.evaluate((s) => globalThis.axe.run(s ? document.querySelector(s) : document, { resultTypes: ['violations'] }), scope);
  assert.ok(result.passes.length + result.incomplete.length + result.inapplicable.length > 0, 'axe ran its rules');
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

/** Each view: how to open it, what to wait for, and the part of the page axe scans. */
const VIEWS = [
  {
    name: 'the lab',
    hash: 'model=mnist-cnn&sample=3&eta=0.1',
    ready: (page) => waitAnalysed(page),
  },
  {
    name: 'defences',
    hash: 'lesson=defences',
    ready: (page) => page.waitForSelector('[data-testid="lesson-defences"][data-busy="false"]', { timeout: 60000 }),
  },
  {
    name: 'training',
    hash: 'lesson=train',
    ready: (page) => page.waitForSelector('[data-testid="lesson-train"]:not([hidden]) button', { timeout: 30000 }),
  },
  {
    name: 'present mode',
    hash: 'sample=8&present=1',
    ready: async (page) => {
      await waitAnalysed(page);
      await page.waitForSelector('#curve path.adversarial');
    },
  },
  {
    name: 'the classroom panel and the step-by-step guide',
    hash: 'sample=8&teacher=1',
    ready: async (page) => {
      await waitAnalysed(page);
      await page.click('[data-testid="teacher-button"]');
      await page.waitForSelector('#teacher-panel:not([hidden])');
      await page.click('[data-testid="steps-button"]');
      await page.waitForFunction(() => [...document.querySelectorAll('.step-guide')].some((e) => e.checkVisibility()));
    },
  },
  {
    name: 'the Embed dialog',
    hash: 'model=mnist-cnn&sample=8&eta=0.1',
    ready: async (page) => {
      await waitAnalysed(page);
      await page.click('[data-testid="embed-button"]');
      await page.waitForSelector('[data-testid="embed-dialog"][data-measured]', { timeout: 40000 });
    },
    // A modal dialog makes the rest of the page inert: scan what the reader can reach.
    scope: '[data-testid="embed-dialog"]',
  },
];

for (const view of VIEWS) {
  test(`axe-core: no serious or critical violation in ${view.name} (en, nl)`, { timeout: 180000 }, async () => {
    for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
      for (const lang of ['en', 'nl']) {
        // The language comes with the link (present mode hides the language switch).
        const context = await env.browser.newContext({ bypassCSP: true, viewport, serviceWorkers: 'block' });
        const page = await openPage(env, { hash: `${view.hash}&lang=${lang}`, context });
        await view.ready(page);
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
        assert.deepEqual(await serious(page, view.scope), [], `${view.name}, ${lang}, ${viewport.width} px`);
        assert.deepEqual(page.errors, [], `${view.name}: page errors`);
        assert.deepEqual(offOrigin(page, env.origin), []);
        await context.close();
      }
    }
  });
}

test('axe-core: the embedded widget in its dark theme has no serious or critical violation (en, nl)', async () => {
  for (const lang of ['en', 'nl']) {
    const context = await env.browser.newContext({ bypassCSP: true, serviceWorkers: 'block' });
    const page = await openPage(env, { path: 'embed.html', hash: `model=mnist-linear&sample=3&theme=dark&lang=${lang}`, context });
    await page.locator('#lab [data-testid="adv-prediction"][data-class]').waitFor({ timeout: 30000 });
    assert.ok(await page.evaluate(() => document.body.classList.contains('dark')), 'the dark theme is on');
    const widgetLang = await page.locator('#lab').evaluate((host) => host.shadowRoot.querySelector('.w').lang);
    assert.equal(widgetLang, lang);
    assert.deepEqual(await serious(page), [], `dark widget, ${lang}`);
    assert.deepEqual(page.errors, []);
    assert.deepEqual(offOrigin(page, env.origin), []);
    await context.close();
  }
});
