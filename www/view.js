// Rendering: turns the page's state (ctx = { S, R, names, isDirection, maxEta, photo, side }) into text, bars and
// pictures. Every string comes from the i18n table, every number through Intl. Nothing here talks to the engine.
// A photo model (ctx.photo) shows RGB panels at its side (224), the top 5 of its 1000 classes, η in grey levels,
// and the article's three-way verdict (dog / pig / neither) from the model's class groups.
import { t, tp, lang, formatPercent, formatNumber, formatInt } from './i18n.js';
import { renderBars } from './bars.js';
import { renderCaveat } from './caveat.js';
import { renderVerdict } from './verdict.js';
import { paintGray, paintRGB, paintPerturbationRGB, blank } from './panels.js';
import { greyLevels, formatSliderEta } from './slider.js';
import { paintPerturbation } from './noise-map.js';
import { renderCurve, renderCurveEmpty, setCurveEta } from './chart.js';

const $ = (id) => document.getElementById(id);

export function message(el, msg) {
  el.textContent = msg ? msg.render() : '';
  el.dataset.kind = msg?.kind || '';
  el.hidden = !msg;
}

/** A photo model's download: `p` {loaded, total} in bytes (total 0: the index's `bytes`), or null when done. */
export function download(p, bytes = 0) {
  const box = $('model-download');
  box.hidden = !p;
  if (!p) return;
  const total = p.total || bytes || 0;
  const bar = $('model-progress');
  if (total > 0) {
    bar.max = total;
    bar.value = Math.min(p.loaded, total);
  } else bar.removeAttribute('value');
  const mb = (b) => formatNumber(b / 1e6, 1);
  $('model-progress-text').textContent = total > 0 ? t('download.progress', { loaded: mb(p.loaded), total: mb(total) }) : t('download.starting');
}

export function modelNote(el, info) {
  el.hidden = !info.untrained;
  el.textContent = info.untrained ? t('model.placeholder') : '';
}

export function attackDescription(el, name) {
  el.textContent = t(`attack.${name}.desc`);
}

export let lastInputNote = null;
/** note: null | { inverted, mode } (upload) | { sample, label } (test image). */
export function inputNote(el, note) {
  lastInputNote = note;
  let text = '';
  if (note?.photo) {
    const p = note.photo;
    text = t('input.photoNote', { title: p.title?.[lang()] ?? p.title?.en ?? p.file, credit: p.credit, licence: p.licence });
  } else if (note?.sample !== undefined) text = t('input.sampleNote', { index: formatInt(note.sample), label: note.label });
  else if (note?.inverted && note.mode === 'auto') text = t('input.invertedAuto');
  else if (note?.inverted) text = t('input.inverted');
  el.textContent = text;
  el.hidden = !text;
}

function setPrediction(el, pred) {
  if (pred) {
    el.dataset.class = String(pred.class);
    el.dataset.confidence = pred.confidence.toFixed(6);
  } else {
    delete el.dataset.class;
    delete el.dataset.confidence;
  }
}

export function clean({ R, names, S, photo }) {
  const el = $('prediction');
  setPrediction(el, R.clean);
  renderCaveat($('prediction-caveat'), R.clean);
  if (!R.clean) {
    $('prediction-verdict').textContent = t(R.input ? 'result.thinking' : 'result.empty');
    $('prediction-bars').replaceChildren();
    if (!R.input) blank($('orig-canvas'), photo ? 224 : 28);
    return;
  }
  const label = names[R.clean.class];
  let text = t('result.verdict', { label, confidence: formatPercent(R.clean.confidence) });
  if (R.input?.source === 'sample' && R.input.label !== undefined) {
    text += ' ' + t(R.input.label === R.clean.class ? 'result.correct' : 'result.wrong', { label: names[R.input.label] });
  }
  $('prediction-verdict').textContent = text;
  renderBars($('prediction-bars'), R.clean.probs, names, { highlight: R.clean.class, target: S.target, top: photo ? 5 : 0 });
}

/** The article's question, answered for the clean photo and, with noise, the adversarial one (verdict.js). */
export function groups({ R, photo }) {
  const el = $('group-verdict');
  if (!photo) {
    delete el.dataset.group;
    delete el.dataset.advGroup;
    el.textContent = '';
    return;
  }
  renderVerdict(el, R.clean, R.adv);
}

