// Shared end-to-end plumbing: serve the repository on a free loopback port, drive Debian's Chromium with
// playwright-core, and record every request the page makes.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Chromium's fake camera (a test pattern) with the permission prompt answered yes: the camera tests. */
export const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

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

/** Starts the server and the browser (`args`: extra Chromium flags, e.g. the fake camera). Returns { url, origin, browser, close }. */
export async function launch({ root = ROOT, args = [] } = {}) {
  const { server, url } = await startServer({ root });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...args], headless: true });
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
export async function openPage(env, { hash = '', path: p = 'index.html', viewport, waitReady = true, context, serviceWorkers = 'block' } = {}) {
  // Service workers (sw.js) are blocked unless a test asks for them: they would hide requests from page.route.
  const ctx = context || (await env.browser.newContext({ viewport: viewport || { width: 1280, height: 900 }, serviceWorkers }));
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

// ---------------------------------------------------------------- the lab's own helpers

/** Waits until the page has a clean prediction, an adversarial prediction and a flip point for the current input. */
export async function waitAnalysed(page, { timeout = 30000 } = {}) {
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout });
  await page.waitForSelector('[data-testid="flip-eta"][data-eta]', { timeout });
  await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout });
}

/** Waits until the service worker is active and its precache holds the wasm module and the page's default CNN. */
export async function waitPrecached(page) {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.waitForFunction(
    async () => {
      const keys = await caches.keys();
      if (!keys.length) return false;
      const c = await caches.open(keys[0]);
      return !!(await c.match('www/models/mnist-cnn.safetensors')) && !!(await c.match('www/pkg/advlab_bg.wasm'));
    },
    null,
    { timeout: 30000 },
  );
}

/** The prediction as { class, confidence } from a result element's data attributes. */
export async function readPrediction(page, testid) {
  const el = page.locator(`[data-testid="${testid}"]`);
  return { class: Number(await el.getAttribute('data-class')), confidence: Number(await el.getAttribute('data-confidence')) };
}

/** The message region's text ('' when hidden). */
export async function messageText(page) {
  const el = page.locator('[data-testid="message"]');
  return (await el.isVisible()) ? (await el.textContent()).trim() : '';
}

/** Waits for the message region to show something and returns its text. */
export async function waitMessage(page, { timeout = 15000 } = {}) {
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="message"]');
    return el && !el.hidden && el.textContent.trim().length > 0;
  }, null, { timeout });
  return messageText(page);
}

/** Encodes an RGBA buffer as a PNG (8-bit RGBA, no filter) with node's zlib. */
export async function encodePng(width, height, pixel) {
  const zlib = await import('node:zlib');
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 4 + 1);
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      raw.set([r, g, b, a], row + 1 + x * 4);
    }
  }
  return pngFromRaw(width, height, 6, zlib.deflateSync(raw));
}

/** A grey PNG of any size without holding it in memory as RGBA: rows are streamed into the deflater. */
export async function encodeHugeGreyPng(width, height, value = 255) {
  const zlib = await import('node:zlib');
  const row = Buffer.alloc(width + 1, value);
  row[0] = 0;
  const deflate = zlib.createDeflate({ level: 9 });
  const chunks = [];
  deflate.on('data', (c) => chunks.push(c));
  const done = new Promise((r) => deflate.on('end', r));
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return pngFromRaw(width, height, 0, Buffer.concat(chunks));
}

function pngFromRaw(width, height, colorType, idat) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A photo-like image made by the browser's own encoder: a dark, thick "7" on light paper, size×size,
 * as 'image/png' or 'image/jpeg'. Returns a Buffer.
 */
export async function paperDigit(page, type, size = 600) {
  const b64 = await page.evaluate(
    async ({ type, size }) => {
      const c = new OffscreenCanvas(size, size);
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#e8e4da';
      ctx.fillRect(0, 0, size, size);
      ctx.strokeStyle = '#1c1c24';
      ctx.lineWidth = size / 14;
      ctx.lineCap = 'round';
      ctx.beginPath();
      ctx.moveTo(size * 0.28, size * 0.22);
      ctx.lineTo(size * 0.72, size * 0.22);
      ctx.lineTo(size * 0.45, size * 0.82);
      ctx.stroke();
      const blob = await c.convertToBlob({ type, quality: 0.9 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    },
    { type, size },
  );
  return Buffer.from(b64, 'base64');
}

/**
 * A photo-like picture of a house (issue 16's "house photo"), drawn in the page: sky, lawn, brick walls, a roof,
 * windows and a door, with the pixel noise and texture of a camera image (a seeded generator, so every run draws
 * the same JPEG).
 */
export async function housePhoto(page, width = 800, height = 600) {
  const b64 = await page.evaluate(
    async ({ width, height }) => {
      const c = new OffscreenCanvas(width, height);
      const ctx = c.getContext('2d');
      const sky = ctx.createLinearGradient(0, 0, 0, height * 0.7);
      sky.addColorStop(0, '#6fa8dc');
      sky.addColorStop(1, '#cfe2f3');
      ctx.fillStyle = sky;
      ctx.fillRect(0, 0, width, height);
      ctx.fillStyle = '#4e8a3a';
      ctx.fillRect(0, height * 0.7, width, height * 0.3);
      const [x0, x1, y0, y1] = [width * 0.3, width * 0.7, height * 0.4, height * 0.8];
      ctx.fillStyle = '#b5533c';
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      ctx.strokeStyle = '#e0cfc0'; // mortar lines between the bricks
      ctx.lineWidth = 2;
      for (let y = y0; y < y1; y += 14) {
        ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
        for (let x = x0 + ((y - y0) / 14 % 2) * 15; x < x1; x += 30) {
          ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x, Math.min(y + 14, y1)); ctx.stroke();
        }
      }
      ctx.fillStyle = '#5b3a29';
      ctx.beginPath(); ctx.moveTo(width * 0.25, y0); ctx.lineTo(width * 0.5, height * 0.15); ctx.lineTo(width * 0.75, y0); ctx.fill();
      ctx.fillStyle = '#fdf6d8';
      ctx.fillRect(width * 0.35, height * 0.48, width * 0.07, height * 0.08);
      ctx.fillRect(width * 0.58, height * 0.48, width * 0.07, height * 0.08);
      ctx.fillStyle = '#3d2a1e';
      ctx.fillRect(width * 0.46, height * 0.6, width * 0.08, height * 0.2);
      const img = ctx.getImageData(0, 0, width, height);
      let state = 12345;
      for (let i = 0; i < img.data.length; i += 4) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const n = ((state >>> 16) % 41) - 20;
        for (let k = 0; k < 3; k++) img.data[i + k] = Math.max(0, Math.min(255, img.data[i + k] + n));
      }
      ctx.putImageData(img, 0, 0);
      const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    },
    { width, height },
  );
  return Buffer.from(b64, 'base64');
}

