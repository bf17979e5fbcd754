// The audit (#lesson=audit, www/audit/view.js; issue 18): AutoAttack on 100 test images of the FGSM-trained CNN in
// the worker pool, the live table per stage, the fgsm_gap flag in plain words (en, then nl), the robust-accuracy
// curve with the published reference lines (drawn with a real height), cancel with the page still usable, a wrong
// .safetensors file answered with a translated message, the defences lesson's link, zero off-origin requests and no
// console errors. AUDIT_MODEL overrides the model (mnist-cnn-fgsm).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin, I18N, translated, assertTranslated } from './helpers.mjs';

const MODEL = process.env.AUDIT_MODEL || 'mnist-cnn-fgsm';
const N = 100;

let env;
let page;
before(async () => {
  env = await launch();
});
after(async () => {
  await page?.context().close();
  await env?.close();
});

const root = '#lesson-audit';
const waitState = (s, timeout = 120000) => page.waitForSelector(`${root}[data-state="${s}"]`, { timeout });

test(`the audit of ${MODEL} on ${N} images: the table filled stage by stage and the fgsm_gap flag (en, nl)`, async (t) => {
  page = await openPage(env, { hash: `lesson=audit&model=${MODEL}&n=${N}` });
  await page.waitForSelector(`${root}[data-ready="true"]`, { timeout: 30000 });
  assert.equal(await page.locator('#lab').isHidden(), true, 'the audit replaces the lab');
  assert.equal(await page.inputValue('[data-testid="audit-model"]'), MODEL, 'the link preselects the model');
  assert.equal(await page.inputValue('[data-testid="audit-n"]'), String(N));
  // The engine's ε for MNIST, not one the page made up.
  assert.equal(Number(await page.inputValue('[data-testid="audit-eta"]')), 0.3);
  // Plain words first: the takeaway comes before the controls, the formulas sit in a closed fold at the end.
  const first = await page.evaluate(() => {
    const take = document.querySelector('[data-testid="takeaway-audit"]');
    const controls = document.querySelector('#lesson-audit .audit-controls');
    return !!(take.compareDocumentPosition(controls) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  assert.ok(first, 'the takeaway comes before the controls');
  assert.equal(await page.locator('[data-testid="audit-maths"]').getAttribute('open'), null);
  assert.equal((await page.textContent('[data-testid="takeaway-audit"]')).trim(), I18N.en['audit.takeaway']);

  const t0 = Date.now();
  await page.click('[data-testid="audit-start"]');
  // Live: the table fills while images are still running (the first rows before the last image).
  await page.waitForFunction(() => {
    const r = document.querySelector('#lesson-audit');
    return r.dataset.state === 'running' && Number(r.dataset.done) >= 2 && r.querySelector('tr[data-stage="square"][data-accuracy]');
  }, null, { timeout: 60000 });
  assert.ok(await page.isVisible('[data-testid="audit-cancel"]'), 'cancel is offered while it runs');
  await waitState('done', 180000);
  const seconds = (Date.now() - t0) / 1000;
  t.diagnostic(`${N} images of ${MODEL} in ${seconds.toFixed(1)} s (${await page.textContent('[data-testid="audit-status"]')})`);

  const rows = await page.$$eval('[data-testid="audit-table"] tbody tr', (trs) =>
    trs.map((tr) => ({ stage: tr.dataset.stage, acc: Number(tr.dataset.accuracy), text: tr.textContent })));
  assert.deepEqual(rows.map((r) => r.stage), ['clean', 'fgsm', 'apgd-ce', 'apgd-t', 'square']);
  for (const r of rows) assert.ok(Number.isFinite(r.acc) && r.acc >= 0 && r.acc <= 1, `${r.stage}: ${r.acc}`);
  const acc = Object.fromEntries(rows.map((r) => [r.stage, r.acc]));
  // Each stage can only lower the count; AutoAttack is the last row.
  assert.ok(acc['apgd-ce'] <= acc.clean && acc['apgd-t'] <= acc['apgd-ce'] && acc.square <= acc['apgd-t'], JSON.stringify(acc));
  assert.equal(Number(await page.getAttribute(root, 'data-autoattack')), acc.square);
  // The FGSM-trained model: close to 100 % against FGSM, close to 0 % under AutoAttack.
  assert.ok(acc.fgsm - acc.square >= 0.2, `FGSM ${acc.fgsm} vs AutoAttack ${acc.square}`);
  assert.equal(await page.getAttribute('[data-testid="audit-progress"]', 'value'), '1');
  assert.match(await page.textContent('[data-testid="audit-status"]'), translated('en', 'audit.done'));
  assert.match(await page.textContent('[data-testid="audit-headline"]'), translated('en', 'audit.headline'));

  // The flag, in plain words: the numbers filled in, no key, no engine English.
  const flags = (await page.getAttribute(root, 'data-flags')).split(',');
  assert.ok(flags.includes('fgsm_gap'), `flags: ${flags}`);
  const flag = page.locator('[data-testid="audit-flags"] [data-flag="fgsm_gap"]');
  const en = (await flag.textContent()).trim();
  const key = acc.fgsm > acc.clean ? 'audit.flag.fgsm_gap.above' : 'audit.flag.fgsm_gap';
  assertTranslated(en, 'en', key);
  assert.doesNotMatch(en, /\{[a-z_]+\}|gradient masking|Wong et al/, en);
  assert.match(en, /%/);
  assert.match(await page.textContent('[data-testid="audit-live"]'), translated('en', 'audit.liveDone'));

  // One check in Dutch: the language switch re-renders the flag.
  await page.selectOption('[data-testid="lang-select"]', 'nl');
  await page.waitForFunction(() => document.documentElement.lang === 'nl');
  const nl = (await flag.textContent()).trim();
  assertTranslated(nl, 'nl', key);
  assert.notEqual(nl, en);
  assert.match(await page.textContent('[data-testid="audit-table"] tr[data-stage="square"] th'), translated('nl', 'audit.row.square'));
  // Nothing stays English: no audit text of the English table (its fixed parts) in the Dutch view.
  // (What is on screen: the live region keeps the announcement it made in English, as a screen reader heard it.)
  const shown = await page.evaluate(() => {
    const live = document.querySelector('[data-testid="audit-live"]');
    const keep = live.textContent;
    live.textContent = '';
    const text = document.querySelector('#lesson-audit').innerText;
    live.textContent = keep;
    return text;
  });
  for (const [k, v] of Object.entries(I18N.en)) {
    if (!k.startsWith('audit.') || v === I18N.nl[k]) continue;
    const fixed = v.split(/\{[A-Za-z]+\}/).map((x) => x.trim()).filter((x) => x.length >= 12);
    for (const part of fixed) assert.ok(!shown.includes(part), `English “${part}” (${k}) in the Dutch view`);
  }
  await page.selectOption('[data-testid="lang-select"]', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.deepEqual(page.errors, []);
});

test('the curve: robust accuracy against ε with the published reference lines, drawn with a real height', async (t) => {
  const before = await page.locator('[data-testid="audit-curve-svg"]').boundingBox();
  assert.ok(before.height > 150, `the empty chart already has its height (${before.height} px)`);
  // The published figures are there before anything is measured: four labelled lines, each in the legend.
  assert.equal(await page.locator('[data-testid="audit-curve"] line[data-ref]').count(), 4);
  const t0 = Date.now();
  await page.click('[data-testid="audit-curve-run"]');
  await page.waitForSelector('[data-testid="audit-curve"][data-done="true"]', { timeout: 240000 });
  t.diagnostic(`curve in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${await page.textContent('[data-testid="audit-curve-status"]')}`);
  const box = await page.locator('[data-testid="audit-curve-svg"]').boundingBox();
  assert.ok(box.height > 150 && box.width > 300, `chart box ${box.width}×${box.height}`);
  const series = JSON.parse(await page.getAttribute('[data-testid="audit-curve"]', 'data-points'));
  assert.equal(series.length, 2, 'FGSM and AutoAttack');
  for (const s of series) assert.equal(s.points.length, 5, `${s.name}: ε = 0 and four strengths`);
  const aa = series[1].points;
  assert.ok(aa[aa.length - 1].y <= aa[0].y, 'AutoAttack accuracy falls with ε');
  // Lines that are really drawn: two polylines with a non-zero extent, four reference lines across the plot.
  const drawn = await page.$$eval('[data-testid="audit-curve-svg"] polyline', (ps) => ps.map((p) => p.getBoundingClientRect()).filter((r) => r.width > 50).length);
  assert.ok(drawn >= 2, `${drawn} polylines drawn`);
  const legend = await page.$$eval('[data-testid="audit-curve"] .plot-legend li.ref', (lis) => lis.map((li) => li.textContent));
  assert.equal(legend.length, 4);
  assert.match(legend.join(' '), /96\.34/);
  assert.match(legend.join(' '), /92\.81.*95\.60/);
  assert.match(legend.join(' '), /88\.50.*89\.62/);
  assert.match(legend.join(' '), /64\.00.*0\.00/);
  assert.deepEqual(page.errors, []);
});

test('cancel stops the audit at once, keeps what was done, and the page stays usable', async () => {
  // Another ε: nothing cached, every image is new work.
  await page.fill('[data-testid="audit-eta"]', '0.2');
  await page.dispatchEvent('[data-testid="audit-eta"]', 'change');
  await page.fill('[data-testid="audit-n"]', '200');
  await page.dispatchEvent('[data-testid="audit-n"]', 'change');
  assert.match(await page.evaluate(() => location.hash), /eta=0\.2/);
  await page.click('[data-testid="audit-start"]');
  await page.waitForFunction(() => Number(document.querySelector('#lesson-audit').dataset.done) >= 1, null, { timeout: 60000 });
  const t0 = Date.now();
  await page.click('[data-testid="audit-cancel"]');
  await waitState('cancelled', 10000);
  assert.ok(Date.now() - t0 < 5000, 'cancelled within seconds');
  const status = await page.textContent('[data-testid="audit-status"]');
  assert.match(status, translated('en', 'audit.cancelled'));
  // What was done stays: the table shows the images finished before the cancel.
  const kept = Number(await page.getAttribute(root, 'data-done'));
  assert.ok(kept >= 1 && kept < 200, `${kept} images kept`);
  assert.match(await page.textContent('[data-testid="audit-headline"]'), new RegExp(`on ${kept} images`));
  assert.equal(await page.isHidden('[data-testid="audit-cancel"]'), true);
  assert.equal(await page.isEnabled('[data-testid="audit-start"]'), true);
  // Usable again: a small audit at a new ε (no outcome cached) runs to the end on the restarted workers.
  await page.fill('[data-testid="audit-eta"]', '0.15');
  await page.dispatchEvent('[data-testid="audit-eta"]', 'change');
  await page.fill('[data-testid="audit-n"]', '4');
  await page.dispatchEvent('[data-testid="audit-n"]', 'change');
  await page.click('[data-testid="audit-start"]');
  await waitState('done', 60000);
  assert.equal(await page.getAttribute(root, 'data-done'), '4');
  assert.equal(await page.isVisible('[data-testid="audit-message"]'), false, 'no error after a cancel');
  assert.deepEqual(page.errors, []);
});

test('a wrong .safetensors file gets a translated message; the shipped model stays', async () => {
  await page.setInputFiles('[data-testid="audit-file"]', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a model file at all, only words') });
  await page.waitForSelector('[data-testid="audit-message"]:not([hidden])', { timeout: 15000 });
  assertTranslated((await page.textContent('[data-testid="audit-message"]')).trim(), 'en', 'audit.badFile');
  assert.equal(await page.inputValue('[data-testid="audit-model"]'), MODEL);
  await page.setInputFiles('[data-testid="audit-file"]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.waitForFunction(() => document.querySelector('[data-testid="audit-message"]').dataset.key === 'audit.notSafetensors');
  assertTranslated((await page.textContent('[data-testid="audit-message"]')).trim(), 'en', 'audit.notSafetensors');
  // A real model file opened from disk is audited like a shipped one (read locally: no request for it).
  const fs = await import('node:fs');
  const { ROOT } = await import('./helpers.mjs');
  const bytes = fs.readFileSync(`${ROOT}/www/models/mnist-linear.safetensors`);
  const requests = page.requests.length;
  await page.setInputFiles('[data-testid="audit-file"]', { name: 'my-linear.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
  await page.waitForFunction(() => /^audit-file/.test(document.querySelector('[data-testid="audit-model"]').value));
  assert.equal(await page.isVisible('[data-testid="audit-message"]'), false);
  assert.match(await page.textContent('[data-testid="audit-model"] option:checked'), /my-linear\.safetensors/);
  await page.fill('[data-testid="audit-n"]', '3');
  await page.dispatchEvent('[data-testid="audit-n"]', 'change');
  await page.click('[data-testid="audit-start"]');
  await waitState('done', 60000);
  assert.ok(page.requests.slice(requests).every((u) => !/safetensors/.test(u)), 'the file was never fetched or sent');
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
});

test('the defences lesson links to the audit with mnist-cnn-fgsm preselected', async () => {
  const p = await openPage(env, { hash: 'lesson=defences' });
  await p.waitForSelector('[data-testid="def-audit-link"]', { timeout: 30000 });
  assert.equal(await p.getAttribute('[data-testid="def-audit-link"]', 'href'), '#lesson=audit&model=mnist-cnn-fgsm');
  await p.click('[data-testid="def-audit-link"]');
  await p.waitForSelector(`${root}[data-ready="true"]:not([hidden])`, { timeout: 30000 });
  assert.equal(await p.inputValue('[data-testid="audit-model"]'), 'mnist-cnn-fgsm');
  assert.equal(await p.isHidden('#lesson-defences'), true);
  assert.deepEqual(offOrigin(p, env.origin), []);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});