/** The adversarial side: picture, perturbation (amplified, with its true range), bars. */
export function adv({ R, names, S, photo, side }) {
  const el = $('adv-prediction');
  const a = R.adv;
  setPrediction(el, a?.prediction);
  if (!a) {
    blank($('adv-canvas'), photo ? side : 28);
    blank($('noise-canvas'), photo ? side : 28, photo ? '#808080' : '#fff');
    $('noise-scale').textContent = t('noise.none');
    $('noise-norms').textContent = '';
    $('legend-min').textContent = '−';
    $('legend-max').textContent = '+';
    $('adv-verdict').textContent = R.clean ? t('result.thinking') : '';
    $('adv-bars').replaceChildren();
    return;
  }
  let n;
  if (photo) {
    paintRGB($('adv-canvas'), a.adversarial, side);
    n = paintPerturbationRGB($('noise-canvas'), a.perturbation, side);
  } else {
    paintGray($('adv-canvas'), a.adversarial);
    n = paintPerturbation($('noise-canvas'), a.perturbation);
  }
  $('legend-min').textContent = formatNumber(-n.peak, 4);
  $('legend-max').textContent = formatNumber(n.peak, 4);
  // Photos: the true range in grey levels of 255 ("−2 to +2 grey levels of 255"), the unit a photo's noise reads in.
  const scaleVars = photo
    ? { factor: formatNumber(n.amplification, 0), min: greyLevels(n.min), max: greyLevels(n.max) }
    : { factor: formatNumber(n.amplification, 1), min: formatNumber(n.min, 4), max: formatNumber(n.max, 4) };
  $('noise-scale').textContent = n.peak > 1e-9 ? t(photo ? 'noise.scalePhoto' : 'noise.scale', scaleVars) : t('noise.zero');
  const linf = photo
    ? t('noise.linfPhoto', { v: formatNumber(a.linf, 4), levels: greyLevels(a.linf) })
    : t('noise.linf', { v: formatNumber(a.linf, 4) });
  const norms = [linf, t('noise.l2', { v: formatNumber(a.l2, 3) })];
  if (a.l0 !== undefined) norms.push(tp('noise.l0', a.l0));
  $('noise-norms').textContent = norms.join(' · ');
  const p = a.prediction;
  const label = names[p.class];
  const flipped = R.clean && p.class !== R.clean.class;
  $('adv-verdict').textContent = flipped
    ? t('result.flipped', { from: names[R.clean.class], to: label, confidence: formatPercent(p.confidence) })
    : t('result.verdict', { label, confidence: formatPercent(p.confidence) });
  el.classList.toggle('flipped', !!flipped);
  renderBars($('adv-bars'), p.probs, names, { highlight: p.class, target: S.target, top: photo ? 5 : 0 });
  setCurveEta($('curve'), a.eta);
}

/** The flip point: text, data-eta (the engine's flipEta on the 0.001 grid, or "none"), the mark on the slider. */
export function flip({ R, S, names, maxEta, isDirection, scale }, slider, mode) {
  const fmt = (e) => formatSliderEta(e, S.norm, scale);
  const el = $('flip-eta');
  delete el.dataset.eta;
  el.classList.remove('found');
  let text;
  if (!R.input) text = t('flip.empty');
  else if (mode === 'pending' || !R.dir) text = t('flip.pending');
  else if (R.dir.error) text = t('flip.unavailable');
  else if (R.dir.flipEta === null || R.dir.flipEta === undefined) {
    el.dataset.eta = 'none';
    text = S.target >= 0 ? t('flip.noneTarget', { label: names[S.target], max: fmt(maxEta) }) : t('flip.none', { max: fmt(maxEta) });
  } else {
    el.dataset.eta = String(R.dir.flipEta);
    el.classList.add('found');
    const v = { eta: fmt(R.dir.flipEta), label: names[S.target], from: names[R.clean?.class] };
    text = S.target >= 0 ? t('flip.target', v) : t('flip.at', v);
  }
  el.textContent = text;
  if (!isDirection && el.dataset.eta) {
    const note = document.createElement('span');
    note.className = 'flip-note';
    note.textContent = ' ' + t('flip.fgsmNote');
    el.append(note);
  }
  // How typical this image is: the model's median flip η over test images (L∞ FGSM, www/models/flip-etas.json).
  const typical = R.flipEtas?.models?.[R.model?.id];
  const shown = !!el.dataset.eta && S.norm === 'linf' && S.target < 0 && typeof typical?.median === 'number';
  const tEl = $('flip-typical'); // its line is reserved in the layout (styles.css): the text arriving moves nothing
  tEl.dataset.median = shown ? typical.median : '';
  tEl.textContent = shown ? t('flip.typical', { median: fmt(typical.median), n: formatInt(typical.counted) }) : '';
  slider?.setFlip(R.dir && !R.dir.error ? R.dir.flipEta ?? null : null);
}

