// The lessons (#lesson=linear | blackbox | onepixel | curves): each opened by its hash, its key figure checked
// against an independent computation (the weight file parsed here, or the advlab CLI on the same images).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, advlab, ROOT } from './helpers.mjs';

let env;
const pages = [];
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

async function open(name) {
  const page = await openPage(env, { hash: `lesson=${name}` });
  pages.push(page);
  await page.waitForSelector(`[data-testid="lesson-${name}"][data-ready="true"]`, { timeout: 30000 });
  return page;
}

/** A safetensors file: 8-byte little-endian header length, JSON header, then raw little-endian tensors. */
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  const base = 8 + len;
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    assert.equal(info.dtype, 'F32');
    const [a, b] = info.data_offsets;
    const bytes = buf.subarray(base + a, base + b);
    const data = new Float32Array(bytes.length / 4);
    for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(4 * i);
    tensors[name] = { shape: info.shape, data };
  }
  return tensors;
}

/** The dense weight [10, n] and bias of a linear model file. */
function linearModel(r) {
  const t = readSafetensors(path.join(ROOT, `www/models/lessons/mnist-linear-${r}.safetensors`));
  const w = Object.entries(t).find(([k, v]) => k.endsWith('.weight') && v.shape.length === 2)[1];
  const b = Object.entries(t).find(([k, v]) => k.endsWith('.bias') && v.shape.length === 1)[1];
  return { w: w.data, b: b.data, k: w.shape[0], n: w.shape[1] };
}

/** Shipped MNIST test image i as bytes/255, box-averaged to r×r. */
function testImage(i, r) {
  const buf = fs.readFileSync(path.join(ROOT, 'www/samples/mnist-test-images.idx'));
  const x = Array.from(buf.subarray(16 + i * 784, 16 + (i + 1) * 784), (v) => v / 255);
  const f = 28 / r;
  const out = new Array(r * r).fill(0);
  for (let y = 0; y < 28; y++) for (let c = 0; c < 28; c++) out[Math.floor(y / f) * r + Math.floor(c / f)] += x[y * 28 + c] / (f * f);
  return out;
}

async function decomposition(page) {
  return page.$eval('[data-testid="linear-delta"]', (e) => Object.fromEntries(Object.entries(e.dataset).map(([k, v]) => [k, Number(v)])));
}

test('linear view: Δ equals η·Σ|w_t − w_y| from the weight file, for the class pair the weights predict', async () => {
  const page = await open('linear');
  await page.waitForSelector('[data-testid="linear-delta"][data-delta]', { timeout: 30000 });
  const check = async (r, eta) => {
    await page.waitForFunction(
      ([r, eta]) => {
        const d = document.querySelector('[data-testid="linear-delta"]').dataset;
        return Number(d.resolution) === r && Math.abs(Number(d.eta) - eta) < 1e-6;
      },
      [r, eta],
      { timeout: 20000 },
    );
    const d = await decomposition(page);
    const m = linearModel(r);
    assert.equal(d.n, m.n);
    assert.equal(d.n, r * r);
    // The pair (y, t): the clean prediction and the runner-up, from the weights and the image, computed here.
    const x = testImage(d.sample, r);
    const z = Array.from({ length: m.k }, (_, c) => m.b[c] + x.reduce((s, v, i) => s + v * m.w[c * m.n + i], 0));
    const order = z.map((v, c) => [v, c]).sort((a, b) => b[0] - a[0]);
    assert.equal(d.trueClass, order[0][1]);
    assert.equal(d.target, order[1][1]);
    let l1 = 0;
    for (let i = 0; i < m.n; i++) l1 += Math.abs(m.w[d.target * m.n + i] - m.w[d.trueClass * m.n + i]);
    assert.ok(Math.abs(d.delta - eta * l1) < 1e-4, `Δ ${d.delta} vs η·Σ|w| ${eta * l1}`);
    assert.ok(Math.abs(d.m * d.n - l1) < 1e-3 * Math.max(1, l1));
    assert.ok(Math.abs(d.gapBefore - (order[1][0] - order[0][0])) < 1e-3);
    // Clipping can only take away from the linear prediction.
    assert.ok(d.gapAfter <= d.gapBefore + d.delta + 1e-3);
  };
  await check(28, 0.1);
  await page.$eval('#lesson-linear-eta', (e) => {
    e.value = '0.25';
    e.dispatchEvent(new Event('input'));
  });
  await check(28, 0.25);
  await page.$eval('#lesson-res', (e) => {
    e.value = '1';
    e.dispatchEvent(new Event('input'));
  });
  await check(14, 0.25);
  await page.$eval('#lesson-res', (e) => {
    e.value = '0';
    e.dispatchEvent(new Event('input'));
  });
  await check(7, 0.25);
  assert.match(await page.locator('#lesson-linear .lesson-text').innerText(), /Goodfellow/);
  assert.deepEqual(page.errors, []);
});

