// A page of test-set thumbnails with their true labels. Each thumbnail is a button (keyboard reachable); the
// current sample is marked with aria-pressed.
import { t, formatInt } from './i18n.js';
import { paintGray } from './panels.js';
import { toPixels } from './samples.js';

export const PAGE_SIZE = 24;

export class Gallery {
  constructor({ grid, prev, next, status, onPick }) {
    Object.assign(this, { grid, prev, next, status, onPick });
    this.samples = null;
    this.page = 0;
    this.current = null;
    this.labelName = (i) => String(i);
    prev.addEventListener('click', () => this.show(this.page - 1));
    next.addEventListener('click', () => this.show(this.page + 1));
  }

  setSamples(samples, labelName) {
    this.samples = samples;
    this.labelName = labelName;
    this.show(this.current !== null ? Math.floor(this.current / PAGE_SIZE) : this.page);
  }

  get pages() {
    return this.samples ? Math.ceil(this.samples.count / PAGE_SIZE) : 0;
  }

  show(page) {
    if (!this.samples) return;
    this.page = Math.max(0, Math.min(this.pages - 1, page));
    const from = this.page * PAGE_SIZE;
    const to = Math.min(this.samples.count, from + PAGE_SIZE);
    const items = [];
    for (let i = from; i < to; i++) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'thumb';
      b.dataset.sample = String(i);
      const label = this.labelName(this.samples.label(i));
      b.setAttribute('aria-label', t('gallery.item', { index: formatInt(i), label }));
      b.setAttribute('aria-pressed', String(i === this.current));
      const c = document.createElement('canvas');
      c.setAttribute('aria-hidden', 'true');
      paintGray(c, toPixels(this.samples.image(i)));
      const cap = document.createElement('span');
      cap.className = 'thumb-label';
      cap.textContent = label;
      b.append(c, cap);
      b.addEventListener('click', () => this.onPick(i));
      items.push(b);
    }
    this.grid.replaceChildren(...items);
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= this.pages - 1;
    this.status.textContent = t('gallery.page', {
      from: formatInt(from),
      to: formatInt(to - 1),
      count: formatInt(this.samples.count),
    });
  }

  mark(index) {
    this.current = index;
    for (const b of this.grid.children) b.setAttribute('aria-pressed', String(Number(b.dataset.sample) === index));
  }
}
