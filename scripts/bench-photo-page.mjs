// Photo mode in the page, measured by a benchmark (issue 17 asks for these "by a benchmark, not by a timed test"):
//   1. the slider with EfficientNet-Lite0 and FGSM: from a slider input event to the animation frame that shows
//      the repainted panels (p50/p95/max over MOVES moves; target p95 ≤ 50 ms). As in bench-browser.mjs, each move
//      is dispatched at the start of an animation frame (where Chromium dispatches a drag's input events), and the
//      latency is max(the next frame's timestamp after body[data-latency] changes, that change) − the input's time.
//      "redrawn" is body[data-latency] itself (input → view.adv done); "engine" is the controller's own number.
//   2. the first photo prediction after the model is chosen in the menu (selectOption on the default digits page):
//      from the select's change event to the photo's [data-testid=prediction][data-class] (and to the frame that
//      shows it). (a) cold: a fresh browser context (empty HTTP cache, service workers blocked); (b) a new tab in
//      the same context: what a second visit gets from the browser's caches (serve.mjs sends `Cache-Control:
//      no-cache` without validators, so the files are fetched again in full over loopback; Chromium's compiled
//      wasm code cache and the OS file cache are warm); (c) back to the digits and to the photo model again in the
//      same page (the weights are in the page's memory and the photo engine's worker is running).
//      The split is read from the files' resource timing entries (the page's and the photo worker's) and from the
//      engine calls: a `version` call posted as the photo worker starts answers when its wasm is compiled and
//      instantiated; loadModel, preparePhoto and predict are timed from post to answer.
//   3. the wasm memory (worker op `memory`, wasm.memory.buffer.byteLength, which only grows: the peak) of the photo
//      engine after the analysis, of its job engine after a PGD job, and of the digits engine for comparison.
// ROUNDS (default 3) repeats everything with a fresh context each time; --quick is one round of 30 moves and skips
// PGD. MOVES sets the moves per round, PGD=0 skips the PGD job, BENCH_JSON=file writes every round as JSON.
// Prints a markdown table with the CPU and the load average (the numbers are only as quiet as the machine).
import fs from 'node:fs';
import os from 'node:os';
import { launch, openPage } from '../tests/e2e/helpers.mjs';
import { installSliderProbe, quantile } from './slider-probe.mjs';

const QUICK = process.argv.includes('--quick');
const ROUNDS = Number(process.env.ROUNDS || (QUICK ? 1 : 3));
const MOVES = Number(process.env.MOVES || (QUICK ? 30 : 120));
const RUN_PGD = process.env.PGD ? process.env.PGD !== '0' : !QUICK;
const PHOTO = 'imagenet-efficientnet-lite0';
const T = 120000;

const median = (xs) => quantile(xs, 0.5);
const cpuModel = () => (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? os.cpus()[0]?.model ?? '?').trim();
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const MB = (b) => b / 1048576;

/**
 * Wraps the page's Engine (once per page, before the photo model is chosen): every photo-engine call is logged
 * {engine, op, t0, t1} in the page's clock; a photo worker that starts is sent a `version` call at once, which
 * answers as soon as its wasm is instantiated (worker.js awaits `ready` before any op). The select's change event
 * and the photo's first clean prediction (the lab's 'clean' event, after app.js has set data-class) are stamped.
 */
