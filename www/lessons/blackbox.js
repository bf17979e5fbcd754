// Lesson "blackbox" (#lesson=blackbox): white-box vs black-box. One test image attacked three ways on the target
// model: with its gradients (FGSM, Goodfellow et al. 2015); crafted on a surrogate model and transferred (Papernot
// et al. 2016; Tramèr et al. 2017); by queries only (SimBA, Guo et al. 2019), with a live query counter. Below, the
// transfer matrix of www/lessons/data.json (advlab transfer between the shipped MNIST models).
import { Engine } from '../engine.js';
import { el, lessonEngine, sample, sampleInput, paintGray } from './common.js';
import { ensureModel, fetchJson } from '../models.js';
import { t, formatPercent, formatInt, formatEta, translateError } from '../i18n.js';

const MODELS = ['mnist-linear', 'mnist-mlp', 'mnist-cnn'];
const file = (m) => `${m}.safetensors`;
let dataPromise = null;

/** www/lessons/data.json: the precomputed transfer matrix and one-pixel table. */
export function lessonData() {
  if (!dataPromise) {
    dataPromise = fetchJson('lessons/data.json', 'samples_missing');
    dataPromise.catch(() => (dataPromise = null));
  }
  return dataPromise;
}

function modelSelect(id, value) {
  const s = el('select', { id });
  for (const m of MODELS) s.append(el('option', { value: m, text: `lessons.model.${m}` }));
  s.value = value;
  return s;
}

/** Colour of a share in [0, 1]: white → Okabe–Ito blue, capped at 80 % so dark text keeps ≥ 5:1 contrast. */
function shade(td, v) {
  const a = 0.8 * Math.max(0, Math.min(1, v));
  td.style.background = `rgb(${Math.round(255 - 255 * a)}, ${Math.round(255 - 141 * a)}, ${Math.round(255 - 77 * a)})`;
  td.style.color = '#111111';
}

