// Shared end-to-end plumbing: serve the repository on a free loopback port, drive Debian's Chromium with
// playwright-core, and record every request the page makes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Starts the server and the browser. Returns { url, origin, browser, close }. */
export async function launch({ root = ROOT } = {}) {
  const { server, url } = await startServer({ root });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  return {
    url,
    origin: new URL(url).origin,
    browser,
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Opens a page at `hash` and waits for body[data-ready=true]. Every request URL is kept in page.requests and
 * every console error / page error in page.errors.
 */
export async function openPage(env, { hash = '', path: p = 'index.html', viewport, waitReady = true, context } = {}) {
  const ctx = context || (await env.browser.newContext({ viewport: viewport || { width: 1280, height: 900 } }));
  const page = await ctx.newPage();
  page.requests = [];
  page.errors = [];
  page.on('request', (r) => page.requests.push(r.url()));
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(m.text());
  });
  await page.goto(env.url + p + (hash ? '#' + hash : ''));
  if (waitReady) await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  return page;
}

/** Requests that left the page's own origin (data: and blob: URLs stay inside the browser). */
export function offOrigin(page, origin) {
  return page.requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

/**
 * Draws polylines on a canvas with the mouse. `strokes` are lists of [x, y] in 0..1 of the canvas box.
 */
export async function drawStrokes(page, selector, strokes) {
  const box = await page.locator(selector).boundingBox();
  for (const stroke of strokes) {
    const [x0, y0] = stroke[0];
    await page.mouse.move(box.x + x0 * box.width, box.y + y0 * box.height);
    await page.mouse.down();
    for (let i = 1; i < stroke.length; i++) {
      const [x1, y1] = stroke[i - 1];
      const [x2, y2] = stroke[i];
      // Interpolate so a fast "hand" still leaves a continuous line.
      for (let s = 1; s <= 4; s++) {
        const x = x1 + ((x2 - x1) * s) / 4;
        const y = y1 + ((y2 - y1) * s) / 4;
        await page.mouse.move(box.x + x * box.width, box.y + y * box.height);
      }
    }
    await page.mouse.up();
  }
}

/** Digits as mouse strokes in 0..1 canvas coordinates, drawn roughly as a person would. */
export const DIGITS = {
  0: [[[0.5, 0.15], [0.32, 0.25], [0.27, 0.5], [0.32, 0.75], [0.5, 0.85], [0.68, 0.75], [0.73, 0.5], [0.68, 0.25], [0.5, 0.15]]],
  1: [[[0.45, 0.25], [0.55, 0.15], [0.55, 0.85]]],
  2: [[[0.3, 0.3], [0.4, 0.17], [0.6, 0.17], [0.68, 0.3], [0.62, 0.45], [0.3, 0.82], [0.72, 0.82]]],
  3: [[[0.3, 0.2], [0.6, 0.17], [0.68, 0.32], [0.5, 0.47], [0.7, 0.62], [0.62, 0.8], [0.3, 0.82]]],
  4: [[[0.6, 0.85], [0.6, 0.15], [0.28, 0.6], [0.75, 0.6]]],
  5: [[[0.7, 0.17], [0.35, 0.17], [0.32, 0.45], [0.6, 0.45], [0.7, 0.62], [0.6, 0.82], [0.3, 0.8]]],
  6: [[[0.65, 0.15], [0.42, 0.35], [0.33, 0.6], [0.42, 0.82], [0.6, 0.82], [0.67, 0.65], [0.55, 0.52], [0.38, 0.58]]],
  7: [[[0.28, 0.2], [0.72, 0.2], [0.45, 0.85]]],
  8: [[[0.62, 0.25], [0.5, 0.15], [0.35, 0.25], [0.5, 0.48], [0.68, 0.68], [0.5, 0.85], [0.32, 0.68], [0.5, 0.48], [0.65, 0.3]]],
  9: [[[0.66, 0.35], [0.5, 0.18], [0.34, 0.3], [0.4, 0.48], [0.62, 0.42], [0.66, 0.35], [0.62, 0.85]]],
};
