// The page state, described once. STATE is the one table of every key a link can carry: its type, default, bounds
// and i18n label (the classroom's checkbox name, `control.<key>`; a bad value in a link is reported as
// `hash.<key>`). Everything that reads or writes these keys goes through it:
//   - the URL hash of index.html (#model=mnist-cnn&attack=fgsm&eta=0.1&target=3&seed=7&lang=nl&sample=42):
//     parseHash / toHash / writeHash;
//   - the <adversarial-lab> widget's attributes (rows with `attr`): readAttribute;
//   - embed.html, which maps a hash onto one widget: toAttributes;
//   - the Embed dialog's web-component snippet: snippetAttributes;
//   - the classroom controls a link may show or hide (rows with `control`): CONTROL_KEYS, WIDGET_CONTROLS.
// Adding a key is one row here (plus its i18n strings); its readers follow. parseHash checks the syntax of every
// value; the page checks the values that need loaded data (model ids, attack names, sample count) itself.

const ID = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;
const NUMBER = /^[0-9]*\.?[0-9]+(e-?[0-9]+)?$/i;

/** η as it is written in links: at most six decimals, no float noise (0.1 stays "0.1"). */
export function etaString(eta) {
  return String(Number(eta.toFixed(6)));
}

/**
 * Value types: parse(text) → value, or undefined when the text is not a value of the type (a problem to report);
 * write(value) → text.
 */
const TYPES = {
  id: { parse: (v) => (ID.test(v) ? v : undefined), write: String },
  enum: { parse: (v, row) => (row.values.includes(v) ? v : undefined), write: String },
  number: {
    parse: (v, row) => {
      const x = NUMBER.test(v.trim()) ? Number(v.trim()) : NaN;
      return Number.isFinite(x) && x >= row.min && x <= row.max ? x : undefined;
    },
    write: etaString,
  },
  int: { parse: (v, row) => (new RegExp(`^[0-9]{1,${row.digits}}$`).test(v) ? Number(v) : undefined), write: String },
  /** A class index, or untargeted (-1) for "none", "-1" or nothing. */
  class: {
    parse: (v, row) => (v === 'none' || v === '-1' || v === '' ? -1 : new RegExp(`^[0-9]{1,${row.digits}}$`).test(v) ? Number(v) : undefined),
    write: String,
  },
  /** Free text the page validates itself (a language code). */
  text: { parse: (v) => v, write: String },
  /** A comma list of names, lower-cased, anything else dropped. */
  list: { parse: (v) => v.toLowerCase().replace(/[^a-z,]/g, ''), write: String },
  /** "1" is on, anything else off. */
  flag: { parse: (v) => v === '1', write: () => '1' },
};

/**
 * The table. Row order is the order of the keys in a link. Fields:
 *   key, type, default, bounds (values | min/max | digits), label (i18n key of its classroom checkbox);
 *   always: written even at its default (true: in links and attributes; "link": in links only);
 *   attr: the widget has this attribute (widgetDefault: the widget's own default when it differs);
 *   control: the classroom can show or hide it ("widget": in the widget too; "page": on the full page only);
 *   setup: about how, not what, is shown (listed after the others in the Embed snippet);
 *   lenient: a bad value falls back to the default without a problem.
 */
export const STATE = Object.freeze([
  { key: 'model', type: 'id', default: null, label: 'control.model', attr: true, control: 'widget' },
  { key: 'attack', type: 'id', default: 'fgsm', label: 'control.attack', always: true, attr: true, control: 'widget' },
  { key: 'norm', type: 'enum', values: ['linf', 'l2'], default: 'linf', label: 'control.norm', attr: true, control: 'page' },
  { key: 'eta', type: 'number', min: 0, max: 10, default: 0.1, label: 'control.eta', always: true, attr: true, control: 'widget' },
  { key: 'target', type: 'class', digits: 3, default: -1, label: 'control.target', attr: true, control: 'widget' },
  { key: 'seed', type: 'int', digits: 15, default: 7, label: 'state.seed', always: 'link', attr: true, setup: true },
  { key: 'lang', type: 'text', default: null, label: 'control.lang', attr: true, control: 'widget', setup: true },
  { key: 'sample', type: 'int', digits: 6, default: null, widgetDefault: 0, label: 'control.sample', attr: true, control: 'widget' },
  { key: 'invert', type: 'enum', values: ['auto', 'yes', 'no'], default: 'auto', label: 'input.invert' },
  { key: 'controls', type: 'list', default: null, label: 'classroom.title', attr: true, setup: true },
  { key: 'present', type: 'flag', default: false, label: 'classroom.present' },
  // A classroom link (one with `controls`) hides the teacher's chrome (toolbar, lesson links, teacher panel);
  // teacher=1 brings it back on the teacher's own machine.
  { key: 'teacher', type: 'flag', default: false, label: 'classroom.teacherLink' },
  { key: 'theme', type: 'enum', values: ['light', 'dark'], default: null, label: 'state.theme', attr: true, setup: true, lenient: true },
]);
const ROW = Object.fromEntries(STATE.map((r) => [r.key, r]));

