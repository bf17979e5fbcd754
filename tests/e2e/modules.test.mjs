// The page's pure modules, tested in Node without a browser: the η slider's mapping, the URL-hash state, image
// sniffing and header sizes, and the IDX parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { positionToEta, etaToPosition, maxEta, MAX_POSITION, maxPosition, scaleFor, greyLevels } from '../../www/slider.js';
import { parseHash, toHash, DEFAULTS } from '../../www/state.js';
import { sniff, headerSize } from '../../www/upload.js';
import { parseIdx, toPixels } from '../../www/samples.js';
import { divergingColor } from '../../www/noise-map.js';
import { encodePng } from './helpers.mjs';

test('slider: monotonic, 0 to 0.5, fine near zero, every 0.001 grid point and the article\'s 0.005 reachable', () => {
  assert.equal(positionToEta(0), 0);
  assert.equal(positionToEta(MAX_POSITION), 0.5);
  assert.equal(maxEta('linf'), 0.5);
  assert.equal(maxEta('l2'), 5);
  for (let p = 1; p <= MAX_POSITION; p++) assert.ok(positionToEta(p) > positionToEta(p - 1), `position ${p}`);
  assert.equal(positionToEta(1), 0.0001, 'the first step is 0.0001');
  assert.equal(positionToEta(etaToPosition(0.005)), 0.005);
  for (let k = 0; k <= 500; k++) {
    const eta = Number((k * 0.001).toFixed(3));
    assert.equal(positionToEta(etaToPosition(eta)), eta, `η = ${eta}`);
  }
  for (let p = 0; p <= MAX_POSITION; p++) assert.equal(etaToPosition(positionToEta(p)), p);
});

test('photo slider: 0 to 16/255 in steps of 1/1020 up to 4/255, then 1/510; every position round-trips', () => {
  const P = 'photo';
  assert.equal(maxPosition(P), 16 + 24);
  assert.equal(positionToEta(0, 'linf', P), 0);
  assert.ok(Math.abs(positionToEta(1, 'linf', P) - 1 / 1020) < 1e-6, 'the first step is a quarter grey level');
  assert.ok(Math.abs(positionToEta(8, 'linf', P) - 2 / 255) < 1e-6, '2/255 is a position');
  assert.ok(Math.abs(maxEta('linf', P) - 16 / 255) < 1e-6);
  assert.ok(Math.abs(maxEta('l2', P) - 160 / 255) < 1e-5);
  for (let p = 1; p <= maxPosition(P); p++) assert.ok(positionToEta(p, 'linf', P) > positionToEta(p - 1, 'linf', P), `position ${p}`);
  for (const norm of ['linf', 'l2']) {
    for (let p = 0; p <= maxPosition(P); p++) assert.equal(etaToPosition(positionToEta(p, norm, P), norm, P), p, `${norm} ${p}`);
  }
  assert.equal(greyLevels(2 / 255), '2');
  assert.equal(greyLevels(0.0001), '0.03', 'a tiny flip is not shown as 0');
  assert.equal(greyLevels(0.007), '1.8');
  assert.equal(scaleFor({ slider_end: { linf: 16 / 255, l2: 160 / 255 } }), 'photo');
  assert.equal(scaleFor({ slider_end: { linf: 0.5, l2: 5 } }), 'digits');
  assert.equal(scaleFor(undefined), 'digits');
});

test('hash: parses the documented example and writes it back', () => {
  const { state, problems } = parseHash('#model=mnist-cnn&attack=fgsm&eta=0.1&target=3&seed=7&lang=nl&sample=42');
  assert.deepEqual(problems, []);
  assert.deepEqual(state, { ...DEFAULTS, model: 'mnist-cnn', attack: 'fgsm', eta: 0.1, target: 3, seed: 7, lang: 'nl', sample: 42 });
  assert.equal(toHash(state), '#model=mnist-cnn&attack=fgsm&eta=0.1&target=3&seed=7&lang=nl&sample=42');
  assert.deepEqual(parseHash(toHash(state)).state, state);
});

test('hash: bad values are reported by key and replaced by defaults', () => {
  const { state, problems } = parseHash('#eta=abc&target=x&seed=-1&sample=1e3&norm=l7&invert=maybe&model=../../etc');
  assert.deepEqual(problems.map((p) => p.key).sort(), ['eta', 'invert', 'model', 'norm', 'sample', 'seed', 'target']);
  assert.equal(state.eta, DEFAULTS.eta);
  assert.equal(state.model, null);
  for (const eta of ['-1', '11', 'Infinity', 'NaN', '0x10', '']) assert.deepEqual(parseHash(`eta=${eta}`).problems.map((p) => p.key), ['eta'], eta);
  assert.equal(parseHash('eta=.005').state.eta, 0.005);
  assert.equal(parseHash('target=none').state.target, -1);
});

