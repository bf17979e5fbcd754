// Uploaded images: file input, drag-and-drop and paste. The file's own bytes decide what it is (the MIME type of a
// dropped file is often empty or wrong); dimensions are read from the header before decoding, so a 12000×12000
// image is refused clearly instead of eating the tab's memory. Accepted images are decoded and downscaled by the
// browser to at most MAX_SIDE pixels, then handed over as RGBA.
//
// Photos: the EXIF orientation is applied (a phone stores a portrait photo sideways and says so in EXIF), and
// since createImageBitmap's resize works on the image as shown, the header's width and height are swapped for
// orientations 5–8 before the downscaled size is chosen. HEIC/HEIF (iPhone photos) are recognised, tried, and
// refused with their own message where the browser cannot decode them. `minSide` (32 for the photo model) refuses
// images too small to classify and keeps the short side of the downscaled image at least that long.

export const MAX_SIDE = 1024;
export const MAX_PIXELS = 50e6; // 50 megapixels: every phone photo, not a 12000×12000 bomb
export const MAX_BYTES = 40 * 1024 * 1024;
/** The photo recipe's longest accepted side (Rust preparePhoto: 32–4096 px a side). */
export const PHOTO_MAX_SIDE = 4096;
/** A browser decode that takes longer than this counts as a damaged file, not as a page that hangs. */
const DECODE_TIMEOUT_MS = 30000;

const HEIF_BRANDS = ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1'];
const AVIF_BRANDS = ['avif', 'avis'];

export class UploadError extends Error {
  constructor(key, vars = {}) {
    super(key);
    this.i18nKey = key;
    this.vars = vars;
  }
}

/** 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'avif' | 'heic' | 'svg' | null, from the first bytes. */
export function sniff(b) {
  const s = (i, str) => [...str].every((c, k) => b[i + k] === c.charCodeAt(0));
  const heif = isoBrands(b);
  if (heif) {
    // AVIF and HEIC share the HEIF container (and its generic brand mif1): an AVIF brand anywhere decides.
    if (heif.some((x) => AVIF_BRANDS.includes(x))) return 'avif';
    if (heif.some((x) => HEIF_BRANDS.includes(x))) return 'heic';
  }
  if (b.length >= 8 && b[0] === 0x89 && s(1, 'PNG')) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && s(0, 'GIF8')) return 'gif';
  if (b.length >= 26 && s(0, 'BM')) return 'bmp';
  if (b.length >= 16 && s(0, 'RIFF') && s(8, 'WEBP')) return 'webp';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 1024)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')) || head.includes('<svg')) return 'svg';
  return null;
}

/** The major and compatible brands of an ISO-BMFF file ('ftyp' box at byte 4), or null. */
function isoBrands(b) {
  if (b.length < 16 || String.fromCharCode(b[4], b[5], b[6], b[7]) !== 'ftyp') return null;
  const size = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const end = Math.min(b.length, size >= 16 && size <= 4096 ? size : 16);
  const brands = [];
  for (let i = 8; i + 4 <= end; i += i === 8 ? 8 : 4) brands.push(String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3])); // skips minor_version
  return brands;
}

/**
 * The EXIF orientation (1–8; 1 when absent or unreadable) of a JPEG (APP1 "Exif"), PNG (eXIf chunk) or WebP
 * (EXIF chunk): 5–8 mean the picture is shown turned by 90°, so its shown width is the stored height.
 */
export function exifOrientation(kind, b) {
  try {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const tag = (str, i) => [...str].every((c, k) => b[i + k] === c.charCodeAt(0));
    if (kind === 'jpeg') {
      let i = 2;
      while (i + 4 <= b.length && b[i] === 0xff) {
        const marker = b[i + 1];
        if (marker === 0xff) {
          i += 1;
          continue;
        }
        if (marker === 0xda || marker === 0xd9) break; // start of scan: no more metadata
        const len = dv.getUint16(i + 2);
        if (marker === 0xe1 && tag('Exif\0\0', i + 4)) return tiffOrientation(dv, i + 10, i + 2 + len);
        i += 2 + len;
      }
    } else if (kind === 'png') {
      let i = 8;
      while (i + 12 <= b.length) {
        const len = dv.getUint32(i);
        if (tag('eXIf', i + 4)) return tiffOrientation(dv, i + 8, i + 8 + len);
        if (tag('IDAT', i + 4) || tag('IEND', i + 4)) break;
        i += 12 + len;
      }
    } else if (kind === 'webp') {
      let i = 12;
      while (i + 8 <= b.length) {
        const len = dv.getUint32(i + 4, true);
        if (tag('EXIF', i)) {
          const start = tag('Exif\0\0', i + 8) ? i + 14 : i + 8;
          return tiffOrientation(dv, start, i + 8 + len);
        }
        i += 8 + len + (len & 1);
      }
    }
  } catch {
    // a malformed block: treated as no orientation
  }
  return 1;
}

