// Uploaded images: file input, drag-and-drop and paste. The file's own bytes decide what it is (the MIME type of a
// dropped file is often empty or wrong); dimensions are read from the header before decoding, so a 12000×12000
// image is refused clearly instead of eating the tab's memory. Accepted images are decoded and downscaled by the
// browser to at most MAX_SIDE pixels, then handed over as RGBA.

export const MAX_SIDE = 1024;
export const MAX_PIXELS = 50e6; // 50 megapixels: every phone photo, not a 12000×12000 bomb
export const MAX_BYTES = 40 * 1024 * 1024;

export class UploadError extends Error {
  constructor(key, vars = {}) {
    super(key);
    this.i18nKey = key;
    this.vars = vars;
  }
}

/** 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'svg' | null, from the first bytes. */
export function sniff(b) {
  const s = (i, str) => [...str].every((c, k) => b[i + k] === c.charCodeAt(0));
  if (b.length >= 8 && b[0] === 0x89 && s(1, 'PNG')) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && s(0, 'GIF8')) return 'gif';
  if (b.length >= 26 && s(0, 'BM')) return 'bmp';
  if (b.length >= 16 && s(0, 'RIFF') && s(8, 'WEBP')) return 'webp';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 1024)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')) || head.includes('<svg')) return 'svg';
  return null;
}

/** { width, height } from the header, or null when the header does not say (the decoder then decides). */
export function headerSize(kind, b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    if (kind === 'png') return { width: dv.getUint32(16), height: dv.getUint32(20) };
    if (kind === 'gif') return { width: dv.getUint16(6, true), height: dv.getUint16(8, true) };
    if (kind === 'bmp') return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
    if (kind === 'webp') {
      const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
      if (chunk === 'VP8 ') return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
      if (chunk === 'VP8L') {
        const bits = dv.getUint32(21, true);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
      if (chunk === 'VP8X') {
        const w = 1 + (b[24] | (b[25] << 8) | (b[26] << 16));
        const h = 1 + (b[27] | (b[28] << 8) | (b[29] << 16));
        return { width: w, height: h };
      }
    }
    if (kind === 'jpeg') {
      let i = 2;
      while (i + 9 < b.length) {
        if (b[i] !== 0xff) return null;
        const marker = b[i + 1];
        if (marker === 0xff) {
          i += 1;
          continue;
        }
        const len = dv.getUint16(i + 2);
        // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
          return { width: dv.getUint16(i + 7), height: dv.getUint16(i + 5) };
        }
        i += 2 + len;
      }
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Reads and decodes one File/Blob. Resolves to { rgba: ArrayBuffer, width, height, bitmap } (bitmap is the
 * downscaled image for showing). Throws UploadError with a translatable key.
 */
export async function decodeImageFile(file) {
  if (!file || file.size === 0) throw new UploadError('upload.empty');
  if (file.size > MAX_BYTES) throw new UploadError('upload.tooBig', { mb: Math.round(file.size / 1048576) });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const kind = sniff(bytes);
  if (kind === 'svg') throw new UploadError('upload.svg');
  if (!kind) throw new UploadError('upload.notImage');
  const size = headerSize(kind, bytes);
  if (size && (size.width === 0 || size.height === 0)) throw new UploadError('upload.corrupt');
  if (size && size.width * size.height > MAX_PIXELS) {
    throw new UploadError('upload.tooLarge', { width: size.width, height: size.height });
  }
  const blob = new Blob([bytes], { type: `image/${kind}` });
  let bitmap;
  try {
    const full = size || (await probe(blob));
    const s = Math.min(1, MAX_SIDE / Math.max(full.width, full.height));
    const opts = s < 1
      ? { resizeWidth: Math.max(1, Math.round(full.width * s)), resizeHeight: Math.max(1, Math.round(full.height * s)), resizeQuality: 'high' }
      : {};
    bitmap = await createImageBitmap(blob, opts);
  } catch (e) {
    if (e instanceof UploadError) throw e;
    throw new UploadError('upload.corrupt');
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  // Transparent pixels count as white paper: a PNG of a black digit on transparency then reads as ink on paper.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data.buffer;
  return { rgba, width, height, bitmap };
}

/** Decodes just to learn the size when the header did not tell (then checks the megapixel limit). */
async function probe(blob) {
  const bm = await createImageBitmap(blob);
  const size = { width: bm.width, height: bm.height };
  bm.close();
  if (size.width * size.height > MAX_PIXELS) throw new UploadError('upload.tooLarge', size);
  return size;
}

/** Wires the file input, drag-and-drop on `zone` (and the whole page) and paste; calls onFile(file). */
export function wireUpload({ input, zone, onFile }) {
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) onFile(f);
    input.value = '';
  });
  const over = (e) => {
    if (![...(e.dataTransfer?.types || [])].includes('Files')) return;
    e.preventDefault();
    zone.classList.add('dragging');
  };
  const leave = () => zone.classList.remove('dragging');
  document.addEventListener('dragover', over);
  document.addEventListener('dragleave', (e) => {
    if (e.target === document.documentElement || e.target === zone) leave();
  });
  document.addEventListener('drop', (e) => {
    leave();
    const f = e.dataTransfer?.files?.[0];
    if (!f) return;
    e.preventDefault();
    onFile(f);
  });
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData?.items || [])].find((i) => i.kind === 'file');
    const f = item?.getAsFile();
    if (!f) return;
    e.preventDefault();
    onFile(f);
  });
}
