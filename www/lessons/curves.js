// Lesson "curves" (#lesson=curves): accuracy against η (L∞) for each model and attack on the first N shipped test
// images (Madry et al. 2018 draw robustness this way). Computed by the worker pool (pool.js, one worker per core),
// with a progress bar and cancel; drawn with ../chart.js (axes, legend, tooltips, PNG and CSV export).
import { el, samples } from './common.js';
import { CurvePool } from './pool.js';
import { linePlot, renderPlot as render } from '../chart.js';
import { t, formatInt, formatPercent, translateError } from '../i18n.js';

export const ETAS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3];
const MODELS = ['mnist-linear', 'mnist-mlp', 'mnist-cnn'];
// DESIGN.md's protocol: PGD 40 steps of 0.01 with a random start; BIM the same without.
const ATTACKS = { fgsm: {}, bim: { steps: 40, step_size: 0.01 }, pgd: { steps: 40, step_size: 0.01, random_start: true } };

export function create() {
  let pool = null;
  const series = new Map();
  const n = el('select', { id: 'lesson-curves-n', 'data-testid': 'curves-n' });
  for (const v of [50, 100, 200, 500]) n.append(el('option', { value: String(v), raw: String(v) }));
  n.value = '200';
  const attack = el('select', { id: 'lesson-curves-attack', 'data-testid': 'curves-attack' });
  for (const a of Object.keys(ATTACKS)) attack.append(el('option', { value: a, text: `attack.${a}.name` }));
  const boxes = MODELS.map((m) => {
    const input = el('input', { type: 'checkbox', value: m, id: `lesson-curves-${m}`, checked: m !== 'mnist-mlp' });
    return { m, input, label: el('label', { class: 'check', for: `lesson-curves-${m}` }, input, el('span', { text: `lessons.model.${m}` })) };
  });
  const run = el('button', { type: 'button', text: 'lessons.curves.run', 'data-testid': 'curves-run' });
  const cancel = el('button', { type: 'button', class: 'secondary', text: 'job.cancel', hidden: true, 'data-testid': 'curves-cancel' });
  const progress = el('progress', { max: '1', value: '0', hidden: true, 'data-testid': 'curves-progress', 'data-i18n-aria': 'job.progressLabel' });
  const status = el('p', { class: 'small', 'aria-live': 'polite', 'data-testid': 'curves-status' });
  const spec = () => ({
    title: 'lessons.curves.plotTitle', xLabel: 'lessons.curves.eta', yLabel: 'lessons.curves.accuracy', file: 'robustness-curves',
    xDomain: [0, 0.3], xTicks: ETAS, yDomain: [0, 1], formatY: (v) => formatPercent(v, 0), series: [...series.values()],
  });
  const plot = linePlot(spec());
  plot.dataset.testid = 'curves-plot';
  const root = el(
    'div',
    {},
    el('div', { class: 'lesson-controls' },
      el('label', { for: 'lesson-curves-n', text: 'lessons.curves.n' }), n,
      el('label', { for: 'lesson-curves-attack', text: 'settings.attack' }), attack,
      el('fieldset', { class: 'checks' }, el('legend', { text: 'lessons.curves.models' }), boxes.map((b) => b.label)),
      run, cancel),
    progress, status, plot,
  );

  async function compute() {
    pool = pool || new CurvePool();
    const a = attack.value;
    const models = boxes.filter((b) => b.input.checked).map((b) => b.m);
    const data = await samples(Number(n.value));
    run.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    const t0 = performance.now();
    try {
      for (const [i, m] of models.entries()) {
        const r = await pool.run(
          { id: m, file: `${m}.safetensors`, attack: a, params: { ...ATTACKS[a], seed: 0 }, etas: ETAS, images: data.images, labels: data.labels },
          (done, total) => {
            progress.value = (i + done / total) / models.length;
            status.textContent = t('lessons.curves.progress', { model: t(`lessons.model.${m}`), done: formatInt(done), total: formatInt(total), workers: pool.size });
          },
        );
        series.set(`${m}/${a}`, {
          name: `${t(`lessons.model.${m}`)} · ${t(`attack.${a}.name`)}`, model: m, attack: a, n: r.n,
          points: ETAS.map((eta, k) => ({ x: eta, y: r.counts[k] / r.n })),
        });
        render(plot, spec());
      }
      status.textContent = t('lessons.curves.done', { n: formatInt(data.count), workers: pool.size, seconds: ((performance.now() - t0) / 1000).toFixed(1) });
      plot.dataset.done = 'true';
    } catch (e) {
      status.textContent = translateError(e);
    } finally {
      run.disabled = false;
      cancel.hidden = true;
      progress.hidden = true;
    }
  }

  run.addEventListener('click', () => compute());
  cancel.addEventListener('click', () => pool?.cancel());
  return { root, show: () => {}, refresh: () => render(plot, spec()) };
}
