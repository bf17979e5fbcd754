// The signed, colour-blind-safe diverging map for the perturbation: Okabe–Ito blue (darker) ← white → vermillion
// (brighter). Lightness runs symmetrically from both ends to white, so the sign survives greyscale printing too.
const NEG = [0, 114, 178]; // #0072B2
const ZERO = [255, 255, 255];
const POS = [213, 94, 0]; // #D55E00

/** v in [-1, 1] → [r, g, b]. */
export function divergingColor(v) {
  const a = Math.max(-1, Math.min(1, v));
  const end = a < 0 ? NEG : POS;
  const f = Math.abs(a);
  return [0, 1, 2].map((i) => Math.round(ZERO[i] + (end[i] - ZERO[i]) * f));
}

/**
 * The true range of a perturbation and the factor that amplifies its largest |δ| to 1: { min, max, peak,
 * amplification } (min ≤ 0 ≤ max; a zero δ is shown at ×1). Digits and photos scale their panels by it.
 */
export function perturbationRange(delta) {
  let min = 0;
  let max = 0;
  for (const v of delta) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const peak = Math.max(Math.abs(min), Math.abs(max));
  return { min, max, peak, amplification: peak > 1e-9 ? 1 / peak : 1 };
}

/**
 * Paints a perturbation δ (28×28, values in [-1, 1]) amplified so that its largest |δ| reaches full colour.
 * Returns { amplification, min, max, peak } for the caption: the true range before amplification.
 */
export function paintPerturbation(canvas, delta, size = 28) {
  const { min, max, peak, amplification } = perturbationRange(delta);
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = divergingColor((delta[i] ?? 0) * amplification);
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  canvas.width = size;
  canvas.height = size;
  ctx.putImageData(img, 0, 0);
  return { amplification, min, max, peak };
}

/** The legend: a horizontal gradient from −peak (blue) through 0 (white) to +peak (vermillion). */
export function paintLegend(canvas) {
  const w = 256;
  canvas.width = w;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, 1);
  for (let x = 0; x < w; x++) {
    const [r, g, b] = divergingColor((x / (w - 1)) * 2 - 1);
    img.data.set([r, g, b, 255], 4 * x);
  }
  ctx.putImageData(img, 0, 0);
}
