// The overconfidence caveat next to the clean verdict: the engine decides (src/data/familiar.rs: an input whose
// ink and grey tones lie outside every training digit's), the page only words it. Shared by the page and the widget.
import { t, formatPercent, formatNumber } from './i18n.js';

/**
 * Shows `prediction.unfamiliar` ({reason, value, limit}) in `el` (a <div>), or hides `el` for a familiar input: the
 * plain warning first, the measurement behind it in a "Why?" fold.
 */
export function renderCaveat(el, prediction) {
  const u = prediction?.unfamiliar;
  el.hidden = !u;
  if (!u) {
    el.textContent = '';
    return;
  }
  // "soft" is a ratio (grey pixels per ink pixel); the others are shares of the image.
  const f = u.reason === 'soft' ? (x) => formatNumber(x, 1) : (x) => formatPercent(x, x < 0.1 ? 1 : 0);
  const why = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = t('result.unfamiliar.why');
  why.append(summary, t(`result.unfamiliar.${u.reason}`, { value: f(u.value), limit: f(u.limit) }));
  el.replaceChildren(t('result.unfamiliar'), why);
}
