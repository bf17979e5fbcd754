// The defences lesson (#lesson=defences): the standard mnist-cnn and a robust model (adversarially or
// ensemble-adversarially trained) side by side on the same test image and the same attack (FGSM or PGD-40 at η),
// with the perturbation each one needs and whether its answer survives; below, the robustness curves of the four
// MNIST CNNs (PGD-40 accuracy against η, measured by scripts/eval-defences.sh into models/robustness.json), and a
// link to the audit with the FGSM-trained one.
import { Engine } from '../engine.js';
import { t, formatPercent, formatNumber, translateError, className } from '../i18n.js';
import { paintGray } from '../panels.js';
import { paintPerturbation } from '../noise-map.js';
import { loadSamples, toPixels } from '../samples.js';
import { ensureModel, fetchJson } from '../models.js';
import { h as el, tx } from '../dom.js';
import { linePlot, renderPlot, onWidthChange, OKABE_ITO } from '../chart.js';

const STANDARD = 'mnist-cnn';
const ROBUST = ['mnist-cnn-adv', 'mnist-cnn-ens'];
// Each curve's Okabe–Ito colour and its own dash (so colour is never the only cue).
const CURVE_STYLE = {
  'mnist-cnn': { color: OKABE_ITO[1], dash: '' }, // vermillion, as the standard CNN's verdict
  'mnist-cnn-adv': { color: OKABE_ITO[0], dash: '7 3' }, // blue
  'mnist-cnn-ens': { color: OKABE_ITO[2], dash: '2 3' }, // bluish green
  'mnist-cnn-fgsm': { color: OKABE_ITO[3], dash: '9 3 2 3' }, // reddish purple
};

function column(id) {
  const c = {
    title: el('h3', {}, id),
    orig: el('canvas', { class: 'pixels', width: '28', height: '28', role: 'img', 'aria-label': t('panels.original') }),
    noise: el('canvas', { class: 'pixels', width: '28', height: '28', role: 'img', 'aria-label': t('panels.noise') }),
    adv: el('canvas', { class: 'pixels', width: '28', height: '28', role: 'img', 'aria-label': t('panels.adversarial') }),
    verdict: el('p', { class: 'verdict', 'aria-live': 'polite', 'data-testid': `verdict-${id}` }),
  };
  c.box = el('section', { class: 'card', 'data-testid': `column-${id}`, 'data-model': id },
    c.title, el('div', { class: 'lesson-panels' }, c.orig, c.noise, c.adv), c.verdict);
  return c;
}

