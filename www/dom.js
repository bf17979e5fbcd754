// The page's small DOM builders: el() for the lessons and the charts (text: an i18n key), h() and tx() for the
// page lessons (defences, training: i18n: a key for the one translation pass, text: plain text).
import { t } from './i18n.js';

/** el('p', {class: 'x', text: 'key'}, children…): `text` is an i18n key, `raw` plain text. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') {
      e.dataset.i18n = v;
      e.textContent = t(v);
    } else if (k === 'raw') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c) e.append(c);
  return e;
}

/** h('p', {i18n: 'key', text: 'plain', …attributes}, …children): `i18n` marks the element for applyTranslations. */
export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'i18n') e.dataset.i18n = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}

/** A translated element: its text is t(key) now and follows every language change. */
export const tx = (key, tag = 'span', attrs = {}) => h(tag, { i18n: key, ...attrs }, t(key));
