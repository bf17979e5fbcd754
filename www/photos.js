// The page's photo pieces (a photo model is loaded): the sample photos with their credits, the 1000 class names in
// English and Dutch, the searchable goal list (both languages match), the article's one-click "airliner", and how
// far a photo's confidence curve looks. Rendering only: the engine's rules stay in Rust (the catalog, the recipe).
import { t } from './i18n.js';
import { fetchJson } from './models.js';

let listPromise = null;

/** www/samples/photos/index.json: [{file, title: {en, nl}, credit, licence}] (CC0 or public domain, see CREDITS). */
export function loadList() {
  listPromise ??= fetchJson('samples/photos/index.json', 'samples_missing')
    .then((j) => (Array.isArray(j.photos) ? j.photos : []))
    .catch((e) => {
      listPromise = null;
      throw e;
    });
  return listPromise;
}

const title = (p, lang) => p.title?.[lang] ?? p.title?.en ?? p.file;

/** The gallery: one button per photo (a thumbnail with its title as alt text) and the credits line under it. */
export function renderGallery({ grid, credits }, list, lang, onPick) {
  grid.replaceChildren(
    ...list.map((p, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.index = String(i);
      b.setAttribute('aria-pressed', 'false');
      b.title = title(p, lang);
      const img = document.createElement('img');
      img.src = new URL(`./samples/photos/${p.file}`, import.meta.url).href;
      img.alt = title(p, lang);
      img.decoding = 'async';
      b.append(img);
      b.addEventListener('click', () => onPick(i));
      return b;
    }),
  );
  credits.textContent = t('photos.credits', {
    list: list.map((p) => t('photos.credit', { title: title(p, lang), credit: p.credit, licence: p.licence })).join('; '),
  });
}

export function markGallery(grid, index) {
  for (const b of grid.children) b.setAttribute('aria-pressed', String(Number(b.dataset.index) === index));
}

/** ImageNet's names carry synonyms ("hog, pig, grunter, squealer, Sus scrofa"): the first one names the class. */
const shortName = (n) => String(n).split(',')[0].trim();

/** The 1000 display names in `lang`: the model's Dutch list (photoInfo.classNamesI18n.nl) or its English names. */
export function classNames(model, photo, lang) {
  const en = model.classNames.map(shortName);
  const nl = photo?.classNamesI18n?.nl;
  return lang === 'nl' && Array.isArray(nl) ? en.map((n, i) => nl[i] || n) : en;
}

/** The other language's names, for searching in both. */
function otherNames(model, photo, lang) {
  return classNames(model, photo, lang === 'nl' ? 'en' : 'nl');
}

/** The class the article turns its pig into. */
export function airlinerIndex(model) {
  return model.classNames.findIndex((n) => shortName(n) === 'airliner');
}

let built = { key: null, values: [], lookup: new Map() };

/** "lijnvliegtuig — airliner": the option text, so typing either language's name finds the class. */
const optionValue = (names, other, i) => (other[i] && other[i] !== names[i] ? `${names[i]} — ${other[i]}` : names[i]);

/** Fills the goal search's datalist (once per model and language), the airliner button, and the chosen goal. */
export function fillTargetSearch(ui, names, model, photo, lang, target) {
  const key = `${model.id}/${lang}`;
  if (built.key !== key) {
    const other = otherNames(model, photo, lang);
    const values = names.map((_, i) => optionValue(names, other, i));
    const lookup = new Map();
    values.forEach((v, i) => {
      for (const k of [v, names[i], other[i], String(i)]) {
        const low = String(k).toLowerCase();
        if (!lookup.has(low)) lookup.set(low, i);
      }
    });
    ui.list.replaceChildren(...values.map((v) => new Option('', v)));
    built = { key, values, lookup };
  }
  const a = airlinerIndex(model);
  ui.airliner.hidden = a < 0;
  if (a >= 0) {
    ui.airliner.dataset.class = String(a);
    ui.airliner.textContent = `✈ ${names[a]}`;
  }
  showTarget(ui, names, target);
}

/** Shows the goal in the search box and in words under it. */
export function showTarget(ui, names, target) {
  ui.input.value = target >= 0 ? built.values[target] ?? names[target] ?? '' : '';
  ui.chosen.textContent = target >= 0 ? t('target.chosen', { label: names[target] ?? String(target), index: String(target) }) : t('target.any');
  ui.airliner.setAttribute('aria-pressed', String(target >= 0 && String(target) === ui.airliner.dataset.class));
}

/** The search box (a pick from the list, or a name typed in full in either language), the airliner and clear buttons. */
export function wireTargetSearch(ui, onTarget) {
  const resolve = (final) => {
    const v = ui.input.value.trim().toLowerCase();
    if (!v) {
      if (final) onTarget(-1);
      return;
    }
    const i = built.lookup.get(v);
    if (i !== undefined) onTarget(i);
    else if (final) ui.chosen.textContent = t('target.unknown', { value: ui.input.value.trim() });
  };
  ui.input.addEventListener('input', () => resolve(false)); // a pick from the list arrives as one input event
  ui.input.addEventListener('change', () => resolve(true));
  ui.airliner.addEventListener('click', () => onTarget(Number(ui.airliner.dataset.class)));
  ui.clear?.addEventListener('click', () => onTarget(-1));
}

/** How far a photo's confidence curve looks: 4/255, or three times the flip point, within the slider's end. */
export function curveTop(flipEta, max) {
  const base = 4 / 255;
  const top = typeof flipEta === 'number' && flipEta > 0 ? Math.max(base, flipEta * 3) : base;
  return Math.min(max, Number(top.toFixed(4)));
}
