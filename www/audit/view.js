// The audit (#lesson=audit&model=…&eta=…&n=…): runs the AutoAttack sequence (APGD-CE → APGD-T → Square, with
// one-step FGSM as the reference a weak evaluation would report) on the first N test images of a shipped model or of
// a .safetensors file the user opens (read here, never uploaded). The images are spread over the curve pool
// (../lessons/pool.js: one worker per core), one `auditImage` request each; after every answer `auditSummary`
// (in a worker of its own, so it never waits behind a slow image) turns the outcomes so far into the live table and
// the flags, which are shown in plain words. Below: robust accuracy against ε on a small subset, on a button, with
// the published MNIST figures at ε = 0.3 as reference lines. The rules (stages, budgets, the default ε of a dataset,
// which flags) are Rust's (src/web/): the page sends {eta, norm, seed} and renders what comes back.
import { Engine } from '../engine.js';
import { CurvePool } from '../lessons/pool.js';
import { loadIndex, modelTitle, ensureModel } from '../models.js';
import { loadSamples, toPixels } from '../samples.js';
import { t, has, formatPercent, formatInt, formatNumber, translateError, applyTranslations } from '../i18n.js';
import { h as el, tx } from '../dom.js';
import { linePlot, renderPlot, onWidthChange, OKABE_ITO } from '../chart.js';

/** The stages in the order the engine runs them (the table's rows follow clean and FGSM). */
const STAGES = ['apgd-ce', 'apgd-t', 'square'];
/** The curve's subset: the first CURVE_N test images at a few fractions of the audit's ε (plus ε = 0: clean). */
const CURVE_N = 50;
const CURVE_FRACTIONS = [1 / 6, 1 / 3, 2 / 3, 1];
const N_DEFAULT = 100;
/** ε of the published MNIST L∞ table (Croce & Hein 2020, AutoAttack; RobustBench). */
const REF_EPS = 0.3;
/** The published figures: AutoAttack accuracy (aa) and, where it differed, what the authors had reported. */
const REFS = [
  { id: 'gowal', aa: 0.9634, color: OKABE_ITO[0], text: '#005a8c', dash: '' },
  { id: 'trades', aa: 0.9281, reported: 0.956, color: OKABE_ITO[2], text: '#00664a', dash: '6 3' },
  { id: 'madry', aa: 0.885, reported: 0.8962, color: OKABE_ITO[3], text: '#8a3f6b', dash: '2 3' },
  { id: 'broken', aa: 0, reported: 0.64, color: OKABE_ITO[1], text: '#a94a00', dash: '8 3 2 3' },
];
const FILE_ID = 'audit-file';

const flagTitle = (key) => (has(`audit.flagTitle.${key}`) ? t(`audit.flagTitle.${key}`) : key);
const percent = (x) => (Number.isFinite(x) ? formatPercent(x, 1) : '–');
const round3 = (x) => Math.round(x * 1000) / 1000;

/** The numbers of a flag as the i18n template's {vars}: fractions as percentages, counts as integers. */
export function flagVars(flag) {
  const vars = {};
  for (const [k, v] of Object.entries(flag || {})) {
    if (typeof v !== 'number') continue;
    // Accuracies are fractions (a percentage); `points` are percentage points already; counts are whole.
    // Under the engine's name in camelCase: fgsm_accuracy → {fgsmAccuracy}.
    vars[k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] =
      /accuracy/.test(k) ? formatPercent(v, 1) : k === 'points' ? formatNumber(v, 1) : Number.isInteger(v) ? formatInt(v) : formatNumber(v, 3);
  }
  return vars;
}

const U64 = (1n << 64n) - 1n;
function splitmix64(z) {
  z = (z + 0x9e3779b97f4a7c15n) & U64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & U64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & U64;
  return z ^ (z >> 31n);
}

/**
 * Test image i's seed for a run's seed: src/attacks/transfer.rs image_seed (splitmix64(seed ^ splitmix64(i))), the
 * seed `advlab eval --attack autoattack --seed S` gives image i, so the page's outcomes are the command line's.
 * A decimal string (a u64 does not fit a JS number).
 */
export function imageSeed(seed, i) {
  return splitmix64((BigInt(seed) & U64) ^ splitmix64(BigInt(i))).toString();
}