export function curve({ R, S, names }) {
  const svg = $('curve');
  if (!R.curve) {
    renderCurveEmpty(svg, t(R.input ? 'curve.pending' : 'curve.empty'));
    return;
  }
  const label = names[R.dir?.trueClass ?? R.clean?.class] ?? '';
  renderCurve(svg, R.curve, { flip: R.dir?.flipEta ?? null, eta: S.eta, label });
}

export function etaMoved({ S, R, isDirection }) {
  setCurveEta($('curve'), S.eta);
  if (!isDirection && R.input) $('job-status').textContent = t('job.release');
}

/** "7 → 3 at η = 0.12" (or "still 7 at η = 0.05"). */
export function resultSentence({ R, S, names, scale }) {
  const from = names[R.clean.class];
  const to = names[R.adv.prediction.class];
  const eta = formatSliderEta(R.adv.eta ?? S.eta, S.norm, scale);
  return R.adv.prediction.class !== R.clean.class ? t('announce.flip', { from, to, eta }) : t('announce.same', { label: from, eta });
}

// ---------------------------------------------------------------- the job area

let jobText = null; // () => string, re-rendered on language change

function jobArea(isDirection) {
  $('job').hidden = isDirection;
}

function setJobText(fn) {
  jobText = fn;
  $('job-status').textContent = fn ? fn() : '';
}

export function jobIdle({ isDirection }) {
  jobArea(isDirection);
  $('cancel-button').hidden = true;
  $('run-button').disabled = false;
  $('job-progress').hidden = true;
  setJobText(null);
}

export function jobStart({ isDirection }) {
  jobArea(isDirection);
  $('cancel-button').hidden = false;
  $('run-button').disabled = true;
  const bar = $('job-progress');
  bar.hidden = false;
  bar.removeAttribute('value');
  setJobText(() => t('job.starting'));
}

export function jobProgress(_ctx, p) {
  const bar = $('job-progress');
  if (p.total > 0) {
    bar.max = p.total;
    bar.value = p.step;
  }
  setJobText(() => t('job.progress', { step: formatInt(p.step), total: formatInt(p.total), queries: formatInt(p.queries) }));
}

export function jobDone(ctx, r) {
  jobIdle(ctx);
  setJobText(() =>
    t(r.flipped ? 'job.doneFlipped' : 'job.doneNoFlip', { steps: formatInt(r.steps ?? 0), queries: formatInt(r.queries ?? 0) }),
  );
}

export function jobCancelled(ctx) {
  jobIdle(ctx);
  setJobText(() => t('job.cancelled'));
}

export function jobRefresh({ isDirection }) {
  jobArea(isDirection);
  if (jobText) $('job-status').textContent = jobText();
}

export function shareStatus(el, key, vars) {
  el.textContent = t(key, vars);
}

// ---------------------------------------------------------------- download

export function downloadPanels({ R }) {
  return [
    { canvas: $('orig-canvas'), caption: t('panels.original'), detail: $('prediction-verdict').textContent },
    { canvas: $('noise-canvas'), caption: t('panels.noise'), detail: $('noise-scale').textContent },
    { canvas: $('adv-canvas'), caption: t('panels.adversarial'), detail: R.adv ? $('adv-verdict').textContent : '' },
  ];
}

export function downloadSettings({ S, R }, link) {
  const round = (a) => (a ? Array.from(a, (v) => Number(v.toFixed(6))) : null);
  return {
    app: 'Adversarial Lab',
    engine: R.version,
    link,
    settings: { ...S },
    model: R.model && { id: R.model.id, name: R.model.name, dataset: R.model.dataset, classNames: R.model.classNames },
    input: R.input && { source: R.input.source, sample: R.input.index ?? null, label: R.input.label ?? null },
    prediction: R.clean && { class: R.clean.class, confidence: R.clean.confidence, probs: round(R.clean.probs) },
    adversarial: R.adv && {
      eta: R.adv.eta,
      class: R.adv.prediction.class,
      confidence: R.adv.prediction.confidence,
      probs: round(R.adv.prediction.probs),
      linf: R.adv.linf,
      l2: R.adv.l2,
      l0: R.adv.l0 ?? null,
      queries: R.adv.queries ?? null,
      steps: R.adv.steps ?? null,
    },
    flipEta: R.dir?.flipEta ?? null,
  };
}
