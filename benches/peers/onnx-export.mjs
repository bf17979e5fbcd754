// Writes the ONNX file of a photo model from our safetensors (onnx-model.js does the encoding):
//   node benches/peers/onnx-export.mjs www/models/imagenet-efficientnet-lite0.safetensors [OUT.onnx] [--batch N]
// With benches/peers/.venv holding the `onnx` package, `python -c "import onnx; onnx.checker.check_model(...)"`
// validates it (benches/peers/check-onnx.py).
import fs from 'node:fs';
import { buildOnnx } from './onnx-model.js';

const args = process.argv.slice(2);
const bi = args.indexOf('--batch');
const batch = bi >= 0 ? Number(args.splice(bi, 2)[1]) : 1;
const [file, out = 'target/imagenet-efficientnet-lite0.onnx'] = args;
if (!file) {
  console.error('usage: node benches/peers/onnx-export.mjs MODEL.safetensors [OUT.onnx] [--batch N]');
  process.exit(2);
}
const b = fs.readFileSync(file);
const onnx = buildOnnx(b.buffer.slice(b.byteOffset, b.byteOffset + b.length), { batch });
fs.mkdirSync(new URL('.', `file://${fs.realpathSync('.')}/${out}`).pathname, { recursive: true });
fs.writeFileSync(out, onnx);
console.log(`${file} → ${out}: ${(onnx.length / 1e6).toFixed(2)} MB, batch ${batch}`);