export function create() {
  const eng = lessonEngine();
  let job = null;
  const st = { index: 0, target: 'mnist-cnn', surrogate: 'mnist-mlp', eta: 0.2 };
  const targetSel = modelSelect('lesson-bb-target', st.target);
  const surSel = modelSelect('lesson-bb-surrogate', st.surrogate);
  const eta = el('input', { type: 'number', id: 'lesson-bb-eta', min: '0.01', max: '0.5', step: '0.01', value: '0.2' });
  const queryAttack = el('select', { id: 'lesson-bb-query' });
  for (const a of ['simba', 'square']) queryAttack.append(el('option', { value: a, text: `attack.${a}.name` }));
  const run = el('button', { type: 'button', text: 'lessons.bb.run' });
  const cancel = el('button', { type: 'button', class: 'secondary', text: 'job.cancel', hidden: true });
  const cols = ['white', 'transfer', 'query'].map((k) => {
    const canvas = el('canvas', { class: 'pixels', width: 28, height: 28, role: 'img', 'data-i18n-aria': `lessons.bb.${k}` });
    const result = el('p', { class: 'small', 'aria-live': 'polite' });
    const fig = el('figure', { class: 'bb-col', 'data-testid': `bb-${k}` }, el('h4', { text: `lessons.bb.${k}` }), canvas, result);
    return { k, canvas, result, fig };
  });
  const matrix = el('table', { class: 'lesson-table matrix', 'data-testid': 'transfer-matrix' });
  const matrixNote = el('p', { class: 'hint small' });
  const root = el(
    'div',
    {},
    el('div', { class: 'lesson-controls' },
      ...sampleInput('lesson-bb-sample', (i) => (st.index = i)),
      el('label', { for: 'lesson-bb-target', text: 'lessons.bb.targetModel' }), targetSel,
      el('label', { for: 'lesson-bb-surrogate', text: 'lessons.bb.surrogate' }), surSel,
      el('label', { for: 'lesson-bb-eta', raw: 'η (L∞)' }), eta,
      el('label', { for: 'lesson-bb-query', text: 'lessons.bb.queryAttack' }), queryAttack, run, cancel),
    el('div', { class: 'bb-cols' }, cols.map((c) => c.fig)),
    el('h4', { text: 'lessons.bb.matrixTitle' }), matrix, matrixNote,
  );

  function say(c, key, vars) {
    c.result.textContent = t(key, vars);
  }

  async function attack() {
    const s = await sample(st.index);
    const e = Math.max(0.01, Math.min(0.5, Number(eta.value) || 0.2));
    st.target = targetSel.value;
    st.surrogate = surSel.value;
    await Promise.all([ensureModel(eng, st.target, file(st.target)), ensureModel(eng, st.surrogate, file(st.surrogate))]);
    const clean = await eng.call('predict', [st.target, s.pixels]);
    const [white, trans, query] = cols;
    for (const c of cols) c.result.textContent = t('lessons.working');
    // 1. White box: PGD-40 with the target's own gradients (the strongest of the three at the same η).
    const w = await eng.call('runAttack', [st.target, s.pixels, 'pgd', JSON.stringify({ eta: e, seed: 1 }), -1], { onProgress: () => {} });
    paintGray(white.canvas, w.adversarial, 28);
    say(white, w.flipped ? 'lessons.bb.fooled' : 'lessons.bb.held', { from: clean.class, to: w.predAfter, cost: t('lessons.bb.costGradient', { n: formatInt(w.queries) }) });
    white.fig.dataset.flipped = w.flipped;
    // 2. Transfer: FGSM on the surrogate, then one query of the target.
    const sr = await eng.call('runAttack', [st.surrogate, s.pixels, 'fgsm', JSON.stringify({ eta: e }), -1], { onProgress: () => {} });
    const tp = await eng.call('predict', [st.target, sr.adversarial]);
    paintGray(trans.canvas, sr.adversarial, 28);
    const tf = tp.class !== clean.class;
    say(trans, tf ? 'lessons.bb.fooled' : 'lessons.bb.held', { from: clean.class, to: tp.class, cost: t('lessons.bb.costTransfer') });
    trans.fig.dataset.flipped = tf;
    // 3. Queries only: SimBA or Square in its own worker (cancellable), with a live counter.
    job?.cancel();
    job = job || new Engine('lessons-job');
    await ensureModel(job, st.target, file(st.target));
    cancel.hidden = false;
    try {
      const q = await job.call(
        'runAttack',
        [st.target, s.pixels, queryAttack.value, JSON.stringify({ eta: e, max_queries: 10000, seed: 1 }), -1],
        { onProgress: (p) => say(query, 'lessons.bb.queries', { n: formatInt(p.queries) }) },
      );
      paintGray(query.canvas, q.adversarial, 28);
      say(query, q.flipped ? 'lessons.bb.fooled' : 'lessons.bb.held', { from: clean.class, to: q.predAfter, cost: t('lessons.bb.costQueries', { n: formatInt(q.queries) }) });
      query.fig.dataset.flipped = q.flipped;
      query.fig.dataset.queries = q.queries;
      query.fig.dataset.attack = queryAttack.value;
    } catch (err) {
      query.result.textContent = translateError(err);
    } finally {
      cancel.hidden = true;
    }
  }

  async function drawMatrix() {
    try {
      const d = (await lessonData()).transfer;
      const head = el('tr', {}, el('th', { scope: 'col', text: 'lessons.bb.fromTo' }), ...d.models.map((m) => el('th', { scope: 'col', text: `lessons.model.${m}` })));
      const body = d.models.map((a, i) =>
        el('tr', {}, el('th', { scope: 'row', text: `lessons.model.${a}` }), ...d.models.map((b, j) => {
          const v = d.targetAdversarialAccuracy[i][j];
          const td = el('td', { 'data-from': a, 'data-to': b, 'data-value': v, 'data-transfer-rate': d.transferRate[i][j], raw: formatPercent(v) });
          shade(td, 1 - v);
          return td;
        })),
      );
      matrix.replaceChildren(el('caption', { raw: t('lessons.bb.matrixCaption', { n: formatInt(d.n), eta: formatEta(d.eta), seed: d.seed }) }), el('thead', {}, head), el('tbody', {}, body));
      Object.assign(matrix.dataset, { n: d.n, seed: d.seed, eta: d.eta, attack: d.attack });
      matrixNote.textContent = t('lessons.bb.matrixNote');
    } catch (e) {
      matrixNote.textContent = translateError(e);
    }
  }

  run.addEventListener('click', () => attack().catch((e) => (cols[0].result.textContent = translateError(e))));
  cancel.addEventListener('click', () => job?.cancel());
  return { root, show: drawMatrix, refresh: drawMatrix };
}