async function instrument(page) {
  await page.evaluate((photoId) => {
    const { lab } = globalThis.advlab;
    const Engine = lab.labEngine.constructor;
    const B = (globalThis.__bench = { calls: [], starts: [], tSelect: null, tClean: null, tCleanFrame: null, cls: null });
    if (!Engine.prototype.__bench) {
      Engine.prototype.__bench = true;
      const { start, post } = Engine.prototype;
      Engine.prototype.post = function (op, ...rest) {
        const rec = { engine: this.name, op, t0: performance.now(), t1: null };
        if (this.kind === 'photo') globalThis.__bench.calls.push(rec);
        const p = post.call(this, op, ...rest);
        p.then(() => (rec.t1 = performance.now()), () => (rec.t1 = -1));
        return p;
      };
      Engine.prototype.start = function () {
        start.call(this);
        if (this.kind !== 'photo') return;
        const rec = { engine: this.name, t0: performance.now(), tReady: null };
        globalThis.__bench.starts.push(rec);
        post.call(this, 'version').then(() => (rec.tReady = performance.now()), () => {});
      };
    }
    document.addEventListener('change', (e) => {
      if (e.target?.dataset?.testid === 'model-select' && B.tSelect === null) B.tSelect = performance.now();
    }, true);
    const onClean = () => {
      if (lab.model?.id !== photoId || B.tClean !== null) return;
      const el = document.querySelector('[data-testid="prediction"]');
      if (el.dataset.class === undefined) return;
      B.tClean = performance.now();
      B.cls = Number(el.dataset.class);
      requestAnimationFrame((ts) => (B.tCleanFrame = Math.max(ts, B.tClean)));
      lab.removeEventListener('clean', onClean);
    };
    lab.addEventListener('clean', onClean);
    // The photo engine's memory at each step of the first analysis (each `memory` call queues behind the op that
    // the event follows): the model loaded, the clean prediction, the direction and flip point, the curve.
    B.mem = {};
    for (const ev of ['model', 'clean', 'flip', 'curve']) {
      const on = () => {
        if (lab.model?.id !== photoId) return;
        lab.removeEventListener(ev, on);
        lab.engine.call('memory').then((v) => (B.mem[ev] = v), () => {});
      };
      lab.addEventListener(ev, on);
    }
  }, PHOTO);
}

/** Waits for the photo model's whole analysis: clean, direction, flip point, adversarial view and curve. */
async function analysed(page) {
  await page.waitForFunction(
    (photoId) => {
      const { R, lab } = globalThis.advlab;
      return lab.model?.id === photoId && R.clean && R.dir && R.adv && lab.curve && document.querySelector('[data-testid="flip-eta"]')?.dataset.eta;
    },
    PHOTO,
    { timeout: T },
  );
}

/** The resource timing entries of the page and of every worker, in the page's clock. */
async function resources(page) {
  const pageOrigin = await page.evaluate(() => performance.timeOrigin);
  const grab = () => ({
    origin: performance.timeOrigin,
    entries: performance.getEntriesByType('resource').map((e) => ({
      name: e.name, start: e.startTime, end: e.responseEnd, transfer: e.transferSize, body: e.decodedBodySize,
    })),
  });
  const lists = [await page.evaluate(grab)];
  for (const w of page.workers()) lists.push(await w.evaluate(grab).catch(() => ({ origin: pageOrigin, entries: [] })));
  return lists.flatMap((l) => l.entries.map((e) => ({ ...e, start: e.start + l.origin - pageOrigin, end: e.end + l.origin - pageOrigin })));
}

/**
 * Chooses the photo model in the menu of a default (digits) page that is analysed, and returns the timeline in
 * ms from the select's change event: the prediction, its frame, and the split.
 */
async function choosePhoto(page) {
  await instrument(page);
  await page.selectOption('[data-testid="model-select"]', PHOTO);
  await page.waitForFunction(() => globalThis.__bench.tCleanFrame !== null, null, { timeout: T });
  const B = await page.evaluate(() => globalThis.__bench);
  const res = await resources(page);
  const at = (t) => (t === null || t === undefined || t < 0 ? null : t - B.tSelect);
  const entry = (re) => res.filter((e) => re.test(e.name) && e.start >= B.tSelect - 1).pop();
  const span = (e) => (e ? { start: at(e.start), end: at(e.end), ms: e.end - e.start, MB: MB(e.body), transferMB: MB(e.transfer) } : null);
  const call = (op, engine = 'photo') => B.calls.find((c) => c.op === op && c.engine === engine && c.t0 >= B.tSelect);
  const live = B.starts.find((s) => s.engine === 'photo' && s.t0 >= B.tSelect);
  const load = call('loadModel');
  const predict = call('predict');
  const prepare = call('preparePhoto');
  const ready = live?.tReady ?? null;
  const wasm = entry(/advlab_photo_bg\.wasm/);
  return {
    prediction: at(B.tClean),
    shown: at(B.tCleanFrame),
    cls: B.cls,
    weights: span(entry(/imagenet-efficientnet-lite0\.safetensors/)),
    wasm: span(wasm),
    glue: span(entry(/advlab_photo\.js/)),
    photo: span(entry(/samples\/photos\/.*\.(jpe?g|png|webp)/i)),
    // The worker started (new Worker) → its wasm instantiated; the part after the wasm's last byte is compile +
    // instantiate (streaming compilation overlaps the download).
    workerStart: live ? at(live.t0) : null,
    engineReady: ready === null ? null : at(ready),
    compileAfterDownload: ready !== null && wasm ? ready - wasm.end : null,
    // loadModel posted → answered: in a fresh worker it also waits for the wasm when the weights come first.
    modelLoad: load ? { start: at(load.t0), ms: load.t1 - load.t0 } : null,
    preparePhoto: prepare ? prepare.t1 - prepare.t0 : null,
    forward: predict ? { start: at(predict.t0), ms: predict.t1 - predict.t0 } : null,
  };
}

