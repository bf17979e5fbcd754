// 28×28 images on small canvases that CSS scales up with crisp pixels (image-rendering: pixelated), and photos'
// 224×224 RGB panels.
import { perturbationRange } from './noise-map.js';

/** Grey pixels in [0, 1] (white ink on black, as the model sees them). */
export function paintGray(canvas, pixels, size = 28) {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const v = Math.round(Math.max(0, Math.min(1, pixels[i] ?? 0)) * 255);
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

export function blank(canvas, size = 28, colour = '#000') {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, size, size);
}

/** Draws a 28×28 image into a bigger canvas (the drawing pad showing a sample), letterboxed on black. */
export function paintInto(canvas, source) {
  const ctx = canvas.getContext('2d');
  ctx.save();
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const s = Math.min(canvas.width / source.width, canvas.height / source.height);
  const w = source.width * s;
  const h = source.height * s;
  ctx.imageSmoothingEnabled = source.width > 64;
  ctx.drawImage(source, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
  ctx.restore();
}

/** RGB pixels in [0, 1], channel-first (3×side×side, as the photo model sees them), painted at full resolution. */
export function paintRGB(canvas, chw, side) {
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(side, side);
  const plane = side * side;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(Math.max(0, Math.min(1, chw[c * plane + i] ?? 0)) * 255);
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * A photo's perturbation δ (3×side×side) amplified in RGB: each channel shows 0.5 + 0.5·δ/peak, so mid-grey is
 * "no change" and the largest |δ| reaches black or full colour. Returns { amplification, min, max, peak } (the
 * true range before amplification), as paintPerturbation does for digits.
 */
export function paintPerturbationRGB(canvas, delta, side) {
  const { min, max, peak, amplification } = perturbationRange(delta);
  const shown = new Float32Array(delta.length);
  for (let i = 0; i < delta.length; i++) shown[i] = 0.5 + 0.5 * delta[i] * amplification;
  paintRGB(canvas, shown, side);
  return { amplification: amplification * 0.5, min, max, peak };
}

/** The uploaded photo, scaled to fit `canvas`, with the square the model sees (crop, in photo pixels) outlined. */
export function paintPhoto(canvas, source, crop) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width;
  const H = canvas.height;
  ctx.save();
  ctx.fillStyle = '#222';
  ctx.fillRect(0, 0, W, H);
  const s = Math.min(W / source.width, H / source.height);
  const w = source.width * s;
  const h = source.height * s;
  const x0 = (W - w) / 2;
  const y0 = (H - h) / 2;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, x0, y0, w, h);
  if (crop) {
    // Outside the crop dimmed, the crop outlined twice (dark, then light): visible on any photo.
    const cx = x0 + crop.left * s;
    const cy = y0 + crop.top * s;
    const cs = crop.side * s;
    ctx.fillStyle = 'rgba(0,0,0,0.45)';
    ctx.beginPath();
    ctx.rect(x0, y0, w, h);
    ctx.rect(cx, cy, cs, cs);
    ctx.fill('evenodd');
    ctx.lineWidth = 5;
    ctx.strokeStyle = '#000';
    ctx.strokeRect(cx, cy, cs, cs);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#ffd700';
    ctx.strokeRect(cx, cy, cs, cs);
  }
  ctx.restore();
}
