// Every SVG chart of the page, in one module: the lab's confidence curve (renderCurve), the lessons' line plots
// with legend, tooltips and PNG/CSV export (linePlot), and the small [0, 1]×[0, 1] line chart of the defences and
// training lessons (lineChart). Every element, the <svg> root included, is made here in the SVG namespace
// (svgEl, svgRoot): an <svg> made with document.createElement is an HTML element and renders 0 px tall.
import { t, formatEta, formatPercent, formatNumber } from './i18n.js';
import { el } from './dom.js';
import { save } from './download.js';

export const NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (stringified) and optional text. */
export function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

/** The dash of a line plot's i-th series (solid, dashed, dotted, again): the plot and its legend share it. */
const seriesDash = (i) => (i % 3 === 1 ? '6 3' : i % 3 === 2 ? '2 3' : '');

/** A chart's <svg> root, for a view to place: role img; `i18nAria` keeps its accessible name translated. */
export function svgRoot({ i18nAria, ...attrs } = {}) {
  const s = svgEl('svg', { role: 'img', ...attrs });
  if (i18nAria) {
    s.dataset.i18nAria = i18nAria;
    s.setAttribute('aria-label', t(i18nAria));
  }
  return s;
}

/** An <svg> passed in from elsewhere: one in the HTML namespace is replaced in place by a real SVG element. */
function asSvg(node) {
  if (node.namespaceURI === NS) return node;
  if (!node.svg) {
    node.svg = document.createElementNS(NS, 'svg');
    for (const a of node.attributes) node.svg.setAttribute(a.name, a.value);
  }
  if (node.isConnected) node.replaceWith(node.svg);
  return node.svg;
}

