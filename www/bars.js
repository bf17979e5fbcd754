// Probability bars for every class. The winning bar is marked by weight and an outline, not only by colour; a
// target class gets a marker too. The list is re-used between renders, so a slider move costs no reflow storm:
// a bar's length is a transform (no layout at all), and a name, value or class is written only when it changed.
// No transition: the bars show the slider's η in the very next frame, not 60 ms behind it (issue 16).
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
  const put = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };
  Array.from(probs).forEach((p, i) => {
    const li = ol.children[i];
    const cls = 'bar' + (i === highlight ? ' top' : '') + (i === target ? ' target' : '');
    if (li.className !== cls) li.className = cls;
    const [name, track, val] = li.children;
    put(name, names[i] ?? String(i));
    const fill = track.firstChild;
    const scale = `scaleX(${Math.max(0, Math.min(1, p)).toFixed(4)})`;
    if (fill.style.transform !== scale) fill.style.transform = scale;
    put(val, formatPercent(p));
  });
}
