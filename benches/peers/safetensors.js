// Reads our safetensors weight files (DESIGN.md): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, __metadata__: {advlab: "<ModelMeta JSON>"}}, then the raw tensor bytes.
// Shared by the TensorFlow.js conversion (tfjs-model.js, in the browser) and convert.mjs (node). No dependencies.

/** Parses `buffer` (ArrayBuffer) into {meta, architecture, inputShape, tensors: {name: {shape, data}}}. */
export function parseSafetensors(buffer) {
  const view = new DataView(buffer);
  const len = Number(view.getBigUint64(0, true));
  if (8 + len > buffer.byteLength) throw new Error('safetensors: header longer than the file');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, len)));
  const meta = JSON.parse(header.__metadata__?.advlab ?? 'null');
  if (!meta) throw new Error('safetensors: no __metadata__.advlab');
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`safetensors: ${name} is ${t.dtype}, expected F32`);
    const [a, b] = t.data_offsets;
    const count = t.shape.reduce((p, d) => p * d, 1);
    if ((b - a) !== count * 4) throw new Error(`safetensors: ${name} has ${b - a} bytes for shape ${t.shape}`);
    // Copy: the data section need not be 4-byte aligned.
    const data = new Float32Array(buffer.slice(8 + len + a, 8 + len + b));
    tensors[name] = { shape: t.shape, data };
  }
  return { meta, architecture: meta.architecture, inputShape: meta.input_shape, tensors };
}

/** [out, in, k, k] (NCHW, ours) → [k, k, in, out] (NHWC filters, TensorFlow's), as a flat Float32Array. */
export function convKernelToHwio(data, [out, inC, kh, kw]) {
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inC; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) r[((y * kw + x) * inC + i) * out + o] = data[((o * inC + i) * kh + y) * kw + x];
  return r;
}

/** [out, in] (ours, z = W·x + b) → [in, out] (x·W for a row vector). */
export function denseToInOut(data, [out, inputs]) {
  const r = new Float32Array(data.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inputs; i++) r[i * out + o] = data[o * inputs + i];
  return r;
}