test('linear view: the flip-η plot gets smaller as n grows', async () => {
  const page = await open('linear');
  await page.waitForFunction(() => JSON.parse(document.querySelector('[data-testid="flip-plot"]').dataset.points || '[]').length > 0, null, { timeout: 60000 });
  const series = JSON.parse(await page.$eval('[data-testid="flip-plot"]', (e) => e.dataset.points));
  const pts = series[0].points.slice().sort((a, b) => a.x - b.x);
  assert.deepEqual(pts.map((p) => p.x), [49, 196, 784]);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i].y < pts[i - 1].y, JSON.stringify(pts));
  // The table shows the same numbers.
  const rows = await page.$$eval('[data-testid="resolution-table"] tbody tr', (trs) => trs.map((r) => [Number(r.dataset.n), Number(r.dataset.flipEta)]));
  assert.deepEqual(rows, pts.map((p) => [p.x, p.y]));
});

test('white box vs black box: the transfer heatmap equals advlab transfer --json for the same N and seed', async () => {
  const page = await open('blackbox');
  await page.waitForSelector('[data-testid="transfer-matrix"] td[data-value]', { timeout: 30000 });
  const meta = await page.$eval('[data-testid="transfer-matrix"]', (e) => ({ ...e.dataset }));
  const cells = await page.$$eval('[data-testid="transfer-matrix"] td[data-value]', (tds) =>
    tds.map((td) => ({ from: td.dataset.from, to: td.dataset.to, value: Number(td.dataset.value), rate: Number(td.dataset.transferRate) })),
  );
  assert.equal(cells.length, 9);
  for (const c of cells) {
    const out = await advlab([
      'transfer', '--from', `www/models/${c.from}.safetensors`, '--to', `www/models/${c.to}.safetensors`,
      '--attack', meta.attack, '--eta', meta.eta, '--n', meta.n, '--seed', meta.seed, '--json',
    ]);
    const cli = JSON.parse(out);
    assert.equal(cli.n, Number(meta.n));
    assert.ok(Math.abs(cli.target_adversarial_accuracy - c.value) < 1e-6, `${c.from}→${c.to}: ${c.value} vs ${cli.target_adversarial_accuracy}`);
    assert.ok(Math.abs(cli.transfer_rate - c.rate) < 1e-6, `${c.from}→${c.to} transfer rate`);
  }
  // The three-way attack on a quick target: every column reports, the query counter counts.
  await page.selectOption('#lesson-bb-target', 'mnist-linear');
  await page.selectOption('#lesson-bb-surrogate', 'mnist-mlp');
  await page.click('#lesson-blackbox button:has-text("Attack three ways")');
  await page.waitForSelector('[data-testid="bb-query"][data-queries]', { timeout: 60000 });
  const q = Number(await page.$eval('[data-testid="bb-query"]', (e) => e.dataset.queries));
  assert.ok(q > 0 && q <= 10000);
  assert.equal(await page.$eval('[data-testid="bb-white"]', (e) => e.dataset.flipped), 'true');
  // Square Attack as the query-only attacker.
  await page.selectOption('#lesson-bb-query', 'square');
  await page.click('#lesson-blackbox button:has-text("Attack three ways")');
  await page.waitForSelector('[data-testid="bb-query"][data-attack="square"][data-queries]', { timeout: 60000 });
  const sq = Number(await page.$eval('[data-testid="bb-query"]', (e) => e.dataset.queries));
  assert.ok(sq > 0 && sq <= 10000);
  assert.deepEqual(page.errors, []);
});

test('one pixel: the attack changes at most k pixels and circles them; the CLI table has k = 1, 3, 5', async () => {
  const page = await open('onepixel');
  await page.selectOption('#lesson-op-model', 'mnist-linear');
  await page.selectOption('[data-testid="onepixel-k"]', '3');
  await page.click('[data-testid="onepixel-run"]');
  await page.waitForSelector('[data-testid="onepixel-result"][data-changed]', { timeout: 120000 });
  const r = await page.$eval('[data-testid="onepixel-result"]', (e) => ({ ...e.dataset }));
  assert.equal(Number(r.k), 3);
  assert.ok(Number(r.changed) >= 1 && Number(r.changed) <= 3, `changed ${r.changed}`);
  assert.equal(r.positions.split(',').length, Number(r.changed));
  const table = await page.$$eval('[data-testid="onepixel-table"] td[data-k]', (tds) => tds.map((td) => [Number(td.dataset.k), Number(td.dataset.value)]));
  assert.equal(table.length, 9);
  for (const [k, v] of table) assert.ok([1, 3, 5].includes(k) && v >= 0 && v <= 1);
  assert.deepEqual(page.errors, []);
});

