// The model menu: www/models/index.json lists the shipped models; the menu groups them by dataset (<optgroup>,
// labels from the i18n table) and titles them in the current language.
import { t, lang, has, formatPercent } from './i18n.js';

/** { default, models: [{ id, file, dataset, arch, title: { en, nl } }] }; an empty list if the index is absent. */
export async function loadIndex() {
  try {
    const res = await fetch(new URL('./models/index.json', import.meta.url));
    if (!res.ok) return { default: null, models: [] };
    const idx = await res.json();
    const models = (Array.isArray(idx.models) ? idx.models : []).filter((m) => m && typeof m.id === 'string' && typeof m.file === 'string');
    return { default: typeof idx.default === 'string' ? idx.default : models[0]?.id ?? null, models };
  } catch {
    return { default: null, models: [] };
  }
}

/**
 * A model's menu label. index.json may give a title per language; otherwise (scripts/models-index.mjs writes
 * id, dataset, arch, variant and clean_accuracy) the label is built from translated parts: "MNIST · CNN · 99.1 %".
 */
export function modelTitle(m) {
  if (!m) return '';
  if (m.title && typeof m.title === 'object') return m.title[lang()] || m.title.en || m.id;
  if (typeof m.title === 'string') return m.title;
  const part = (key, fallback) => (has(key) ? t(key) : fallback);
  const variant = m.variant || m.arch;
  const arch = variant ? part(`variant.${variant}`, part(`arch.${m.arch}`, variant)) : m.id;
  const name = t('model.title', { dataset: part(`datasetShort.${m.dataset}`, m.dataset || ''), arch });
  return typeof m.clean_accuracy === 'number'
    ? t('model.titleAccuracy', { name, accuracy: formatPercent(m.clean_accuracy) })
    : name;
}

export function fillModelSelect(select, models, current) {
  select.replaceChildren();
  if (models.length === 0) {
    select.append(new Option(t('model.placeholderName'), 'placeholder'));
    select.value = 'placeholder';
    return;
  }
  const groups = new Map();
  for (const m of models) {
    const ds = m.dataset || 'other';
    if (!groups.has(ds)) {
      const g = document.createElement('optgroup');
      g.label = t(`dataset.${ds}`);
      groups.set(ds, g);
      select.append(g);
    }
    groups.get(ds).append(new Option(modelTitle(m), m.id));
  }
  if (current) select.value = current;
}