/** MOVES slider moves, each dispatched at an animation frame's start; the latency to the frame that shows it. */
async function sliderMoves(page, moves) {
  await installSliderProbe(page);
  return page.evaluate(async (moves) => {
    const { calls } = globalThis.__bench; // instrument(): the photo engine's calls
    const input = document.querySelector('[data-testid="eta-slider"]');
    const max = Number(input.max);
    const out = [];
    let last = Number(input.value);
    for (let i = 0; i < moves; i++) {
      // Positions 1..max in a scrambled walk (37 is prime to 40), never the same twice in a row (no update).
      let pos = 1 + ((i * 37) % max);
      if (pos === last) pos = pos === max ? 1 : pos + 1;
      last = pos;
      const r = await globalThis.__slider.move(input, pos, 5000);
      if (!r) continue;
      const c = calls.filter((x) => x.op === 'adversarialAt' && x.t0 >= r.tInput && x.t1 > 0).pop();
      out.push({ answered: r.redrawn, engine: c ? c.t1 - c.t0 : NaN, redrawn: r.tUpdated - r.tInput, frame: r.frame });
    }
    return { out, frameMs: await globalThis.__slider.frameMs(), max };
  }, moves);
}

const memory = (page, which) =>
  page.evaluate(async (which) => {
    const { lab } = globalThis.advlab;
    const e = which === 'lab' ? lab.labEngine : which === 'job' ? lab.jobEngineOf(false) : lab.engine;
    return e ? e.call('memory') : null;
  }, which);

/** A PGD job at 2/255 (slider position 8) on the photo: its time and the job engine's memory after it. */
async function pgd(page) {
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="eta-slider"]');
    el.value = '8';
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.waitForFunction(() => Math.abs((globalThis.advlab.R.adv?.eta ?? -1) - 2 / 255) < 1e-4, null, { timeout: T });
  const t0 = Date.now();
  await page.selectOption('[data-testid="attack-select"]', 'pgd');
  await page.waitForFunction(() => globalThis.advlab.R.adv?.steps !== undefined && Math.abs(globalThis.advlab.R.adv.eta - 2 / 255) < 1e-4, null, { timeout: 240000 });
  return { ms: Date.now() - t0, steps: await page.evaluate(() => globalThis.advlab.R.adv.steps) };
}

async function digitsPage(env, context) {
  const page = await openPage(env, { context });
  await page.waitForSelector('[data-testid="prediction"][data-class]', { timeout: T });
  await page.waitForSelector('[data-testid="flip-eta"][data-eta]', { timeout: T });
  return page;
}

