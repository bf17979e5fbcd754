// The attack, norm and goal menus. The attacks are the engine's catalog for the loaded model (the Session's
// attackCatalog: name, kind, norms, caps, budget, refusal), each with a translated name and a one-line explanation.
// No engine rule lives here: the page sends only what the user chose ({eta, norm, seed}) and the engine resolves
// the rest (AttackParams::resolve, the same entry point as `advlab attack`).
import { t, tp, has, applyTranslations } from './i18n.js';

export function fillAttackSelect(select, attacks, current) {
  select.replaceChildren(
    ...attacks.map((a) => {
      // A refused attack (JSMA on a photo) stays in the menu, greyed out, with the engine's reason in words.
      const reason = a.refused ? (has(`attack.${a.name}.refused`) ? t(`attack.${a.name}.refused`) : a.refused) : '';
      const label = a.refused
        ? t('attack.refusedOption', { name: t(`attack.${a.name}.name`), reason })
        : t('attack.option', { name: t(`attack.${a.name}.name`), desc: t(`attack.${a.name}.short`) });
      const o = new Option(label, a.name);
      o.title = a.refused ? reason : t(`attack.${a.name}.desc`);
      o.disabled = !!a.refused;
      return o;
    }),
  );
  if (current) select.value = current;
}

export function fillNormSelect(select, norms, current) {
  select.replaceChildren(...norms.map((n) => new Option(t(`norm.${n}`), n)));
  select.value = norms.includes(current) ? current : norms[0];
}

export function fillTargetSelect(select, names, current) {
  const opts = [new Option(t('target.none'), '-1')];
  names.forEach((n, i) => opts.push(new Option(t('target.class', { label: n }), String(i))));
  select.replaceChildren(...opts);
  select.value = String(current);
}

/**
 * runAttack's parameters: what the user chose and nothing else, as JSON. The engine fills in the rest for the
 * model's input shape (steps, the L2 step rule, budgets), exactly as `advlab attack --eta E --norm N --seed S`.
 * `info` is the attack's catalog entry: an attack with a `fixed_eta` (one-pixel) does not take the slider's η,
 * and `budget` ({pixels: 3}) sets its budget knob (catalog `budget.param`) when the user chose one.
 */
export function attackParams({ eta, norm, seed, info = null, budget = null }) {
  const p = info?.fixed_eta !== undefined && info?.fixed_eta !== null ? { norm, seed } : { eta, norm, seed };
  const knob = info?.budget?.param;
  if (knob && budget && Number.isInteger(budget[knob])) p[knob] = budget[knob];
  return JSON.stringify(p);
}

// ---------------------------------------------------------------- the budget control
// The pixel count k of the one-pixel attack (the catalog's `budget` of param "pixels", k = min..max), in place of
// the η slider, which that attack does not follow (its catalog entry has a `fixed_eta`: each changed pixel may take
// any value). Shown only while such an attack is chosen; a change re-runs the attack. Placed after `anchor` (the
// attack's description), so the page's layout code only calls mountBudget(lab, anchor) once.

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
    select.value = String(value);
    applyTranslations(root);
  }

  select.addEventListener('change', () => {
    const b = lab.attackInfo()?.budget;
    if (!b) return;
    lab.set({ budget: { ...lab.settings.budget, [b.param]: Number(select.value) } });
    lab.runJob();
  });
  // (The page's language switch re-translates the label and note, data-i18n; "k pixel(s)" reads the same in nl.)
  for (const ev of ['model', 'reset']) lab.addEventListener(ev, render);
  render();
  return root;
}
