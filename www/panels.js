// 28×28 images on small canvases that CSS scales up with crisp pixels (image-rendering: pixelated).

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
