// Writes www/models/index.json from the weight files present: the list the page's model menu shows.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] || 'www/models';
const ORDER = ['mnist-linear', 'mnist-mlp', 'mnist-cnn', 'mnist-cnn-adv', 'mnist-cnn-ens',
  'fashion-linear', 'fashion-mlp', 'fashion-cnn', 'fashion-cnn-adv', 'imagenet-efficientnet-lite0'];
const ARCH = { linear: 'linear', mlp: 'mlp', cnn: 'cnn', 'cnn-adv': 'cnn', 'cnn-ens': 'cnn' };

/** The metadata JSON of a safetensors file (header → __metadata__.advlab). */
function meta(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  return JSON.parse(header.__metadata__.advlab);
}

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
const models = files
  .map((f) => {
    const id = f.replace(/\.safetensors$/, '');
    const m = meta(path.join(dir, f));
    const [dataset, ...rest] = id.split('-');
    // A photo model (ImageNet, converted by scripts/photo/convert.py) runs in the photo engine, fetched only when
    // chosen; its accuracy is the published top-1 (ImageNet's validation set is not ours to ship or re-measure).
    if (m.preprocess === 'imagenet') {
      return {
        id, file: f, dataset, arch: rest.join('-'), variant: rest.join('-'), engine: 'photo',
        bytes: fs.statSync(path.join(dir, f)).size, clean_accuracy: m.metrics?.published_imagenet_top1 ?? null,
      };
    }
    return {
      id,
      file: f,
      dataset,
      arch: ARCH[rest.join('-')] || rest.join('-'),
      variant: rest.join('-'),
      bytes: fs.statSync(path.join(dir, f)).size,
      clean_accuracy: m.metrics?.clean_accuracy ?? null,
    };
  })
  .sort((a, b) => (ORDER.indexOf(a.id) + 1 || 99) - (ORDER.indexOf(b.id) + 1 || 99));
const index = { default: models.some((m) => m.id === 'mnist-cnn') ? 'mnist-cnn' : models[0]?.id ?? null, models };
fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
console.log(`${dir}/index.json: ${models.map((m) => m.id).join(', ')}`);
