#!/usr/bin/env node
// The measurements of #lesson=scale ("the article's η·m·n, measured"): the median FGSM (L∞, untargeted) flip η
// against the input size n, written to www/lessons/scale.json, which the lesson reads.
//
//   - digits: the linear lesson's resolution models (www/models/lessons/mnist-linear-{7,14,28}.safetensors, n = 49,
//     196, 784) on the first N shipped test images (www/samples/mnist-test-*.idx), through the same wasm call the
//     page makes live (Session.flipEtas on www/pkg/advlab.js: box-average to the model's size, then the flip η on
//     the 0.001 grid); images the model already gets wrong are left out. The 28×28 model's numbers are checked
//     against the CLI (`advlab attack --sample i --attack fgsm --eta 0.1 --json`, flip_eta), image by image.
//   - the lab's digit CNN (www/models/mnist-cnn.safetensors, n = 784) on the same digits, by
//     `advlab attack --sample i --attack fgsm --eta 0.1 --json`: the deep network on digits beside the deep network
//     on photos.
//   - photos: EfficientNet-Lite0 (www/models/imagenet-efficientnet-lite0.safetensors, n = 3×224×224 = 150 528) on
//     the 20 labelled ImageNet validation photos of foolbox 3.3.4 (.data/photo/foolbox/data/imagenet_<k>_<label>.jpg,
//     fetched by ./build.sh's ensure_photo_data, never committed), each through
//     `advlab attack --model … --image FILE --attack fgsm --eta 0.1 --json` (flip_eta on the photo grid, 0.0001);
//     only the photos the model classifies correctly (the label is the last number in the file name) count.
//     The page's own sample photos (www/samples/photos/, unlabelled: the flip is away from the model's answer) are
//     measured too, for the lesson's optional "measure here" button to compare against.
// An image that never flips up to the search cap counts as +∞ (it pushes the median up, never down).
//
// Usage: node scripts/scale-medians.mjs [N=200] [ADVLAB=target/release/advlab]
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { initSync, Session, downsample } from '../www/pkg/advlab.js';

const N = Number(process.argv[2] || 200);
const BIN = process.argv[3] || 'target/release/advlab';
const PHOTO_DIR = '.data/photo/foolbox/data';
const PHOTO_MODEL = 'www/models/imagenet-efficientnet-lite0.safetensors';
const RES = [7, 14, 28];

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return null;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const quantile = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
};
const round = (x, d = 6) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const cli = (args) => JSON.parse(execFileSync(BIN, args, { encoding: 'utf8', maxBuffer: 64 << 20 }));

function idx(file) {
  const b = readFileSync(file);
  const rank = b[3];
  const dims = [];
  for (let i = 0; i < rank; i++) dims.push(b.readUInt32BE(4 + 4 * i));
  return { dims, data: b.subarray(4 + 4 * rank) };
}

// ------------------------------------------------------------------ digits (wasm, as the page)
initSync({ module: readFileSync('www/pkg/advlab_bg.wasm') });
const session = new Session();
const imgs = idx('www/samples/mnist-test-images.idx');
const labs = idx('www/samples/mnist-test-labels.idx');
const n = Math.min(N, imgs.dims[0]);
const images = new Float32Array(n * 784);
for (let i = 0; i < n * 784; i++) images[i] = imgs.data[i] / 255;

const digits = [];
for (const r of RES) {
  const id = `linear-${r}`;
  session.loadModel(id, readFileSync(`www/models/lessons/mnist-linear-${r}.safetensors`));
  const flips = session.flipEtas(id, images, 1);
  const small = r === 28 ? images : downsample(images, 28, r);
  const etas = [];
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    const p = session.predict(id, small.subarray(i * r * r, (i + 1) * r * r));
    if (p.class !== labs.data[i]) wrong += 1;
    else etas.push(Number.isFinite(flips[i]) ? flips[i] : Infinity);
  }
  if (r === 28) {
    // The CLI agrees, image by image (a few, to keep the run short: it is the same Rust).
    for (let i = 0; i < Math.min(n, 20); i++) {
      const c = cli(['attack', '--model', `www/models/lessons/mnist-linear-${r}.safetensors`, '--sample', String(i), '--attack', 'fgsm', '--eta', '0.1', '--max-eta', '1', '--json']);
      const f = c.flip_eta ?? NaN;
      if (!(Math.abs(f - flips[i]) < 1e-6 || (Number.isNaN(f) && Number.isNaN(flips[i])))) {
        throw new Error(`sample ${i}: wasm flipEtas ${flips[i]} but advlab attack flip_eta ${c.flip_eta}`);
      }
    }
  }
  const entry = {
    id, model: `models/lessons/mnist-linear-${r}.safetensors`, side: r, n: r * r,
    median: round(median(etas)), q25: round(quantile(etas, 0.25)), q75: round(quantile(etas, 0.75)),
    counted: etas.length, misclassified: wrong,
  };
  digits.push(entry);
  console.log(JSON.stringify(entry));
}