/** Orientation (tag 0x0112) from IFD0 of the TIFF structure at [start, end), or 1. */
function tiffOrientation(dv, start, end) {
  end = Math.min(end, dv.byteLength);
  if (start + 8 > end) return 1;
  const order = dv.getUint16(start);
  if (order !== 0x4949 && order !== 0x4d4d) return 1;
  const le = order === 0x4949;
  const ifd = start + dv.getUint32(start + 4, le);
  if (ifd + 2 > end) return 1;
  const n = dv.getUint16(ifd, le);
  for (let k = 0; k < n && ifd + 2 + 12 * k + 12 <= end; k++) {
    const e = ifd + 2 + 12 * k;
    if (dv.getUint16(e, le) === 0x0112) {
      const o = dv.getUint16(e + 8, le);
      return o >= 1 && o <= 8 ? o : 1;
    }
  }
  return 1;
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
 * downscaled image for showing, upright as its EXIF orientation says). Throws UploadError with a translatable key.
 *
 * `minSide` (default 0: any size, as for digits): a shown side shorter than this is refused ('upload.tooSmall',
 * {width, height, min}), and the downscale keeps the short side at least this long, the long side then going past
 * MAX_SIDE if it must but never past PHOTO_MAX_SIDE ('upload.tooThin' for a strip thinner than that allows).
 */
export async function decodeImageFile(file, { minSide = 0 } = {}) {
  if (!file || file.size === 0) throw new UploadError('upload.empty');
  if (file.size > MAX_BYTES) throw new UploadError('upload.tooBig', { mb: Math.round(file.size / 1048576) });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const kind = sniff(bytes);
  if (kind === 'svg') throw new UploadError('upload.svg');
  if (!kind) throw new UploadError('upload.notImage');
  const stored = headerSize(kind, bytes);
  if (stored && (stored.width === 0 || stored.height === 0)) throw new UploadError('upload.corrupt');
  // The pixel count does not care which way round the picture is shown.
  if (stored && stored.width * stored.height > MAX_PIXELS) {
    throw new UploadError('upload.tooLarge', { width: stored.width, height: stored.height });
  }
  const size = stored && exifOrientation(kind, bytes) >= 5 ? { width: stored.height, height: stored.width } : stored;
  if (size) checkShape(size, minSide);
  const blob = new Blob([bytes], { type: `image/${kind}` });
  let bitmap;
  try {
    const full = size || (await probe(blob));
    if (!size) checkShape(full, minSide);
    const long = Math.max(full.width, full.height);
    const short = Math.min(full.width, full.height);
    let s = Math.min(1, MAX_SIDE / long);
    if (minSide && short * s < minSide) s = Math.min(1, minSide / short);
    const opts = { imageOrientation: 'from-image' };
    if (s < 1) {
      // Resize works on the picture as shown (after the EXIF turn): these are shown width and height.
      Object.assign(opts, { resizeWidth: Math.max(1, Math.round(full.width * s)), resizeHeight: Math.max(1, Math.round(full.height * s)), resizeQuality: 'high' });
    }
    bitmap = await decode(blob, opts);
  } catch (e) {
    if (e instanceof UploadError) throw e;
    // A HEIC photo the browser cannot read is not damaged: say what it is and what to do.
    throw new UploadError(kind === 'heic' ? 'upload.heic' : 'upload.corrupt');
  }
  const { width, height } = bitmap;
  if (minSide && Math.min(width, height) < minSide) {
    bitmap.close();
    throw new UploadError('upload.tooSmall', { width, height, min: minSide });
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  // Transparent pixels count as white paper: a PNG of a black digit on transparency then reads as ink on paper.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data.buffer;
  return { rgba, width, height, bitmap };
}

/** True when a shown size {width, height} has a side shorter than the photo model's 32 pixels (or `min`). */
export function photoTooSmall({ width, height }, min = 32) {
  return Math.min(width, height) < min;
}

/** Refuses a shown size the caller's `minSide` cannot use: too small, or a strip too thin to keep both limits. */
function checkShape({ width, height }, minSide) {
  if (!minSide) return;
  if (photoTooSmall({ width, height }, minSide)) throw new UploadError('upload.tooSmall', { width, height, min: minSide });
  if (Math.max(width, height) / Math.min(width, height) > PHOTO_MAX_SIDE / minSide) {
    throw new UploadError('upload.tooThin', { width, height });
  }
}

/** createImageBitmap, given up after DECODE_TIMEOUT_MS (a hung decoder is reported as a damaged file). */
function decode(blob, opts) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('decode timeout')), DECODE_TIMEOUT_MS);
  });
  return Promise.race([createImageBitmap(blob, opts), late]).finally(() => clearTimeout(timer));
}

/** Decodes just to learn the shown size when the header did not tell (then checks the megapixel limit). */
async function probe(blob) {
  const bm = await decode(blob, { imageOrientation: 'from-image' });
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
