// Converts one of our safetensors weight files to TensorFlow.js's weights format (a tf.io weights manifest
// `<id>.weights.json` plus `<id>.weights.bin`), with TensorFlow's layouts: conv kernels [k, k, in, out] (NHWC
// convolution), dense kernels [in, out]. The browser benchmark does the same conversion at run time from the
// same bytes (tfjs-model.js); this script is for using the weights elsewhere and for checking the conversion.
//   node benches/peers/convert.mjs www/models/mnist-cnn.safetensors [out-dir]
import fs from 'node:fs';
import path from 'node:path';
import { parseSafetensors, convKernelToHwio, denseToInOut } from './safetensors.js';

const [file, outDir = 'target/tfjs-weights'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node benches/peers/convert.mjs MODEL.safetensors [OUT_DIR]');
  process.exit(2);
}
const bytes = fs.readFileSync(file);
const { meta, architecture, tensors } = parseSafetensors(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
const weights = [];
const chunks = [];
architecture.forEach((spec, i) => {
  const w = tensors[`layers.${i}.weight`];
  const b = tensors[`layers.${i}.bias`];
  if (spec.type === 'conv2d') {
    const [o, c, kh, kw] = w.shape;
    weights.push({ name: `layers.${i}.kernel`, shape: [kh, kw, c, o], dtype: 'float32' });
    chunks.push(convKernelToHwio(w.data, w.shape));
  } else if (spec.type === 'dense') {
    const [o, inputs] = w.shape;
    weights.push({ name: `layers.${i}.kernel`, shape: [inputs, o], dtype: 'float32' });
    chunks.push(denseToInOut(w.data, w.shape));
  } else return;
  weights.push({ name: `layers.${i}.bias`, shape: b.shape, dtype: 'float32' });
  chunks.push(b.data);
});
const id = meta.name || path.basename(file, '.safetensors');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, `${id}.weights.bin`), Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
const manifest = [{ paths: [`${id}.weights.bin`], weights }];
fs.writeFileSync(path.join(outDir, `${id}.weights.json`), JSON.stringify({ architecture, inputShape: meta.input_shape, weightsManifest: manifest }, null, 1));
console.log(`${file} → ${outDir}/${id}.weights.{json,bin}: ${weights.length} tensors, ${chunks.reduce((s, c) => s + c.length, 0)} floats`);