test('upload: formats are recognised by their bytes and sizes read from their headers', async () => {
  const png = await encodePng(33, 17, () => [0, 0, 0, 255]);
  assert.equal(sniff(png), 'png');
  assert.deepEqual(headerSize('png', new Uint8Array(png)), { width: 33, height: 17 });
  // A baseline JPEG: SOI, APP0, SOF0 with height 480, width 640.
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 17, 8, 0x01, 0xe0, 0x02, 0x80, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(sniff(jpeg), 'jpeg');
  assert.deepEqual(headerSize('jpeg', jpeg), { width: 640, height: 480 });
  const gif = new Uint8Array([...Buffer.from('GIF89a'), 10, 0, 20, 0, 0, 0, 0]);
  assert.deepEqual([sniff(gif), headerSize('gif', gif)], ['gif', { width: 10, height: 20 }]);
  const bmp = new Uint8Array(54);
  bmp.set(Buffer.from('BM'));
  new DataView(bmp.buffer).setInt32(18, 12000, true);
  new DataView(bmp.buffer).setInt32(22, -12000, true);
  assert.deepEqual([sniff(bmp), headerSize('bmp', bmp)], ['bmp', { width: 12000, height: 12000 }]);
  assert.equal(sniff(new TextEncoder().encode('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')), 'svg');
  assert.equal(sniff(new TextEncoder().encode('hello')), null);
  assert.equal(sniff(new Uint8Array(0)), null);
});

test('IDX: header checked, data sliced, images become bytes/255', () => {
  const buf = new ArrayBuffer(16 + 2 * 784);
  const dv = new DataView(buf);
  dv.setUint32(0, 0x803);
  dv.setUint32(4, 2);
  dv.setUint32(8, 28);
  dv.setUint32(12, 28);
  new Uint8Array(buf)[16 + 784] = 255;
  const { dims, data } = parseIdx(buf, 0x803);
  assert.deepEqual(dims, [2, 28, 28]);
  assert.equal(toPixels(data.subarray(784))[0], 1);
  assert.throws(() => parseIdx(buf, 0x801), /error\.idx/);
  assert.throws(() => parseIdx(buf.slice(0, 100), 0x803), /error\.idx/);
});

test('noise map: blue for negative, white at zero, vermillion for positive (Okabe–Ito)', () => {
  assert.deepEqual(divergingColor(-1), [0, 114, 178]);
  assert.deepEqual(divergingColor(0), [255, 255, 255]);
  assert.deepEqual(divergingColor(1), [213, 94, 0]);
  assert.deepEqual(divergingColor(7), [213, 94, 0]);
});

test('wasm build choice: the SIMD probe is a valid module here, and engines without SIMD get the fallback', async () => {
  const { hasWasmSimd, wasmFile, wasmUrl, SIMD_PROBE } = await import('../../www/wasm-simd.js');
  // Node's V8 has wasm SIMD, so the probe validates: it is a well-formed module, not one every engine rejects.
  assert.equal(hasWasmSimd(), true);
  assert.equal(wasmFile(), 'advlab_bg.wasm');
  assert.equal(hasWasmSimd({ validate: () => false }), false);
  assert.equal(hasWasmSimd({ validate: () => { throw new TypeError('no'); } }), false);
  assert.equal(hasWasmSimd(null), false, 'no WebAssembly at all');
  assert.equal(wasmFile(false), 'advlab_compat_bg.wasm');
  assert.match(wasmUrl(false).pathname, /\/www\/pkg\/advlab_compat_bg\.wasm$/);
  // A failed start becomes a translatable engine error, named for what was missing.
  const { initWasm, asWasmError } = await import('../../www/wasm-simd.js');
  const failing = async () => {
    throw new Error('404');
  };
  await assert.rejects(initWasm(failing, false), /^Error: error\.noSimd: 404$/);
  await assert.rejects(initWasm(failing, true), /^Error: error\.wasm: 404$/);
  let asked = null;
  assert.equal(await initWasm(async (o) => ((asked = o.module_or_path.pathname), 'ok'), false), 'ok');
  assert.match(asked, /advlab_compat_bg\.wasm$/);
  assert.equal(asWasmError(new Error('error.noSimd: x')).message, 'error.noSimd: x');
  assert.equal(asWasmError(new Error('boom')).message, 'error.wasm: boom');
  for (const lang of ['en', 'nl']) {
    const table = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), `../../www/i18n/${lang}.json`), 'utf8'));
    assert.ok(table['error.noSimd']?.includes('--compat'), `${lang}: error.noSimd`);
  }
  // The service worker precaches the same choice with its own copy of the probe (a classic worker imports no module).
  const sw = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../sw.js'), 'utf8');
  const probe = JSON.parse(/const probe = (\[[^\]]+\])/.exec(sw)[1]);
  assert.deepEqual(probe, Array.from(SIMD_PROBE));
});
