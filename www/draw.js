// The drawing pad: pointer events cover mouse, touch and pen alike. White ink on black, like MNIST. 'start' fires
// before the first stroke (the page clears a shown photo or sample), 'change' when a stroke ends.
export class DrawPad extends EventTarget {
  constructor(canvas, { brush = 20 } = {}) {
    super();
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.brush = brush;
    this.drawing = false;
    this.last = null;
    this.dirty = false;
    this.clear();
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) / r.width) * this.canvas.width,
      y: ((e.clientY - r.top) / r.height) * this.canvas.height,
    };
  }

  setBrush(px) {
    this.brush = px;
  }

  down(e) {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    this.dispatchEvent(new Event('start'));
    this.canvas.setPointerCapture?.(e.pointerId);
    this.drawing = true;
    this.last = this.point(e);
    this.pressure = e.pointerType === 'pen' && e.pressure > 0 ? e.pressure : 0.5;
    this.line(this.last, this.last);
  }

  move(e) {
    if (!this.drawing) return;
    e.preventDefault();
    const p = this.point(e);
    // A pen draws thicker when pressed harder (0.5 is the no-pressure default of mice and fingers).
    this.pressure = e.pointerType === 'pen' && e.pressure > 0 ? e.pressure : 0.5;
    this.line(this.last, p);
    this.last = p;
    this.dispatchEvent(new Event('stroke'));
  }

  up(e) {
    if (!this.drawing) return;
    this.drawing = false;
    this.canvas.releasePointerCapture?.(e.pointerId);
    this.dispatchEvent(new Event('change'));
  }

  line(a, b) {
    const { ctx } = this;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.brush * (0.5 + (this.pressure ?? 0.5));
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    this.dirty = true;
  }

  clear() {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.dirty = false;
  }

  /** The pixels as the browser holds them: { rgba: ArrayBuffer, width, height }. */
  image() {
    const { width, height } = this.canvas;
    const data = this.ctx.getImageData(0, 0, width, height).data;
    return { rgba: data.buffer.slice(0), width, height };
  }
}
