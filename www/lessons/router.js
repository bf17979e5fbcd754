// The lessons' entry point: one nav entry and one view per lesson, chosen by the URL hash (#lesson=linear |
// blackbox | onepixel | curves; other keys in the hash belong to the lab and are left alone). Views are built on
// first visit; a language change (the <html lang> attribute) re-translates them.
import { applyTranslations } from '../i18n.js';
import { el } from './common.js';
import * as linear from './linear.js';
import * as blackbox from './blackbox.js';
import * as onepixel from './onepixel.js';
import * as curves from './curves.js';

export const LESSONS = { linear, blackbox, onepixel, curves };
const views = new Map();

/** The lesson named in a hash, or null. */
export function lessonOf(hash) {
  const name = new URLSearchParams(String(hash || '').replace(/^#/, '')).get('lesson');
  return name && name in LESSONS ? name : null;
}

function hashWith(name) {
  const q = new URLSearchParams(location.hash.replace(/^#/, ''));
  q.set('lesson', name);
  return '#' + q.toString();
}

function container(name) {
  return document.getElementById(`lesson-${name}`);
}

function show(name) {
  const section = document.getElementById('lessons');
  if (!section) return;
  for (const a of document.querySelectorAll('[data-lesson-link]')) {
    if (a.dataset.lessonLink in LESSONS) {
      if (a.dataset.lessonLink === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }
  for (const n of Object.keys(LESSONS)) {
    const c = container(n);
    if (c) c.hidden = n !== name;
  }
  if (!name) return;
  const c = container(name);
  if (!c) return;
  section.hidden = false;
  if (!views.has(name)) {
    const view = LESSONS[name].create();
    views.set(name, view);
    c.append(
      el('h3', { text: `lessons.${name}.title` }),
      el('p', { class: 'lesson-text', text: `lessons.${name}.text` }),
      view.root,
    );
  }
  c.dataset.ready = 'true';
  views.get(name).show();
}

function wireNav() {
  for (const a of document.querySelectorAll('[data-lesson-link]')) {
    const name = a.dataset.lessonLink;
    if (!(name in LESSONS)) continue;
    a.href = `#lesson=${name}`;
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      history.pushState(null, '', hashWith(name));
      show(name);
      container(name)?.scrollIntoView({ block: 'start' });
    });
  }
}

function start() {
  wireNav();
  const initial = lessonOf(location.hash);
  window.addEventListener('hashchange', () => {
    const name = lessonOf(location.hash);
    if (name) show(name);
  });
  // Translations: the lab loads the language and sets <html lang>; re-translate the lesson views then.
  new MutationObserver(() => {
    const section = document.getElementById('lessons');
    if (!section) return;
    applyTranslations(section);
    for (const v of views.values()) v.refresh();
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  const go = () => {
    if (initial) {
      show(initial);
      container(initial)?.scrollIntoView({ block: 'start' });
    }
  };
  // Wait until the lab has loaded its language table (body[data-ready]).
  if (document.body.dataset.ready === 'true') go();
  else new MutationObserver((_, obs) => {
    if (document.body.dataset.ready === 'true') {
      obs.disconnect();
      go();
    }
  }).observe(document.body, { attributes: true, attributeFilter: ['data-ready'] });
}

start();
