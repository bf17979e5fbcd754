// Probability bars for every class. The winning bar is marked by weight and an outline, not only by colour; a
// target class gets a marker too. The list is re-used between renders, so a slider move costs no reflow storm.
import { formatPercent } from './i18n.js';

export function renderBars(ol, probs, names, { highlight = -1, target = -1 } = {}) {
  if (ol.children.length !== probs.length) {
    const items = Array.from(probs, () => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'bar-name';
      const track = document.createElement('span');
      track.className = 'bar-track';
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      track.append(fill);
      const val = document.createElement('span');
      val.className = 'bar-value';
      li.append(name, track, val);
      return li;
    });
    ol.replaceChildren(...items);
  }
  Array.from(probs).forEach((p, i) => {
    const li = ol.children[i];
    li.className = 'bar' + (i === highlight ? ' top' : '') + (i === target ? ' target' : '');
    const [name, track, val] = li.children;
    name.textContent = names[i] ?? String(i);
    track.firstChild.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    val.textContent = formatPercent(p);
  });
}