test('robustness curves: mnist-cnn under FGSM is non-increasing in η and matches advlab eval at η = 0.3', async () => {
  const page = await open('curves');
  const n = 200;
  await page.selectOption('[data-testid="curves-n"]', String(n));
  await page.selectOption('[data-testid="curves-attack"]', 'fgsm');
  for (const m of ['mnist-linear', 'mnist-mlp']) await page.uncheck(`#lesson-curves-${m}`);
  await page.check('#lesson-curves-mnist-cnn');
  await page.click('[data-testid="curves-run"]');
  await page.waitForSelector('[data-testid="curves-plot"][data-done="true"]', { timeout: 240000 });
  const series = JSON.parse(await page.$eval('[data-testid="curves-plot"]', (e) => e.dataset.points));
  const s = series.find((x) => x.model === 'mnist-cnn' && x.attack === 'fgsm');
  assert.ok(s, 'the mnist-cnn FGSM curve');
  assert.equal(s.n, n);
  for (let i = 1; i < s.points.length; i++) assert.ok(s.points[i].y <= s.points[i - 1].y, JSON.stringify(s.points));
  const at = (eta) => s.points.find((p) => Math.abs(p.x - eta) < 1e-9).y;
  const cli = JSON.parse(await advlab(['eval', '--model', 'www/models/mnist-cnn.safetensors', '--attack', 'fgsm', '--eta', '0.3', '--n', String(n), '--seed', '0', '--json']));
  assert.equal(cli.n, n);
  assert.ok(Math.abs(at(0.3) - cli.adversarial_accuracy) <= 0.02, `page ${at(0.3)} vs CLI ${cli.adversarial_accuracy}`);
  assert.ok(Math.abs(at(0) - cli.clean_accuracy) < 1e-9, 'η = 0 is the clean accuracy');
  // The exports exist and the worker count is stated.
  assert.match(await page.locator('[data-testid="curves-status"]').innerText(), /\d/);
  assert.deepEqual(page.errors, []);
});

test('robustness curves: a long run shows progress and cancels at once', async () => {
  const page = await open('curves');
  await page.selectOption('[data-testid="curves-n"]', '500');
  await page.selectOption('[data-testid="curves-attack"]', 'pgd');
  await page.check('#lesson-curves-mnist-cnn');
  await page.click('[data-testid="curves-run"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="curves-progress"]').value) > 0, null, { timeout: 60000 });
  assert.equal(await page.isVisible('[data-testid="curves-cancel"]'), true);
  await page.click('[data-testid="curves-cancel"]');
  await page.waitForSelector('[data-testid="curves-progress"][hidden]', { state: 'attached', timeout: 10000 });
  assert.equal(await page.isDisabled('[data-testid="curves-run"]'), false);
  const status = await page.locator('[data-testid="curves-status"]').innerText();
  assert.match(status, /Cancelled/);
  assert.deepEqual(page.errors, []);
});

test('each lesson: no serious or critical axe-core violation (en, nl), no sideways scrolling at 360 px', async () => {
  // bypassCSP only lets the test inject axe as an inline script; the page itself runs under its strict CSP.
  const axe = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  for (const name of ['linear', 'blackbox', 'onepixel', 'curves']) {
    const context = await env.browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 800 } });
    const page = await openPage(env, { hash: `lesson=${name}`, context });
    pages.push(page);
    await page.waitForSelector(`[data-testid="lesson-${name}"][data-ready="true"]`);
    if (name === 'linear') await page.waitForSelector('[data-testid="resolution-table"] tbody tr', { timeout: 60000 });
    if (name === 'blackbox') await page.waitForSelector('[data-testid="transfer-matrix"] td[data-value]');
    await page.addScriptTag({ content: axe });
    for (const lang of ['en', 'nl']) {
      await page.selectOption('[data-testid="lang-select"]', lang);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
      const result = await page.evaluate(
        (n) => globalThis.axe.run(document.getElementById(`lesson-${n}`), { resultTypes: ['violations'] }),
        name,
      );
      const bad = result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`);
      assert.deepEqual(bad, [], `axe violations in ${name} (${lang})`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${name}: ${overflow} px of sideways scrolling at 360 px`);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});

test('the lessons make no request outside the page origin', () => {
  assert.ok(pages.length >= 5);
  for (const p of pages) assert.deepEqual(offOrigin(p, env.origin), []);
});
