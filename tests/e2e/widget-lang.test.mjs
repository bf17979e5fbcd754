// Issue 14: translation per root. A Dutch widget next to an English one (and a page in a third state) each render
// in their own language, through the one translation pass (data-i18n), and none of them switches the page's
// language (i18n.js inLang: the widget's text is written in its own language and the page's is restored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test('a Dutch widget and an English widget on one page: each in its own language, the page language untouched', async () => {
  const page = await openPage(env, { path: 'embed.html', hash: 'lang=nl&sample=1&model=mnist-linear' });
  try {
    await page.waitForSelector('#lab[data-ready="true"]', { timeout: 60000 });
    await page.evaluate(() => {
      const w = document.createElement('adversarial-lab');
      w.id = 'second';
      w.setAttribute('lang', 'en');
      w.setAttribute('model', 'mnist-linear');
      w.setAttribute('sample', '2');
      document.body.append(w);
    });
    await page.waitForSelector('#second[data-ready="true"]', { timeout: 60000 });
    await page.locator('#second [data-testid="adv-prediction"][data-class]').waitFor({ timeout: 30000 });
    // Move the Dutch widget's slider after the English one rendered: both keep their language.
    await page.locator('#lab [data-testid="eta-slider"]').evaluate((el) => {
      el.value = String(Number(el.max) >> 1);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.waitForTimeout(500);
    const label = (sel) => page.locator(`${sel} .eta-label span[data-i18n="slider.label"]`).textContent();
    assert.equal(await label('#lab'), 'Grootte van de verstoring');
    assert.equal(await label('#second'), 'Perturbation size');
    const flip = (sel) => page.locator(`${sel} [data-testid="flip-eta"]`).textContent();
    assert.match(await flip('#second'), /^(The answer flips at|No flip up to) η = /, 'the English widget writes English');
    assert.match(await flip('#lab'), /^(Het antwoord slaat om bij|Geen omslag tot) η = /, 'the Dutch widget writes Dutch');
    const pageLang = await page.evaluate(async () => (await import('./www/i18n.js')).lang());
    assert.equal(pageLang, 'nl', "embed.html's own language (from its hash) is still the page's");
    assert.equal(await page.locator('#open-full').textContent(), await page.evaluate(async () => (await import('./www/i18n.js')).t('embed.openFull')));
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});
