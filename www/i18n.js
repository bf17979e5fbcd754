// Translation tables (www/i18n/<lang>.json) and locale-aware number formatting. No UI text lives in JS.
export const LANGS = ['en', 'nl'];
const tables = {};
let current = 'en';

/** Picks the language: explicit choice, else the browser's, else English. */
export function pickLanguage(requested) {
  if (LANGS.includes(requested)) return requested;
  const nav = (globalThis.navigator?.language || 'en').slice(0, 2).toLowerCase();
  return LANGS.includes(nav) ? nav : 'en';
}

/** Loads a language's table without making it the page's language (a widget in Dutch next to an English page). */
export async function loadTable(lang) {
  if (!tables[lang]) {
    const url = new URL(`./i18n/${lang}.json`, import.meta.url);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`i18n table ${lang}: HTTP ${res.status}`);
    tables[lang] = await res.json();
  }
  return tables[lang];
}

/** Loads a language's table and makes it the page's language. */
export async function loadLanguage(lang) {
  await loadTable(lang);
  current = lang;
  return tables[lang];
}

/**
 * Runs `fn` (synchronously) in language `lang`, whose table is loaded, and restores the page's language after:
 * translation per root, so a component renders in its own language without switching the page's.
 */
export function inLang(lang, fn) {
  if (lang === current || !tables[lang]) return fn();
  const page = current;
  current = lang;
  try {
    return fn();
  } finally {
    current = page;
  }
}

export function lang() {
  return current;
}

/** t('result.verdict', {label: '7'}): the current language's string, with {placeholders} filled. */
export function t(key, vars = {}) {
  const s = tables[current]?.[key] ?? tables.en?.[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

const pluralRules = new Map();

/**
 * A counted string through Intl.PluralRules: tp('noise.l0', n, vars) uses `noise.l0.one` / `noise.l0.other` (any
 * CLDR category the table has, else `.other`, else the plain key), with {n} = the formatted count in vars.
 */
export function tp(key, count, vars = {}) {
  let rules = pluralRules.get(current);
  if (!rules) {
    rules = new Intl.PluralRules(current);
    pluralRules.set(current, rules);
  }
  const form = rules.select(count);
  const table = tables[current] || {};
  const k = [`${key}.${form}`, `${key}.other`].find((c) => c in table || c in (tables.en || {})) ?? key;
  return t(k, { n: formatInt(count), ...vars });
}

export function has(key) {
  return key in (tables[current] || {});
}

// Building an Intl.NumberFormat costs tens of microseconds, and a slider move formats ~20 numbers: keep one per
// (language, style, digits).
const formatters = new Map();
function formatter(kind, digits) {
  const key = `${current}|${kind}|${digits}`;
  let f = formatters.get(key);
  if (!f) {
    const opts =
      kind === 'percent'
        ? { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: digits }
        : { maximumFractionDigits: digits, minimumFractionDigits: 0 };
    f = new Intl.NumberFormat(current, opts);
    formatters.set(key, f);
  }
  return f;
}

export function formatNumber(x, digits = 3) {
  return formatter('number', digits).format(x);
}

/** η as people read it: up to four decimals, the locale's decimal sign (0.005 → "0,005" in Dutch). */
export function formatEta(x) {
  return formatNumber(x, 4);
}

export function formatInt(x) {
  return formatter('number', 0).format(x);
}

/** A class's display name: translated where the table has it (Fashion-MNIST), else the model's own name. */
export function className(dataset, i, fallback) {
  const key = `class.${dataset}.${i}`;
  return key in (tables[current] || {}) || key in (tables.en || {}) ? t(key) : (fallback ?? String(i));
}

export function formatPercent(x, digits = 1) {
  return formatter('percent', digits).format(x);
}

/**
 * The one translation pass: fills every [data-i18n] element's text, [data-i18n-aria] aria-label and
 * [data-i18n-title] title under root (a document, a section or a shadow root), in the current language.
 */
export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.setAttribute('title', t(el.dataset.i18nTitle));
  if (root === document) document.documentElement.lang = current;
}

/** Translates an engine error message "error.key: detail" into "<translated key> (detail)". */
export function translateError(err) {
  if (err?.i18nKey) return t(err.i18nKey, err.vars || {});
  const msg = String(err?.message ?? err);
  const m = /^(error\.[a-z_]+):\s*(.*)$/s.exec(msg);
  if (m && (tables[current]?.[m[1]] || tables.en?.[m[1]])) return m[2] ? `${t(m[1])} (${m[2]})` : t(m[1]);
  return `${t('error.internal')} (${msg})`;
}
