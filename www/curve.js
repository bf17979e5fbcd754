// The confidence curve: the clean class's probability against η along the adversarial direction (vermillion,
// solid) and along a random ±1 sign direction of the same norm (blue, dashed). Plain SVG built with the DOM; the
// two lines differ by dash and marker shape as well as colour.
import { t, formatEta, formatPercent } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
let H = 260;
let W = 480;

/**
 * One user unit is one CSS pixel: the chart takes its box's width, a height that suits it, and text keeps the
 * page's size (a projector's larger rem included) instead of shrinking or growing with the drawing.
 */
function fitWidth(svg) {
  W = Math.round(svg.parentElement?.clientWidth || 480);
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  H = Math.round(Math.max(14 * rem, Math.min(20 * rem, W * 0.42)));
  M.l = Math.round(3.4 * rem);
  M.b = Math.round(2.9 * rem);
}
const M = { l: 52, r: 26, t: 14, b: 44 };

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** η values for the curve: 0..top in `n` even steps. */
export function curveEtas(top, n = 61) {
  return Float32Array.from({ length: n }, (_, i) => (top * i) / (n - 1));
}

/** A tick step of 1, 2 or 5 × 10^k giving at most six intervals up to `top`. */
function tickStep(top) {
  const raw = top / 6;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

/**
 * How far the curve looks: the evaluation grid's 0.3 (×10 for L2), further if the flip lies beyond; rounded up
 * to a whole tick so the axis reads 0, 0.1, 0.2, … and not 0.0972.
 */
export function curveTop(norm, flipEta, max) {
  const base = norm === 'l2' ? 3 : 0.3;
  const top = flipEta !== null && flipEta > base * 0.9 ? Math.min(max, flipEta * 1.4) : base;
  const step = tickStep(top);
  return Math.min(max, Number((Math.ceil(top / step - 1e-9) * step).toFixed(6)));
}

/**
 * Draws into `svg`: data = { etas, adversarial, random }, marks = { flip, eta }, label = the clean class's name.
 * A text summary for screen readers goes into svg's <desc>.
 */
export function renderCurve(svg, data, { flip = null, eta = null, label = '' } = {}) {
  fitWidth(svg);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const top = data.etas[data.etas.length - 1] || 1;
  const x = (e) => M.l + (e / top) * (W - M.l - M.r);
  const y = (p) => M.t + (1 - p) * (H - M.t - M.b);

  svg.append(el('title', {}, t('curve.title', { label })));
  const n = data.etas.length;
  const at = (arr, frac) => arr[Math.min(n - 1, Math.round(frac * (n - 1)))];
  svg.append(
    el('desc', {}, t('curve.desc', {
      label,
      eta: formatEta(top),
      adv: formatPercent(at(data.adversarial, 1)),
      rnd: formatPercent(at(data.random, 1)),
    })),
  );

  const axes = el('g', { class: 'axes' });
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    axes.append(el('line', { x1: M.l, x2: W - M.r, y1: y(p), y2: y(p), class: p === 0 ? 'axis' : 'grid' }));
    axes.append(el('text', { x: M.l - 6, y: y(p) + 4, 'text-anchor': 'end' }, formatPercent(p, 0)));
  }
  const step = tickStep(top);
  for (let i = 0; i * step <= top + 1e-9; i++) {
    const e = Number((i * step).toFixed(6));
    axes.append(el('line', { x1: x(e), x2: x(e), y1: y(0), y2: y(0) + 5, class: 'axis' }));
    axes.append(el('text', { x: x(e), y: y(0) + M.b * 0.45, 'text-anchor': 'middle' }, formatEta(e)));
  }
  axes.append(el('text', { x: (M.l + W - M.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-title' }, t('curve.xaxis')));
  svg.append(axes);

  if (flip !== null && flip <= top) {
    svg.append(el('line', { x1: x(flip), x2: x(flip), y1: M.t, y2: y(0), class: 'flip-line' }));
    svg.append(el('text', { x: x(flip) + 5, y: y(0) - 8, class: 'flip-text' }, t('curve.flip', { eta: formatEta(flip) })));
  }
  svg.dataset.top = String(top);
  svg.append(el('line', { x1: M.l, x2: M.l, y1: M.t, y2: y(0), class: 'eta-line', id: 'curve-eta-line' }));
  setCurveEta(svg, eta);

  const path = (arr) => Array.from(arr, (p, i) => `${i ? 'L' : 'M'}${x(data.etas[i]).toFixed(1)},${y(p).toFixed(1)}`).join('');
  svg.append(el('path', { d: path(data.random), class: 'line random' }));
  svg.append(el('path', { d: path(data.adversarial), class: 'line adversarial' }));
  // Markers every tenth point: shapes that tell the lines apart without colour.
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 10))) {
    svg.append(el('circle', { cx: x(data.etas[i]), cy: y(data.adversarial[i]), r: 3.5, class: 'dot adversarial' }));
    const cx = x(data.etas[i]);
    const cy = y(data.random[i]);
    svg.append(el('rect', { x: cx - 3, y: cy - 3, width: 6, height: 6, class: 'dot random' }));
  }
}

/** Moves the current-η line (cheap: one attribute pair per slider move). */
export function setCurveEta(svg, eta) {
  const line = svg.querySelector('.eta-line');
  if (!line) return;
  const top = Number(svg.dataset.top) || 1;
  const visible = eta !== null && eta >= 0 && eta <= top;
  line.setAttribute('visibility', visible ? 'visible' : 'hidden');
  if (!visible) return;
  const px = M.l + (eta / top) * (W - M.l - M.r);
  line.setAttribute('x1', px.toFixed(1));
  line.setAttribute('x2', px.toFixed(1));
}

/** An empty chart with a sentence in the middle (no image yet, or the engine cannot draw the curve). */
export function renderCurveEmpty(svg, text) {
  fitWidth(svg);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren(el('title', {}, text), el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty-text' }, text));
  delete svg.dataset.top;
}
