// Lesson "scale" (#lesson=scale): the article's η·m·n, measured. FGSM moves a linear score by η·‖w‖₁ = η·m·n, so
// the more numbers n an input has, the smaller the η that flips the answer (Goodfellow et al. 2015, §3): a digit
// (n = 784) beside a photo (n = 3×224×224 = 150 528), each with the median flip η on its test images, and a
// log–log plot of the median flip η against n.
//   - the committed measurements (lessons/scale.json, `node scripts/scale-medians.mjs`): the linear lesson's
//     resolution models (n = 49, 196, 784) and the lab's digit CNN on the first N shipped test digits, and
//     EfficientNet-Lite0 on the 20 labelled ImageNet photos (the CLI, `advlab attack … --json`'s flip_eta);
//   - measured again here, live: the three linear models on the same test digits (the lessons' engine, the same
//     `flipEtas` call as the linear lesson), so the plot's blue line is this browser's own;
//   - on request only ("measure on the sample photos here"): the photo engine and its 10 MB model, and the flip η
//     of the four sample photos (www/samples/photos/). The default view never downloads the photo model.
import { el, lessonEngine, samples, paintGray } from './common.js';
import { Engine } from '../engine.js';
import { ensureModel, fetchJson } from '../models.js';
import { svgEl, NS } from '../chart.js';
import { decodeImageFile } from '../upload.js';
import { t, formatNumber, formatEta, formatInt, translateError } from '../i18n.js';

const RES = [7, 14, 28];
const linId = (r) => `linear-${r}`;
const linFile = (r) => `lessons/mnist-linear-${r}.safetensors`;
const PHOTO = { id: 'imagenet-efficientnet-lite0', file: 'imagenet-efficientnet-lite0.safetensors' };
/** How far the photo flip is searched: the photo slider's end, 16/255 (the CLI's default --max-eta on photos). */
const PHOTO_MAX_ETA = 16 / 255;
const GREY = 1 / 255;
/** η for reading: four decimals as the lab shows it, five below 0.01 (0.00105 stays 0.00105, not 0.0011). */
const fmtEta = (x) => (x < 0.01 ? formatNumber(x, 5) : formatEta(x));
// Okabe–Ito: blue for the linear models, vermillion for the deep networks, black for "measured here".
const BLUE = '#0072B2';
const VERMILLION = '#D55E00';
const INK = '#000000';

