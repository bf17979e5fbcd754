#!/usr/bin/env node
// Browser benchmark of the <adversarial-lab> widget (www/bench/bench-widget.html, default model, one test image):
// the time from navigation start to the first prediction on screen, cold (a fresh browser context: nothing
// cached, the wasm compiled from scratch) and warm (a reload in the same context). Acceptance: within 1 s on
// localhost. Prints the figures; exit status 1 if the cold median exceeds the limit.
// Usage: node scripts/bench-widget.mjs [runs]
import { launch } from '../tests/e2e/helpers.mjs';

const RUNS = Number(process.argv[2] || 7);
const LIMIT_MS = 1000;
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

const env = await launch();
const cold = [];
const warm = [];
const predict = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const ctx = await env.browser.newContext({ viewport: { width: 800, height: 700 }, serviceWorkers: 'block' });
    const page = await ctx.newPage();
    const read = async () => {
      await page.waitForSelector('#w[data-first-prediction]', { timeout: 30000 });
      return page.locator('#w').evaluate((el) => ({ at: Number(el.dataset.firstPrediction), predict: Number(el.dataset.predictMs) }));
    };
    await page.goto(`${env.url}www/bench/bench-widget.html`);
    const c = await read();
    cold.push(c.at);
    predict.push(c.predict);
    await page.reload();
    warm.push((await read()).at);
    await ctx.close();
  }
} finally {
  await env.close();
}
const fmt = (a) => a.map((x) => x.toFixed(0)).join(' ');
console.log(`widget first prediction after load (ms since navigation start, ${RUNS} runs, localhost)`);
console.log(`  cold (fresh context): median ${median(cold).toFixed(0)} ms, max ${Math.max(...cold).toFixed(0)} ms   [${fmt(cold)}]`);
console.log(`  warm (reload):        median ${median(warm).toFixed(0)} ms, max ${Math.max(...warm).toFixed(0)} ms   [${fmt(warm)}]`);
console.log(`  the predict call itself: median ${median(predict).toFixed(1)} ms`);
const ok = median(cold) <= LIMIT_MS;
console.log(`acceptance (cold median within ${LIMIT_MS} ms): ${ok ? 'PASS' : 'FAIL'}`);
process.exit(ok ? 0 : 1);
