// embed.html: the iframe embedding. The hash is index.html's (#model=…&attack=…&eta=…&target=…&sample=…&lang=…,
// plus `controls=` and `theme=dark`: state.js's table); it is mapped onto one <adversarial-lab> by the same table.
// A hash without a model means index.json's default, as on the full page, so both show the same prediction.
import { parseHash, toAttributes } from './state.js';
import { loadIndex } from './models.js';
import { loadLanguage, pickLanguage, t } from './i18n.js';
import { registerOffline } from './offline.js';

const lab = document.getElementById('lab');

/** The widget's attributes for a hash. */
export async function attributesFor(hash) {
  const { state } = parseHash(hash);
  const index = await loadIndex();
  return toAttributes(state, { model: index.default });
}

async function apply() {
  const attrs = await attributesFor(location.hash);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) lab.removeAttribute(k);
    else if (lab.getAttribute(k) !== v) lab.setAttribute(k, v);
  }
  document.body.classList.toggle('dark', attrs.theme === 'dark');
  const full = document.getElementById('open-full');
  full.href = 'index.html' + location.hash;
  const lang = pickLanguage(attrs.lang);
  await loadLanguage(lang);
  document.documentElement.lang = lang;
  full.textContent = t('embed.openFull');
  document.title = t('app.title');
}

// The widget is defined after its attributes are set, so it starts with the link's state.
await apply();
await import('./adversarial-lab.js');
window.addEventListener('hashchange', apply);
// Ready once the widget has its first answer (or has said why it has none).
const ready = () => {
  document.body.dataset.ready = 'true';
  registerOffline();
};
if (lab.dataset.ready === 'true') ready();
else new MutationObserver((_, obs) => {
  if (lab.dataset.ready === 'true') {
    obs.disconnect();
    ready();
  }
}).observe(lab, { attributes: true, attributeFilter: ['data-ready'] });
