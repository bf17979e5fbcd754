// The training lesson (#lesson=train): choose linear or an MLP (hidden size), optionally adversarial training,
// train on the shipped 5 000-image MNIST subset in the engine's worker (its `train` op: a wasm Trainer that yields
// between chunks) with a live loss/accuracy curve and a progress bar with pause and stop, then attack the model
// just trained with FGSM on a held-out test image.
import { t, formatPercent, formatNumber, translateError } from '../i18n.js';
import { paintGray } from '../panels.js';
import { paintPerturbation } from '../noise-map.js';
import { loadSamples, toPixels } from '../samples.js';
import { Engine } from '../engine.js';
import { fetchBytes } from '../models.js';
import { h as el, tx } from '../dom.js';
import { lineChart, svgRoot } from '../chart.js';

const HELDOUT = 1000;

/**
 * The training images ship gzip-compressed; the page's engine reads raw IDX only (no inflate code in its wasm, which
 * keeps it inside the page budget), so the browser's own DecompressionStream inflates them first.
 */
async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export function mount(root) {
  const arch = el('select', { id: 'train-arch', 'data-testid': 'train-arch' },
    el('option', { value: 'linear', 'data-i18n': 'train.linear' }, t('train.linear')),
    el('option', { value: 'mlp', 'data-i18n': 'train.mlp' }, t('train.mlp')));
  const hidden = el('input', { type: 'range', id: 'train-hidden', 'data-testid': 'train-hidden', min: '8', max: '256', step: '8', value: '64' });
  const hiddenOut = el('output', { for: 'train-hidden', id: 'train-hidden-out', 'data-testid': 'train-hidden-out' }, '64');
  const adv = el('input', { type: 'checkbox', id: 'train-adv', 'data-testid': 'train-adv' });
  const epochs = el('input', { type: 'number', id: 'train-epochs', min: '1', max: '10', value: '1', 'data-testid': 'train-epochs' });
  const start = tx('train.start', 'button', { type: 'button', 'data-testid': 'train-start' });
  const pause = tx('train.pause', 'button', { type: 'button', class: 'secondary', 'data-testid': 'train-pause', disabled: '' });
  const stop = tx('train.stop', 'button', { type: 'button', class: 'secondary', 'data-testid': 'train-stop', disabled: '' });
  const progress = el('progress', { max: '1', value: '0', 'data-testid': 'train-progress', 'aria-label': t('train.progress'), 'data-i18n-aria': 'train.progress' });
  const status = el('p', { class: 'small', 'aria-live': 'polite', 'data-testid': 'train-status' });
  const result = el('p', { class: 'verdict', 'aria-live': 'polite', 'data-testid': 'train-heldout' });
  const chart = svgRoot({ class: 'lesson-chart', i18nAria: 'train.chartLabel', 'data-testid': 'train-chart' });

  const etaIn = el('input', { type: 'range', id: 'train-eta', min: '0', max: '0.5', step: '0.01', value: '0.1', 'data-testid': 'train-eta' });
  const etaOut = el('output', { for: 'train-eta', 'data-testid': 'train-eta-out' }, formatNumber(0.1, 2));
  const sampleBtn = tx('train.nextImage', 'button', { type: 'button', class: 'secondary', 'data-testid': 'train-next', disabled: '' });
  const cOrig = el('canvas', { class: 'pixels', width: '28', height: '28', role: 'img', 'aria-label': t('panels.original') });
  const cNoise = el('canvas', { class: 'pixels', width: '28', height: '28', role: 'img', 'aria-label': t('panels.noise') });
  const cAdv = el('canvas', { class: 'pixels', width: '28', height: '28', role: 'img', 'aria-label': t('panels.adversarial') });
  const attackOut = el('p', { class: 'verdict', 'aria-live': 'polite', 'data-testid': 'train-attack' });

  root.append(
    el('h2', {}, tx('train.title')),
    tx('train.intro', 'p', { class: 'hint' }),
    el('section', { class: 'card lesson-grid', 'aria-label': t('train.setup') },
      el('label', { class: 'field' }, tx('train.arch'), arch),
      el('label', { class: 'field' }, tx('train.hidden'), hidden, hiddenOut),
      el('label', { class: 'field inline' }, adv, tx('train.adversarial')),
      el('label', { class: 'field' }, tx('train.epochs'), epochs),
      el('div', { class: 'row' }, start, pause, stop),
      progress, status),
    el('section', { class: 'card' }, el('h3', {}, tx('train.curve')), chart,
      el('p', { class: 'small lesson-keys' }, el('span', { class: 'key loss' }, tx('train.loss')), ' ', el('span', { class: 'key acc' }, tx('train.accuracy'))),
      result),
    el('section', { class: 'card', 'aria-label': t('train.attackTitle') },
      el('h3', {}, tx('train.attackTitle')), tx('train.attackIntro', 'p', { class: 'hint small' }),
      el('label', { class: 'field' }, el('span', {}, tx('slider.label'), ' η = ', etaOut), etaIn),
      sampleBtn,
      el('div', { class: 'lesson-panels' }, cOrig, cNoise, cAdv),
      attackOut),
  );

  const hist = [];
  let worker = null;
  let running = false;
  let paused = false;
  let trained = false;
  let sample = 0;
  let samples = null;

  const syncHidden = () => {
    hiddenOut.textContent = hidden.value;
    hidden.disabled = arch.value !== 'mlp' || running;
  };
  arch.addEventListener('change', syncHidden);
  hidden.addEventListener('input', () => {
    hiddenOut.textContent = hidden.value;
  });
  syncHidden();

  const draw = () =>
    lineChart(chart, [
      { cls: 'loss', points: hist.map((h) => [h.progress, Math.min(1, h.loss / 2.5)]) },
      { cls: 'acc', points: hist.map((h) => [h.progress, h.accuracy]) },
    ], { xLabel: t('train.progressAxis'), yLabel: '' });

  const setRunning = (r) => {
    running = r;
    start.disabled = r;
    pause.disabled = !r;
    stop.disabled = !r;
    arch.disabled = r;
    adv.disabled = r;
    epochs.disabled = r;
    syncHidden();
  };

  function onProgress(m) {
    if (m.paused) {
      status.textContent = t('train.paused');
    } else {
      hist.push(m);
      progress.value = m.progress;
      status.textContent = t('train.status', {
        epoch: m.epoch, progress: formatPercent(m.progress, 0), loss: formatNumber(m.loss, 3), acc: formatPercent(m.accuracy),
      });
      draw();
    }
  }

  function onDone(m) {
    setRunning(false);
    trained = true;
    root.dataset.heldout = String(m.heldout.accuracy);
    result.textContent = t(m.stopped ? 'train.stoppedResult' : 'train.result', { acc: formatPercent(m.heldout.accuracy), n: m.heldout.total });
    etaIn.disabled = false;
    sampleBtn.disabled = false;
    attackNow();
  }

  function onAttacked(m) {
    paintGray(cOrig, toPixels(samples.image(sample)));
    paintPerturbation(cNoise, m.perturbation);
    paintGray(cAdv, m.adversarial);
    attackOut.textContent = t('train.attackResult', {
      before: m.before.class, after: m.after.class, eta: formatNumber(Number(etaIn.value), 2),
      flip: m.flipEta == null ? t('train.noFlip') : formatNumber(m.flipEta, 3),
    });
    root.dataset.attacked = String(m.after.class !== m.before.class);
  }

  /** FGSM on the model just trained (loaded as "trained" in the training engine's session when training ended). */
  async function attack() {
    if (!trained) return;
    samples ??= await loadSamples('mnist');
    const pixels = toPixels(samples.image(sample));
    const eta = Number(etaIn.value);
    const d = await worker.call('prepareDirection', ['trained', pixels, 'linf', -1, 0.5, 7n]);
    const before = await worker.call('predict', ['trained', pixels]);
    const r = await worker.call('adversarialAt', [eta]);
    onAttacked({ before, after: r.prediction, flipEta: d.flipEta, adversarial: r.adversarial, perturbation: r.perturbation });
  }

  const subset = () =>
    Promise.all([fetchBytes('data/mnist-train-5000-images.idx.gzip', 'samples_missing').then(gunzip), fetchBytes('data/mnist-train-5000-labels.idx', 'samples_missing')]);

  start.addEventListener('click', async () => {
    if (worker?.busy) worker.cancel();
    worker ??= new Engine('training');
    hist.length = 0;
    trained = false;
    paused = false;
    pause.textContent = t('train.pause');
    result.textContent = '';
    delete root.dataset.heldout;
    setRunning(true);
    const isMlp = arch.value === 'mlp';
    status.textContent = t('train.starting');
    const fail = (e) => {
      if (/^error\.cancelled/.test(e?.message)) return;
      setRunning(false);
      status.textContent = translateError(e);
    };
    try {
      const [images, labels] = await subset();
      const args = {
        arch: arch.value, hidden: Number(hidden.value), seed: 1, adversarial: adv.checked, eta: 0.1,
        epochs: Math.max(1, Math.min(10, Number(epochs.value) || 1)), batch: 16, lr: isMlp ? 0.002 : 0.005,
        heldout: HELDOUT, chunk: 10, images, labels,
      };
      onDone(await worker.call('train', [args], { onProgress, transfer: [images.buffer, labels.buffer] }));
    } catch (e) {
      fail(e);
    }
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    worker.call('trainControl', [paused ? 'pause' : 'resume']);
    pause.textContent = t(paused ? 'train.resume' : 'train.pause');
  });
  stop.addEventListener('click', () => {
    worker.call('trainControl', ['stop']);
    status.textContent = t('train.stopping');
  });
  const attackNow = () => attack().catch((e) => (status.textContent = translateError(e)));
  etaIn.addEventListener('input', () => {
    etaOut.textContent = formatNumber(Number(etaIn.value), 2);
    root.dataset.etaHandled = String(performance.now());
    attackNow();
  });
  sampleBtn.addEventListener('click', () => {
    sample = (sample + 1) % 500;
    attackNow();
  });
  document.addEventListener('advlab:language', draw);
  draw();
}