/** Sets a file on the upload input: { name, mimeType, buffer }. */
export async function upload(page, file) {
  await page.setInputFiles('[data-testid="upload-input"]', file);
}

/** Runs the CLI (`advlab …`) and returns its stdout; builds the release binary once if it is missing. */
export async function advlab(args) {
  const { execFile } = await import('node:child_process');
  const fs = await import('node:fs');
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  // A release binary if there is one, else the debug one `cargo test` leaves behind, else build the release one.
  const candidates = [process.env.ADVLAB_BIN, path.join(targetDir, 'release', 'advlab'), path.join(targetDir, 'debug', 'advlab')];
  const bin = candidates.find((p) => p && fs.existsSync(p)) || path.join(targetDir, 'release', 'advlab');
  const run = (cmd, a, opts = {}) =>
    new Promise((resolve, reject) => {
      execFile(cmd, a, { cwd: ROOT, maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) =>
        err ? reject(new Error(`${cmd} ${a.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  if (!fs.existsSync(bin)) await run('cargo', ['build', '--release', '--quiet', '--bin', 'advlab'], { timeout: 900000 });
  return run(bin, args, { timeout: 120000 });
}

/** Text of every visible text node under the main view (header, notices, main), for language checks. */
export async function visibleTexts(page) {
  return page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      const text = n.textContent.trim();
      if (!text || !el || el.closest('script, style, .sr-only, [hidden], option, svg title, svg desc')) continue;
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || cs.display === 'none') continue;
      if (el.closest('details:not([open])') && !el.closest('summary')) continue;
      out.push(text);
    }
    // Labels a sighted user reads without opening a menu: each select's chosen option.
    for (const s of document.querySelectorAll('select')) if (s.selectedOptions[0]) out.push(s.selectedOptions[0].textContent.trim());
    return out;
  });
}

/** The page's two i18n tables, as shipped. */
export const I18N = Object.fromEntries(['en', 'nl'].map((l) => [l, JSON.parse(fs.readFileSync(`${ROOT}/www/i18n/${l}.json`, 'utf8'))]));

/** A regex matching the translation of `key` in `lang`, with every {var} as a wildcard. */
export function translated(lang, key) {
  const s = I18N[lang][key];
  assert.ok(s, `i18n ${lang}.${key} exists`);
  const parts = s.split(/\{[a-z]+\}/i).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(parts.join('.*'), 's');
}

/** A message a person may see: non-empty, the translation of `key` in `lang`, no raw i18n key, no engine internals. */
export function assertTranslated(msg, lang, key) {
  assert.ok(msg.length > 0, 'a message is shown');
  assert.match(msg, translated(lang, key), `${lang}.${key} in “${msg}”`);
  assert.doesNotMatch(msg, /\b(error|hash|upload|model)\.[a-z][A-Za-z_]+\b/, 'no raw i18n key');
  assert.doesNotMatch(msg, /panicked|unreachable|RuntimeError/, 'no engine internals');
}

/** Whether each selector's box lies wholly inside the viewport (one pixel of slack), with a real size. */
export async function inViewport(page, sels) {
  return page.evaluate((sels) => {
    const out = {};
    for (const s of sels) {
      const r = document.querySelector(s).getBoundingClientRect();
      out[s] = r.width > 0 && r.height > 0 && r.top >= -1 && r.left >= -1 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1;
    }
    return out;
  }, sels);
}

/** The page-coordinate top and bottom of the union of the selectors' boxes, and each box's height. */
export async function unionBox(page, sels) {
  return page.evaluate((sels) => {
    const rs = sels.map((s) => document.querySelector(s).getBoundingClientRect());
    return { top: Math.min(...rs.map((r) => r.top)) + scrollY, bottom: Math.max(...rs.map((r) => r.bottom)) + scrollY, heights: rs.map((r) => r.height) };
  }, sels);
}
