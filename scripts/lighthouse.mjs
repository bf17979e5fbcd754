#!/usr/bin/env node
// Lighthouse 12 (npm lighthouse@12.2.3, the system Chromium: CHROME_PATH, default /usr/bin/chromium) on the pages
// of issue 16's acceptance, desktop and mobile: `/`, `/embed.html#model=mnist-linear&sample=3` and
// `/#lesson=linear`, served by scripts/serve.mjs on a free loopback port. Prints the table (performance /
// accessibility / best practices / SEO, and CLS) as Markdown and writes target/lighthouse.json.
// Run by `./build.sh bench`, or alone: node scripts/lighthouse.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { startServer } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PAGES = [
  ['main page', ''],
  ['`embed.html`', 'embed.html#model=mnist-linear&sample=3'],
  ['`#lesson=linear`', '#lesson=linear'],
];
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

const { server, url } = await startServer({ root: ROOT });
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
const results = [];
try {
  for (const [name, p] of PAGES) {
    const row = { page: name, url: url + p };
    for (const form of ['desktop', 'mobile']) {
      const settings =
        form === 'desktop'
          ? { formFactor: 'desktop', screenEmulation: { mobile: false, width: 1350, height: 940, deviceScaleFactor: 1, disabled: false }, throttlingMethod: 'simulate', throttling: { rttMs: 40, throughputKbps: 10240, cpuSlowdownMultiplier: 1 } }
          : { formFactor: 'mobile' };
      const r = await lighthouse(url + p, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: CATEGORIES }, { extends: 'lighthouse:default', settings });
      const lhr = r.lhr;
      row[form] = {
        scores: CATEGORIES.map((c) => Math.round((lhr.categories[c]?.score ?? 0) * 100)),
        cls: lhr.audits['cumulative-layout-shift']?.numericValue ?? null,
        lcp: lhr.audits['largest-contentful-paint']?.numericValue ?? null,
        failing: Object.values(lhr.audits).filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary').map((a) => a.id),
      };
    }
    results.push(row);
  }
} finally {
  await chrome.kill();
  await new Promise((r) => server.close(r));
}
const cell = (f) => `${f.scores.join(' / ')} (CLS ${f.cls?.toFixed(3)})`;
console.log('| page | desktop | mobile |\n|---|---|---|');
for (const r of results) console.log(`| ${r.page} | ${cell(r.desktop)} | ${cell(r.mobile)} |`);
for (const r of results) for (const f of ['desktop', 'mobile']) if (r[f].failing.length) console.log(`${r.page} ${f}: failing ${r[f].failing.join(', ')}`);
fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'target', 'lighthouse.json'), JSON.stringify(results, null, 2) + '\n');
