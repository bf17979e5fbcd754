// Content-Security-Policy: every HTML page carries the strict policy as a meta tag (and the local server sends it as
// a header); using the main view, embed.html and every #lesson= view (drawing, uploading, running an attack) raises
// zero `securitypolicyviolation` events and makes zero requests off the page's origin. A static check finds no inline
// scripts, styles or event handlers in the HTML files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, drawStrokes, DIGITS, ROOT, upload, paperDigit } from './helpers.mjs';
import { CSP } from '../../scripts/serve.mjs';

/** The HTML files that are served to visitors: the top level and www/ (fixtures are test scaffolding). */
const HTML = [
  ...fs.readdirSync(ROOT).filter((f) => f.endsWith('.html')),
  ...fs.readdirSync(path.join(ROOT, 'www')).filter((f) => f.endsWith('.html')).map((f) => `www/${f}`),
];

/** Parses a CSP string into { directive: [sources] }. */
function parseCsp(s) {
  return Object.fromEntries(
    s.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
      const [k, ...v] = d.split(/\s+/);
      return [k.toLowerCase(), v];
    }),
  );
}

function assertStrict(csp, where) {
  const p = parseCsp(csp);
  assert.deepEqual(p['default-src'], ["'self'"], `${where}: default-src 'self'`);
  assert.deepEqual(p['script-src'].slice().sort(), ["'self'", "'wasm-unsafe-eval'"].sort(), `${where}: script-src`);
  assert.deepEqual(p['img-src'].slice().sort(), ["'self'", 'blob:', 'data:'].sort(), `${where}: img-src`);
  assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'|\*|https?:/, `${where}: no unsafe-inline/unsafe-eval/wildcards/hosts`);
}

/** The #lesson= views that exist: every `lesson=NAME` or `lesson: 'NAME'` the page's modules mention. */
function lessons() {
  const names = new Set();
  for (const f of fs.readdirSync(path.join(ROOT, 'www')).filter((f) => f.endsWith('.js'))) {
    const src = fs.readFileSync(path.join(ROOT, 'www', f), 'utf8');
    for (const m of src.matchAll(/lesson(?:=|:\s*['"])([a-z0-9_-]+)/gi)) names.add(m[1]);
  }
  return [...names].sort();
}

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test('static: every served HTML file has the strict CSP meta tag and no inline script, style or handler', () => {
  assert.ok(HTML.includes('index.html') && HTML.includes('embed.html'), HTML.join(','));
  assertStrict(CSP, 'scripts/serve.mjs header');
  for (const f of HTML) {
    const html = fs.readFileSync(path.join(ROOT, f), 'utf8');
    const meta = /<meta\s+http-equiv=["']Content-Security-Policy["']\s+content=("[^"]+"|'[^']+')/i.exec(html);
    assert.ok(meta, `${f} has a CSP meta tag`);
    assertStrict(meta[1].slice(1, -1), f);
    // Inline scripts: every <script> has a src and an empty body.
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      assert.match(m[1], /\bsrc=/, `${f}: inline <script>`);
      assert.equal(m[2].trim(), '', `${f}: <script src> with a body`);
    }
    assert.doesNotMatch(html, /<style\b/i, `${f}: inline <style>`);
    assert.doesNotMatch(html, /\sstyle\s*=/i, `${f}: style= attribute`);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${f}: inline event handler`);
    assert.doesNotMatch(html, /javascript:/i, `${f}: javascript: URL`);
  }
});

test('the server sends the same policy as a header', async () => {
  for (const f of HTML) {
    const r = await fetch(env.url + f);
    assert.equal(r.status, 200);
    assertStrict(r.headers.get('content-security-policy') || '', `${f} header`);
  }
});

/** A fresh context whose pages record CSP violation events (and console reports of them) from the first script on. */
async function watchedContext() {
  const ctx = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  await ctx.addInitScript(() => {
    globalThis.__csp = [];
    document.addEventListener(
      'securitypolicyviolation',
      (e) => globalThis.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
      true,
    );
  });
  return ctx;
}

async function violations(page) {
  const events = await page.evaluate(() => globalThis.__csp);
  const consoleReports = page.errors.filter((e) => /Content Security Policy|Refused to/i.test(e));
  return [...events, ...consoleReports];
}

/** Draws, uploads a photo and runs an iterative attack on the main page (index.html). */
async function exercise(page) {
  await page.click('[data-testid="clear-button"]');
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[3]);
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
  await upload(page, { name: 'seven.png', mimeType: 'image/png', buffer: await paperDigit(page, 'image/png', 300) });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
  await page.selectOption('[data-testid="attack-select"]', 'bim');
  await page.waitForFunction(() => /\d/.test(document.getElementById('job-status').textContent), null, { timeout: 60000 });
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 60000 });
  await page.selectOption('[data-testid="attack-select"]', 'fgsm');
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 20000 });
}

test('the violation recorder works: an injected inline script and an off-origin image are blocked and recorded', async () => {
  const ctx = await watchedContext();
  const page = await openPage(env, { context: ctx });
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.ran = 1';
    document.body.append(s);
    const img = new Image();
    img.src = 'https://example.invalid/x.png';
  });
  await page.waitForFunction(() => globalThis.__csp.length >= 2);
  assert.equal(await page.evaluate(() => window.ran), undefined, 'the inline script did not run');
  const v = await violations(page);
  assert.ok(v.some((e) => /script-src/.test(e)), v.join('\n'));
  assert.ok(v.some((e) => /img-src/.test(e)), v.join('\n'));
  await ctx.close();
});

test('main view: draw, upload, attack → zero CSP violations, zero off-origin requests', async () => {
  const ctx = await watchedContext();
  const page = await openPage(env, { context: ctx, hash: 'model=mnist-cnn' });
  await exercise(page);
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await ctx.close();
});

test('presentation mode and Dutch: zero CSP violations', async () => {
  const ctx = await watchedContext();
  const page = await openPage(env, { context: ctx, hash: 'present=1&lang=nl&sample=4' });
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 20000 });
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await ctx.close();
});

for (const lesson of lessons()) {
  test(`#lesson=${lesson}: zero CSP violations, zero off-origin requests`, async () => {
    const ctx = await watchedContext();
    const page = await openPage(env, { context: ctx, hash: `lesson=${lesson}` });
    // Give the lesson's own scripts time to run, then use the lab the lesson is built on when it is shown.
    await page.waitForTimeout(1500);
    if (await page.locator('[data-testid="draw-canvas"]').isVisible()) {
      await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[7]);
      await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: 20000 });
    }
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(offOrigin(page, env.origin), []);
    await ctx.close();
  });
}

test('embed.html: the widget works with zero CSP violations and zero off-origin requests', async () => {
  const ctx = await watchedContext();
  const page = await openPage(env, { context: ctx, path: 'embed.html', hash: 'model=mnist-cnn&sample=3', waitReady: false });
  await page.waitForSelector('adversarial-lab[data-ready="true"]', { timeout: 30000 });
  await page.locator('adversarial-lab [data-testid="adv-prediction"][data-class]').waitFor({ timeout: 30000 });
  // Move the widget's slider (inside the shadow DOM) so its panels repaint with blob/data images.
  const slider = page.locator('adversarial-lab [data-testid="eta-slider"]');
  if (await slider.count()) {
    await slider.focus();
    await page.keyboard.press('End');
    await page.waitForTimeout(300);
  }
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await ctx.close();
});