function readHash() {
  const q = new URLSearchParams(location.hash.replace(/^#/, ''));
  const num = (k) => (q.has(k) && q.get(k) !== '' && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : null);
  return { model: q.get('model'), eta: num('eta'), n: num('n'), seed: num('seed') };
}

export async function mount(root) {
  root.classList.add('audit');
  // Our own style sheet, once: the default page does not load it until an audit is opened.
  if (!document.querySelector('link[data-audit-css]')) {
    const link = el('link', { rel: 'stylesheet', href: new URL('./audit.css', import.meta.url).href, 'data-audit-css': '' });
    const loaded = new Promise((r) => {
      link.addEventListener('load', r, { once: true });
      link.addEventListener('error', r, { once: true });
    });
    document.head.append(link);
    await Promise.race([loaded, new Promise((r) => setTimeout(r, 3000))]);
  }
  const index = await loadIndex();
  // The digit models of the index (the photo model has its own engine and no test images here).
  const shipped = index.models.filter((m) => m.engine !== 'photo' && (m.dataset === 'mnist' || m.dataset === 'fashion'));
  const want = readHash();

  // ------------------------------------------------------------ the controls
  const modelSel = el('select', { id: 'audit-model', 'data-testid': 'audit-model' });
  const fileInput = el('input', { type: 'file', id: 'audit-file', accept: '.safetensors,application/octet-stream', 'data-testid': 'audit-file' });
  const fileButton = el('span', { class: 'file-button' }, fileInput, el('label', { for: 'audit-file', i18n: 'audit.open' }, t('audit.open')));
  const nInput = el('input', { type: 'number', id: 'audit-n', min: '1', max: '500', step: '1', value: String(N_DEFAULT), inputmode: 'numeric', 'data-testid': 'audit-n' });
  const etaInput = el('input', { type: 'number', id: 'audit-eta', min: '0', max: '1', step: '0.01', inputmode: 'decimal', 'data-testid': 'audit-eta' });
  const start = tx('audit.start', 'button', { type: 'button', 'data-testid': 'audit-start' });
  const cancel = tx('audit.cancel', 'button', { type: 'button', class: 'secondary', 'data-testid': 'audit-cancel' });
  cancel.hidden = true;
  const message = el('p', { class: 'message', role: 'alert', 'data-testid': 'audit-message' });
  message.hidden = true;
  const progress = el('progress', { max: '1', value: '0', 'data-testid': 'audit-progress', 'data-i18n-aria': 'audit.progressLabel', 'aria-label': t('audit.progressLabel') });
  const status = el('p', { class: 'audit-status', 'data-testid': 'audit-status' });
  // The screen reader's news: start, every quarter, the end, the flags (not every image).
  const live = el('p', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'audit-live' });

  // ------------------------------------------------------------ the results
  const headline = el('p', { class: 'audit-headline', 'data-testid': 'audit-headline' });
  const tbody = el('tbody');
  const table = el('table', { class: 'audit-table', 'data-testid': 'audit-table' },
    el('caption', { i18n: 'audit.tableCaption' }, t('audit.tableCaption')),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col', i18n: 'audit.col.attack' }, t('audit.col.attack')),
      el('th', { scope: 'col', i18n: 'audit.col.robust' }, t('audit.col.robust')),
      el('th', { scope: 'col', i18n: 'audit.col.queries' }, t('audit.col.queries')))),
    tbody);
  const rows = new Map();
  for (const key of ['clean', 'fgsm', ...STAGES]) {
    const name = el('th', { scope: 'row' });
    const value = el('span', { class: 'audit-value' });
    const bar = el('span', { class: 'audit-bar', 'aria-hidden': 'true' }, el('span', {}));
    const queries = el('td', { class: 'num' });
    const tr = el('tr', { 'data-stage': key, class: `row-${key}` }, name, el('td', { class: 'num' }, value, bar), queries);
    rows.set(key, { tr, name, value, bar: bar.firstChild, queries });
    tbody.append(tr);
  }
  const flagsList = el('ul', { class: 'audit-flags', 'data-testid': 'audit-flags' });
  const flagsNote = el('p', { class: 'hint small', 'data-testid': 'audit-flags-note' });

  // ------------------------------------------------------------ the curve
  const curveRun = tx('audit.curveRun', 'button', { type: 'button', class: 'secondary', 'data-testid': 'audit-curve-run' });
  const curveStatus = el('p', { class: 'small', 'data-testid': 'audit-curve-status' });
  const curveSpec = { title: 'audit.curveTitle', xLabel: 'audit.curveX', yLabel: 'audit.curveY', file: 'audit-curve', fit: true, refsTitle: 'audit.refsTitle', series: [], refs: [], xDomain: [0, REF_EPS], yDomain: [0, 1], formatY: (v) => formatPercent(v, 0) };
  const plot = linePlot({ ...curveSpec, fit: false });
  plot.dataset.testid = 'audit-curve';
  plot.classList.add('audit-plot');

  const maths = el('details', { class: 'lesson-maths audit-maths', 'data-testid': 'audit-maths' },
    el('summary', { i18n: 'audit.mathsTitle' }, t('audit.mathsTitle')),
    ...['fgsm', 'apgdce', 'apgdt', 'square', 'aa', 'flags', 'refs'].map((k) => tx(`audit.maths.${k}`, 'p', { class: 'lesson-text' })));
  // The engine's budgets and thresholds, from auditInfo (filled in once it has answered).
  const budgets = el('p', { class: 'lesson-text', 'data-testid': 'audit-budgets' });
  maths.append(budgets);
  const renderBudgets = () => {
    const st = (name) => info?.stages?.find((x) => x.name === name) || {};
    budgets.hidden = !info;
    if (info) {
      budgets.textContent = t('audit.maths.budgets', {
        iterations: formatInt(st('apgd-ce').iterations ?? 0), targets: formatInt(st('apgd-t').targets ?? 0),
        queries: formatInt(st('square').queries ?? 0), gap: formatNumber(info.fgsm_gap_points ?? 0, 0),
      });
    }
  };

  let controls = null;
  let results = null;
  root.append(
    el('h2', {}, tx('audit.title')),
    el('div', { class: 'audit-intro' },
      tx('audit.takeaway', 'p', { class: 'lesson-takeaway audit-takeaway', 'data-testid': 'takeaway-audit' }),
      tx('audit.why', 'p', { class: 'hint audit-why' })),
    controls = el('section', { class: 'card audit-controls', 'aria-label': t('audit.controls'), 'data-i18n-aria': 'audit.controls' },
      el('div', { class: 'audit-grid' },
        el('label', { class: 'field audit-model-field' }, tx('audit.model'), modelSel),
        el('div', { class: 'field' }, tx('audit.own'), fileButton, tx('audit.ownHint', 'span', { class: 'hint small' })),
        el('label', { class: 'field' }, tx('audit.n'), nInput, el('span', { class: 'hint small', 'data-testid': 'audit-n-hint' })),
        el('label', { class: 'field' }, tx('audit.eta'), etaInput, el('span', { class: 'hint small', 'data-testid': 'audit-eta-hint' }))),
      el('div', { class: 'row audit-buttons' }, start, cancel),
      message, progress, status, live),
    results = el('section', { class: 'card audit-results', 'aria-labelledby': 'audit-results-title' },
      el('h3', { id: 'audit-results-title', i18n: 'audit.results' }, t('audit.results')),
      headline,
      // The table and the warning signs side by side on a wide screen (the flag next to the numbers it is about).
      el('div', { class: 'audit-split' },
        el('div', { class: 'table-wrap' }, table),
        el('div', { class: 'audit-flags-box' },
          el('h3', { i18n: 'audit.flagsTitle' }, t('audit.flagsTitle')),
          flagsList, flagsNote))),
    el('section', { class: 'card audit-curve', 'aria-labelledby': 'audit-curve-title' },
      el('h3', { id: 'audit-curve-title', i18n: 'audit.curveTitle' }, t('audit.curveTitle')),
      tx('audit.curveIntro', 'p', { class: 'hint' }),
      el('div', { class: 'row' }, curveRun), curveStatus, plot),
    maths,
  );

  // ------------------------------------------------------------ engines
  // The audit's Session methods are in the full engine (pkg/advlab_photo.js, the `audit` feature), loaded when the
  // view opens; the lean lab engine of the first view leaves them out to stay in the page's 400 KB budget.
  const pool = new CurvePool(undefined, { kind: 'photo' });
  // The summaries and the model's facts: never behind a slow auditImage in a pool worker.
  const side = new Engine('audit', { timeout: 0, kind: 'photo' });
  let ops = null;
  const hasOp = async (op) => (ops ??= await side.call('ops').catch(() => [])).includes(op);

  /** The open model: {id, file?, bytes?, name, dataset, shipped}. */
  let model = null;
  let own = null; // the file the user opened: {id, name, bytes, info}
  let running = null; // 'audit' | 'curve' | null
  let lastSummary = null;
  let lastProblem = null; // {key, vars} of the message shown, re-translated on a language change
  const outcomes = new Map(); // `${model}|${eta}|${seed}` → Map(index → outcome)
  const runState = { done: 0, total: 0, queries: 0, inflight: new Map(), announced: 0, t0: 0, what: 'audit' };

  const seed = () => (Number.isFinite(want.seed) ? want.seed : 0);
  const cacheOf = (id, eta) => {
    const k = `${id}|${eta}|${seed()}`;
    if (!outcomes.has(k)) outcomes.set(k, new Map());
    return outcomes.get(k);
  };

  /** The model's name in the current language (a file's own name for a file). */
  const modelName = () => (model ? model.own ?? modelTitle(model.entry) : '');
  // Texts that follow a language change: the element and the function that writes it.
  const texts = new Map();
  const show = (node, fn) => {
    texts.set(node, fn);
    node.textContent = fn();
  };

  function say(key, vars = {}, detail = null) {
    lastProblem = key ? { key, vars, detail } : null;
    message.hidden = !key;
    message.textContent = key ? t(key, vars) + (detail ? ` ${translateError(detail)}` : '') : '';
    if (key) message.dataset.key = key;
    else delete message.dataset.key;
  }

  function fillModels() {
    const cur = modelSel.value || model?.id;
    modelSel.replaceChildren();
    const groups = new Map();
    for (const m of shipped) {
      if (!groups.has(m.dataset)) {
        const g = el('optgroup', { label: t(`dataset.${m.dataset}`) });
        groups.set(m.dataset, g);
        modelSel.append(g);
      }
      groups.get(m.dataset).append(new Option(modelTitle(m), m.id));
    }
    if (own) {
      const g = el('optgroup', { label: t('audit.ownGroup') });
      g.append(new Option(t('audit.ownOption', { name: own.name }), own.id));
      modelSel.append(g);
    }
    if (cur && [...modelSel.options].some((o) => o.value === cur)) modelSel.value = cur;
  }

  /** The engine's audit facts (auditInfo: stages and budgets, the default ε per dataset), asked once. */
  let info = null;
  async function auditInfo() {
    if (!info && (await hasOp('auditInfo'))) info = await side.call('auditInfo').catch(() => null);
    return info;
  }
  /** The engine's default ε for a dataset (its rule), or null when it does not say. */
  async function defaultEta(dataset) {
    const d = (await auditInfo())?.default_eta?.find((x) => x.dataset === dataset);
    return d && Number.isFinite(d.eta) ? { eta: d.eta, norm: 'linf' } : null;
  }

  /** Opens a model in the side engine (its facts and default ε); the pool loads it when a run starts. */
  async function choose(id, { keepEta = false } = {}) {
    say(null);
    if (own && id === own.id) {
      model = { id, own: own.name, dataset: own.info.dataset, shipped: false, bytes: own.bytes };
    } else {
      const m = shipped.find((x) => x.id === id);
      if (!m) return false;
      model = { id, file: m.file, entry: m, dataset: m.dataset, shipped: true };
      await ensureModel(side, id, m.file).catch((e) => {
        say('audit.loadFailed', { model: id }, e);
        throw e;
      });
    }
    modelSel.value = id;
    root.dataset.model = id;
    const d = await defaultEta(model.dataset);
    renderBudgets();
    model.defaultEta = d?.eta ?? null;
    model.norm = d?.norm ?? 'linf';
    if (!keepEta || etaInput.value === '') etaInput.value = model.defaultEta !== null ? String(model.defaultEta) : '';
    const hint = root.querySelector('[data-testid="audit-eta-hint"]');
    const { defaultEta: de, dataset } = model;
    show(hint, () => (de !== null ? t('audit.etaHint', { eta: formatNumber(de, 3), dataset: t(`dataset.${dataset}`) }) : ''));
    const s = await loadSamples(model.dataset);
    nInput.max = String(s.count);
    show(root.querySelector('[data-testid="audit-n-hint"]'), () => t('audit.nHint', { max: formatInt(s.count) }));
    writeHash();
    renderEmpty();
    return true;
  }

  function params() {
    const eta = etaInput.value === '' ? null : Number(etaInput.value);
    const p = { norm: model.norm || 'linf', seed: seed() };
    if (eta !== null) p.eta = eta;
    return p;
  }

  /** The options of test image i: the run's, with image i's own seed (as `advlab eval` derives it). */
  const imageOptions = (p, i) => {
    const rest = Object.entries(p).filter(([k]) => k !== 'seed').map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    return `{${[...rest, `"seed":${imageSeed(p.seed, i)}`].join(',')}}`;
  };

  function clampN() {
    const max = Number(nInput.max) || 500;
    const n = Math.max(1, Math.min(max, Math.round(Number(nInput.value) || N_DEFAULT)));
    nInput.value = String(n);
    return n;
  }

  function writeHash() {
    const q = new URLSearchParams(location.hash.replace(/^#/, ''));
    q.set('lesson', 'audit');
    if (model?.shipped) q.set('model', model.id);
    if (etaInput.value !== '') q.set('eta', String(Number(etaInput.value)));
    else q.delete('eta');
    q.set('n', nInput.value || String(N_DEFAULT));
    const h = '#' + q.toString();
    if (location.hash !== h) history.replaceState(null, '', h);
  }

  // ------------------------------------------------------------ rendering

  function renderEmpty() {
    lastSummary = null;
    root.dataset.state = 'idle';
    delete root.dataset.autoattack;
    delete root.dataset.flags;
    progress.value = 0;
    show(status, () => t('audit.ready', { model: modelName() }));
    headline.textContent = t('audit.noneYet');
    for (const [key, r] of rows) {
      r.name.textContent = t(`audit.row.${key}`);
      r.value.textContent = '–';
      r.bar.style.width = '0%';
      r.queries.textContent = '';
      r.tr.removeAttribute('data-accuracy');
    }
    flagsList.replaceChildren();
    flagsNote.textContent = t('audit.flagsLater');
  }

  function renderSummary(s) {
    lastSummary = s;
    const stage = (name) => s.stages?.find((x) => x.name === name);
    const fill = (key, acc, queries) => {
      const r = rows.get(key);
      r.name.textContent = t(`audit.row.${key}`);
      r.value.textContent = percent(acc);
      r.bar.style.width = `${Math.max(0, Math.min(1, acc || 0)) * 100}%`;
      r.queries.textContent = Number.isFinite(queries) ? formatNumber(queries, 0) : key === 'clean' ? '' : '–';
      if (Number.isFinite(acc)) r.tr.dataset.accuracy = String(acc);
    };
    fill('clean', s.clean_accuracy, null);
    fill('fgsm', s.fgsm_accuracy, 1);
    // A stage that attacked no image (every one was already fooled) asked nothing: a dash, not "0".
    for (const name of STAGES) fill(name, stage(name)?.robust_accuracy, stage(name)?.attacked === 0 ? null : stage(name)?.queries_mean);
    root.dataset.autoattack = String(s.autoattack_accuracy);
    headline.textContent = t('audit.headline', { aa: percent(s.autoattack_accuracy), fgsm: percent(s.fgsm_accuracy), n: formatInt(s.n) });
    const flags = Array.isArray(s.flags) ? s.flags : [];
    root.dataset.flags = flags.map((f) => f.key).join(',');
    flagsList.replaceChildren(
      ...flags.map((f) => {
        // FGSM scoring above the clean images (an FGSM-trained model) says so in its own sentence.
        const above = f.key === 'fgsm_gap' && f.fgsm_accuracy > f.clean_accuracy ? '.above' : '';
        const key = has(`audit.flag.${f.key}${above}`) ? `audit.flag.${f.key}${above}` : has(`audit.flag.${f.key}`) ? `audit.flag.${f.key}` : 'audit.flag.unknown';
        return el('li', { class: 'audit-flag', 'data-flag': f.key }, el('strong', {}, flagTitle(f.key)), ' ', t(key, { key: f.key, ...flagVars(f) }));
      }),
    );
    if (!flags.length) {
      flagsList.append(el('li', { class: 'audit-flag none', 'data-flag': 'none' }, t('audit.noFlags')));
    }
    flagsNote.textContent = running === 'audit' ? t('audit.flagsSoFar') : '';
  }

  function renderProgress() {
    const inflight = [...runState.inflight.values()].reduce((a, b) => a + b, 0);
    progress.value = runState.total ? runState.done / runState.total : 0;
    root.dataset.done = String(runState.done);
    const { done, total, what } = runState;
    const queries = runState.queries + inflight;
    show(status, () => t(what === 'curve' ? 'audit.curveProgress' : 'audit.progress', {
      done: formatInt(done), total: formatInt(total), queries: formatInt(queries), workers: pool.size,
    }));
    const quarter = Math.floor((4 * runState.done) / Math.max(1, runState.total));
    if (quarter > runState.announced && runState.done < runState.total) {
      runState.announced = quarter;
      live.textContent = t('audit.liveProgress', { done: formatInt(runState.done), total: formatInt(runState.total) });
    }
  }

  // Summaries are coalesced: one in flight, then the latest outcomes after it; a run's table only ever grows (an
  // answer for fewer images than the one shown is dropped).
  let summarising = null;
  let again = null;
  let shownN = 0;
  function summarise(list) {
    if (summarising) {
      again = list;
      return;
    }
    summarising = side.call('auditSummary', [list]).then(
      (s) => {
        if (running === 'audit' && list.length >= shownN) {
          shownN = list.length;
          renderSummary(s);
        }
      },
      (e) => say('audit.failed', {}, e),
    ).finally(() => {
      summarising = null;
      if (again) {
        const next = again;
        again = null;
        summarise(next);
      }
    });
  }
  /** The summary of a finished (or cancelled) run: after any in flight, for every outcome. */
  async function finalSummary(list) {
    again = null;
    while (summarising) await summarising;
    if (!list.length) return null;
    const s = await side.call('auditSummary', [list]);
    shownN = list.length;
    renderSummary(s);
    return s;
  }

  /** Runs auditImage on the test images `indices` at ε (`p`), over the pool; cached outcomes are reused. */
  async function auditImages(indices, p, onOutcome) {
    const cache = cacheOf(model.id, p.eta ?? 'default');
    const s = await loadSamples(model.dataset);
    const todo = indices.filter((i) => !cache.has(i));
    for (const i of indices) if (cache.has(i)) onOutcome(i, cache.get(i));
    if (!todo.length) return;
    if (model.shipped) await pool.load(model.id, model.file);
    else await pool.loadBytes(model.id, model.bytes);
    await pool.each(
      todo.length,
      (eng, k) => {
        const i = todo[k];
        runState.inflight.set(i, 0);
        return eng.call('auditImage', [model.id, toPixels(s.image(i)), s.label(i), imageOptions(p, i)], {
          onProgress: (pr) => {
            if (Number.isFinite(pr?.queries)) {
              runState.inflight.set(i, pr.queries);
              renderProgress();
            }
          },
        }).finally(() => runState.inflight.delete(i));
      },
      (k, outcome) => {
        cache.set(todo[k], outcome);
        onOutcome(todo[k], outcome);
      },
    );
  }

  function busy(what) {
    running = what;
    root.dataset.state = what ? 'running' : root.dataset.state;
    start.disabled = !!what;
    curveRun.disabled = !!what;
    modelSel.disabled = !!what;
    fileInput.disabled = !!what;
    nInput.disabled = !!what;
    etaInput.disabled = !!what;
    cancel.hidden = !what;
    if (what) cancel.focus({ preventScroll: true });
    progress.hidden = false;
  }

  async function runAudit() {
    if (running || !model) return;
    say(null);
    if (!(await hasOp('auditImage'))) {
      say('audit.unsupported');
      return;
    }
    const n = clampN();
    writeHash();
    const p = params();
    const list = [];
    Object.assign(runState, { done: 0, total: n, queries: 0, announced: 0, what: 'audit', t0: performance.now() });
    runState.inflight.clear();
    shownN = 0;
    busy('audit');
    renderEmpty();
    root.dataset.state = 'running';
    flagsNote.textContent = t('audit.flagsLater');
    live.textContent = t('audit.liveStart', { n: formatInt(n), model: modelName() });
    // On a laptop the live table starts below the fold: bring the controls to the top so that the Cancel button,
    // the progress and the table's first rows are on screen together.
    if (results.getBoundingClientRect().top > innerHeight - 120) {
      const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches;
      controls.scrollIntoView({ block: 'start', behavior: smooth ? 'smooth' : 'auto' });
    }
    renderProgress();
    const indices = Array.from({ length: n }, (_, i) => i);
    try {
      await auditImages(indices, p, (i, o) => {
        list.push(o);
        runState.done += 1;
        runState.queries += Number(o.queries) || 0;
        renderProgress();
        summarise(list.slice());
      });
      running = null;
      await finalSummary(list.slice());
      root.dataset.state = 'done';
      const seconds = (performance.now() - runState.t0) / 1000;
      const queries = runState.queries;
      show(status, () => t('audit.done', { n: formatInt(n), seconds: formatNumber(seconds, 1), workers: pool.size, queries: formatInt(queries) }));
      progress.value = 1;
      const flags = lastSummary?.flags || [];
      live.textContent = t('audit.liveDone', { aa: percent(lastSummary?.autoattack_accuracy), flags: flags.length ? flags.map((f) => flagTitle(f.key)).join(', ') : t('audit.noFlagsShort') });
    } catch (e) {
      running = null;
      const cancelled = /^error\.cancelled/.test(String(e?.message));
      root.dataset.state = cancelled ? 'cancelled' : 'failed';
      if (cancelled) {
        const done = runState.done;
        show(status, () => t('audit.cancelled', { done: formatInt(done), total: formatInt(n) }));
        live.textContent = status.textContent;
      } else say('audit.failed', {}, e);
      await finalSummary(list.slice()).catch((err) => say('audit.failed', {}, err));
    } finally {
      busy(null);
      flagsNote.textContent = lastSummary ? '' : t('audit.flagsLater');
      start.focus({ preventScroll: true });
    }
  }

  // ------------------------------------------------------------ the curve

  const curveEtas = () => {
    const top = Number(etaInput.value) || model.defaultEta || REF_EPS;
    return CURVE_FRACTIONS.map((f) => round3(top * f));
  };

  function refsFor(top) {
    // The published figures are MNIST's at ε = 0.3 in L∞: shown where they compare.
    if (model?.dataset !== 'mnist' || (model.norm && model.norm !== 'linf') || top < REF_EPS - 1e-9) return [];
    return REFS.map((r) => ({
      id: r.id, y: r.aa, x: REF_EPS, reported: r.reported, color: r.color, text: r.text, dash: r.dash,
      short: t(`audit.ref.${r.id}.short`, { aa: formatPercent(r.aa, 0), reported: r.reported !== undefined ? formatPercent(r.reported, 0) : '' }),
      name: t(`audit.ref.${r.id}`, { aa: formatPercent(r.aa, 2), reported: r.reported !== undefined ? formatPercent(r.reported, 2) : '' }),
    }));
  }

  let curveData = null; // {model, etas, clean, fgsm: [], aa: [], n}
  function drawCurve() {
    const top = curveData ? curveData.etas[curveData.etas.length - 1] : REF_EPS;
    const refs = refsFor(top);
    const series = curveData
      ? [
          { name: t('audit.series.fgsm'), color: OKABE_ITO[4], points: [{ x: 0, y: curveData.clean }, ...curveData.etas.map((x, k) => ({ x, y: curveData.fgsm[k] }))].filter((p) => Number.isFinite(p.y)) },
          { name: t('audit.series.aa'), color: OKABE_ITO[6], points: [{ x: 0, y: curveData.clean }, ...curveData.etas.map((x, k) => ({ x, y: curveData.aa[k] }))].filter((p) => Number.isFinite(p.y)) },
        ]
      : [];
    const ticks = curveData ? [0, ...curveData.etas] : [0, 0.1, 0.2, 0.3];
    renderPlot(plot, { ...curveSpec, series, refs, xDomain: [0, top], xTicks: ticks });
    const svg = plot.querySelector('svg');
    svg.dataset.testid = 'audit-curve-svg';
    svg.setAttribute('aria-label', t('audit.curveLabel'));
    if (!curveData) {
      const [w, hgt] = svg.getAttribute('viewBox').split(' ').slice(2).map(Number);
      const note = document.createElementNS(svg.namespaceURI, 'text');
      note.setAttribute('x', String(w / 2));
      note.setAttribute('y', String(hgt / 2));
      note.setAttribute('text-anchor', 'middle');
      note.setAttribute('class', 'empty-text');
      note.textContent = t('audit.curveEmpty');
      svg.append(note);
    }
    plot.dataset.points = curveData ? JSON.stringify(series) : '[]';
  }

  async function runCurve() {
    if (running || !model) return;
    say(null);
    if (!(await hasOp('auditImage'))) {
      say('audit.unsupported');
      return;
    }
    const s = await loadSamples(model.dataset);
    const n = Math.min(CURVE_N, s.count);
    const etas = curveEtas();
    const base = params();
    const data = { model: model.id, etas, n, clean: NaN, fgsm: etas.map(() => NaN), aa: etas.map(() => NaN) };
    Object.assign(runState, { done: 0, total: n * etas.length, queries: 0, announced: 0, what: 'curve', t0: performance.now() });
    runState.inflight.clear();
    busy('curve');
    plot.dataset.done = 'false';
    show(curveStatus, () => '');
    live.textContent = t('audit.liveCurveStart', { n: formatInt(n), k: etas.length });
    renderProgress();
    try {
      // The largest ε first: an image broken there is broken early (cheap); the small ones cost the most.
      for (const [k, eta] of [...etas.entries()].reverse()) {
        const list = [];
        await auditImages(Array.from({ length: n }, (_, i) => i), { ...base, eta }, (i, o) => {
          list.push(o);
          runState.done += 1;
          runState.queries += Number(o.queries) || 0;
          renderProgress();
        });
        const sum = await side.call('auditSummary', [list]);
        data.clean = sum.clean_accuracy;
        data.fgsm[k] = sum.fgsm_accuracy;
        data.aa[k] = sum.autoattack_accuracy;
        curveData = data;
        drawCurve();
      }
      plot.dataset.done = 'true';
      const seconds = (performance.now() - runState.t0) / 1000;
      const text = () => t('audit.curveDone', { n: formatInt(n), k: etas.length, seconds: formatNumber(seconds, 1) });
      show(curveStatus, text);
      show(status, text);
      live.textContent = text();
    } catch (e) {
      const cancelled = /^error\.cancelled/.test(String(e?.message));
      if (cancelled) {
        show(curveStatus, () => t('audit.curveCancelled'));
        show(status, () => t('audit.curveCancelled'));
        live.textContent = status.textContent;
      } else say('audit.failed', {}, e);
    } finally {
      running = null;
      busy(null);
      root.dataset.state = lastSummary ? 'done' : 'idle';
    }
  }

  // ------------------------------------------------------------ the user's own file

  async function openFile(file) {
    if (!file) return;
    say(null);
    if (!/\.safetensors$/i.test(file.name)) {
      say('audit.notSafetensors', { name: file.name });
      return;
    }
    const id = `${FILE_ID}-${Date.now().toString(36)}`;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      // Read by the engine first (the side worker): a file that is no model is refused here, before any pool work.
      const info = await side.loadModel(id, bytes);
      const shape = info.inputShape || info.input_shape || [];
      if (!['mnist', 'fashion'].includes(info.dataset) || shape[1] !== 28 || shape[2] !== 28) {
        side.unloadModel(id);
        say('audit.wrongDataset', { name: file.name, dataset: info.dataset || '?' });
        return;
      }
      if (own) side.unloadModel(own.id);
      own = { id, name: file.name, bytes, info };
      fillModels();
      await choose(id);
      say(null);
      show(status, () => t('audit.opened', { name: file.name, dataset: t(`dataset.${info.dataset}`) }));
    } catch (e) {
      side.unloadModel(id); // not kept for the worker's restarts either
      say('audit.badFile', { name: file.name }, e);
    } finally {
      fileInput.value = '';
    }
  }

  // ------------------------------------------------------------ wiring
  start.addEventListener('click', () => runAudit());
  curveRun.addEventListener('click', () => runCurve());
  cancel.addEventListener('click', () => pool.cancel());
  modelSel.addEventListener('change', () => choose(modelSel.value).catch(() => {}));
  fileInput.addEventListener('change', () => openFile(fileInput.files?.[0]));
  nInput.addEventListener('change', () => {
    clampN();
    writeHash();
  });
  etaInput.addEventListener('change', () => {
    if (etaInput.value !== '') etaInput.value = String(Math.max(0, Math.min(1, Number(etaInput.value) || 0)));
    writeHash();
  });
  document.addEventListener('advlab:language', () => {
    fillModels();
    applyTranslations(root);
    if (lastProblem) say(lastProblem.key, lastProblem.vars, lastProblem.detail);
    if (lastSummary) renderSummary(lastSummary);
    else if (!running) renderEmpty();
    renderBudgets();
    for (const [node, fn] of texts) node.textContent = fn();
    drawCurve();
  });
  onWidthChange(plot, drawCurve);
  // A hash typed or followed while the audit is open (the defences lesson's link, say): its model, ε and N.
  window.addEventListener('hashchange', () => {
    if (!/(^#|&)lesson=audit(&|$)/.test(location.hash) || running) return;
    const w = readHash();
    if (Number.isFinite(w.n)) nInput.value = String(w.n);
    if (Number.isFinite(w.eta)) etaInput.value = String(w.eta);
    if (w.model && w.model !== model?.id) choose(w.model, { keepEta: Number.isFinite(w.eta) }).catch(() => {});
  });

  // ------------------------------------------------------------ the first screen
  fillModels();
  if (Number.isFinite(want.n)) nInput.value = String(want.n);
  if (Number.isFinite(want.eta)) etaInput.value = String(want.eta);
  const first = want.model && shipped.some((m) => m.id === want.model) ? want.model : shipped.some((m) => m.id === 'mnist-cnn') ? 'mnist-cnn' : shipped[0]?.id;
  renderEmpty();
  drawCurve();
  if (first) await choose(first, { keepEta: Number.isFinite(want.eta) }).catch(() => {});
  if (want.model && want.model !== first) say('audit.unknownModel', { model: want.model });
  clampN();
  root.dataset.ready = 'true';
}
