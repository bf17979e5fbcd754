// The model menu: www/models/index.json lists the shipped models; the menu groups them by dataset (<optgroup>,
// labels from the i18n table) and titles them in the current language.
import { t, lang } from './i18n.js';

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

export function modelTitle(m) {
  if (!m) return '';
  if (m.title && typeof m.title === 'object') return m.title[lang()] || m.title.en || m.id;
  return typeof m.title === 'string' ? m.title : m.id;
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
