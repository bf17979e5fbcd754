// Defences and training lessons: #lesson=defences puts the standard and a robust CNN side by side (the robust one
// keeps its answer where the standard one flips, same image, same attack, η = 0.3); #lesson=train trains the
// linear model for one epoch of the shipped subset in a worker (≥ 85 % held out) while the page stays responsive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, offOrigin } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

const idle = (page) => page.waitForSelector('[data-testid="lesson-defences"][data-busy="false"]', { timeout: 60000 });

test('#lesson=defences: the robust CNN keeps its answer where the standard CNN flips (FGSM, η = 0.3)', async () => {
  const page = await openPage(env, { hash: 'lesson=defences' });
  await page.waitForSelector('[data-testid="lesson-defences"]:not([hidden])');
  assert.equal(await page.locator('#lab').isHidden(), true, 'the lab gives way to the lesson');
  await idle(page);
  assert.equal(await page.inputValue('[data-testid="def-eta"]'), '0.3');
  let found = null;
  for (let i = 0; i < 15 && !found; i++) {
    const cols = await page.evaluate(() =>
      ['mnist-cnn', 'mnist-cnn-adv'].map((id) => {
        const c = document.querySelector(`[data-testid="column-${id}"]`);
        return { id, before: c.dataset.before, after: c.dataset.after, text: c.querySelector('.verdict').textContent };
      }),
    );
    const [std, rob] = cols;
    if (std.before !== std.after && rob.before === rob.after && std.before === rob.before) found = { std, rob, i };
    else {
      const prev = await page.getAttribute('[data-testid="lesson-defences"]', 'data-sample');
      await page.click('[data-testid="def-next"]');
      await page.waitForFunction(
        (p) => {
          const r = document.querySelector('[data-testid="lesson-defences"]');
          return r.dataset.busy === 'false' && r.dataset.sample !== p;
        },
        prev,
        { timeout: 60000 },
      );
    }
  }
  assert.ok(found, 'within 15 test images, one is flipped on the standard CNN and kept by the robust one');
  assert.match(found.std.text, /attack worked/);
  assert.match(found.rob.text, /attack failed/);
  // The robustness curves are drawn: one line per MNIST CNN (standard, PGD-trained, ensemble, FGSM-trained).
  assert.equal(await page.locator('[data-testid="def-curves"] polyline').count(), 4);
  // …and readable: a real height, the five η ticks in order under the plot, the six % ticks, a legend line per
  // model, and no two of the chart's texts on top of each other (end labels once overlapped where the curves meet).
  const geo = await page.evaluate(() => {
    const fig = document.querySelector('[data-testid="def-curves"]');
    const svg = fig.querySelector('svg');
    const box = (n) => n.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].map((n) => ({ s: n.textContent, ...JSON.parse(JSON.stringify(box(n))) }));
    return { svg: JSON.parse(JSON.stringify(box(svg))), texts, legend: [...fig.querySelectorAll('.plot-legend li')].map((li) => li.textContent) };
  });
  assert.ok(geo.svg.height >= 150 && geo.svg.width >= 300, `chart ${geo.svg.width}×${geo.svg.height}`);
  const xTicks = geo.texts.filter((x) => /^0([.,][1-4])?$/.test(x.s));
  assert.deepEqual(xTicks.map((x) => x.s), ['0', '0.1', '0.2', '0.3', '0.4']);
  const mid = (b) => b.left + b.width / 2;
  for (let i = 1; i < xTicks.length; i++) assert.ok(mid(xTicks[i]) > mid(xTicks[i - 1]) + 20, 'η ticks left to right');
  assert.ok(xTicks.every((b) => b.left >= geo.svg.left && b.right <= geo.svg.right), 'η ticks inside the chart');
  assert.deepEqual(geo.texts.filter((x) => /%$/.test(x.s)).map((x) => x.s), ['0%', '20%', '40%', '60%', '80%', '100%']);
  assert.equal(geo.legend.length, 4);
  const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const [i, a] of geo.texts.entries()) for (const b of geo.texts.slice(i + 1)) assert.ok(!overlap(a, b), `"${a.s}" overlaps "${b.s}"`);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('#lesson=train: one epoch of the linear model reaches ≥ 85 % on the held-out images, then it is attacked', async () => {
  const page = await openPage(env, { hash: 'lesson=train' });
  await page.waitForSelector('[data-testid="lesson-train"]:not([hidden])');
  await page.selectOption('[data-testid="train-arch"]', 'linear');
  await page.fill('[data-testid="train-epochs"]', '1');
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="lesson-train"][data-heldout]', { timeout: 60000 });
  const acc = Number(await page.getAttribute('[data-testid="lesson-train"]', 'data-heldout'));
  assert.ok(acc >= 0.85, `held-out accuracy ${acc}`);
  assert.equal(await page.getAttribute('[data-testid="train-progress"]', 'value'), '1');
  assert.ok((await page.locator('[data-testid="train-chart"] polyline').count()) >= 2, 'loss and accuracy curves');
  // The trained model is attacked: a verdict appears; η = 0.5 flips a linear model.
  await page.fill('[data-testid="train-eta"]', '0.5');
  await page.waitForSelector('[data-testid="lesson-train"][data-attacked="true"]', { timeout: 15000 });
  assert.match(await page.textContent('[data-testid="train-attack"]'), /0[.,]5/);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('#lesson=train: the page answers a slider within 100 ms while an MLP trains; pause and stop work', async () => {
  const page = await openPage(env, { hash: 'lesson=train' });
  await page.waitForSelector('[data-testid="lesson-train"]:not([hidden])');
  await page.selectOption('[data-testid="train-arch"]', 'mlp');
  await page.fill('[data-testid="train-hidden"]', '256');
  await page.fill('[data-testid="train-epochs"]', '10');
  await page.click('[data-testid="train-start"]');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="train-progress"]').value) > 0, null, {
    timeout: 30000,
  });
  const delays = [];
  for (let i = 0; i < 5; i++) {
    const r = await page.evaluate(
      (v) =>
        new Promise((resolve) => {
          // Queue the input as a task, as a real input event is: its delay includes any main-thread blocking.
          const t0 = performance.now();
          setTimeout(() => {
            const s = document.querySelector('[data-testid="train-eta"]');
            s.value = String(v);
            s.dispatchEvent(new Event('input', { bubbles: true }));
            const handled = Number(document.querySelector('[data-testid="lesson-train"]').dataset.etaHandled);
            resolve({
              ms: handled - t0,
              out: document.querySelector('[data-testid="train-eta-out"]').textContent,
              progress: Number(document.querySelector('[data-testid="train-progress"]').value),
            });
          }, 0);
        }),
      0.1 + i * 0.05,
    );
    assert.ok(r.progress > 0 && r.progress < 1, `training still running (${r.progress})`);
    delays.push(r.ms);
    await page.waitForTimeout(100);
  }
  assert.ok(Math.max(...delays) < 100, `slider handled in ${delays.map((d) => d.toFixed(1)).join(', ')} ms`);
  // Pause: the progress stops moving; resume; stop: a held-out result for the weights so far.
  await page.click('[data-testid="train-pause"]');
  await page.waitForFunction(() => /Paused/.test(document.querySelector('[data-testid="train-status"]').textContent));
  const p1 = await page.getAttribute('[data-testid="train-progress"]', 'value');
  await page.waitForTimeout(400);
  assert.equal(await page.getAttribute('[data-testid="train-progress"]', 'value'), p1);
  await page.click('[data-testid="train-pause"]');
  await page.click('[data-testid="train-stop"]');
  await page.waitForSelector('[data-testid="lesson-train"][data-heldout]', { timeout: 30000 });
  assert.match(await page.textContent('[data-testid="train-heldout"]'), /Stopped early/);
  assert.ok(Number(await page.getAttribute('[data-testid="train-progress"]', 'value')) < 1);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
