// Probability bars for every class. The winning bar is marked by weight and an outline, not only by colour; a
// target class gets a marker too. The list is re-used between renders, so a slider move costs no reflow storm:
// a bar's length is a transform (no layout at all), and a name, value or class is written only when it changed.
// No transition: the bars show the slider's η in the very next frame, not 60 ms behind it (issue 16).
import { formatPercent } from './i18n.js';

/** The indices of the k largest probabilities, largest first (ties: the lower index), plus `extra` if missing. */
export function topIndices(probs, k, extra = -1) {
  const idx = [];
  for (let i = 0; i < probs.length; i++) {
    if (idx.length < k || probs[i] > probs[idx[idx.length - 1]]) {
      let j = Math.min(idx.length, k - 1);
      idx[j] = i;
      while (j > 0 && probs[idx[j]] > probs[idx[j - 1]]) {
        [idx[j], idx[j - 1]] = [idx[j - 1], idx[j]];
        j -= 1;
      }
    }
  }
  if (extra >= 0 && extra < probs.length && !idx.includes(extra)) idx.push(extra);
  return idx;
}

/**
 * One bar per class, or with `top` k (a photo model's 1000 classes) the k most probable ones, largest first, and
 * the target class after them if it is not among them. Each bar carries its class index in data-class.
 */
export function renderBars(ol, probs, names, { highlight = -1, target = -1, top = 0 } = {}) {
  const order = top > 0 ? topIndices(probs, top, target) : Array.from(probs, (_, i) => i);
  if (ol.children.length !== order.length) {
    const items = Array.from(order, () => {
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
  order.forEach((i, row) => {
    const p = probs[i];
    const li = ol.children[row];
    if (li.dataset.class !== String(i)) li.dataset.class = String(i);
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
