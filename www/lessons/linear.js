// Lesson "linear" (#lesson=linear): why linear models break (Goodfellow et al. 2015, §3). The ten weight vectors
// as heatmaps; the FGSM direction sign(w_t − w_y); the live decomposition Δ = η·Σ|w_t − w_y| = η·m·n of the change
// of the logit difference z_t − z_y; and a resolution slider over linear models trained on 7×7, 14×14 and 28×28
// inputs, with the median flip η (first 100 shipped test images) plotted against n.
import { el, lessonEngine, sample, samples, paintSigned, paintGray, sampleInput } from './common.js';
import { ensureModel } from '../models.js';
import { linePlot, renderPlot as render } from '../chart.js';
import { t, formatNumber, formatEta } from '../i18n.js';

const RES = [7, 14, 28];
const id = (r) => `linear-${r}`;
const file = (r) => `lessons/mnist-linear-${r}.safetensors`;
const FLIP_N = 100;

export function create() {
  const eng = lessonEngine();
  const st = { r: 28, eta: 0.1, target: -1, index: 0, weights: new Map(), flips: null };
  const heat = el('div', { class: 'heat-grid', 'data-testid': 'linear-weights' });
  const resSlider = el('input', { type: 'range', id: 'lesson-res', min: '0', max: '2', step: '1', value: '2', 'aria-valuetext': '28 × 28' });
  const resOut = el('output', { for: 'lesson-res', raw: '28 × 28' });
  const etaSlider = el('input', { type: 'range', id: 'lesson-linear-eta', min: '0', max: '0.5', step: '0.005', value: '0.1' });
  const etaOut = el('output', { for: 'lesson-linear-eta', raw: '0.1' });
  const targetSel = el('select', { id: 'lesson-linear-target' });
  const img = el('canvas', { class: 'pixels', width: 28, height: 28, role: 'img', 'data-i18n-aria': 'lessons.linear.image' });
  const dir = el('canvas', { class: 'pixels', width: 28, height: 28, role: 'img', 'data-i18n-aria': 'lessons.linear.direction' });
  const decomposition = el('p', { class: 'decomposition', 'data-testid': 'linear-delta', 'aria-live': 'polite' });
  const table = el('table', { class: 'lesson-table', 'data-testid': 'resolution-table' });
  const plot = linePlot({ title: 'lessons.linear.plotTitle', xLabel: 'lessons.linear.n', yLabel: 'lessons.linear.flipEta', series: [], file: 'flip-eta-vs-n' });
  plot.dataset.testid = 'flip-plot';
  const status = el('p', { class: 'hint small', 'aria-live': 'polite' });

  targetSel.append(el('option', { value: '-1', text: 'lessons.linear.runnerUp' }));
  for (let c = 0; c < 10; c++) targetSel.append(el('option', { value: String(c), raw: String(c) }));

  const root = el(
    'div',
    {},
    el('div', { class: 'lesson-controls' },
      el('label', { for: 'lesson-res', text: 'lessons.linear.resolution' }), resSlider, resOut,
      ...sampleInput('lesson-linear-sample', (i) => { st.index = i; update(); }),
      el('label', { for: 'lesson-linear-eta', raw: 'η' }), etaSlider, etaOut,
      el('label', { for: 'lesson-linear-target', text: 'lessons.linear.target' }), targetSel),
    el('h4', { text: 'lessons.linear.weightsTitle' }), heat,
    el('div', { class: 'lesson-pair' },
      el('figure', {}, img, el('figcaption', { text: 'lessons.linear.image' })),
      el('figure', {}, dir, el('figcaption', { text: 'lessons.linear.direction' }))),
    decomposition,
    el('h4', { text: 'lessons.linear.plotTitle' }),
    el('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'data-i18n-aria': 'lessons.linear.plotTitle', 'aria-label': t('lessons.linear.plotTitle') }, table),
    plot, status,
  );

  async function weights(r) {
    await ensureModel(eng, id(r), file(r));
    if (!st.weights.has(r)) st.weights.set(r, await eng.call('linearWeights', [id(r)]));
    return st.weights.get(r);
  }

  function drawHeatmaps(w) {
    heat.replaceChildren();
    for (let c = 0; c < w.classes; c++) {
      const cv = el('canvas', { class: 'pixels small', role: 'img', 'aria-label': t('lessons.linear.weightsOf', { c }) });
      paintSigned(cv, w.w.subarray(c * w.inputs, (c + 1) * w.inputs), w.side);
      heat.append(el('figure', {}, cv, el('figcaption', { raw: String(c) })));
    }
  }

  let seq = 0;
  async function update() {
    const my = ++seq;
    try {
      const w = await weights(st.r);
      if (my !== seq) return;
      drawHeatmaps(w);
      const s = await sample(st.index);
      const px = st.r === 28 ? s.pixels : await eng.call('downsample', [s.pixels, 28, st.r]);
      const d = await eng.call('linearDecomposition', [id(st.r), px, st.target, st.eta]);
      if (my !== seq) return;
      paintGray(img, px, st.r);
      paintSigned(dir, d.direction, st.r);
      Object.assign(decomposition.dataset, {
        resolution: st.r, sample: s.index, eta: d.eta, trueClass: d.trueClass, target: d.target,
        n: d.n, m: d.m, l1: d.l1, delta: d.delta, gapBefore: d.gapBefore, gapAfter: d.gapAfter,
      });
      decomposition.textContent = t('lessons.linear.decomposition', {
        y: d.trueClass, t: d.target, eta: formatEta(d.eta), m: formatNumber(d.m, 4), n: d.n,
        l1: formatNumber(d.l1, 3), delta: formatNumber(d.delta, 3), before: formatNumber(d.gapBefore, 3),
        after: formatNumber(d.gapAfter, 3), pred: d.predAfter,
      });
      await resolutionTable(my);
    } catch (e) {
      status.textContent = String(e.message || e);
    }
  }

  async function resolutionTable(my) {
    if (!st.flips) {
      status.textContent = t('lessons.working');
      const data = await samples(FLIP_N);
      const flips = [];
      for (const r of RES) {
        await ensureModel(eng, id(r), file(r));
        const f = await eng.call('flipEtas', [id(r), data.images, 1]);
        const v = Array.from(f).filter(Number.isFinite).sort((a, b) => a - b);
        const h = v.length >> 1;
        flips.push({ r, n: r * r, median: v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2, count: data.count });
      }
      st.flips = flips;
      status.textContent = '';
    }
    if (my !== seq) return;
    const s = await sample(st.index);
    const rows = [];
    for (const f of st.flips) {
      const px = f.r === 28 ? s.pixels : await eng.call('downsample', [s.pixels, 28, f.r]);
      const d = await eng.call('linearDecomposition', [id(f.r), px, -1, st.eta]);
      rows.push({ ...f, m: d.m, delta: d.delta });
    }
    if (my !== seq) return;
    table.replaceChildren(
      el('thead', {}, el('tr', {}, ...['lessons.linear.colRes', 'lessons.linear.n', 'lessons.linear.colM', 'lessons.linear.colDelta', 'lessons.linear.flipEta'].map((k) => el('th', { scope: 'col', text: k })))),
      el('tbody', {}, ...rows.map((r) => el('tr', { 'data-n': r.n, 'data-flip-eta': r.median },
        el('td', { raw: `${r.r} × ${r.r}` }), el('td', { raw: String(r.n) }), el('td', { raw: formatNumber(r.m, 4) }),
        el('td', { raw: formatNumber(r.delta, 3) }), el('td', { raw: formatEta(r.median) })))),
    );
    render(plot, {
      title: 'lessons.linear.plotTitle', xLabel: 'lessons.linear.n', yLabel: 'lessons.linear.flipEta', file: 'flip-eta-vs-n',
      xDomain: [0, 800], xTicks: [49, 196, 784],
      series: [{ name: t('lessons.linear.median', { count: st.flips[0].count }), points: st.flips.map((f) => ({ x: f.n, y: f.median })) }],
    });
  }

  resSlider.addEventListener('input', () => {
    st.r = RES[Number(resSlider.value)];
    resOut.textContent = `${st.r} × ${st.r}`;
    resSlider.setAttribute('aria-valuetext', `${st.r} × ${st.r}`);
    update();
  });
  etaSlider.addEventListener('input', () => {
    st.eta = Number(etaSlider.value);
    etaOut.textContent = formatEta(st.eta);
    update();
  });
  targetSel.addEventListener('change', () => {
    st.target = Number(targetSel.value);
    update();
  });

  return { root, show: update, refresh: update };
}
