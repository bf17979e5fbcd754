// Probability bars for every class. The winning bar is marked by weight and an outline, not only by colour.
import { formatPercent } from './i18n.js';

export function renderBars(ol, probs, classNames, highlight = -1) {
  const items = probs.map((p, i) => {
    const li = document.createElement('li');
    li.className = 'bar' + (i === highlight ? ' top' : '');
    const name = document.createElement('span');
    name.className = 'bar-name';
    name.textContent = classNames[i] ?? String(i);
    const track = document.createElement('span');
    track.className = 'bar-track';
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    track.append(fill);
    const val = document.createElement('span');
    val.className = 'bar-value';
    val.textContent = formatPercent(p);
    li.append(name, track, val);
    return li;
  });
  ol.replaceChildren(...items);
}
