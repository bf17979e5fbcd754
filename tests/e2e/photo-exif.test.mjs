// EXIF orientation of photos (#model=imagenet-efficientnet-lite0): a phone held upright stores the picture
// sideways and writes Orientation = 6 into EXIF. The page must show and classify it upright, exactly as the same
// picture stored upright. Fixtures (tests/e2e/fixtures/photo/, made by make.mjs): exif-6-sideways.jpg, 200 × 300
// pixels stored, 300 × 200 shown; exif-upright.png, those pixels already turned, losslessly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, offOrigin, upload, ROOT } from './helpers.mjs';

const FIX = path.join(ROOT, 'tests/e2e/fixtures/photo');

let env;
let page;
before(async () => {
  env = await launch();
  page = await openPage(env, { hash: 'model=imagenet-efficientnet-lite0' });
  await page.waitForFunction(() => globalThis.advlab.lab.isPhoto, null, { timeout: 60000 });
});
after(async () => {
  await page?.context().close();
  await env?.close();
});

/**
 * Uploads a fixture, waits for its analysis, and reads what the page shows: the prediction, the decoded size,
 * the box of the photo panel the picture fills (the panel letterboxes in #222), and the model's 224 × 224 crop as
 * drawn on the original panel.
 */
async function shown(name) {
  await page.evaluate(() => (globalThis.__before = globalThis.advlab.R.input));
  await upload(page, { name, mimeType: '', buffer: fs.readFileSync(path.join(FIX, name)) });
  await page.waitForFunction(
    () => {
      const { R, lab } = globalThis.advlab;
      const p = document.querySelector('[data-testid="prediction"]');
      const msg = document.querySelector('[data-testid="message"]');
      if (msg && !msg.hidden && msg.textContent.trim()) throw new Error(`message: ${msg.textContent}`);
      return lab.isPhoto && R.input !== globalThis.__before && R.input?.source === 'upload' && R.clean && R.dir && R.adv && p.dataset.class === String(R.clean.class);
    },
    null,
    { timeout: 60000, polling: 100 },
  );
  return page.evaluate(() => {
    const { R } = globalThis.advlab;
    const p = document.querySelector('[data-testid="prediction"]');
    const panel = document.querySelector('[data-testid="photo-canvas"]');
    const d = panel.getContext('2d').getImageData(0, 0, panel.width, panel.height).data;
    let x0 = panel.width;
    let x1 = -1;
    let y0 = panel.height;
    let y1 = -1;
    for (let y = 0; y < panel.height; y++) {
      for (let x = 0; x < panel.width; x++) {
        const i = 4 * (y * panel.width + x);
        if (d[i] === 0x22 && d[i + 1] === 0x22 && d[i + 2] === 0x22) continue; // the letterbox
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
    const orig = document.querySelector('[data-testid="orig-canvas"], #orig-canvas');
    const o = orig.getContext('2d').getImageData(0, 0, orig.width, orig.height).data;
    return {
      cls: Number(p.dataset.class),
      conf: Number(p.dataset.confidence),
      decoded: [R.photo.width, R.photo.height],
      box: { width: x1 - x0 + 1, height: y1 - y0 + 1 },
      orig: { width: orig.width, height: orig.height, rgb: Array.from(o.filter((_, i) => i % 4 !== 3)) },
    };
  });
}

test('a JPEG stored sideways with EXIF Orientation 6 is shown upright and classified as the upright photo', async (t) => {
  const upright = await shown('exif-upright.png');
  const exif = await shown('exif-6-sideways.jpg');
  for (const [what, r] of [['upright PNG', upright], ['EXIF 6 JPEG', exif]]) {
    t.diagnostic(`${what}: class ${r.cls} (${r.conf}), decoded ${r.decoded.join(' × ')}, shown in a ${r.box.width} × ${r.box.height} box`);
  }
  // Shown landscape, as the camera saw it: 300 × 200, not the stored 200 × 300.
  assert.deepEqual(upright.decoded, [300, 200]);
  assert.deepEqual(exif.decoded, [300, 200], 'the EXIF turn is applied when decoding');
  assert.ok(exif.box.width > exif.box.height, `the photo panel shows it wider than tall: ${exif.box.width} × ${exif.box.height}`);
  assert.ok(Math.abs(exif.box.width / exif.box.height - upright.box.width / upright.box.height) < 0.05, 'same shape as the upright photo');
  // The model's crop is the same picture, pixel for pixel up to decoder rounding.
  assert.equal(exif.orig.rgb.length, upright.orig.rgb.length);
  let diff = 0;
  for (let i = 0; i < exif.orig.rgb.length; i++) diff += Math.abs(exif.orig.rgb[i] - upright.orig.rgb[i]);
  diff /= exif.orig.rgb.length;
  t.diagnostic(`original panel ${exif.orig.width} × ${exif.orig.height}: mean |Δ| ${diff.toFixed(3)} grey levels`);
  assert.ok(diff < 2, `the model sees the same upright crop (mean |Δ| ${diff.toFixed(2)})`);
  assert.equal(exif.cls, upright.cls, 'same class');
  assert.ok(Math.abs(exif.conf - upright.conf) <= 0.02, `confidence ${exif.conf} vs ${upright.conf}`);
  assert.deepEqual(offOrigin(page, env.origin), []);
});
