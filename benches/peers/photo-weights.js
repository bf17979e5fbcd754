// Reads the photo model's safetensors (issue 15): like safetensors.js, but the tensors may be F16 (widened to f32
// here, as our loader does) and the architecture nests (`residual` blocks hold `layers`, tensors named
// `layers.<i>.layers.<j>.weight`). Shared by the ONNX writer (onnx-model.js) and the TensorFlow.js peer
// (tfjs-photo-model.js), in the browser and in node. No dependencies.

/** IEEE 754 binary16 → number (exact). */
export function f16ToF32(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parses `buffer` (ArrayBuffer) into {meta, inputShape, layers}: `layers` is the architecture with each layer's
 * `weight`/`bias` ({shape, data: Float32Array}) attached and residual bodies bound recursively as `body`.
 */
export function parsePhotoModel(buffer) {
  const view = new DataView(buffer);
  const len = Number(view.getBigUint64(0, true));
  if (8 + len > buffer.byteLength) throw new Error('safetensors: header longer than the file');
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, len)));
  const meta = JSON.parse(header.__metadata__?.advlab ?? 'null');
  if (!meta) throw new Error('safetensors: no __metadata__.advlab');
  const base = 8 + len;
  const used = new Set();
  const tensor = (name) => {
    const t = header[name];
    if (!t) throw new Error(`safetensors: no tensor ${name}`);
    used.add(name);
    const [a, b] = t.data_offsets;
    const count = t.shape.reduce((p, d) => p * d, 1);
    const bytes = buffer.slice(base + a, base + b); // copy: the data section need not be aligned
    let data;
    if (t.dtype === 'F32' && bytes.byteLength === 4 * count) data = new Float32Array(bytes);
    else if (t.dtype === 'F16' && bytes.byteLength === 2 * count) {
      const h = new Uint16Array(bytes);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = f16ToF32(h[i]);
    } else throw new Error(`safetensors: ${name} is ${t.dtype} with ${bytes.byteLength} bytes for shape ${t.shape}`);
    return { shape: t.shape, data };
  };
  const bind = (specs, prefix) =>
    specs.map((spec, i) => {
      const p = `${prefix}${i}.`;
      const l = { ...spec };
      if (spec.type === 'residual') l.body = bind(spec.layers, `${p}layers.`);
      else if (['conv2d', 'depthwise_conv2d', 'dense'].includes(spec.type)) {
        l.weight = tensor(`${p}weight`);
        l.bias = tensor(`${p}bias`);
      }
      return l;
    });
  const layers = bind(meta.architecture, 'layers.');
  const unused = Object.keys(header).filter((k) => k !== '__metadata__' && !used.has(k));
  if (unused.length) throw new Error(`safetensors: tensors not in the architecture: ${unused.slice(0, 3)}`);
  return { meta, inputShape: meta.input_shape, layers };
}

/** TensorFlow "same" padding along one axis: out = ⌈in/s⌉, total = max((out−1)s + k − in, 0), before = ⌊total/2⌋. */
export function samePads(size, k, s) {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

/** {out: [ho, wo], pads: [top, bottom, left, right]} of a conv layer on an h×w input. */
export function convGeometry(l, h, w) {
  const { kernel: k, stride: s, padding: p } = l;
  if (p === 'same') {
    const y = samePads(h, k, s);
    const x = samePads(w, k, s);
    return { out: [y.out, x.out], pads: [y.before, y.after, x.before, x.after] };
  }
  return { out: [Math.floor((h + 2 * p - k) / s) + 1, Math.floor((w + 2 * p - k) / s) + 1], pads: [p, p, p, p] };
}

/** The deterministic synthetic input of efficientnet_ref.py: x = ((3h + 5w + 80c + ⌊hw/64⌋) mod 256) / 255. */
export function syntheticInput(C = 3, H = 224, W = 224, shift = 0) {
  const x = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) x[(c * H + h) * W + w] = ((3 * h + 5 * w + 80 * c + ((h * w) >> 6) + shift) % 256) / 255;
  return x;
}
