// A small SVG line chart with both axes in [0, 1] (accuracy, progress, η scaled by the caller). Series are drawn
// as polylines whose colour and dash come from CSS classes (Okabe–Ito colours, different dashes so colour is not
// the only cue). One user unit per CSS pixel is not needed here: the chart scales with its container.
const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 180;
const PAD = { l: 34, r: 8, t: 8, b: 28 };

function node(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

/** series: [{cls, points: [[x, y], …], label?}] with x, y in [0, 1]; xMax scales the tick labels of x. */
export function lineChart(svg, series, { xLabel = '', yLabel = '', xMax = 1, xTicks = [0, 0.5, 1] } = {}) {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const px = (x) => PAD.l + (x / xMax) * (W - PAD.l - PAD.r);
  const py = (y) => H - PAD.b - Math.max(0, Math.min(1, y)) * (H - PAD.t - PAD.b);
  const kids = [];
  for (const y of [0, 0.5, 1]) {
    kids.push(node('line', { x1: PAD.l, x2: W - PAD.r, y1: py(y), y2: py(y), class: 'grid' }));
    kids.push(node('text', { x: PAD.l - 4, y: py(y) + 4, 'text-anchor': 'end', class: 'tick' }, `${Math.round(y * 100)}%`));
  }
  for (const x of xTicks) kids.push(node('text', { x: px(x), y: H - PAD.b + 14, 'text-anchor': 'middle', class: 'tick' }, String(x)));
  if (xLabel) kids.push(node('text', { x: (PAD.l + W - PAD.r) / 2, y: H - 2, 'text-anchor': 'middle', class: 'axis' }, xLabel));
  if (yLabel) kids.push(node('text', { x: 2, y: PAD.t + 8, class: 'axis' }, yLabel));
  for (const s of series) {
    if (!s.points.length) continue;
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    kids.push(node('polyline', { points: pts, class: `series ${s.cls}`, fill: 'none' }));
    if (s.label) {
      const [lx, ly] = s.points[s.points.length - 1];
      kids.push(node('text', { x: px(lx) - 2, y: py(ly) - 4, 'text-anchor': 'end', class: `label ${s.cls}` }, s.label));
    }
  }
  svg.replaceChildren(...kids);
}
