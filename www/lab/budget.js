// The lab's budget control: the pixel count k of the one-pixel attack (the catalog's `budget` of param "pixels",
// k = min..max), in place of the η slider, which that attack does not follow (its catalog entry has a `fixed_eta`:
// each changed pixel may take any value). Shown only while such an attack is chosen; a change re-runs the attack.
// The control is built here and placed after `anchor` (the attack's description), so the page's own layout code
// only calls mountBudget(lab, anchor) once.
import { t, tp, applyTranslations } from '../i18n.js';

/** Builds the control after `anchor` and keeps it in step with `lab` (a LabController). Returns its root. */
export function mountBudget(lab, anchor) {
  const root = document.createElement('div');
  root.className = 'budget';
  root.id = 'budget';
  root.hidden = true;
  const label = document.createElement('label');
  label.htmlFor = 'budget-select';
  label.dataset.i18n = 'budget.pixels';
  const select = document.createElement('select');
  select.id = 'budget-select';
  select.dataset.testid = 'budget-select';
  const note = document.createElement('p');
  note.className = 'hint small';
  note.id = 'budget-note';
  select.setAttribute('aria-describedby', note.id);
  note.dataset.i18n = 'budget.note';
  root.append(label, select, note);
  anchor.after(root);

  let shownFor = null;
  function render() {
    const info = lab.attackInfo();
    const b = info?.budget;
    const show = !!b && b.param === 'pixels';
    root.hidden = !show;
    if (!show) return;
    const key = `${info.name}|${b.min}|${b.max}`;
    const value = lab.settings.budget?.[b.param] ?? b.default;
    if (shownFor !== key) {
      select.replaceChildren();
      for (let k = b.min; k <= b.max; k++) select.append(new Option(tp('budget.option', k), String(k)));
      shownFor = key;
    }
    for (const o of select.options) o.textContent = tp('budget.option', Number(o.value));
    select.value = String(value);
    applyTranslations(root);
    select.title = t('budget.note');
  }

  select.addEventListener('change', () => {
    const b = lab.attackInfo()?.budget;
    if (!b) return;
    lab.set({ budget: { ...lab.settings.budget, [b.param]: Number(select.value) } });
    lab.runJob();
  });
  for (const ev of ['model', 'reset']) lab.addEventListener(ev, render);
  // The page's language switch sets <html lang>: the option texts follow.
  new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  render();
  return root;
}