/**
 * What a fresh visit (index.html with an empty hash) shows, so that the first view proves the tagline's claim:
 * MNIST test image 8 (a 5) on the default model, mnist-cnn, flips to 6 under FGSM at η = 0.062 (`advlab attack
 * --model www/models/mnist-cnn.safetensors --sample 8 --attack fgsm --eta 0.1 --json`), so at the default η = 0.1
 * (L∞: no pixel moves by more than a tenth of its range) the adversarial image still plainly reads as a 5 while
 * the model says 6. The CNN, not the MLP or the linear model (whose images flip at η ≈ 0.05 and 0.015), because
 * it is the best model (99.3 %) and the claim is strongest against it; the page states beside the flip point how
 * typical that is (www/models/flip-etas.json: half of the CNN's test images flip below η ≈ 0.2).
 */
export const FIRST_VIEW = Object.freeze({ sample: 8 });

/** The default of every key (model null: index.json's default; lang null: the browser's; sample null: no test image). */
export const DEFAULTS = Object.freeze(Object.fromEntries(STATE.map((r) => [r.key, r.default])));

/** The classroom controls backed by a state key; WIDGET_CONTROLS: those the widget has too. */
export const CONTROL_KEYS = STATE.filter((r) => r.control).map((r) => r.key);
export const WIDGET_CONTROLS = STATE.filter((r) => r.control === 'widget').map((r) => r.key);

/** Whether a value is written: present, and not the default (unless the row is always written there). */
function written(row, v, where) {
  if (v === null || v === undefined || (row.type === 'flag' && !v)) return false;
  return row.always === true || (row.always === where && where === 'link') || v !== row.default;
}
const text = (row, v) => TYPES[row.type].write(v);

/** One key's text → {value}, or {value: default, problem: true} when it is not a value of the key's type. */
export function parseValue(key, str) {
  const row = ROW[key];
  const v = TYPES[row.type].parse(String(str), row);
  return v === undefined ? { value: row.default, problem: !row.lenient } : { value: v };
}

/** Parses a hash ("#a=b&…") into { state, problems: [{ key, value }] }. Unknown keys are ignored. */
export function parseHash(hash) {
  const q = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const state = { ...DEFAULTS };
  const problems = [];
  for (const row of STATE) {
    if (!q.has(row.key)) continue;
    const { value, problem } = parseValue(row.key, q.get(row.key));
    if (problem) problems.push({ key: row.key, value: q.get(row.key) });
    else state[row.key] = value;
  }
  return { state, problems };
}

/** The hash for a state. Defaults that carry no information (untargeted, L∞, auto-invert) are left out. */
export function toHash(s) {
  const q = new URLSearchParams();
  for (const row of STATE) if (written(row, s[row.key], 'link')) q.set(row.key, text(row, s[row.key]));
  return '#' + q.toString().replace(/%2C/g, ',');
}

/** Writes the state into the address bar without adding a history entry per slider step. */
export function writeHash(s) {
  // A lesson view (#lesson=…, www/lessons/router.js) stays in the address bar beside the lab's state.
  const lesson = new URLSearchParams(location.hash.replace(/^#/, '')).get('lesson');
  const h = toHash(s) + (lesson ? `&lesson=${encodeURIComponent(lesson)}` : '');
  if (location.hash !== h) history.replaceState(null, '', h);
}

/** The widget's value of attribute `key` (absent or bad: the widget's default). */
export function readAttribute(el, key) {
  const row = ROW[key];
  const fallback = 'widgetDefault' in row ? row.widgetDefault : row.default;
  const str = el.getAttribute(key);
  if (str === null) return fallback;
  const { value, problem } = parseValue(key, str);
  return problem ? fallback : value;
}

/**
 * The widget's attributes for a link's state (embed.html): every `attr` key, null where the attribute is to be
 * absent. `model`: the model to name when the link names none (index.json's default, as on the full page).
 */
export function toAttributes(state, { model = null } = {}) {
  const out = {};
  for (const row of STATE.filter((r) => r.attr)) {
    let v = state[row.key] ?? (row.key === 'model' ? model : null);
    if (v === null && 'widgetDefault' in row) v = row.widgetDefault;
    out[row.key] = v !== null && (row.always || 'widgetDefault' in row || written(row, v, 'attr')) ? text(row, v) : null;
  }
  return out;
}

/** The web component's attributes for the page's state, as [name, value] in snippet order: what, then how. */
export function snippetAttributes(S) {
  const rows = [...STATE.filter((r) => r.attr && !r.setup), ...STATE.filter((r) => r.attr && r.setup)];
  return rows.filter((r) => written(r, S[r.key], 'attr')).map((r) => [r.key, text(r, S[r.key])]);
}
