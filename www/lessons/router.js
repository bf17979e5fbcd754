// The one router for every `#lesson=` view. Two kinds of lesson:
//   - "inline" (linear, blackbox, onepixel, curves, scale): a card in the #lessons section under the lab, built on
//     first visit by the module's create() → {root, show, refresh}; the lab stays, and keeps its keys in the hash;
//   - "page" (defences, train, audit): the lesson replaces the lab (main#lab) with a section of its own; the module is
//     loaded the first time it is opened and builds itself with mount(section). The lab does not write the hash
//     while one of these is open (ownsHash).
// Other keys in the hash belong to the lab and are left alone. A language change (the <html lang> attribute, set
// by the lab's switch) re-translates every view built so far.
import { applyTranslations, t } from '../i18n.js';
import { el } from './common.js';
import * as linear from './linear.js';
import * as blackbox from './blackbox.js';
import * as onepixel from './onepixel.js';
import * as curves from './curves.js';
import * as scale from './scale.js';

const INLINE = { linear, blackbox, onepixel, curves, scale };
const PAGES = {
  defences: () => import('../defences/view.js'),
  train: () => import('../training/view.js'),
  audit: () => import('../audit/view.js'),
};
/** Every lesson by name: its kind ("inline" | "page"). */
export const LESSONS = Object.freeze({
  ...Object.fromEntries(Object.keys(INLINE).map((n) => [n, 'inline'])),
  ...Object.fromEntries(Object.keys(PAGES).map((n) => [n, 'page'])),
});

const views = new Map(); // inline lesson → its view
const mounted = new Map(); // page lesson → promise of its mount

/** The lesson named in a hash, or null. */
export function lessonOf(hash) {
  const name = new URLSearchParams(String(hash || '').replace(/^#/, '')).get('lesson');
  return name && Object.hasOwn(LESSONS, name) ? name : null;
}

/** True when the hash names a page lesson: it owns the address bar, the lab leaves the hash alone. */
export function ownsHash(hash) {
  return LESSONS[lessonOf(hash)] === 'page';
}

function hashWith(name) {
  const q = new URLSearchParams(location.hash.replace(/^#/, ''));
  q.set('lesson', name);
  return '#' + q.toString();
}

const container = (name) => document.getElementById(`lesson-${name}`);

/** Resolves once body[attr] is "true" (app.js sets them during its start-up). */
function bodyFlag(attr) {
  return new Promise((resolve) => {
    const on = () => document.body.getAttribute(attr) === 'true';
    if (on()) return resolve();
    new MutationObserver((_, obs) => {
      if (on()) {
        obs.disconnect();
        resolve();
      }
    }).observe(document.body, { attributes: true, attributeFilter: [attr] });
  });
}

/** Resolves once the page is ready: model, samples and language (body[data-ready], the end of app.js's start). */
let readyPromise = null;
const pageReady = () => (readyPromise ??= bodyFlag('data-ready'));

/**
 * Resolves once the page has its language (body[data-translated], set by app.js right after its first
 * translation pass, long before the model has loaded): enough to build a lesson's card, so its text is in the
 * first screen instead of arriving seconds later and pushing the page about (issue 16: layout shift, largest paint).
 */
let translatedPromise = null;
const translated = () => (translatedPromise ??= bodyFlag('data-translated'));

function markNav(name) {
  for (const a of document.querySelectorAll('[data-lesson-link], a[data-lesson]')) {
    const n = a.dataset.lessonLink ?? a.dataset.lesson;
    if (n === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function pageSection(name) {
  let s = container(name);
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

/** Builds an inline lesson's card (title, takeaway, maths, the view's controls) once; returns its view. */
function buildInline(name) {
  const c = container(name);
  if (!c) return null;
  if (!views.has(name)) {
    const view = INLINE[name].create();
    views.set(name, view);
    // Plain words first (three sentences a 14-year-old can follow); the formulas and citations in a fold, open
    // for now (lessons.test.mjs reads the maths paragraph's innerText, which a closed <details> makes empty).
    c.append(
      el('h3', { text: `lessons.${name}.title` }),
      el('p', { class: 'lesson-takeaway', 'data-testid': `takeaway-${name}`, text: `lessons.${name}.takeaway` }),
      el('details', { class: 'lesson-maths', open: true }, el('summary', { text: 'lessons.maths' }), el('p', { class: 'lesson-text', text: `lessons.${name}.text` })),
      view.root,
    );
    // The one translation pass also names what el() only marked (data-i18n-aria: the canvases' aria-label).
    applyTranslations(c);
  }
  return views.get(name);
}

/** Shows an inline lesson's card (built if need be), hiding the others. */
function revealInline(name) {
  const section = document.getElementById('lessons');
  if (!section) return null;
  for (const n of Object.keys(INLINE)) {
    const c = container(n);
    if (c) c.hidden = n !== name;
  }
  if (!container(name)) return null;
  section.hidden = false;
  return buildInline(name);
}

/** Starts an inline lesson's computations (they need the page's model and samples: after pageReady). */
function showInline(name) {
  const view = revealInline(name);
  if (!view) return;
  container(name).dataset.ready = 'true';
  view.show();
}

async function showPage(name) {
  const section = pageSection(name);
  section.hidden = false;
  await pageReady();
  if (!mounted.has(name)) {
    const p = PAGES[name]().then((m) => m.mount(section));
    mounted.set(name, p);
    p.catch(() => mounted.delete(name));
  }
  await mounted.get(name);
  applyTranslations(section);
  section.focus({ preventScroll: true });
}

/** Shows the hash's lesson (the lab alone when it names none). */
async function show({ scroll = false } = {}) {
  const name = lessonOf(location.hash);
  const page = LESSONS[name] === 'page';
  for (const key of Object.keys(PAGES)) {
    const s = container(key);
    if (s) s.hidden = key !== name;
  }
  const lab = document.getElementById('lab');
  if (lab) lab.hidden = page;
  // The open lesson, for style sheets (the audit hides the lab's model menu, which does not apply to it).
  if (name) document.body.dataset.lesson = name;
  else delete document.body.dataset.lesson;
  markNav(name);
  if (!name) return;
  if (page) return showPage(name);
  // The card first, as soon as the language is there, and scrolled to before it is painted; its computations
  // (models, images, workers) once the lab has loaded.
  await translated();
  if (lessonOf(location.hash) !== name) return;
  revealInline(name);
  if (scroll) container(name)?.scrollIntoView({ block: 'start' });
  await pageReady();
  if (lessonOf(location.hash) !== name) return;
  showInline(name);
}

function wireNav() {
  for (const a of document.querySelectorAll('[data-lesson-link]')) {
    const name = a.dataset.lessonLink;
    if (LESSONS[name] !== 'inline') continue;
    a.href = `#lesson=${name}`;
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      history.pushState(null, '', hashWith(name));
      show({ scroll: true });
    });
  }
}

function start() {
  wireNav();
  window.addEventListener('hashchange', () => show().catch((e) => console.error(e)));
  // The language changes through the lab's switch (i18n.js sets <html lang>): every view built so far redraws.
  new MutationObserver(() => {
    const section = document.getElementById('lessons');
    if (section) applyTranslations(section);
    for (const v of views.values()) v.refresh();
    for (const key of mounted.keys()) applyTranslations(container(key));
    document.dispatchEvent(new CustomEvent('advlab:language'));
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  show({ scroll: true }).catch((e) => console.error(e));
}

start();
