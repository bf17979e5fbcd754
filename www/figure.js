// Figure export for slides and papers: the current view (the "What the model sees" card) as a PNG at 2× its CSS
// size, and the confidence curve as a standalone SVG; both carry a caption with the model, attack, η and seed.
// The PNG is painted from the card's own boxes (canvases, bars, text) with their computed colours and fonts, so it
// is what the visitor sees, in their language, at twice the pixels.
import { t, formatEta } from './i18n.js';
import { save } from './download.js';

export const SCALE = 2;
/** Height of the caption band under the card, in CSS pixels. */
export const CAPTION_PX = 30;

/** "Adversarial Lab · model mnist-cnn · attack FGSM · η = 0.1 · seed 7" in the current language. */
export function caption({ model, attack, eta, seed }) {
  return t('figure.caption', { model, attack: t(`attack.${attack}.name`), eta: formatEta(eta), seed });
}


const visible = (el) => {
  const cs = getComputedStyle(el);
  return cs.display !== 'none' && cs.visibility !== 'hidden' && el.getClientRects().length > 0;
};
const transparent = (c) => !c || c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);

/**
 * Paints `root` (an element) into a canvas SCALE× its size: backgrounds and borders of boxes, canvases (crisp
 * pixels), and text nodes, each at its layout position. Returns the canvas (CSS size + CAPTION_PX band).
 */
export function rasterize(root, text) {
  const box = root.getBoundingClientRect();
  const w = Math.round(box.width);
  const h = Math.round(box.height);
  const c = document.createElement('canvas');
  c.width = w * SCALE;
  c.height = (h + CAPTION_PX) * SCALE;
  const ctx = c.getContext('2d');
  ctx.scale(SCALE, SCALE);
  ctx.fillStyle = getComputedStyle(root).backgroundColor || '#fff';
  if (transparent(ctx.fillStyle)) ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h + CAPTION_PX);
  const at = (r) => [r.left - box.left, r.top - box.top, r.width, r.height];
  for (const el of root.querySelectorAll('*')) {
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const [x, y, ew, eh] = at(el.getBoundingClientRect());
    if (!transparent(cs.backgroundColor)) {
      ctx.fillStyle = cs.backgroundColor;
      const radius = Math.min(parseFloat(cs.borderTopLeftRadius) || 0, ew / 2, eh / 2);
      ctx.beginPath();
      ctx.roundRect(x, y, ew, eh, radius);
      ctx.fill();
    }
    if (el instanceof HTMLCanvasElement) {
      ctx.imageSmoothingEnabled = cs.imageRendering !== 'pixelated';
      ctx.drawImage(el, x, y, ew, eh);
    }
    if (parseFloat(cs.outlineWidth) > 0 && cs.outlineStyle !== 'none') {
      ctx.strokeStyle = cs.outlineColor;
      ctx.lineWidth = parseFloat(cs.outlineWidth);
      const o = parseFloat(cs.outlineOffset) || 0;
      ctx.strokeRect(x - o, y - o, ew + 2 * o, eh + 2 * o);
    }
    for (const n of el.childNodes) {
      if (n.nodeType !== Node.TEXT_NODE || !n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      ctx.fillStyle = cs.color;
      ctx.textBaseline = 'top';
      // One line per client rect (wrapped text), words placed greedily into them.
      const rects = [...range.getClientRects()];
      if (rects.length <= 1) ctx.fillText(n.textContent.trim(), r.left - box.left, r.top - box.top + 1);
      else {
        const words = n.textContent.trim().split(/\s+/);
        let k = 0;
        for (const lr of rects) {
          let line = '';
          while (k < words.length && ctx.measureText(line ? `${line} ${words[k]}` : words[k]).width <= lr.width + 1) {
            line = line ? `${line} ${words[k]}` : words[k];
            k++;
          }
          ctx.fillText(line, lr.left - box.left, lr.top - box.top + 1);
        }
      }
    }
  }
  ctx.fillStyle = '#1a1a1a';
  ctx.font = `600 14px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 12, h + CAPTION_PX / 2, w - 24);
  return c;
}

/** The view as a PNG Blob at SCALE× with the caption: { blob, width, height } (CSS size of the card). */
export async function viewPng(root, state) {
  const c = rasterize(root, caption(state));
  const blob = await new Promise((res) => c.toBlob(res, 'image/png'));
  const r = root.getBoundingClientRect();
  return { blob, width: Math.round(r.width), height: Math.round(r.height) };
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const STYLE_PROPS = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-linejoin', 'font-size', 'font-weight', 'font-family', 'opacity', 'visibility'];

/**
 * A chart <svg> as a standalone SVG document: computed styles inlined (the page's stylesheet does not travel with
 * the file), the caption as a <text> under the chart and as the document's <desc>.
 */
export function standaloneSvg(svg, text) {
  const copy = svg.cloneNode(true);
  const src = [svg, ...svg.querySelectorAll('*')];
  const dst = [copy, ...copy.querySelectorAll('*')];
  src.forEach((el, i) => {
    const cs = getComputedStyle(el);
    const style = STYLE_PROPS.map((p) => [p, cs.getPropertyValue(p)]).filter(([, v]) => v && v !== 'none' && v !== 'normal');
    dst[i].removeAttribute('class');
    for (const [p, v] of style) dst[i].setAttribute(p, v);
  });
  const vb = (svg.getAttribute('viewBox') || '0 0 480 260').split(/\s+/).map(Number);
  const [, , w, h] = vb;
  const band = 28;
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('viewBox', `0 0 ${w} ${h + band}`);
  copy.setAttribute('width', String(w));
  copy.setAttribute('height', String(h + band));
  copy.removeAttribute('id');
  const bg = document.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('width', String(w));
  bg.setAttribute('height', String(h + band));
  bg.setAttribute('fill', '#ffffff');
  copy.insertBefore(bg, copy.firstChild);
  const cap = document.createElementNS(SVG_NS, 'text');
  cap.setAttribute('x', '8');
  cap.setAttribute('y', String(h + band / 2 + 5));
  cap.setAttribute('font-size', '13');
  cap.setAttribute('font-family', 'system-ui, sans-serif');
  cap.setAttribute('fill', '#1a1a1a');
  cap.setAttribute('class', 'caption');
  cap.textContent = text;
  copy.append(cap);
  const desc = document.createElementNS(SVG_NS, 'desc');
  desc.textContent = text;
  copy.insertBefore(desc, copy.firstChild);
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(copy);
}

const baseName = (s) => `advlab-${s.model}-${s.attack}-eta${Number(s.eta.toFixed(6))}-seed${s.seed}`;

/** Downloads the view PNG; returns its { width, height } in CSS pixels (the PNG is SCALE× that, plus the caption). */
export async function exportPng(root, state) {
  const r = await viewPng(root, state);
  save(r.blob, `${baseName(state)}.png`);
  return { width: r.width, height: r.height };
}

export function exportSvg(svg, state) {
  const text = standaloneSvg(svg, caption(state));
  save(new Blob([text], { type: 'image/svg+xml' }), `${baseName(state)}-curve.svg`);
}
