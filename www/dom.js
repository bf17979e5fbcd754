// The page's small DOM builder, shared by the lessons and the charts.
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
