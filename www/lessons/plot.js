// A small SVG line plot for the lessons: axes with ticks, a legend, a tooltip per point (focusable, so keyboard
// users reach it too), and export as PNG and CSV. Colours come from the caller (Okabe–Ito), drawn with
// presentation attributes only, so the exported PNG looks like the page. The plotted data are kept on the
// <figure> as JSON in `data-points` (tests and curious readers).
import { el } from './common.js';
import { t, formatNumber } from '../i18n.js';

const NS = 'http://www.w3.org/2000/svg';
export const OKABE_ITO = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

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
 * [{x, y}]}], xDomain?, yDomain?, xTicks?, formatY?, file (base name for exports)}. Returns the figure.
 */
export function linePlot(spec) {
  const fig = el('figure', { class: 'lesson-plot' });
  render(fig, spec);
  return fig;
}

/** Redraws a plot made by linePlot with a new spec (same figure). */
export function render(fig, spec) {
  fig.replaceChildren();
  fig.spec = spec;
  const W = 560;
  const H = 300;
  const m = { l: 56, r: 14, t: 14, b: 46 };
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y).filter(Number.isFinite);
  const [x0, x1] = spec.xDomain || [Math.min(...xs, 0), Math.max(...xs, 1)];
  const [y0, y1] = spec.yDomain || [Math.min(0, ...ys), Math.max(...ys, 1e-9) * 1.05];
  const sx = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y) => H - m.b - ((y - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const fy = spec.formatY || ((v) => formatNumber(v, 3));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot-svg', role: 'img', 'font-family': 'sans-serif', 'font-size': 12 });
  root.append(svg('title', {}, t(spec.title)));
  root.append(svg('rect', { x: 0, y: 0, width: W, height: H, fill: '#ffffff' }));
  const axes = svg('g', { stroke: '#333333', fill: '#333333' });
  axes.append(svg('line', { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }));
  axes.append(svg('line', { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b }));
  for (const v of spec.xTicks || niceTicks(x0, x1)) {
    axes.append(svg('line', { x1: sx(v), x2: sx(v), y1: H - m.b, y2: H - m.b + 5 }));
    axes.append(svg('text', { x: sx(v), y: H - m.b + 18, 'text-anchor': 'middle', stroke: 'none' }, formatNumber(v, 3)));
  }
  for (const v of niceTicks(y0, y1)) {
    axes.append(svg('line', { x1: m.l - 5, x2: m.l, y1: sy(v), y2: sy(v) }));
    axes.append(svg('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v), stroke: '#dddddd' }));
    axes.append(svg('text', { x: m.l - 8, y: sy(v) + 4, 'text-anchor': 'end', stroke: 'none' }, fy(v)));
  }
  axes.append(svg('text', { x: (m.l + W - m.r) / 2, y: H - 8, 'text-anchor': 'middle', stroke: 'none' }, t(spec.xLabel)));
  axes.append(svg('text', { x: 14, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', stroke: 'none', transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})` }, t(spec.yLabel)));
  root.append(axes);
  spec.series.forEach((s, i) => {
    const color = s.color || OKABE_ITO[i % OKABE_ITO.length];
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    const dash = i % 3 === 1 ? '6 3' : i % 3 === 2 ? '2 3' : '';
    root.append(svg('polyline', { points: pts.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2.5, 'stroke-dasharray': dash }));
    for (const p of pts) {
      const c = svg('circle', { cx: sx(p.x), cy: sy(p.y), r: 5, fill: color, tabindex: 0, class: 'plot-point' });
      c.append(svg('title', {}, `${s.name}: ${t(spec.xLabel)} ${formatNumber(p.x, 4)} → ${fy(p.y)}`));
      root.append(c);
    }
  });
  fig.append(root);
  const legend = el('ul', { class: 'plot-legend' });
  spec.series.forEach((s, i) => {
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = s.color || OKABE_ITO[i % OKABE_ITO.length];
    legend.append(el('li', {}, sw, el('span', { raw: s.name })));
  });
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

function save(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
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
