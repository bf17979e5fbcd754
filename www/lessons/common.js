// Shared bits of the lesson views: the DOM builder (../dom.js), the lessons' engine, the shipped test images, and
// 28×28 heatmaps in the Okabe–Ito blue–white–vermillion map. Model files come from ../models.js.
import { Engine } from '../engine.js';
import { loadSamples, toPixels } from '../samples.js';
import { el } from '../dom.js';

export { el };

let engine = null;

/**
 * The lessons' engine (created on first use). Its worker starts after the next paint: a lesson's card is built
 * before the first screen is painted, and the wasm download should not hold that screen back.
 */
export function lessonEngine() {
  if (!engine) engine = new Engine('lessons', { after: new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))) });
  return engine;
}

/** The lab's current 28×28 input (drawn, uploaded or picked), if there is one. */
export function labImage() {
  const px = globalThis.advlab?.R?.input?.pixels;
  return px && px.length === 784 ? Float32Array.from(px) : null;
}

/** Test image `i` of the shipped MNIST samples, or the lab's image for i = 'lab': {index, pixels, label}. */
export async function sample(i) {
  if (i === 'lab') {
    const px = labImage();
    if (px) return { index: 'lab', pixels: px, label: null };
    i = 0;
  }
  const s = await loadSamples('mnist');
  const k = Math.max(0, Math.min(s.count - 1, i | 0));
  return { index: k, pixels: toPixels(s.image(k)), label: s.label(k), count: s.count };
}

/** The first `n` shipped MNIST test images, flat, with their labels. */
export async function samples(n) {
  const s = await loadSamples('mnist');
  const m = Math.min(n, s.count);
  const images = new Float32Array(m * 784);
  const labels = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    images.set(toPixels(s.image(i)), i * 784);
    labels[i] = s.label(i);
  }
  return { images, labels, count: m, available: s.count };
}

// Okabe–Ito blue (0, 114, 178) ← white → vermillion (213, 94, 0).
const NEG = [0, 114, 178];
const POS = [213, 94, 0];

/** Paints signed values (scaled by max |v|) on a side×side canvas. */
export function paintSigned(canvas, values, side) {
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(side, side);
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  max = max || 1;
  for (let i = 0; i < side * side; i++) {
    const a = Math.min(1, Math.abs(values[i]) / max);
    const c = values[i] < 0 ? NEG : POS;
    for (let ch = 0; ch < 3; ch++) img.data[4 * i + ch] = Math.round(255 + (c[ch] - 255) * a);
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Grey pixels in [0, 1] on a side×side canvas (the lab's panels.js). */
export { paintGray } from '../panels.js';

/** A number input for a test-image index, and a button that takes the lab's current image instead. */
export function sampleInput(id, onChange) {
  const input = el('input', { type: 'number', id, min: '0', max: '499', value: '0', class: 'lesson-sample' });
  input.addEventListener('change', () => onChange(Number(input.value) || 0));
  const lab = el('button', { type: 'button', class: 'secondary small', text: 'lessons.useLab' });
  lab.addEventListener('click', () => onChange(labImage() ? 'lab' : Number(input.value) || 0));
  return [el('label', { for: id, text: 'lessons.sample' }), input, lab];
}