async function round(env, n) {
  const r = { round: n, loadBefore: load() };
  const context = await env.browser.newContext({ viewport: { width: 1366, height: 900 }, serviceWorkers: 'block' });
  try {
    // (a) cold: a fresh context, its HTTP cache empty.
    let page = await digitsPage(env, context);
    r.cold = await choosePhoto(page);
    await analysed(page);
    await page.waitForFunction(() => globalThis.__bench.mem.curve !== undefined, null, { timeout: T });
    r.memory = { steps: await page.evaluate(() => globalThis.__bench.mem), photoAfterAnalysis: await memory(page, 'photo') };
    // 1. the slider (FGSM, the analysis done: its slider positions warmed, then its confidence curve, so nothing
    //    else runs in the live worker).
    const s = await sliderMoves(page, MOVES);
    const f = s.out.map((x) => x.frame);
    const red = s.out.map((x) => x.redrawn);
    r.slider = {
      moves: s.out.length, lost: MOVES - s.out.length, positions: s.max, frameMs: s.frameMs,
      p50: median(f), p95: quantile(f, 0.95), max: Math.max(...f),
      redrawnP50: median(red), redrawnP95: quantile(red, 0.95),
      answeredP50: median(s.out.map((x) => x.answered)), engineP50: median(s.out.map((x) => x.engine)), engineP95: quantile(s.out.map((x) => x.engine), 0.95),
    };
    r.memory.photoAfterSlider = await memory(page, 'photo');
    if (RUN_PGD) {
      r.pgd = await pgd(page);
      r.memory.photoJobAfterPgd = await memory(page, 'job');
      r.memory.photoAfterPgd = await memory(page, 'photo');
    }
    r.memory.lab = await memory(page, 'lab');
    // (c) back to the digits and to the photo model again in this page.
    await page.selectOption('[data-testid="model-select"]', (await page.evaluate(() => globalThis.advlab.R.index.default)) || 'mnist-cnn');
    await page.waitForFunction((id) => globalThis.advlab.lab.model?.id !== id && globalThis.advlab.R.clean, PHOTO, { timeout: T });
    await page.waitForSelector('[data-testid="flip-eta"][data-eta]', { timeout: T });
    r.again = await choosePhoto(page);
    await page.close();
    // (b) a new tab in the same context: the browser's caches are warm.
    page = await digitsPage(env, context);
    r.cached = await choosePhoto(page);
    await analysed(page);
    await page.close();
  } finally {
    await context.close();
  }
  r.loadAfter = load();
  return r;
}

const env = await launch();
const rounds = [];
const t0 = Date.now();
try {
  for (let i = 1; i <= ROUNDS; i++) {
    const r = await round(env, i);
    rounds.push(r);
    console.error(`round ${i}: slider p95 ${r.slider.p95.toFixed(1)} ms, cold ${r.cold.prediction.toFixed(0)} ms, cached ${r.cached.prediction.toFixed(0)} ms, load ${r.loadAfter}`);
  }
} finally {
  await env.close();
}

const ok = (x) => typeof x === 'number' && Number.isFinite(x);
const f0 = (x) => (ok(x) ? x.toFixed(0) : '–');
const f1 = (x) => (ok(x) ? x.toFixed(1) : '–');
const best = (xs) => Math.min(...xs.filter(ok));
const most = (xs) => Math.max(...xs.filter(ok));
const cols = rounds.map((r) => `round ${r.round}`);
/** A row: one cell per round; `get` returns a number or a list of numbers (shown a / b / c, best taken per item). */
const row = (name, get, { fmt = f0, target = '', pick = best } = {}) => {
  const vals = rounds.map(get);
  const cell = (v) => (Array.isArray(v) ? v.map(fmt).join(' / ') : fmt(v));
  const b = Array.isArray(vals[0]) ? vals[0].map((_, i) => pick(vals.map((v) => v[i]))) : pick(vals);
  console.log(`| ${name} | ${vals.map(cell).join(' | ')} | ${cell(b)} | ${target} |`);
};
const split = (x) => [x.weights?.ms, x.wasm?.ms, x.engineReady - x.workerStart, x.compileAfterDownload, x.modelLoad?.ms, x.preparePhoto, x.forward?.ms];
const SPLIT = 'weights fetched / engine wasm fetched / engine ready (new Worker → wasm instantiated) / compile+instantiate after the last byte / loadModel posted → answered / preparePhoto / first forward pass';

