// The attack, norm and goal menus. The attacks are the engine's catalog for the loaded model (the Session's
// attackCatalog: name, kind, norms, caps, budget, refusal), each with a translated name and a one-line explanation.
// No engine rule lives here: the page sends only what the user chose ({eta, norm, seed}) and the engine resolves
// the rest (AttackParams::resolve, the same entry point as `advlab attack`).
import { t } from './i18n.js';

export function fillAttackSelect(select, attacks, current) {
  select.replaceChildren(
    ...attacks.map((a) => {
      const o = new Option(t('attack.option', { name: t(`attack.${a.name}.name`), desc: t(`attack.${a.name}.short`) }), a.name);
      o.title = a.refused ? a.refused : t(`attack.${a.name}.desc`);
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
