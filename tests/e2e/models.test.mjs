// The shipped models in the page: drawn digits are read correctly by mnist-cnn, and a bad weight file (truncated,
// lying header, wrong shape, NaN weights) gives a clear, translated message while the page keeps working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openPage, offOrigin, drawStrokes, DIGITS, ROOT, waitMessage, readPrediction } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test('mnist-cnn reads digits drawn as mouse strokes', async () => {
  const page = await openPage(env, { hash: 'model=mnist-cnn' });
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const got = [];
  for (const d of digits) {
    await page.click('[data-testid="clear-button"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="prediction"]').hasAttribute('data-class'));
    await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[d]);
    await page.waitForSelector('[data-testid="prediction"][data-class]');
    got.push((await readPrediction(page, 'prediction')).class);
  }
  const correct = digits.filter((d, i) => got[i] === d).length;
  // The issue asks for at least 4 right out of at least 5 different digits; we draw all ten.
  assert.ok(correct >= 8, `read ${got.join(',')} for ${digits.join(',')}: ${correct}/10 right`);
  assert.deepEqual(offOrigin(page, env.origin), []);
  await page.context().close();
});

/** A valid safetensors file whose header/data are then damaged by `mutate(header, data) → Buffer`. */
function damaged(mutate) {
  const buf = fs.readFileSync(`${ROOT}/www/models/mnist-cnn.safetensors`);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  return mutate(header, Buffer.from(buf.subarray(8 + n)), buf);
}

function pack(header, data) {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

const BAD_FILES = {
  truncated: () => damaged((_h, _d, buf) => buf.subarray(0, Math.floor(buf.length / 2))),
  'header lying about lengths': () =>
    damaged((h, d) => {
      h['layers.0.weight'].data_offsets[1] += 4096;
      return pack(h, d);
    }),
  'tensor of the wrong shape': () =>
    damaged((h, d) => {
      h['layers.0.weight'].shape = [16, 2, 3, 3];
      return pack(h, d);
    }),
  'NaN in the weights': () =>
    damaged((h, d) => {
      const [start] = h['layers.0.weight'].data_offsets;
      d.writeFloatLE(NaN, start + 4 * 5);
      return pack(h, d);
    }),
  'metadata that does not match the tensors': () =>
    damaged((h, d) => {
      const meta = JSON.parse(h.__metadata__.advlab);
      meta.class_names = meta.class_names.slice(0, 7);
      h.__metadata__.advlab = JSON.stringify(meta);
      return pack(h, d);
    }),
  'a header length of 4 GB': () => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(4n * 1024n ** 3n);
    return Buffer.concat([len, Buffer.from('{"layers.0.weight":')]);
  },
  'tensors claiming 4 GB': () =>
    damaged((h, d) => {
      h['layers.0.weight'].shape = [1024, 1024, 1024];
      h['layers.0.weight'].data_offsets = [0, 4 * 1024 ** 3];
      return pack(h, d);
    }),
};

for (const [what, make] of Object.entries(BAD_FILES)) {
  test(`a weight file with ${what} is refused with a clear message; the page keeps working`, async () => {
    const ctx = await env.browser.newContext();
    const body = make();
    await ctx.route('**/www/models/mnist-cnn.safetensors', (route) =>
      route.fulfill({ status: 200, contentType: 'application/octet-stream', body }),
    );
    const page = await openPage(env, { context: ctx, hash: 'model=mnist-cnn&lang=nl' });
    const msg = await waitMessage(page);
    assert.match(msg, /Dit modelbestand is niet bruikbaar/, msg);
    // Still working: another model loads and classifies a drawing.
    await page.selectOption('[data-testid="model-select"]', 'mnist-mlp');
    await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[7]);
    await page.waitForSelector('[data-testid="prediction"][data-class]');
    assert.deepEqual(page.errors.filter((e) => /panicked|unreachable/i.test(e)), []);
    await ctx.close();
  });
}
