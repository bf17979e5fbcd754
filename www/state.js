// The whole page state lives in the URL hash (#model=mnist-cnn&attack=fgsm&eta=0.1&target=3&seed=7&lang=nl&sample=42).
// parseHash checks the syntax of every value and reports problems as i18n keys; the page checks the values that
// need loaded data (model ids, attack names, sample count) itself.

export const DEFAULTS = Object.freeze({
  model: null, // index.json's default
  attack: 'fgsm',
  norm: 'linf',
  eta: 0.1,
  target: -1, // untargeted
  seed: 7,
  lang: null, // navigator.language
  sample: null, // test-set index, or null for a drawing / upload
  invert: 'auto',
  controls: null, // classroom links: the controls to show (null: all), see classroom.js
  present: false, // classroom links: presentation mode
});

const ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;
const NORMS = ['linf', 'l2'];
const INVERT = ['auto', 'yes', 'no'];

/** Parses a hash ("#a=b&…") into { state, problems: [{ key, value }] }. Unknown keys are ignored. */
export function parseHash(hash) {
  const q = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const state = { ...DEFAULTS };
  const problems = [];
  const bad = (key) => problems.push({ key, value: q.get(key) });

  if (q.has('model')) {
    const v = q.get('model');
    ID.test(v) ? (state.model = v) : bad('model');
  }
  if (q.has('attack')) {
    const v = q.get('attack');
    ID.test(v) ? (state.attack = v) : bad('attack');
  }
  if (q.has('norm')) {
    const v = q.get('norm');
    NORMS.includes(v) ? (state.norm = v) : bad('norm');
  }
  if (q.has('eta')) {
    const v = q.get('eta').trim();
    const x = /^[0-9]*\.?[0-9]+(e-?[0-9]+)?$/i.test(v) ? Number(v) : NaN;
    Number.isFinite(x) && x >= 0 && x <= 10 ? (state.eta = x) : bad('eta');
  }
  if (q.has('target')) {
    const v = q.get('target');
    if (v === 'none' || v === '-1' || v === '') state.target = -1;
    else if (/^[0-9]{1,3}$/.test(v)) state.target = Number(v);
    else bad('target');
  }
  if (q.has('seed')) {
    const v = q.get('seed');
    /^[0-9]{1,15}$/.test(v) ? (state.seed = Number(v)) : bad('seed');
  }
  if (q.has('lang')) state.lang = q.get('lang');
  if (q.has('sample')) {
    const v = q.get('sample');
    /^[0-9]{1,6}$/.test(v) ? (state.sample = Number(v)) : bad('sample');
  }
  if (q.has('invert')) {
    const v = q.get('invert');
    INVERT.includes(v) ? (state.invert = v) : bad('invert');
  }
  if (q.has('controls')) state.controls = q.get('controls').toLowerCase().replace(/[^a-z,]/g, '');
  if (q.has('present')) state.present = q.get('present') === '1';
  return { state, problems };
}

/** η as it is written in links: at most six decimals, no float noise (0.1 stays "0.1"). */
export function etaString(eta) {
  return String(Number(eta.toFixed(6)));
}

/** The hash for a state. Defaults that carry no information (untargeted, L∞, auto-invert) are left out. */
export function toHash(s) {
  const q = new URLSearchParams();
  if (s.model) q.set('model', s.model);
  q.set('attack', s.attack);
  if (s.norm !== 'linf') q.set('norm', s.norm);
  q.set('eta', etaString(s.eta));
  if (s.target >= 0) q.set('target', String(s.target));
  q.set('seed', String(s.seed));
  if (s.lang) q.set('lang', s.lang);
  if (s.sample !== null && s.sample !== undefined) q.set('sample', String(s.sample));
  if (s.invert !== 'auto') q.set('invert', s.invert);
  if (s.controls !== null && s.controls !== undefined) q.set('controls', s.controls);
  if (s.present) q.set('present', '1');
  return '#' + q.toString().replace(/%2C/g, ',');
}

/** Writes the state into the address bar without adding a history entry per slider step. */
export function writeHash(s) {
  // A lesson view (#lesson=…, www/lessons/router.js) stays in the address bar beside the lab's state.
  const lesson = new URLSearchParams(location.hash.replace(/^#/, '')).get('lesson');
  const h = toHash(s) + (lesson ? `&lesson=${encodeURIComponent(lesson)}` : '');
  if (location.hash !== h) history.replaceState(null, '', h);
}
