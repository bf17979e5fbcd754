// The photo engine (www/pkg/advlab_photo.js, the `photo` feature) in Chromium with the real EfficientNet-Lite0
// file: it loads from bytes, preparePhoto gives the CLI's crop (same top-5 as `advlab predict`), the slider
// direction and PGD-10 run with progress and cancel, and the wasm memory after PGD-10 stays bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, ROOT, advlab } from './helpers.mjs';

const MODEL = 'www/models/imagenet-efficientnet-lite0.safetensors';
const PHOTO = 'www/samples/photos/chelsea.jpg';
let env;
let page;

before(async () => {
  assert.ok(fs.existsSync(path.join(ROOT, MODEL)), `${MODEL} is built (./build.sh test makes it)`);
  assert.ok(fs.existsSync(path.join(ROOT, 'www/pkg/advlab_photo_bg.wasm')), 'the photo engine is built');
  env = await launch();
  page = await (await env.browser.newContext()).newPage();
  // An empty document on the server's origin, so the engine's modules and the model load same-origin.
  await page.route(env.url + 'photo-engine-test.html', (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>photo engine</title>' }));
  await page.goto(env.url + 'photo-engine-test.html');
});

after(async () => env && (await env.close()));

test('the photo engine reads the real model, crops like the CLI and agrees with advlab predict', { timeout: 240000 }, async () => {
  const cli = JSON.parse(await advlab(['predict', '--model', path.join(ROOT, MODEL), '--image', path.join(ROOT, PHOTO), '--top', '5', '--json']));
  const got = await page.evaluate(async ({ model, photo }) => {
    const glue = await import('/www/pkg/advlab_photo.js');
    const wasm = await glue.default();
    const s = new glue.Session();
    const bytes = new Uint8Array(await (await fetch('/' + model)).arrayBuffer());
    const t0 = performance.now();
    const info = s.loadModel('photo', bytes);
    const loadMs = performance.now() - t0;
    const bitmap = await createImageBitmap(await (await fetch('/' + photo)).blob(), { imageOrientation: 'from-image' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = new Uint8Array(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data.buffer);
    const prep = s.preparePhoto(rgba, bitmap.width, bitmap.height);
    const pred = s.predict('photo', prep.pixels);
    const top = Array.from(pred.probs.entries()).sort((a, b) => b[1] - a[1]).slice(0, 5);
    const photoInfo = s.photoInfo('photo');
    globalThis.photoSession = s;
    return {
      info: { preprocess: info.preprocess, classes: info.classNames.length, shape: info.inputShape },
      loadMs,
      crop: prep.crop,
      size: [bitmap.width, bitmap.height],
      top,
      group: pred.group,
      groups: pred.groups,
      nl: photoInfo.classNamesI18n.nl[341],
      memory: wasm.memory.buffer.byteLength,
    };
  }, { model: MODEL, photo: PHOTO });
  assert.deepEqual(got.info, { preprocess: 'imagenet', classes: 1000, shape: [3, 224, 224] });
  assert.equal(got.nl, 'varken');
  // The browser's JPEG decoder and the CLI's (jpeg-decoder) may differ by a grey level in a few pixels; the
  // ranking and the probabilities must not move beyond that.
  assert.deepEqual(got.top.map(([c]) => c), cli.top.map((t) => t.class), `browser top-5 ${JSON.stringify(got.top)} vs CLI ${JSON.stringify(cli.top)}`);
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(got.top[i][1] - cli.top[i].probability) < 0.02, `top ${i}: ${got.top[i][1]} vs ${cli.top[i].probability}`);
  assert.equal(got.group, cli.group);
  assert.deepEqual(got.groups.map((g) => g.name), ['dog', 'pig', 'other']);
  const short = Math.min(...got.size);
  assert.ok(Math.abs(got.crop.side - (224 * short) / 256) < 1e-3, JSON.stringify(got.crop));
  console.log(`# photo engine: load ${got.loadMs.toFixed(0)} ms, top-1 ${got.top[0][0]} p=${got.top[0][1].toFixed(3)}, memory ${(got.memory / 2 ** 20).toFixed(0)} MiB after load`);
});

test('the slider direction and PGD-10 run on the photo, with progress and cancel, in bounded memory', { timeout: 300000 }, async () => {
  const r = await page.evaluate(async ({ photo }) => {
    const glue = await import('/www/pkg/advlab_photo.js');
    const wasm = await glue.default();
    // The first test's session, with the model loaded once (the module instance is the same).
    const s = globalThis.photoSession;
    const bitmap = await createImageBitmap(await (await fetch('/' + photo)).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = new Uint8Array(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data.buffer);
    const x = s.preparePhoto(rgba, bitmap.width, bitmap.height).pixels;
    const copy = x.slice();
    const clean = s.predict('photo', x).class;
    let t0 = performance.now();
    const dir = s.prepareDirection('photo', x, 'linf', -1, 16 / 255, 1n);
    const directionMs = performance.now() - t0;
    t0 = performance.now();
    const at = s.adversarialAt(2 / 255);
    const moveMs = performance.now() - t0;
    const steps = [];
    t0 = performance.now();
    const pgd = s.runAttack('photo', x, 'pgd', JSON.stringify({ eta: 2 / 255, steps: 10, seed: 0 }), 404, (p) => { steps.push(p.step); return true; });
    const pgdMs = performance.now() - t0;
    let cancelled = '';
    try {
      s.runAttack('photo', x, 'pgd', JSON.stringify({ eta: 2 / 255, steps: 10, seed: 0 }), 404, () => false);
    } catch (e) {
      cancelled = String(e.message);
    }
    let maxDelta = 0;
    for (let i = 0; i < x.length; i++) maxDelta = Math.max(maxDelta, Math.abs(pgd.adversarial[i] - x[i]));
    return {
      clean,
      flipEta: dir.flipEta,
      atLinf: at.linf,
      atClass: at.prediction.class,
      pgd: { predAfter: pgd.predAfter, linf: pgd.linf, maxDelta, inRange: pgd.adversarial.every((v) => v >= 0 && v <= 1) },
      steps,
      cancelled,
      unchanged: x.every((v, i) => v === copy[i]),
      ms: { direction: directionMs, move: moveMs, pgd: pgdMs },
      memory: wasm.memory.buffer.byteLength,
    };
  }, { photo: PHOTO });
  // The article's cat: FGSM flips it below 4/255, on the photo grid k·0.0001.
  assert.ok(r.flipEta !== null && r.flipEta <= 4 / 255 + 1e-7, `flip η ${r.flipEta}`);
  assert.ok(Math.abs(r.flipEta / 1e-4 - Math.round(r.flipEta / 1e-4)) < 1e-3, `${r.flipEta} on the 0.0001 grid`);
  assert.ok(r.atLinf <= 2 / 255 + 1e-6);
  assert.ok(r.pgd.linf <= 2 / 255 + 1e-6 && r.pgd.maxDelta <= 2 / 255 + 1e-6 && r.pgd.inRange, JSON.stringify(r.pgd));
  assert.ok(r.steps.length >= 2 && r.steps.every((v, i) => i === 0 || v > r.steps[i - 1]), `progress ${r.steps}`);
  assert.match(r.cancelled, /^error\.cancelled/);
  assert.ok(r.unchanged, 'the attacks never write into the input');
  // One model (4.6 M weights as f32), PGD's gradient buffers at 224×224: bounded well below the browser's 4 GiB.
  assert.ok(r.memory < 384 * 2 ** 20, `wasm memory ${r.memory} bytes after PGD-10`);
  console.log(`# photo engine: flip η ${r.flipEta}, FGSM direction ${r.ms.direction.toFixed(0)} ms, slider move ${r.ms.move.toFixed(0)} ms, PGD-10 ${r.ms.pgd.toFixed(0)} ms → class ${r.pgd.predAfter}; peak wasm memory ${(r.memory / 2 ** 20).toFixed(0)} MiB`);
});