// ================================================================ the lab's confidence curve
// The clean class's probability against η along the adversarial direction (vermillion, solid) and along a random
// ±1 sign direction of the same norm (blue, dashed). The two lines differ by dash and marker shape as well as
// colour.
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

  svg.append(svgEl('title', {}, t('curve.title', { label })));
  const n = data.etas.length;
  const at = (arr, frac) => arr[Math.min(n - 1, Math.round(frac * (n - 1)))];
  svg.append(
    svgEl('desc', {}, t('curve.desc', {
      label,
      eta: formatEta(top),
      adv: formatPercent(at(data.adversarial, 1)),
      rnd: formatPercent(at(data.random, 1)),
    })),
  );

  const axes = svgEl('g', { class: 'axes' });
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    axes.append(svgEl('line', { x1: M.l, x2: W - M.r, y1: y(p), y2: y(p), class: p === 0 ? 'axis' : 'grid' }));
    axes.append(svgEl('text', { x: M.l - 6, y: y(p) + 4, 'text-anchor': 'end' }, formatPercent(p, 0)));
  }
  const step = tickStep(top);
  for (let i = 0; i * step <= top + 1e-9; i++) {
    const e = Number((i * step).toFixed(6));
    axes.append(svgEl('line', { x1: x(e), x2: x(e), y1: y(0), y2: y(0) + 5, class: 'axis' }));
    axes.append(svgEl('text', { x: x(e), y: y(0) + M.b * 0.45, 'text-anchor': 'middle' }, formatEta(e)));
  }
  axes.append(svgEl('text', { x: (M.l + W - M.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-title' }, t('curve.xaxis')));
  svg.append(axes);

  if (flip !== null && flip <= top) {
    svg.append(svgEl('line', { x1: x(flip), x2: x(flip), y1: M.t, y2: y(0), class: 'flip-line' }));
    svg.append(svgEl('text', { x: x(flip) + 5, y: y(0) - 8, class: 'flip-text' }, t('curve.flip', { eta: formatEta(flip) })));
  }
  svg.dataset.top = String(top);
  svg.append(svgEl('line', { x1: M.l, x2: M.l, y1: M.t, y2: y(0), class: 'eta-line', id: 'curve-eta-line' }));
  setCurveEta(svg, eta);

  const path = (arr) => Array.from(arr, (p, i) => `${i ? 'L' : 'M'}${x(data.etas[i]).toFixed(1)},${y(p).toFixed(1)}`).join('');
  svg.append(svgEl('path', { d: path(data.random), class: 'line random' }));
  svg.append(svgEl('path', { d: path(data.adversarial), class: 'line adversarial' }));
  // Markers every tenth point: shapes that tell the lines apart without colour.
  for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 10))) {
    svg.append(svgEl('circle', { cx: x(data.etas[i]), cy: y(data.adversarial[i]), r: 3.5, class: 'dot adversarial' }));
    const cx = x(data.etas[i]);
    const cy = y(data.random[i]);
    svg.append(svgEl('rect', { x: cx - 3, y: cy - 3, width: 6, height: 6, class: 'dot random' }));
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
  svg.replaceChildren(svgEl('title', {}, text), svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty-text' }, text));
  delete svg.dataset.top;
}

// ================================================================ the lessons' line plots
// Axes with ticks, a legend, a tooltip per point (focusable, so keyboard users reach it too), and export as PNG
// and CSV. Colours come from the caller (Okabe–Ito), drawn with presentation attributes only, so the exported PNG
// looks like the page. The plotted data are kept on the <figure> as JSON in `data-points`.

export const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

function niceTicks(lo, hi, count = 5) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/**
 * A line plot in a <figure>. spec: {title (i18n key), xLabel, yLabel (keys), series: [{name (plain text), points:
 * [{x, y}], color?, dash?}], xDomain?, yDomain?, xTicks?, formatY?, file (base name for exports)}. Returns the figure.
 */
export function linePlot(spec) {
  const fig = el('figure', { class: 'lesson-plot' });
  renderPlot(fig, spec);
  return fig;
}

/** Redraws a plot made by linePlot with a new spec (same figure). */
export function renderPlot(fig, spec) {
  fig.replaceChildren();
  fig.spec = spec;
  // spec.fit: one user unit is one CSS pixel (the figure's width, a height that suits it, text at the page's size,
  // so a phone's plot is not shrunk to unreadable text); otherwise a fixed 560 × 300 drawing scaled by CSS.
  const fit = spec.fit ? fitBox(fig) : null;
  const W = fit ? fit.w : 560;
  const H = fit ? fit.h : 300;
  const fontSize = fit ? fit.font : 12;
  const m = fit ? { l: Math.round(4.4 * fontSize), r: 14, t: 14, b: Math.round(3.4 * fontSize) } : { l: 56, r: 14, t: 14, b: 46 };
  // Reference lines (spec.refs) keep their labels in a column right of the plot.
  const refs = spec.refs || [];
  if (refs.length) m.r = Math.min(Math.round(W * 0.42), Math.round(Math.max(...refs.map((r) => r.short.length)) * fontSize * 0.64 + 24));
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y).filter(Number.isFinite);
  const [x0, x1] = spec.xDomain || [Math.min(...xs, 0), Math.max(...xs, 1)];
  const [y0, y1] = spec.yDomain || [Math.min(0, ...ys), Math.max(...ys, 1e-9) * 1.05];
  const sx = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y) => H - m.b - ((y - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const fy = spec.formatY || ((v) => formatNumber(v, 3));
  const root = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot-svg', role: 'img', 'font-family': 'sans-serif', 'font-size': fontSize });
  if (fit) {
    root.setAttribute('width', W);
    root.setAttribute('height', H);
  }
  root.append(svgEl('title', {}, t(spec.title)));
  root.append(svgEl('rect', { x: 0, y: 0, width: W, height: H, fill: '#ffffff' }));
  const axes = svgEl('g', { stroke: '#333333', fill: '#333333' });
  axes.append(svgEl('line', { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }));
  axes.append(svgEl('line', { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b }));
  for (const v of spec.xTicks || niceTicks(x0, x1)) {
    axes.append(svgEl('line', { x1: sx(v), x2: sx(v), y1: H - m.b, y2: H - m.b + 5 }));
    axes.append(svgEl('text', { x: sx(v), y: H - m.b + 6 + fontSize, 'text-anchor': 'middle', stroke: 'none' }, formatNumber(v, 3)));
  }
  for (const v of niceTicks(y0, y1)) {
    axes.append(svgEl('line', { x1: m.l - 5, x2: m.l, y1: sy(v), y2: sy(v) }));
    axes.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v), stroke: '#dddddd' }));
    axes.append(svgEl('text', { x: m.l - 8, y: sy(v) + 4, 'text-anchor': 'end', stroke: 'none' }, fy(v)));
  }
  axes.append(svgEl('text', { x: (m.l + W - m.r) / 2, y: H - 8, 'text-anchor': 'middle', stroke: 'none' }, t(spec.xLabel)));
  const yl = fit ? Math.round(fontSize * 0.9) : 14;
  axes.append(svgEl('text', { x: yl, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', stroke: 'none', transform: `rotate(-90 ${yl} ${(m.t + H - m.b) / 2})` }, t(spec.yLabel)));
  root.append(axes);
  if (refs.length) root.append(refLines(refs, { sx, sy, W, m, fontSize }));
  spec.series.forEach((s, i) => {
    const color = s.color || OKABE_ITO[i % OKABE_ITO.length];
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    const dash = s.dash ?? seriesDash(i);
    root.append(svgEl('polyline', { points: pts.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2.5, 'stroke-dasharray': dash }));
    for (const p of pts) {
      const c = svgEl('circle', { cx: sx(p.x), cy: sy(p.y), r: 5, fill: color, tabindex: 0, class: 'plot-point' });
      c.append(svgEl('title', {}, `${s.name}: ${t(spec.xLabel)} ${formatNumber(p.x, 4)} → ${fy(p.y)}`));
      root.append(c);
    }
  });
  fig.append(root);
  const legend = el('ul', { class: 'plot-legend' });
  const swatch = (color, dash, width = 2.5) => {
    // The swatch is a short stretch of the series' own line: its colour and its dash, so colour is not the cue.
    const sw = svgEl('svg', { class: 'swatch', viewBox: '0 0 24 8', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
    sw.append(svgEl('line', { x1: 0, y1: 4, x2: 24, y2: 4, stroke: color, 'stroke-width': width, 'stroke-dasharray': dash || undefined }));
    return sw;
  };
  spec.series.forEach((s, i) => {
    legend.append(el('li', {}, swatch(s.color || OKABE_ITO[i % OKABE_ITO.length], s.dash ?? seriesDash(i)), el('span', { raw: s.name })));
  });
  // Reference lines in the legend too, in full words (the plot's labels are short).
  if (refs.length && spec.refsTitle) legend.append(el('li', { class: 'ref-title', raw: t(spec.refsTitle) }));
  for (const r of refs) legend.append(el('li', { class: 'ref' }, swatch(r.color, r.dash, 2), el('span', { raw: r.name })));
  fig.append(legend);
  fig.append(
    el(
      'div',
      { class: 'row' },
      el('button', { type: 'button', class: 'secondary small', text: 'lessons.exportPng', onclick: () => exportPng(fig) }),
      el('button', { type: 'button', class: 'secondary small', text: 'lessons.exportCsv', onclick: () => exportCsv(fig) }),
    ),
  );
  fig.append(el('figcaption', { text: spec.title }));
  fig.dataset.points = JSON.stringify(spec.series);
}

/**
 * Calls `redraw()` whenever `node`'s laid-out width changes (a rotated phone, a resized window): a fitted plot
 * (spec.fit) is drawn at its figure's width, so its owner redraws it here.
 */
export function onWidthChange(node, redraw) {
  let last = 0;
  new ResizeObserver(() => {
    const w = node.clientWidth;
    if (w && w !== last) {
      last = w;
      redraw();
    }
  }).observe(node);
}

/** The box of a fitted plot: its figure's width (560 while it is not laid out), a height that suits it, the font. */
function fitBox(fig) {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const w = Math.round(fig.clientWidth || fig.parentElement?.clientWidth || 560);
  return { w, h: Math.round(Math.max(15 * rem, Math.min(24 * rem, w * 0.5))), font: Math.round(rem * 0.92) };
}

/**
 * Horizontal reference lines across a plot: refs [{y, short, name, color, dash, x?, reported?}]. Each line carries a
 * short label in the right margin (labels pushed apart so close figures stay readable, a leader line to their
 * line); `reported` (a figure its authors claimed) is a hollow marker at x joined to the measured y, so the fall
 * shows.
 */
function refLines(refs, { sx, sy, W, m, fontSize }) {
  const g = svgEl('g', { class: 'plot-refs' });
  const gap = fontSize + 3;
  const labels = refs.map((r) => ({ r, line: sy(r.y), at: sy(r.y) })).sort((a, b) => a.line - b.line);
  for (let i = 1; i < labels.length; i++) labels[i].at = Math.max(labels[i].at, labels[i - 1].at + gap);
  // Pushed past the bottom: shift the whole column up.
  const over = labels.length ? labels[labels.length - 1].at - (sy(0) + fontSize * 0.3) : 0;
  if (over > 0) for (const l of labels) l.at -= over;
  for (let i = labels.length - 2; i >= 0; i--) labels[i].at = Math.min(labels[i].at, labels[i + 1].at - gap);
  const x1 = W - m.r;
  for (const { r, line, at } of labels) {
    g.append(svgEl('line', { x1: m.l, x2: x1, y1: line, y2: line, stroke: r.color, 'stroke-width': 2, 'stroke-dasharray': r.dash || undefined, 'data-ref': r.id }));
    if (r.reported !== undefined && r.x !== undefined) {
      const cx = sx(r.x);
      g.append(svgEl('line', { x1: cx, x2: cx, y1: sy(r.reported), y2: line, stroke: r.color, 'stroke-width': 1.5 }));
      const c = svgEl('circle', { cx, cy: sy(r.reported), r: 4.5, fill: '#ffffff', stroke: r.color, 'stroke-width': 2 });
      c.append(svgEl('title', {}, r.name));
      g.append(c);
    }
    g.append(svgEl('polyline', { points: `${x1},${line} ${x1 + 8},${at} ${x1 + 12},${at}`, fill: 'none', stroke: r.color, 'stroke-width': 1 }));
    const label = svgEl('text', { x: x1 + 14, y: at + fontSize * 0.35, fill: r.text || r.color, stroke: 'none', 'font-weight': 600 }, r.short);
    label.append(svgEl('title', {}, r.name));
    g.append(label);
  }
  return g;
}

/** The plot's data as CSV: one row per (series, x). */
export function toCsv(spec) {
  const rows = [['series', 'x', 'y']];
  for (const s of spec.series) for (const p of s.points) rows.push([s.name, p.x, p.y]);
  return rows.map((r) => r.map((v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : v)).join(',')).join('\n') + '\n';
}

export function exportCsv(fig) {
  save(new Blob([toCsv(fig.spec)], { type: 'text/csv' }), `${fig.spec.file || 'plot'}.csv`);
}

/** Draws the SVG into a 2× canvas and saves it as PNG. */
export async function exportPng(fig) {
  const node = fig.querySelector('svg');
  const text = new XMLSerializer().serializeToString(node);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = 1120;
    c.height = 600;
    c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    save(blob, `${fig.spec.file || 'plot'}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}

// ================================================================ the small [0, 1] line chart (training)
// Series are polylines whose colour and dash come from CSS classes (Okabe–Ito colours, different dashes so colour
// is not the only cue); the chart scales with its container. Its text classes are chart-*: the page's .tick is an
// absolutely placed HTML label whose translateX(-50%) would shift SVG text by half its width.

const LW = 320;
const LH = 180;
const PAD = { l: 34, r: 8, t: 8, b: 28 };

/** series: [{cls, points: [[x, y], …], label?}] with x, y in [0, 1]; xMax scales the tick labels of x. */
export function lineChart(target, series, { xLabel = '', yLabel = '', xMax = 1, xTicks = [0, 0.5, 1] } = {}) {
  const svg = asSvg(target);
  svg.setAttribute('viewBox', `0 0 ${LW} ${LH}`);
  const px = (x) => PAD.l + (x / xMax) * (LW - PAD.l - PAD.r);
  const py = (y) => LH - PAD.b - Math.max(0, Math.min(1, y)) * (LH - PAD.t - PAD.b);
  const kids = [];
  for (const y of [0, 0.5, 1]) {
    kids.push(svgEl('line', { x1: PAD.l, x2: LW - PAD.r, y1: py(y), y2: py(y), class: 'grid' }));
    kids.push(svgEl('text', { x: PAD.l - 4, y: py(y) + 4, 'text-anchor': 'end', class: 'chart-tick' }, `${Math.round(y * 100)}%`));
  }
  for (const x of xTicks) kids.push(svgEl('text', { x: px(x), y: LH - PAD.b + 14, 'text-anchor': 'middle', class: 'chart-tick' }, String(x)));
  if (xLabel) kids.push(svgEl('text', { x: (PAD.l + LW - PAD.r) / 2, y: LH - 2, 'text-anchor': 'middle', class: 'chart-axis' }, xLabel));
  if (yLabel) kids.push(svgEl('text', { x: 2, y: PAD.t + 8, class: 'chart-axis' }, yLabel));
  for (const s of series) {
    if (!s.points.length) continue;
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    kids.push(svgEl('polyline', { points: pts, class: `series ${s.cls}`, fill: 'none' }));
    if (s.label) {
      const [lx, ly] = s.points[s.points.length - 1];
      kids.push(svgEl('text', { x: px(lx) - 2, y: py(ly) - 4, 'text-anchor': 'end', class: `chart-label ${s.cls}` }, s.label));
    }
  }
  svg.replaceChildren(...kids);
}