// ------------------------------------------------------------------ the lab's digit CNN (the CLI)
// The deep network on digits, to stand beside the deep network on photos: mnist-cnn (the lab's default model), by
// `advlab attack --sample i` on the same first N test images (too slow to redo live in the page).
const cnnEtas = [];
let cnnWrong = 0;
for (let i = 0; i < n; i++) {
  const r = cli(['attack', '--model', 'www/models/mnist-cnn.safetensors', '--sample', String(i), '--attack', 'fgsm', '--eta', '0.1', '--json']);
  if (r.pred_before !== r.label) cnnWrong += 1;
  else cnnEtas.push(r.flip_eta ?? Infinity);
}
const cnn = {
  id: 'mnist-cnn', model: 'models/mnist-cnn.safetensors', side: 28, n: 784,
  median: round(median(cnnEtas)), q25: round(quantile(cnnEtas, 0.25)), q75: round(quantile(cnnEtas, 0.75)),
  counted: cnnEtas.length, misclassified: cnnWrong,
};
console.log(JSON.stringify(cnn));

// ------------------------------------------------------------------ photos (the CLI)
function photoRun(files, labelOf) {
  const rows = [];
  for (const f of files) {
    const r = cli(['attack', '--model', PHOTO_MODEL, '--image', f, '--attack', 'fgsm', '--eta', '0.1', '--json']);
    const label = labelOf(f);
    rows.push({ file: basename(f), label, pred: r.pred_before, name: r.name_before, flip_eta: round(r.flip_eta ?? Infinity) });
  }
  return rows;
}

const labelled = readdirSync(PHOTO_DIR).filter((f) => /^imagenet_\d+_\d+\.jpg$/.test(f)).sort().map((f) => `${PHOTO_DIR}/${f}`);
if (labelled.length < 20) throw new Error(`${PHOTO_DIR}: ${labelled.length} photos, want 20 (./build.sh test fetches them)`);
const val = photoRun(labelled, (f) => Number(/_(\d+)\.jpg$/.exec(f)[1]));
const correct = val.filter((r) => r.pred === r.label);
const valEtas = correct.map((r) => r.flip_eta ?? Infinity);
const photo = {
  id: 'imagenet-efficientnet-lite0', model: 'models/imagenet-efficientnet-lite0.safetensors', side: 224, channels: 3, n: 3 * 224 * 224,
  images: 'foolbox 3.3.4 imagenet_*.jpg (20 labelled ImageNet validation photos)',
  median: round(median(valEtas)), q25: round(quantile(valEtas, 0.25)), q75: round(quantile(valEtas, 0.75)),
  counted: correct.length, misclassified: val.length - correct.length,
  perImage: val.map(({ file, label, pred, flip_eta }) => ({ file, label, pred, flip_eta })),
};
console.log(JSON.stringify({ ...photo, perImage: undefined }));

const sampleFiles = readdirSync('www/samples/photos').filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => `www/samples/photos/${f}`);
const samplesRun = photoRun(sampleFiles, () => null);
const samplePhotos = {
  images: 'www/samples/photos (unlabelled: the flip is away from the model\'s own answer)',
  median: round(median(samplesRun.map((r) => r.flip_eta ?? Infinity))),
  perImage: samplesRun.map(({ file, pred, name, flip_eta }) => ({ file, pred, name, flip_eta })),
};
console.log(JSON.stringify({ samplePhotos: samplePhotos.median }));

const out = {
  generatedBy: `node scripts/scale-medians.mjs ${N}`,
  source: {
    digits: `wasm Session.flipEtas (www/pkg/advlab.js) on the first ${n} shipped MNIST test images, the 28×28 model checked against advlab attack --sample i --attack fgsm --json`,
    cnn: `advlab attack --model www/models/mnist-cnn.safetensors --sample 0..${n - 1} --attack fgsm --eta 0.1 --json (flip_eta)`,
    photo: 'advlab attack --model www/models/imagenet-efficientnet-lite0.safetensors --image FILE --attack fgsm --eta 0.1 --json (flip_eta)',
  },
  attack: 'fgsm', norm: 'linf', digitsImages: n,
  digits,
  cnn,
  photo,
  samplePhotos,
};
writeFileSync('www/lessons/scale.json', JSON.stringify(out, null, 1) + '\n');
console.log('wrote www/lessons/scale.json');
