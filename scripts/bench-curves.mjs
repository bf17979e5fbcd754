// Headless browser benchmark of the robustness-curve worker pool (www/bench/bench-curves.html): prints images/s with
// 1 and 2 workers and their ratio. Usage: node scripts/bench-curves.mjs [n] [model] [attack] [repeat].
// Run it on a quiet machine: the ratio measures the cores the browser actually gets.
import { launch } from '../tests/e2e/helpers.mjs';

const [n = '500', model = 'mnist-cnn', attack = 'fgsm', repeat = '2'] = process.argv.slice(2);
const env = await launch();
try {
  const page = await env.browser.newPage();
  await page.goto(`${env.url}www/bench/bench-curves.html#n=${n}&model=${model}&attack=${attack}&repeat=${repeat}`);
  await page.waitForSelector('body[data-done="true"]', { timeout: 600000 });
  const err = await page.getAttribute('body', 'data-error');
  if (err) throw new Error(err);
  const r = JSON.parse(await page.getAttribute('body', 'data-result'));
  console.log(`curves pool, ${r.model} ${r.attack}, ${r.n} images × ${r.etas.length} η, hardwareConcurrency ${r.hardwareConcurrency}`);
  console.log(`1 worker : ${r.one.imagesPerSecond.toFixed(1)} images/s (${r.one.seconds.toFixed(2)} s)`);
  console.log(`2 workers: ${r.two.imagesPerSecond.toFixed(1)} images/s (${r.two.seconds.toFixed(2)} s)`);
  console.log(`ratio    : ${r.ratio.toFixed(2)}×  (same counts: ${r.sameCounts})`);
  console.log(JSON.stringify(r));
  if (!r.sameCounts) process.exitCode = 1;
} finally {
  await env.close();
}
