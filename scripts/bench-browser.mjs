// Browser benchmark, run headless by ./build.sh bench: the slider-to-repaint latency for every shipped model with
// FGSM (issue 5: p95 < 16 ms for mnist-cnn). The page itself times each slider input event to the moment its
// three panels and bars are redrawn (body[data-latency]); the browser shows them at its next frame.
import fs from 'node:fs';
import { launch, openPage, ROOT } from '../tests/e2e/helpers.mjs';

const MOVES = Number(process.env.MOVES || 200);
const index = JSON.parse(fs.readFileSync(`${ROOT}/www/models/index.json`, 'utf8'));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const env = await launch();
const rows = [];
try {
  for (const m of index.models) {
    const page = await openPage(env, { hash: `model=${m.id}&attack=fgsm&eta=0.05&sample=3&seed=1` });
    await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 30000 });
    const lat = await page.evaluate(async (moves) => {
      const input = document.querySelector('[data-testid="eta-slider"]');
      const out = [];
      const max = Number(input.max);
      for (let i = 0; i < moves; i++) {
        const before = document.body.dataset.latency;
        const done = new Promise((resolve) => {
          const mo = new MutationObserver(() => {
            mo.disconnect();
            resolve();
          });
          mo.observe(document.body, { attributes: true, attributeFilter: ['data-latency'] });
        });
        input.value = String(Math.round(((i * 37) % 97) / 97 * max * 0.8) + 1);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
        if (document.body.dataset.latency !== before || i > 0) out.push(Number(document.body.dataset.latency));
        await new Promise((r) => requestAnimationFrame(() => r()));
      }
      return out;
    }, MOVES);
    rows.push({ model: m.id, n: lat.length, median: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: Math.max(...lat) });
    await page.context().close();
  }
} finally {
  await env.close();
}
console.log(`\nSlider input → panels redrawn (FGSM, ${MOVES} moves per model, headless Chromium):\n`);
console.log('| model | moves | median ms | p95 ms | max ms | p95 < 16 ms |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.model} | ${r.n} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.max.toFixed(2)} | ${r.p95 < 16 ? 'yes' : 'NO'} |`);
}
