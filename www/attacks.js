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
 * The JSON parameters for runAttack. Iterative attacks take 40 steps of 2.5·η/40 (Madry et al.'s rule, so the
 * walk can cross the whole ball); black-box attacks get a query budget; the pixel attack changes one pixel.
 */
export function attackParams(name, { eta, norm, seed }) {
  const steps = 40;
  return {
    eta,
    norm,
    steps,
    step_size: Number(((2.5 * eta) / steps).toFixed(6)) || 0.001,
    random_start: name === 'pgd',
    max_queries: 10000,
    pixels: 1,
    seed,
  };
}
