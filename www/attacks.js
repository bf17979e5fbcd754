// The attack menu: every attack the engine reports, each with a translated name and a one-line explanation, and the
// parameters the page sends with it.
import { t } from './i18n.js';

/** Used only if the engine cannot list its attacks: FGSM alone, the one the slider needs. */
export const FALLBACK = [{ name: 'fgsm', kind: 'direction', norms: ['linf', 'l2'] }];

export function fillAttackSelect(select, attacks, current) {
  select.replaceChildren(
    ...attacks.map((a) => {
      const o = new Option(t('attack.option', { name: t(`attack.${a.name}.name`), desc: t(`attack.${a.name}.short`) }), a.name);
      o.title = t(`attack.${a.name}.desc`);
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
 * The JSON parameters for runAttack: η, the norm and the seed; everything else keeps the engine's defaults (40
 * steps of 0.01, random start, 10 000 queries, one pixel), so the page's numbers are the CLI's
 * (`advlab attack --eta E --norm N --seed S`). Under L2 a step of 0.01 could not cross a ball of radius 2 in
 * 40 steps, so there the step is 2.5·η/40 (Madry et al.'s rule).
 */
export function attackParams(name, { eta, norm, seed }) {
  const p = { eta, norm, seed };
  if (norm === 'l2') p.step_size = Number(((2.5 * eta) / 40).toFixed(6)) || 0.001;
  return p;
}
