// Lesson routing for the defences and training lessons: `#lesson=defences` and `#lesson=train` replace the lab
// (main#lab) by the lesson's own section; any other hash shows the lab again. Each lesson's view module is loaded
// the first time it is opened and re-translated when the language changes.
import { applyTranslations, t } from '../i18n.js';

const LESSONS = {
  defences: () => import('./view.js'),
  train: () => import('../training/view.js'),
};
const mounted = new Map();

/** The lesson named in a hash, if it is one of ours. */
export function lessonOf(hash) {
  const v = new URLSearchParams(String(hash || '').replace(/^#/, '')).get('lesson');
  return v && Object.hasOwn(LESSONS, v) ? v : null;
}

function sectionFor(name) {
  let s = document.getElementById(`lesson-${name}`);
  if (!s) {
    s = document.createElement('main');
    s.id = `lesson-${name}`;
    s.className = 'lesson';
    s.tabIndex = -1;
    s.dataset.testid = `lesson-${name}`;
    s.hidden = true;
    const back = document.createElement('a');
    back.href = '#';
    back.dataset.i18n = 'nav.lab';
    back.textContent = t('nav.lab');
    const p = document.createElement('p');
    p.append(back);
    s.append(p);
    document.getElementById('lab').after(s);
  }
  return s;
}

/** Resolves once the page has its language (app.js sets body[data-ready] at the end of its start-up). */
function pageReady() {
  return new Promise((resolve) => {
    const check = () => (document.body.dataset.ready === 'true' ? resolve() : setTimeout(check, 50));
    check();
  });
}

async function show() {
  const name = lessonOf(location.hash);
  const lab = document.getElementById('lab');
  for (const key of Object.keys(LESSONS)) {
    const s = document.getElementById(`lesson-${key}`);
    if (s) s.hidden = key !== name;
  }
  document.querySelectorAll('a[data-lesson]').forEach((a) => {
    if (a.dataset.lesson === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (!name) {
    if (lab) lab.hidden = false;
    return;
  }
  if (lab) lab.hidden = true;
  const section = sectionFor(name);
  section.hidden = false;
  await pageReady();
  if (!mounted.has(name)) {
    const p = LESSONS[name]().then((m) => m.mount(section));
    mounted.set(name, p);
    p.catch(() => mounted.delete(name));
  }
  await mounted.get(name);
  applyTranslations(section);
  section.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => show().catch((e) => console.error(e)));
// The language changes through the lab's switch (i18n.js sets <html lang>): lessons redraw their dynamic text.
new MutationObserver(() => {
  for (const key of mounted.keys()) applyTranslations(document.getElementById(`lesson-${key}`));
  document.dispatchEvent(new CustomEvent('advlab:language'));
}).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
show().catch((e) => console.error(e));
