// Foundation: the served page loads the wasm core, classifies a drawn stroke, and stays on its own origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { launch, openPage, offOrigin, drawStrokes, DIGITS, ROOT } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

test('./build.sh serve answers GET / with 200 and serves the wasm as application/wasm', async () => {
  const port = await freePort();
  const child = spawn('bash', ['build.sh', 'serve', '--no-build'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    assert.equal(url, `http://127.0.0.1:${port}/`);
    const index = await fetch(url);
    assert.equal(index.status, 200);
    assert.match(await index.text(), /data-testid="draw-canvas"/);
    const wasm = await fetch(url + 'www/pkg/advlab_bg.wasm');
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    const bytes = new Uint8Array(await wasm.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'wasm magic');
    const missing = await fetch(url + 'nope.txt');
    assert.equal(missing.status, 404);
  } finally {
    child.kill();
  }
});

test('drawing a stroke with the mouse gives the prediction a class, with no off-origin request', async () => {
  const page = await openPage(env);
  const pred = page.locator('[data-testid="prediction"]');
  assert.equal(await pred.getAttribute('data-class'), null);
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[7]);
  await page.waitForSelector('[data-testid="prediction"][data-class]');
  const cls = Number(await pred.getAttribute('data-class'));
  const conf = Number(await pred.getAttribute('data-confidence'));
  assert.ok(Number.isInteger(cls) && cls >= 0 && cls < 10, `class ${cls}`);
  assert.ok(conf > 0 && conf <= 1, `confidence ${conf}`);
  assert.equal(await page.locator('#prediction-bars li').count(), 10);
  assert.deepEqual(offOrigin(page, env.origin), []);
  assert.ok(page.requests.some((u) => u.endsWith('.wasm')), 'the wasm module was fetched');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the clear button resets the prediction and the message region is an alert', async () => {
  const page = await openPage(env);
  await drawStrokes(page, '[data-testid="draw-canvas"]', DIGITS[1]);
  await page.waitForSelector('[data-testid="prediction"][data-class]');
  await page.click('[data-testid="clear-button"]');
  assert.equal(await page.locator('[data-testid="prediction"]').getAttribute('data-class'), null);
  assert.equal(await page.locator('[data-testid="message"]').getAttribute('role'), 'alert');
  await page.context().close();
});
