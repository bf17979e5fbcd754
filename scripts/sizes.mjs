#!/usr/bin/env node
// Sizes of a dist/ folder, raw and gzip (level 9, as a static server or CDN would send them), and the size budget:
//   wasm + JS + CSS + default model < 400 KB gzip.
// The budget's "default model" is the embed widget's default (www/adversarial-lab.js WIDGET_DEFAULT: the linear
// MNIST model); the full page's default (models/index.json "default") is printed too, for honesty.
// A dist/ made with --compat holds two wasm builds; only the one a browser loads counts (the larger, to be safe).
// The full engine (www/pkg/advlab_photo*: the photo layers and the AutoAttack audit) and what runs only on it (the
// ImageNet model, www/samples/photos/, and the audit view www/audit/, imported only when #lesson=audit opens) are
// loaded only when a visitor chooses a photo model or opens the audit, so they are printed as their own group and
// left out of the budget. Every other module counts, the lessons a widget never loads included.
// Usage: node scripts/sizes.mjs [dist]   (exit status 1 if the budget is exceeded)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ON_DEMAND } from './precache.mjs';

const BUDGET_KB = 400;
const root = path.resolve(process.argv[2] || 'dist');
if (!fs.existsSync(root)) {
  console.error(`sizes.mjs: ${root} does not exist`);
  process.exit(2);
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

const files = walk(root).map((p) => {
  const buf = fs.readFileSync(p);
  return { rel: path.relative(root, p).split(path.sep).join('/'), raw: buf.length, gz: zlib.gzipSync(buf, { level: 9 }).length };
});
const kb = (n) => (n / 1024).toFixed(1).padStart(8);
const sum = (list) => list.reduce((a, f) => ({ raw: a.raw + f.raw, gz: a.gz + f.gz }), { raw: 0, gz: 0 });
const row = (name, s) => console.log(`${name.padEnd(44)} ${kb(s.raw)} KB ${kb(s.gz)} KB`);

const widgetSrc = fs.existsSync(path.join(root, 'www/adversarial-lab.js')) ? fs.readFileSync(path.join(root, 'www/adversarial-lab.js'), 'utf8') : '';
// Source form `WIDGET_DEFAULT = 'id'` or, after ./build.sh dist minifies it, `WIDGET_DEFAULT="id"`.
const widgetDefault = /WIDGET_DEFAULT\s*=\s*['"]([^'"]+)['"]/.exec(widgetSrc)?.[1] ?? null;
let index = { models: [] };
try {
  index = JSON.parse(fs.readFileSync(path.join(root, 'www/models/index.json'), 'utf8'));
} catch {
  // no models
}
const modelFile = (id) => {
  const m = (index.models || []).find((x) => x.id === id);
  return m ? files.find((f) => f.rel === `www/models/${m.file}`) : null;
};

const page = files.filter((f) => !ON_DEMAND.test(f.rel));
const groups = {
  wasm: page.filter((f) => f.rel.endsWith('.wasm')),
  js: page.filter((f) => f.rel.endsWith('.js') || f.rel.endsWith('.mjs')),
  css: page.filter((f) => f.rel.endsWith('.css')),
  html: files.filter((f) => f.rel.endsWith('.html')),
  i18n: files.filter((f) => f.rel.startsWith('www/i18n/')),
  models: page.filter((f) => f.rel.startsWith('www/models/') && f.rel.endsWith('.safetensors')),
  samples: page.filter((f) => f.rel.startsWith('www/samples/')),
  'full engine, on demand (photo mode, audit)': files.filter((f) => ON_DEMAND.test(f.rel)),
};

console.log(`${'file'.padEnd(44)} ${'raw'.padStart(11)} ${'gzip'.padStart(11)}`);
for (const f of files.sort((a, b) => b.gz - a.gz)) row(f.rel, f);
console.log('');
for (const [name, list] of Object.entries(groups)) row(`${name} (${list.length} files)`, sum(list));
row(`all of ${path.basename(root)}/ (${files.length} files)`, sum(files));
console.log('');

// pkg/ holds two builds of the same engine (simd128, and the no-SIMD fallback); a browser downloads exactly one of
// them (www/wasm-simd.js), so the budget counts the larger one, not both.
const wasmLoaded = groups.wasm.reduce((big, f) => (f.gz > (big?.gz ?? -1) ? f : big), null);
if (groups.wasm.length > 1) {
  console.log(`wasm builds (a browser loads one): ${groups.wasm.map((f) => `${f.rel} ${(f.gz / 1024).toFixed(1)} KB gzip`).join(', ')}; counted: ${wasmLoaded.rel}`);
}
const core = sum([...(wasmLoaded ? [wasmLoaded] : []), ...groups.js, ...groups.css]);
const widgetModel = modelFile(widgetDefault);
const pageModel = modelFile(index.default);
const total = core.gz + (widgetModel?.gz ?? 0);
const verdict = total / 1024 < BUDGET_KB ? 'within budget' : 'OVER BUDGET';
console.log(
  `wasm + JS + CSS + default model: ${Math.round(total / 1024)} KB gzip (budget ${BUDGET_KB} KB) — ${verdict}` +
    ` [default model: ${widgetDefault ?? 'none'} ${widgetModel ? `${(widgetModel.gz / 1024).toFixed(1)} KB gzip` : 'missing'}]`,
);
const images = files.find((f) => f.rel === 'www/samples/mnist-test-images.idx');
if (images) {
  console.log(
    `  + the MNIST test images a widget shows (${(images.gz / 1024).toFixed(1)} KB gzip): ${Math.round((total + images.gz) / 1024)} KB gzip for a widget's first view`,
  );
}
if (pageModel && pageModel !== widgetModel) {
  const pageTotal = core.gz + pageModel.gz;
  console.log(
    `  with the full page's default model (${index.default}, ${(pageModel.gz / 1024).toFixed(1)} KB gzip): ${Math.round(pageTotal / 1024)} KB gzip` +
      ` — f32 weights barely compress, so a CNN does not fit the budget`,
  );
}
if (!widgetModel) {
  console.error(`sizes.mjs: the widget's default model (${widgetDefault ?? 'WIDGET_DEFAULT not found'}) is not in ${path.basename(root)}/: the budget cannot be measured`);
  process.exit(1);
}
process.exit(total / 1024 < BUDGET_KB ? 0 : 1);
