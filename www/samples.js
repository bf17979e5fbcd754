// The test-set gallery's data: www/samples/<dataset>-test-images.idx (IDX u8, magic 0x00000803, [n, 28, 28]) and
// -labels.idx (magic 0x00000801, [n]), the first n test images. Sample i is fed to the model as bytes/255 with no
// preprocessing, exactly as the CLI's `advlab attack --sample i` does.
const cache = new Map();

/** Parses an IDX u8 file; checks the magic, the dimensions and the length. Throws "error.idx: …". */
export function parseIdx(buffer, magic) {
  const dv = new DataView(buffer);
  if (buffer.byteLength < 8) throw new Error('error.idx: file too short');
  const m = dv.getUint32(0);
  if (m !== magic) throw new Error(`error.idx: magic 0x${m.toString(16).padStart(8, '0')}`);
  const rank = m & 0xff;
  const dims = [];
  for (let i = 0; i < rank; i++) dims.push(dv.getUint32(4 + 4 * i));
  const header = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (buffer.byteLength < header + count) throw new Error(`error.idx: ${buffer.byteLength - header} of ${count} bytes`);
  return { dims, data: new Uint8Array(buffer, header, count) };
}

async function fetchIdx(name, magic) {
  const res = await fetch(new URL(`./samples/${name}`, import.meta.url));
  if (!res.ok) throw new Error(`error.samples_missing: ${name} (HTTP ${res.status})`);
  return parseIdx(await res.arrayBuffer(), magic);
}

/** { count, image(i) → Uint8Array(784), label(i) } for a dataset ('mnist' | 'fashion'). Cached. */
export function loadSamples(dataset) {
  if (!cache.has(dataset)) {
    const p = Promise.all([
      fetchIdx(`${dataset}-test-images.idx`, 0x00000803),
      fetchIdx(`${dataset}-test-labels.idx`, 0x00000801),
    ]).then(([imgs, labels]) => {
      const [n, h, w] = imgs.dims;
      if (h !== 28 || w !== 28 || labels.dims[0] < n) throw new Error(`error.idx: shape ${imgs.dims.join('×')}`);
      return {
        dataset,
        count: n,
        image: (i) => imgs.data.subarray(i * 784, (i + 1) * 784),
        label: (i) => labels.data[i],
      };
    });
    p.catch(() => cache.delete(dataset));
    cache.set(dataset, p);
  }
  return cache.get(dataset);
}

/** The model's input for sample bytes: exactly bytes / 255. */
export function toPixels(bytes) {
  const x = new Float32Array(784);
  for (let i = 0; i < 784; i++) x[i] = bytes[i] / 255;
  return x;
}