export async function mount(root) {
  const robustSel = el('select', { id: 'def-robust', 'data-testid': 'def-robust' },
    ...ROBUST.map((id) => el('option', { value: id, 'data-i18n': `defences.model.${id}` }, t(`defences.model.${id}`))));
  const attackSel = el('select', { id: 'def-attack', 'data-testid': 'def-attack' },
    el('option', { value: 'fgsm' }, 'FGSM'), el('option', { value: 'pgd' }, 'PGD-40'));
  const eta = el('input', { type: 'range', id: 'def-eta', min: '0', max: '0.4', step: '0.01', value: '0.3', 'data-testid': 'def-eta' });
  const etaOut = el('output', { for: 'def-eta' }, formatNumber(0.3, 2));
  const next = tx('defences.next', 'button', { type: 'button', class: 'secondary', 'data-testid': 'def-next' });
  const run = tx('defences.run', 'button', { type: 'button', 'data-testid': 'def-run' });
  const status = el('p', { class: 'small', 'aria-live': 'polite', 'data-testid': 'def-status' });
  const std = column(STANDARD);
  const rob = column(ROBUST[0]);
  // The lessons' line plot (axes, % ticks, a legend instead of end labels: the curves all end near 0 and their labels
  // would overlap; tooltips; PNG/CSV export), at the page's text size.
  const plotSpec = (series) => ({
    title: 'defences.curvesLabel', xLabel: 'defences.etaAxis', yLabel: 'lessons.curves.accuracy', file: 'defences-curves',
    fit: true, xDomain: [0, 0.4], xTicks: [0, 0.1, 0.2, 0.3, 0.4], yDomain: [0, 1], formatY: (v) => formatPercent(v, 0), series,
  });
  const chart = linePlot(plotSpec([]));
  chart.dataset.testid = 'def-curves';
  chart.classList.add('def-plot');
  const curveNote = el('p', { class: 'hint small' });

  root.append(
    el('h2', {}, tx('defences.title')),
    tx('defences.intro', 'p', { class: 'hint' }),
    el('section', { class: 'card lesson-grid', 'aria-label': t('defences.controls') },
      el('label', { class: 'field' }, tx('defences.robust'), robustSel),
      el('label', { class: 'field' }, tx('settings.attack'), attackSel),
      el('label', { class: 'field' }, el('span', {}, tx('slider.label'), ' η = ', etaOut), eta),
      el('div', { class: 'row' }, next, run), status),
    el('div', { class: 'side-by-side' }, std.box, rob.box),
    tx('defences.strokes', 'p', { class: 'hint' }),
    el('section', { class: 'card' }, el('h3', {}, tx('defences.curves')), chart, curveNote),
    // The audit (#lesson=audit) with the FGSM-trained CNN: the model that shows best why one attack's score is a claim.
    el('section', { class: 'card def-audit' },
      el('p', {}, tx('defences.auditLink', 'a', { href: '#lesson=audit&model=mnist-cnn-fgsm', 'data-testid': 'def-audit-link', class: 'def-audit-link' })),
      tx('defences.auditHint', 'p', { class: 'hint small' })),
  );

  const engine = new Engine('defences', { timeout: 0 });
  const load = (id) => ensureModel(engine, id, `${id}.safetensors`);
  const samples = await loadSamples('mnist');
  let index = 0;
  let seq = 0;

  async function attackOne(col, id, pixels, label, my) {
    await load(id);
    // The engine's defences protocol (AttackParams::resolve): PGD-40 with the step scripts/eval-defences.sh used.
    const params = { eta: Number(eta.value), seed: 1, protocol: 'defences' };
    const r = await engine.call('runAttack', [id, pixels, attackSel.value, JSON.stringify(params), -1], { onProgress: () => {} });
    if (my !== seq) return null;
    col.title.textContent = t(`defences.model.${id}`);
    paintGray(col.orig, pixels);
    paintPerturbation(col.noise, r.perturbation);
    paintGray(col.adv, r.adversarial);
    const name = (c) => className('mnist', c, String(c));
    const kept = r.predAfter === r.predBefore;
    col.verdict.className = `verdict ${kept ? 'kept' : 'flipped'}`;
    col.verdict.textContent = t(kept ? 'defences.kept' : 'defences.flipped', {
      before: name(r.predBefore), after: name(r.predAfter), p: formatPercent(r.probsAfter[r.predAfter]), label: name(label),
    });
    col.box.dataset.before = String(r.predBefore);
    col.box.dataset.after = String(r.predAfter);
    return r;
  }

  async function update() {
    const my = ++seq;
    root.dataset.busy = 'true';
    status.textContent = t('defences.running');
    const pixels = toPixels(samples.image(index));
    const label = samples.label(index);
    try {
      await attackOne(std, STANDARD, pixels, label, my);
      await attackOne(rob, robustSel.value, pixels, label, my);
      if (my === seq) {
        status.textContent = t('defences.sample', { i: index, label: className('mnist', label, String(label)) });
        root.dataset.busy = 'false';
        root.dataset.sample = String(index);
      }
    } catch (e) {
      status.textContent = translateError(e);
      root.dataset.busy = 'false';
    }
  }

  async function curves() {
    try {
      const data = await fetchJson('models/robustness.json');
      const series = Object.entries(data.models).map(([id, pts]) => ({
        name: t(`defences.model.${id}`), ...(CURVE_STYLE[id] || {}), points: pts.map((p) => ({ x: p.eta, y: p.accuracy })),
      }));
      renderPlot(chart, plotSpec(series));
      curveNote.textContent = t('defences.curvesNote', { n: data.n ?? '?' });
    } catch (e) {
      curveNote.textContent = translateError(e);
    }
  }
  onWidthChange(chart, () => chart.spec.series.length && renderPlot(chart, chart.spec));

  eta.addEventListener('input', () => {
    etaOut.textContent = formatNumber(Number(eta.value), 2);
  });
  eta.addEventListener('change', update);
  attackSel.addEventListener('change', update);
  robustSel.addEventListener('change', update);
  run.addEventListener('click', update);
  next.addEventListener('click', () => {
    index = (index + 1) % samples.count;
    update();
  });
  document.addEventListener('advlab:language', () => {
    curves();
    update();
  });
  curves();
  update();
}
