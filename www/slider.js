// The η slider: an integer range input whose positions map piecewise-linearly to η, fine near zero.
// L∞: steps of 0.0001 up to 0.01, 0.0005 up to 0.05, 0.001 up to 0.5 (every flip η on the engine's 0.001 grid
// is a slider position, and so is the article's 0.005). L2 uses the same positions times ten.
import { t, formatEta } from './i18n.js';

const SEGMENTS = [
  [0.01, 0.0001],
  [0.05, 0.0005],
  [0.5, 0.001],
];
const SCALE = { linf: 1, l2: 10 };
const TICKS = [0, 0.01, 0.1, 0.2, 0.3, 0.5];

function segmentTable() {
  const rows = [];
  let from = 0;
  let pos = 0;
  for (const [to, step] of SEGMENTS) {
    const n = Math.round((to - from) / step);
    rows.push({ from, to, step, pos, n });
    pos += n;
    from = to;
  }
  return { rows, max: pos };
}
const TABLE = segmentTable();
export const MAX_POSITION = TABLE.max;

/** Clean decimals: 0.1 + 0.0001·k leaves float noise that nobody wants in a link. */
const tidy = (x) => Number(x.toFixed(6));

export function positionToEta(p, norm = 'linf') {
  const pos = Math.max(0, Math.min(MAX_POSITION, Math.round(p)));
  for (const r of TABLE.rows) {
    if (pos <= r.pos + r.n) return tidy((r.from + (pos - r.pos) * r.step) * SCALE[norm]);
  }
  return tidy(SEGMENTS[SEGMENTS.length - 1][0] * SCALE[norm]);
}

/** The nearest slider position to η (exact for η on the grid). */
export function etaToPosition(eta, norm = 'linf') {
  const e = eta / SCALE[norm];
  for (const r of TABLE.rows) {
    if (e <= r.to + 1e-12) return r.pos + Math.max(0, Math.round((e - r.from) / r.step));
  }
  return MAX_POSITION;
}

export function maxEta(norm = 'linf') {
  return positionToEta(MAX_POSITION, norm);
}

/**
 * Wires the range input, the flip marker and the tick labels. Fires 'input' (every move: live view) and
 * 'change' (the user let go, or a key press ended).
 */
export class EtaSlider extends EventTarget {
  constructor({ input, marker, ticks, output }) {
    super();
    this.input = input;
    this.marker = marker;
    this.ticks = ticks;
    this.output = output;
    this.norm = 'linf';
    this.value = 0;
    this.flip = null;
    input.min = '0';
    input.max = String(MAX_POSITION);
    input.step = '1';
    input.addEventListener('input', () => {
      this.value = positionToEta(Number(input.value), this.norm);
      this.refresh();
      this.dispatchEvent(new Event('input'));
    });
    input.addEventListener('change', () => this.dispatchEvent(new Event('change')));
  }

  get eta() {
    return this.value;
  }

  /** Sets η from outside (a link, a reset); the thumb snaps to the nearest position, η stays exact. */
  set(eta, norm = this.norm) {
    this.norm = norm;
    this.value = eta;
    this.input.value = String(etaToPosition(eta, norm));
    this.refresh();
    this.renderTicks();
  }

  setFlip(eta) {
    this.flip = eta;
    this.refresh();
  }

  /** Percent along the track for η; the thumb's half-width keeps marks under the thumb's centre. */
  place(el, eta) {
    const f = etaToPosition(eta, this.norm) / MAX_POSITION;
    el.style.left = `calc(var(--thumb) / 2 + (100% - var(--thumb)) * ${f.toFixed(5)})`;
  }

  refresh() {
    const text = t('slider.value', { eta: formatEta(this.value) });
    this.input.setAttribute('aria-valuetext', text);
    if (this.output) this.output.textContent = formatEta(this.value);
    if (this.flip === null || this.flip === undefined) {
      this.marker.hidden = true;
    } else {
      this.marker.hidden = false;
      this.place(this.marker, this.flip);
      this.marker.title = t('flip.marker', { eta: formatEta(this.flip) });
    }
  }

  /** Tick labels under the track (per norm and language). */
  renderTicks() {
    if (this.ticks) {
      const items = TICKS.map((e) => {
        const s = document.createElement('span');
        s.className = 'tick';
        s.textContent = formatEta(e * SCALE[this.norm]);
        this.place(s, e * SCALE[this.norm]);
        return s;
      });
      this.ticks.replaceChildren(...items);
    }
  }
}