/** The median of finite-or-+∞ values (mean of the middle two for an even count), or null for none. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return null;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export function create() {
  const eng = lessonEngine();
  let photoEng = null;
  const st = { data: null, live: null, here: null, error: null, busy: false, status: null }; // status: [key, vars]

  // -------------------------------------------------------------- the two cards
  const digitThumb = el('canvas', { class: 'scale-thumb', width: 28, height: 28, role: 'img', 'data-i18n-aria': 'lessons.scale.digitAlt' });
  const photoThumb = el('img', { class: 'scale-thumb', src: new URL('../samples/photos/chelsea.jpg', import.meta.url).href, width: 84, height: 84, alt: '' });
  const card = (kind, thumb) => {
    const c = el('div', { class: `scale-card scale-${kind}`, 'data-testid': `scale-card-${kind}` });
    c.parts = {
      what: el('p', { class: 'scale-what' }),
      eta: el('p', { class: 'scale-eta', 'data-testid': `scale-median-${kind}` }),
      grey: el('p', { class: 'scale-grey' }),
      bar: el('span', {}),
      count: el('p', { class: 'scale-count small' }),
    };
    c.append(
      el('div', { class: 'scale-head' }, thumb, el('div', {}, el('h4', { text: `lessons.scale.${kind}Title` }), c.parts.what)),
      el('p', { class: 'scale-label', text: 'lessons.scale.medianLabel' }),
      c.parts.eta,
      el('div', { class: 'scale-bar', 'aria-hidden': 'true' }, c.parts.bar),
      c.parts.grey,
      c.parts.count,
    );
    return c;
  };
  const digits = card('digits', digitThumb);
  const photos = card('photos', photoThumb);
  const ratio = el('p', { class: 'scale-ratio', 'data-testid': 'scale-ratio', 'aria-live': 'polite' });
  const medians = el('div', { class: 'scale-medians', 'data-testid': 'scale-medians' }, el('div', { class: 'scale-pair' }, digits, photos), ratio);

  // -------------------------------------------------------------- the plot, its legend and its table
  const plotBox = el('div', { class: 'scale-plot-box' });
  const legend = el('ul', { class: 'plot-legend scale-legend' });
  const plot = el('figure', { class: 'lesson-plot scale-plot', 'data-testid': 'scale-plot' }, plotBox, legend, el('figcaption', { text: 'lessons.scale.plotCaption' }));
  const table = el('table', { class: 'lesson-table scale-table', 'data-testid': 'scale-table' });
  const measure = el('button', { type: 'button', class: 'secondary', 'data-testid': 'scale-measure-photos', text: 'lessons.scale.measureButton' });
  const progress = el('progress', { max: '1', value: '0', hidden: true, 'data-i18n-aria': 'job.progressLabel' });
  const status = el('p', { class: 'hint small', 'aria-live': 'polite', 'data-testid': 'scale-status' });
  const root = el(
    'div',
    {},
    medians,
    el('h4', { text: 'lessons.scale.plotTitle' }),
    plot,
    el('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'data-i18n-aria': 'lessons.scale.tableTitle', 'aria-label': t('lessons.scale.tableTitle') }, table),
    el('div', { class: 'lesson-controls' }, measure, progress),
    el('p', { class: 'small', text: 'lessons.scale.measureHint' }),
    status,
  );

  // -------------------------------------------------------------- rendering (every text again on a language change)
  const greyText = (eta) => {
    const g = eta / GREY;
    return g < 1 ? t('lessons.scale.belowOneGrey', { g: formatNumber(g, 2) }) : t('lessons.scale.greyLevels', { g: formatNumber(g, 1) });
  };

  function renderCards() {
    const d = st.data;
    if (!d) return;
    const cnn = d.cnn;
    const ph = d.photo;
    const lin28 = st.live?.find((p) => p.n === 784) ?? d.digits.find((p) => p.n === 784);
    digits.parts.what.textContent = t('lessons.scale.digitsWhat', { n: formatInt(cnn.n) });
    photos.parts.what.textContent = t('lessons.scale.photosWhat', { n: formatInt(ph.n) });
    digits.parts.eta.textContent = `η = ${fmtEta(cnn.median)}`;
    photos.parts.eta.textContent = `η = ${fmtEta(ph.median)}`;
    digits.parts.grey.textContent = greyText(cnn.median);
    photos.parts.grey.textContent = greyText(ph.median);
    digits.parts.count.textContent = t('lessons.scale.digitsCount', { count: cnn.counted });
    photos.parts.count.textContent = t('lessons.scale.photosCount', { count: ph.counted });
    // The bars: length ∝ η, the digit's the full width (the photo's is a sliver, which is the point).
    const top = Math.max(cnn.median, ph.median);
    digits.parts.bar.style.width = `${(100 * cnn.median) / top}%`;
    photos.parts.bar.style.width = `${(100 * ph.median) / top}%`;
    photoThumb.alt = t('lessons.scale.photoAlt');
    const k = ph.n / cnn.n;
    const r = cnn.median / ph.median;
    ratio.textContent = t('lessons.scale.ratio', { k: formatInt(k), r: formatInt(r) });
    Object.assign(medians.dataset, {
      medianMnist: cnn.median, medianPhoto: ph.median, nMnist: cnn.n, nPhoto: ph.n, ratio: r,
      medianMnistLinear: lin28.median, live: st.live ? 'true' : 'false',
    });
  }

  /** The points of the plot: {key, name, n, median, count, color, shape, label}. */
  function rows() {
    const d = st.data;
    const lin = (st.live ?? d.digits).map((p) => ({
      key: `linear-${p.side}`, model: 'lessons.scale.modelLinear', input: t('lessons.scale.rowDigits', { side: p.side }),
      n: p.n, median: p.median, count: p.counted, label: `${p.side} × ${p.side}`, live: !!st.live,
    }));
    const out = [
      ...lin,
      { key: 'mnist-cnn', model: 'lessons.scale.modelCnn', input: t('lessons.scale.rowDigits', { side: 28 }), n: d.cnn.n, median: d.cnn.median, count: d.cnn.counted, label: t('lessons.scale.labelCnn') },
      { key: 'photo', model: 'lessons.scale.modelPhoto', input: t('lessons.scale.rowPhotos'), n: d.photo.n, median: d.photo.median, count: d.photo.counted, label: t('lessons.scale.labelPhoto') },
    ];
    if (st.here) out.push({ key: 'photo-here', model: 'lessons.scale.modelPhoto', input: t('lessons.scale.rowHere'), n: d.photo.n, median: st.here.median, count: st.here.count, label: t('lessons.scale.labelHere') });
    return out;
  }

  function renderTable() {
    const cols = ['lessons.scale.colInput', 'lessons.scale.colN', 'lessons.scale.colMedian', 'lessons.scale.colEtaN', 'lessons.scale.colCount'];
    table.replaceChildren(
      el('caption', { text: 'lessons.scale.tableCaption' }),
      el('thead', {}, el('tr', {}, ...cols.map((k) => el('th', { scope: 'col', text: k })))),
      el('tbody', {}, ...rows().map((r) => el('tr', { 'data-key': r.key, 'data-n': r.n, 'data-median': r.median },
        el('th', { scope: 'row' }, el('span', { raw: r.input }), el('span', { class: 'scale-model', text: r.model })), el('td', { raw: formatInt(r.n) }),
        el('td', { raw: fmtEta(r.median) }), el('td', { raw: formatNumber(r.median * r.n, 1) }), el('td', { raw: formatInt(r.count) })))),
    );
  }

  /** A marker: circle (digits, linear), square (deep networks), diamond (measured here). */
  function marker(shape, x, y, color, size, extra = {}) {
    if (shape === 'circle') return svgEl('circle', { cx: x, cy: y, r: size, fill: color, stroke: '#ffffff', 'stroke-width': 1.5, ...extra });
    if (shape === 'square') return svgEl('rect', { x: x - size, y: y - size, width: 2 * size, height: 2 * size, fill: color, stroke: '#ffffff', 'stroke-width': 1.5, ...extra });
    const s = size * 1.35;
    return svgEl('polygon', { points: `${x},${y - s} ${x + s},${y} ${x},${y + s} ${x - s},${y}`, fill: '#ffffff', stroke: color, 'stroke-width': 3, ...extra });
  }

  let layout = null;
  function renderPlot() {
    const d = st.data;
    if (!d) return;
    const narrow = (plot.clientWidth || 640) < 520;
    layout = narrow ? 'narrow' : 'wide';
    const W = narrow ? 360 : 640;
    const H = narrow ? 340 : 380;
    const fs = narrow ? 14 : 15;
    const m = narrow ? { l: 58, r: 12, t: 12, b: 52 } : { l: 70, r: 18, t: 14, b: 56 };
    const [x0, x1] = [20, 500000];
    const [y0, y1] = [0.0002, 0.5];
    const L = Math.log10;
    const sx = (x) => m.l + ((L(x) - L(x0)) / (L(x1) - L(x0))) * (W - m.l - m.r);
    const sy = (y) => H - m.b - ((L(y) - L(y0)) / (L(y1) - L(y0))) * (H - m.t - m.b);
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot-svg', role: 'img', 'aria-label': t('lessons.scale.plotTitle'), 'font-family': 'sans-serif', 'font-size': fs });
    svg.append(svgEl('title', {}, t('lessons.scale.plotTitle')));
    svg.append(svgEl('rect', { x: 0, y: 0, width: W, height: H, fill: '#ffffff' }));
    const axes = svgEl('g', { stroke: '#333333', fill: '#333333' });
    axes.append(svgEl('line', { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }));
    axes.append(svgEl('line', { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b }));
    for (const v of [100, 1000, 10000, 100000]) {
      axes.append(svgEl('line', { x1: sx(v), x2: sx(v), y1: m.t, y2: H - m.b, stroke: '#dddddd' }));
      axes.append(svgEl('line', { x1: sx(v), x2: sx(v), y1: H - m.b, y2: H - m.b + 5 }));
      axes.append(svgEl('text', { x: sx(v), y: H - m.b + fs + 6, 'text-anchor': 'middle', stroke: 'none' }, formatInt(v)));
    }
    for (const v of [0.001, 0.01, 0.1]) {
      axes.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v), stroke: '#dddddd' }));
      axes.append(svgEl('line', { x1: m.l - 5, x2: m.l, y1: sy(v), y2: sy(v) }));
      axes.append(svgEl('text', { x: m.l - 8, y: sy(v) + fs / 3, 'text-anchor': 'end', stroke: 'none' }, formatNumber(v, 3)));
    }
    axes.append(svgEl('text', { x: (m.l + W - m.r) / 2, y: H - 10, 'text-anchor': 'middle', stroke: 'none', 'font-weight': 600 }, t('lessons.scale.xLabel')));
    const cy = (m.t + H - m.b) / 2;
    axes.append(svgEl('text', { x: fs + 2, y: cy, 'text-anchor': 'middle', stroke: 'none', 'font-weight': 600, transform: `rotate(-90 ${fs + 2} ${cy})` }, t('lessons.scale.yLabel')));
    svg.append(axes);

    // One grey level (η = 1/255): below the dashed line the nudge is smaller than the screen's own steps.
    svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: sy(GREY), y2: sy(GREY), stroke: '#555555', 'stroke-width': 1.5, 'stroke-dasharray': '8 5' }));
    svg.append(svgEl('text', { x: m.l + 6, y: sy(GREY) - 6, fill: '#333333', class: 'halo' }, t('lessons.scale.greyLine')));

    // The guide η·n = constant through the photo point (slope −1 on log–log axes).
    const c = d.photo.median * d.photo.n;
    const gx0 = Math.max(x0, c / y1);
    const gx1 = Math.min(x1, c / y0);
    svg.append(svgEl('line', { x1: sx(gx0), y1: sy(c / gx0), x2: sx(gx1), y2: sy(c / gx1), stroke: VERMILLION, 'stroke-width': 2, 'stroke-dasharray': '2 4', 'stroke-linecap': 'round' }));

    const all = rows();
    const lin = all.filter((r) => r.key.startsWith('linear-'));
    svg.append(svgEl('polyline', { points: lin.map((p) => `${sx(p.n)},${sy(p.median)}`).join(' '), fill: 'none', stroke: BLUE, 'stroke-width': 3 }));
    const size = narrow ? 6 : 7;
    const label = (x, y, text, color, anchor = 'start') => svgEl('text', { x, y, fill: color, 'text-anchor': anchor, 'font-weight': 700, class: 'halo' }, text);
    for (const p of all) {
      const x = sx(p.n);
      const y = sy(p.median);
      const here = p.key === 'photo-here';
      const deep = p.key === 'mnist-cnn' || p.key === 'photo';
      const shape = here ? 'diamond' : deep ? 'square' : 'circle';
      const color = here ? INK : deep ? VERMILLION : BLUE;
      const mk = marker(shape, x, y, color, size, { tabindex: 0, class: 'plot-point', 'data-key': p.key });
      mk.append(svgEl('title', {}, `${p.input}, ${t(p.model)}: n = ${formatInt(p.n)} → η = ${fmtEta(p.median)}`));
      svg.append(mk);
      // Labels: the linear points under their line, the deep ones beside their squares (left of the photo's).
      // (alternately below and above the line, so that three close points keep readable labels on a phone).
      if (p.key.startsWith('linear-')) {
        const below = p.key !== 'linear-14';
        svg.append(label(x, below ? y + size + fs + 2 : y - size - 5, p.label, BLUE, 'middle'));
      }
      else if (p.key === 'mnist-cnn') svg.append(label(x + size + 6, y + fs / 3, p.label, VERMILLION));
      else if (p.key === 'photo') svg.append(label(x - size - 6, y - size - 2, p.label, VERMILLION, 'end'));
      else svg.append(label(x - size - 8, y + fs + 2, p.label, INK, 'end'));
    }
    plotBox.replaceChildren(svg);

    // The legend: each entry's swatch is its marker and line, so colour is never the only cue.
    const swatch = (shape, color, dash) => {
      const s = document.createElementNS(NS, 'svg');
      s.setAttribute('class', 'swatch scale-swatch');
      s.setAttribute('viewBox', '0 0 36 16');
      s.setAttribute('aria-hidden', 'true');
      if (dash !== null) s.append(svgEl('line', { x1: 0, y1: 8, x2: 36, y2: 8, stroke: color, 'stroke-width': 2.5, 'stroke-dasharray': dash || undefined }));
      if (shape) s.append(marker(shape, 18, 8, color, 5));
      return s;
    };
    const items = [
      [swatch('circle', BLUE, ''), st.live ? t('lessons.scale.legendLinear', { count: st.live[0].count }) : t('lessons.scale.legendLinearWait')],
      [swatch('square', VERMILLION, null), t('lessons.scale.legendDeep')],
      [swatch(null, VERMILLION, '2 4'), t('lessons.scale.legendGuide', { c: formatInt(c) })],
      [swatch(null, '#555555', '8 5'), t('lessons.scale.legendGrey')],
    ];
    if (st.here) items.push([swatch('diamond', INK, null), t('lessons.scale.legendHere', { count: st.here.count })]);
    legend.replaceChildren(...items.map(([s, text]) => el('li', {}, s, el('span', { raw: text }))));
    plot.dataset.points = JSON.stringify(all.map(({ key, n, median: y, count }) => ({ key, n, median: y, count })));
    plot.dataset.layout = layout;
  }

  function render() {
    if (st.error) status.textContent = translateError(st.error);
    else status.textContent = st.status ? t(st.status[0], st.status[1]()) : '';
    if (!st.data) return;
    renderCards();
    renderTable();
    renderPlot();
  }

  new ResizeObserver(() => {
    const want = (plot.clientWidth || 640) < 520 ? 'narrow' : 'wide';
    if (st.data && want !== layout) renderPlot();
  }).observe(plot);

  // -------------------------------------------------------------- measuring
  async function load() {
    if (!st.data) {
      st.data = await fetchJson('lessons/scale.json', 'model_missing');
      render();
    }
  }

  let started = null;
  /** The linear models' medians on the committed test digits, in this browser (once). */
  function measureDigits() {
    started ??= (async () => {
      const N = st.data.digitsImages;
      const data = await samples(N);
      paintGray(digitThumb, data.images.subarray(0, 784), 28);
      st.status = ['lessons.scale.measuringDigits', () => ({ count: data.count })];
      render();
      const live = [];
      for (const r of RES) {
        await ensureModel(eng, linId(r), linFile(r));
        const flips = await eng.call('flipEtas', [linId(r), data.images, 1]);
        const small = r === 28 ? data.images : await eng.call('downsample', [data.images, 28, r]);
        const etas = [];
        for (let i = 0; i < data.count; i++) {
          const p = await eng.call('predict', [linId(r), small.slice(i * r * r, (i + 1) * r * r)]);
          // As scripts/scale-medians.mjs: an image the model already gets wrong has no flip to measure.
          if (p.class === data.labels[i]) etas.push(Number.isFinite(flips[i]) ? flips[i] : Infinity);
        }
        live.push({ side: r, n: r * r, median: median(etas), counted: etas.length, count: data.count });
      }
      st.live = live;
      st.status = null;
      render();
    })().catch((e) => {
      started = null;
      st.error = e;
      render();
    });
    return started;
  }

  /** The photo model (10 MB, fetched now) on the sample photos of the committed measurement, in this browser. */
  async function measurePhotos() {
    if (st.busy) return;
    st.busy = true;
    st.error = null;
    measure.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      await load();
      photoEng ??= new Engine('photo-lesson', { kind: 'photo', timeout: 120000 });
      st.status = ['lessons.scale.downloading', () => ({ mb: formatNumber(0, 1) })];
      render();
      await ensureModel(photoEng, PHOTO.id, PHOTO.file, undefined, {
        onProgress: (loaded, total) => {
          if (total) progress.value = (0.8 * loaded) / total;
          status.textContent = t('lessons.scale.downloading', { mb: formatNumber(loaded / 1048576, 1) });
        },
      });
      const files = st.data.samplePhotos.perImage;
      const etas = [];
      for (const [i, f] of files.entries()) {
        status.textContent = t('lessons.scale.measuringPhoto', { i: i + 1, k: files.length, name: f.file });
        const res = await fetch(new URL(`../samples/photos/${f.file}`, import.meta.url));
        if (!res.ok) throw new Error(`error.samples_missing: ${f.file} (HTTP ${res.status})`);
        const img = await decodeImageFile(await res.blob());
        img.bitmap?.close?.();
        const prep = await photoEng.call('preparePhoto', [img.rgba, img.width, img.height], { transfer: [img.rgba] });
        const dir = await photoEng.call('prepareDirection', [PHOTO.id, prep.pixels, 'linf', -1, PHOTO_MAX_ETA, 0n]);
        etas.push(dir.flipEta ?? Infinity);
        progress.value = 0.8 + (0.2 * (i + 1)) / files.length;
      }
      st.here = { median: median(etas), count: etas.length, etas };
      Object.assign(medians.dataset, { medianPhotoHere: st.here.median });
      st.status = ['lessons.scale.photoDone', () => ({ eta: fmtEta(st.here.median), count: etas.length, cli: fmtEta(st.data.samplePhotos.median) })];
    } catch (e) {
      st.error = e;
    } finally {
      st.busy = false;
      measure.disabled = false;
      progress.hidden = true;
      render();
    }
  }
  measure.addEventListener('click', () => measurePhotos());

  async function show() {
    try {
      await load();
      await measureDigits();
    } catch (e) {
      st.error = e;
      render();
    }
  }

  return { root, show, refresh: render };
}
