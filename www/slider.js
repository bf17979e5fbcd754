// The η slider: an integer range input whose positions map piecewise-linearly to η, fine near zero. Two scales:
// digits (L∞: steps of 0.0001 up to 0.01, 0.0005 up to 0.05, 0.001 up to 0.5: every flip η on the engine's 0.001
// grid is a slider position, and so is the article's 0.005) and photos (L∞: steps of 1/1020, a quarter of a grey
// level, up to 4/255, then 1/510 up to 16/255: a photo flips at about one grey level). L2 uses the same positions
// times ten. Where each scale ends is the engine's rule (the catalog's `slider_end`, catalog.rs
// flip_search_max); the steps are this file's.
import { t, formatEta, formatNumber } from './i18n.js';

const SCALES = {
  digits: {
    segments: [
      [0.01, 0.0001],
      [0.05, 0.0005],
      [0.5, 0.001],
    ],
    ticks: [0, 0.01, 0.1, 0.2, 0.3, 0.5],
  },
  photo: {
    segments: [
      [4 / 255, 1 / 1020],
      [16 / 255, 1 / 510],
    ],
    ticks: [0, 2 / 255, 4 / 255, 8 / 255, 16 / 255],
    grey: true, // η is also read as grey levels of 255
  },
};
const SCALE = { linf: 1, l2: 10 };

function segmentTable(segments) {
  const rows = [];
  let from = 0;
  let pos = 0;
  for (const [to, step] of segments) {
    const n = Math.round((to - from) / step);
    rows.push({ from, to, step, pos, n });
    pos += n;
    from = to;
  }
  return { rows, max: pos };
}
const TABLES = Object.fromEntries(Object.entries(SCALES).map(([k, v]) => [k, segmentTable(v.segments)]));
/** The scale's number of positions (digits: 760; photos: 40). */
export const maxPosition = (scale = 'digits') => TABLES[scale].max;
export const MAX_POSITION = maxPosition('digits');

/** Clean decimals: 0.1 + 0.0001·k leaves float noise that nobody wants in a link. */
const tidy = (x) => Number(x.toFixed(6));

export function positionToEta(p, norm = 'linf', scale = 'digits') {
  const table = TABLES[scale];
  const pos = Math.max(0, Math.min(table.max, Math.round(p)));
  for (const r of table.rows) {
    if (pos <= r.pos + r.n) return tidy((r.from + (pos - r.pos) * r.step) * SCALE[norm]);
  }
  const segs = SCALES[scale].segments;
  return tidy(segs[segs.length - 1][0] * SCALE[norm]);
}

/** The nearest slider position to η (exact for η on the grid). */
export function etaToPosition(eta, norm = 'linf', scale = 'digits') {
  const table = TABLES[scale];
  const e = eta / SCALE[norm];
  for (const r of table.rows) {
    if (e <= r.to + 1e-9) return r.pos + Math.max(0, Math.round((e - r.from) / r.step));
  }
  return table.max;
}

export function maxEta(norm = 'linf', scale = 'digits') {
  return positionToEta(maxPosition(scale), norm, scale);
}

/** The slider scale for a catalog entry: photos when the engine ends the slider below the digits' end. */
export function scaleFor(info) {
  const end = info?.slider_end?.linf;
  return typeof end === 'number' && end < 0.25 ? 'photo' : 'digits';
}

/** η in grey levels of 255 ("2" for 2/255, "1.5" for 0.0059): how a photo's change reads. */
export function greyLevels(eta) {
  const g = eta * 255;
  // A photo can flip at 0.0001 = 0.03/255: never rounded to a "0" that reads as no noise at all.
  const digits = Math.abs(g - Math.round(g)) < 0.005 ? 0 : Math.abs(g) < 0.1 ? 2 : 1;
  return formatNumber(g, digits);
}

/** η as the slider shows it: "0.0078" on digits, "0.0078 (2/255)" on photos (L∞). */
export function formatSliderEta(eta, norm = 'linf', scale = 'digits') {
  if (!SCALES[scale].grey || norm !== 'linf') return formatEta(eta);
  return t('slider.grey', { eta: formatEta(eta), levels: greyLevels(eta) });
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
    this.scale = 'digits';
    this.value = 0;
    this.flip = null;
    input.min = '0';
    input.max = String(maxPosition(this.scale));
    input.step = '1';
    input.addEventListener('input', () => {
      this.value = positionToEta(Number(input.value), this.norm, this.scale);
      this.refresh();
      this.dispatchEvent(new Event('input'));
    });
    input.addEventListener('change', () => this.dispatchEvent(new Event('change')));
  }

  get eta() {
    return this.value;
  }

  /**
   * Sets η from outside (a link, a reset); the thumb snaps to the nearest position, η stays exact. `scale`:
   * 'digits' or 'photo' (scaleFor(catalog entry)).
   */
  set(eta, norm = this.norm, scale = this.scale) {
    this.norm = norm;
    this.scale = scale;
    this.value = eta;
    this.input.max = String(maxPosition(scale));
    this.input.value = String(etaToPosition(eta, norm, scale));
    this.refresh();
    this.renderTicks();
  }

  setFlip(eta) {
    this.flip = eta;
    this.refresh();
  }

  /** Percent along the track for η; the thumb's half-width keeps marks under the thumb's centre. */
  place(el, eta) {
    const f = etaToPosition(eta, this.norm, this.scale) / maxPosition(this.scale);
    el.style.left = `calc(var(--thumb) / 2 + (100% - var(--thumb)) * ${f.toFixed(5)})`;
  }

  refresh() {
    const shown = formatSliderEta(this.value, this.norm, this.scale);
    const text = t('slider.value', { eta: shown });
    this.input.setAttribute('aria-valuetext', text);
    if (this.output) this.output.textContent = shown;
    if (this.flip === null || this.flip === undefined) {
      this.marker.hidden = true;
    } else {
      this.marker.hidden = false;
      this.place(this.marker, this.flip);
      this.marker.title = t('flip.marker', { eta: formatSliderEta(this.flip, this.norm, this.scale) });
    }
  }

  /** Tick labels under the track (per norm and language). */
  renderTicks() {
    if (this.ticks) {
      const { ticks, grey } = SCALES[this.scale];
      const items = ticks.map((e) => {
        const s = document.createElement('span');
        s.className = 'tick';
        // Photos: the L∞ ticks read as grey levels ("2/255"), the article's unit for a photo's noise.
        s.textContent = grey && this.norm === 'linf' && e > 0 ? `${greyLevels(e)}/255` : formatEta(e * SCALE[this.norm]);
        this.place(s, e * SCALE[this.norm]);
        return s;
      });
      this.ticks.replaceChildren(...items);
    }
  }
}
