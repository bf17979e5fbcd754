// What the two page benchmarks that time the η slider share (scripts/bench-browser.mjs for the digit models,
// scripts/bench-photo-page.mjs for the photo model): one slider move dispatched at an animation frame's start and
// timed to the page's answer (body[data-latency] changes) and to the next frame that shows it; the frame interval.

/** The q-quantile of xs (the lower one; NaN for none). */
export const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

/** Runs in the page (page.evaluate serialises it): defines globalThis.__slider. */
function install() {
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  globalThis.__slider = {
    /**
     * Sets the slider to `value` at a frame's start (after two settling frames) and resolves to
     * { tInput, tUpdated, redrawn: the page's own data-latency, frame: input → the frame that shows it }, or null
     * when the page has not answered within `timeoutMs`.
     */
    async move(input, value, timeoutMs) {
      await frame();
      await frame(); // settle: the previous move's frame is behind us
      return new Promise((resolve) => {
        let tInput = 0;
        const mo = new MutationObserver(() => {
          mo.disconnect();
          const tUpdated = performance.now();
          const redrawn = Number(document.body.dataset.latency);
          requestAnimationFrame((ts) => {
            clearTimeout(timer);
            resolve({ tInput, tUpdated, redrawn, frame: Math.max(ts, tUpdated) - tInput });
          });
        });
        const timer = setTimeout(() => (mo.disconnect(), resolve(null)), timeoutMs);
        mo.observe(document.body, { attributes: true, attributeFilter: ['data-latency'] });
        requestAnimationFrame(() => {
          input.value = String(value);
          tInput = performance.now();
          input.dispatchEvent(new Event('input', { bubbles: true }));
        });
      });
    },
    /** The median interval of 30 frames: what "one frame" is here. */
    async frameMs() {
      const ts = [];
      for (let i = 0; i < 31; i++) ts.push(await frame());
      const gaps = ts.slice(1).map((t, i) => t - ts[i]).sort((a, b) => a - b);
      return gaps[gaps.length >> 1];
    },
  };
}

/** Defines globalThis.__slider in `page` (call it after each navigation). */
export const installSliderProbe = (page) => page.evaluate(install);
