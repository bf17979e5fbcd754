// Issue 14: the service worker's precache list is generated from the files really shipped
// (scripts/precache.mjs → www/pkg/precache.json, by ./build.sh build and ./build.sh dist), not kept by hand in
// sw.js. Every module the pages import — statically, dynamically, or as a worker — must be in it, and nothing from
// the developer-only www/bench/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, openPage, ROOT } from './helpers.mjs';
import { precacheList, PHOTO } from '../../scripts/precache.mjs';

const LIST = path.join(ROOT, 'www/pkg/precache.json');
const listed = () => new Set(JSON.parse(fs.readFileSync(LIST, 'utf8')).files);

/** Every file the two pages reach: <script src>, <link href>, then imports, import() and new URL(…, import.meta.url). */
function reachable() {
  const seen = new Set();
  const queue = [];
  const add = (rel) => {
    const p = path.posix.normalize(rel);
    if (!seen.has(p) && fs.existsSync(path.join(ROOT, p))) {
      seen.add(p);
      queue.push(p);
    }
  };
  for (const page of ['index.html', 'embed.html']) {
    add(page);
    const html = fs.readFileSync(path.join(ROOT, page), 'utf8');
    for (const m of html.matchAll(/(?:src|href)="([^"#?:]+)"/g)) add(m[1]);
  }
  while (queue.length) {
    const f = queue.shift();
    if (!f.endsWith('.js')) continue;
    const src = fs.readFileSync(path.join(ROOT, f), 'utf8');
    const dir = path.posix.dirname(f);
    const refs = [
      ...src.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g),
      ...src.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g),
      ...src.matchAll(/new URL\(\s*'(\.{1,2}\/[^'$`]+\.(?:js|json|css))'\s*,\s*import\.meta\.url\)/g),
    ];
    for (const m of refs) add(path.posix.join(dir, m[1]));
  }
  return seen;
}

test('www/pkg/precache.json lists what the pages import, exists file by file, and leaves the bench pages out', () => {
  assert.ok(fs.existsSync(LIST), 'run ./build.sh build (or node scripts/precache.mjs) first');
  const files = listed();
  assert.deepEqual([...files].sort(), [...new Set(precacheList(ROOT))].sort(), 'the list is current (node scripts/precache.mjs)');
  // The wasm build is sw.js's own choice; sw.js itself is the worker (the browser fetches and updates it).
  const reached = [...reachable()].filter((f) => !f.endsWith('.wasm') && f !== 'sw.js');
  assert.ok(reached.includes('www/worker.js') && reached.includes('www/pkg/advlab.js') && reached.includes('www/defences/view.js'), `the crawl follows workers and import(): ${reached.length} files`);
  // Photo mode's engine is imported only when a photo model is chosen, and kept offline only on request (PHOTO).
  for (const f of reached) assert.ok(files.has(f) || PHOTO.test(f), `${f} is imported by the page and must be precached`);
  for (const f of files) {
    if (f !== './') assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} exists`);
    assert.doesNotMatch(f, /^www\/bench\//, 'no developer page is precached');
    assert.doesNotMatch(f, /\.wasm$/, 'the wasm build is chosen by sw.js (one of two)');
  }
  const sw = fs.readFileSync(path.join(ROOT, 'sw.js'), 'utf8');
  assert.doesNotMatch(sw, /'www\/[a-z-]+\.js',/, 'sw.js keeps no list of modules of its own');
});

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

test('every same-origin module, style sheet and table the pages load at run time is in the precache list', async () => {
  const files = listed();
  const loaded = new Set();
  for (const [p, hash] of [['index.html', 'sample=3'], ['index.html', 'lesson=linear'], ['index.html', 'lesson=defences'], ['index.html', 'lesson=train'], ['embed.html', 'sample=1']]) {
    const page = await openPage(env, { path: p, hash });
    await page.waitForTimeout(1500);
    for (const u of page.requests) {
      const url = new URL(u);
      if (url.origin !== env.origin) continue;
      const rel = decodeURIComponent(url.pathname).replace(/^\//, '');
      if (/\.(js|css|json)$/.test(rel)) loaded.add(rel);
    }
    await page.context().close();
  }
  assert.ok(loaded.has('www/worker.js') && loaded.has('www/chart.js'), `requests seen: ${[...loaded].join(', ')}`);
  for (const f of loaded) assert.ok(files.has(f), `${f} was loaded and must be precached`);
});
