// "Download": the three panels side by side as one PNG (with their captions, in the current language), plus a JSON
// of the settings and numbers that reproduce them.
import { t } from './i18n.js';

/** Saves a blob as a download named `name` (every PNG, JSON, CSV and SVG the page offers goes through here). */
export function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** Greedy word wrap into lines no wider than `width`. */
function wrap(ctx, text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** panels: [{ canvas, caption, detail }]; returns the PNG Blob. */
export async function composePng(panels, footer) {
  const side = 280;
  const pad = 16;
  const capH = 78;
  const w = pad + panels.length * (side + pad);
  const h = pad + side + capH + 30;
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingEnabled = false;
  panels.forEach((p, i) => {
    const x = pad + i * (side + pad);
    ctx.drawImage(p.canvas, x, pad, side, side);
    ctx.strokeStyle = '#c9ccd1';
    ctx.strokeRect(x + 0.5, pad + 0.5, side - 1, side - 1);
    ctx.fillStyle = '#1a1a1a';
    ctx.font = '600 16px system-ui, sans-serif';
    ctx.fillText(p.caption, x, pad + side + 22, side);
    ctx.font = '14px system-ui, sans-serif';
    ctx.fillStyle = '#4d4d4d';
    wrap(ctx, p.detail || '', side).slice(0, 3).forEach((line, k) => ctx.fillText(line, x, pad + side + 42 + 18 * k, side));
  });
  ctx.font = '13px system-ui, sans-serif';
  ctx.fillStyle = '#4d4d4d';
  ctx.fillText(footer, pad, h - 12, w - 2 * pad);
  return c.convertToBlob({ type: 'image/png' });
}

export async function downloadResult({ panels, settings, baseName }) {
  const png = await composePng(panels, t('download.footer', { link: settings.link }));
  save(png, `${baseName}.png`);
  const json = new Blob([JSON.stringify(settings, null, 2) + '\n'], { type: 'application/json' });
  save(json, `${baseName}.json`);
  return { png, json };
}
