// The ARIA live region: short, translated sentences such as "7 → 3 at η = 0.12". Repeated calls within the delay
// are merged so a screen reader hears the result of a slider move, not every step of it.
let timer = 0;
let region = null;

export function setRegion(el) {
  region = el;
}

export function announce(text, delay = 350) {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (!region) return;
    // Clearing first makes screen readers repeat an identical sentence.
    region.textContent = '';
    requestAnimationFrame(() => {
      region.textContent = text;
    });
  }, delay);
}