console.log(`\nPhoto mode in the page (${PHOTO}), headless Chromium, ${ROUNDS} round(s)${QUICK ? ' (--quick)' : ''}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
console.log(`CPU: ${cpuModel()} × ${os.cpus().length}; load average (1/5/15 min) at each round's start → end: ${rounds.map((r) => `${r.loadBefore} → ${r.loadAfter}`).join('; ')}\n`);
console.log(`| measure | ${cols.join(' | ')} | best | target |`);
console.log(`|---|${cols.map(() => '---').join('|')}|---|---|`);
row(`slider input → next frame shown, p50 / p95 / max ms (FGSM, ${MOVES} moves)`, (r) => [r.slider.p50, r.slider.p95, r.slider.max], { fmt: f1, target: 'p95 ≤ 50' });
row('slider input → panels redrawn (DOM done) p50 / p95 ms', (r) => [r.slider.redrawnP50, r.slider.redrawnP95], { fmt: f1 });
row('slider: adversarialAt in the photo worker, posted → answered, p50 / p95 ms', (r) => [r.slider.engineP50, r.slider.engineP95], { fmt: f1 });
row('first photo prediction, cold (new context) ms', (r) => r.cold.prediction, { target: '≤ 4000' });
row('… its frame shown ms', (r) => r.cold.shown);
row(`… split ms: ${SPLIT}`, (r) => split(r.cold));
row('first photo prediction, new tab in the same context ms', (r) => r.cached.prediction, { target: '≤ 1500' });
row('… split ms (as above)', (r) => split(r.cached));
row('first photo prediction, digits → photo again in the same page ms', (r) => r.again.prediction);
row('… model load (worker running) / first forward pass ms', (r) => [r.again.modelLoad?.ms, r.again.forward?.ms]);
if (RUN_PGD) row('PGD job at 2/255 (the job worker) ms / steps', (r) => [r.pgd?.ms, r.pgd?.steps]);
row('wasm memory MB: photo engine after analysis / after slider' + (RUN_PGD ? ' / after PGD / photo job engine after PGD' : ''),
  (r) => [r.memory.photoAfterAnalysis, r.memory.photoAfterSlider, ...(RUN_PGD ? [r.memory.photoAfterPgd, r.memory.photoJobAfterPgd] : [])].map(MB), { fmt: f1, pick: most });
row('wasm memory MB, photo engine during the cold analysis: model loaded / clean prediction / direction + flip point / curve',
  (r) => ['model', 'clean', 'flip', 'curve'].map((k) => MB(r.memory.steps[k] ?? NaN)), { fmt: f1, pick: most });
row('wasm memory MB: digits (lab) engine, same page', (r) => MB(r.memory.lab), { fmt: f1, pick: most });
console.log('\n(best: the lowest time and the highest memory over the rounds; the weights are fetched on the main thread, the');
console.log('engine in its worker, in parallel; the first forward pass includes the worker\'s first run of that code)');
const timeline = (x) => {
  const se = (e) => (e ? `${f0(e.start)}–${f0(e.end)}` : '–');
  return `worker started ${f0(x.workerStart)}, glue ${se(x.glue)}, wasm ${se(x.wasm)}, engine ready ${f0(x.engineReady)}; ` +
    `weights ${se(x.weights)}; loadModel ${f0(x.modelLoad?.start)}–${f0(x.modelLoad && x.modelLoad.start + x.modelLoad.ms)}; ` +
    `photo ${se(x.photo)}; predict ${f0(x.forward?.start)}–${f0(x.forward && x.forward.start + x.forward.ms)}; shown ${f0(x.shown)}`;
};
console.log('\nTimelines (ms after the model is chosen):');
for (const r of rounds) console.log(`- round ${r.round} cold: ${timeline(r.cold)}\n- round ${r.round} new tab: ${timeline(r.cached)}`);
const worst = rounds.filter((r) => r.slider.lost);
if (worst.length) console.log(`slider moves with no update within 5 s: ${worst.map((r) => `round ${r.round}: ${r.slider.lost}`).join(', ')}`);
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ cpu: cpuModel(), cores: os.cpus().length, moves: MOVES, quick: QUICK, rounds }, null, 2) + '\n');
