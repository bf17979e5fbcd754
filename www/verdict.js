// The article's three-way question, "dog / pig / not a dog or a pig", answered from the photo engine's class groups
// (Prediction.group and Prediction.groups, computed in Rust from the ImageNet class ranges). One renderer for the
// page (view.js) and the widget (adversarial-lab.js): data-group for the clean photo, data-adv-group once there is
// noise, and the adversarial answer marked when it changed.
import { t, formatPercent } from './i18n.js';

/** The top class's group ('dog' | 'pig' | 'other') and that group's probability. */
export function groupOf(pred) {
  const name = pred?.group || 'other';
  const p = pred?.groups?.find((g) => g.name === name)?.probability;
  return { name, p };
}

/**
 * Writes the verdict into `el`: the question alone while there is no prediction, then "before: dog (93 %)", and
 * with an adversarial prediction at η > 0 "→ after: not a dog or a pig (71 %)".
 */
export function renderVerdict(el, clean, adv) {
  if (!clean) {
    delete el.dataset.group;
    delete el.dataset.advGroup;
    el.textContent = t('group.question');
    return;
  }
  const say = (g) => {
    const b = document.createElement('strong');
    b.textContent = t(`group.${g.name}`) + (typeof g.p === 'number' ? ` (${formatPercent(g.p)})` : '');
    return b;
  };
  const before = groupOf(clean);
  el.dataset.group = before.name;
  const parts = [document.createTextNode(t('group.question') + ' ' + t('group.before') + ' '), say(before)];
  const a = adv?.prediction;
  if (a && (adv.linf ?? 0) > 0) {
    const after = groupOf(a);
    el.dataset.advGroup = after.name;
    const s = say(after);
    if (after.name !== before.name) s.classList.add('flipped');
    parts.push(document.createTextNode(' → ' + t('group.after') + ' '), s);
  } else delete el.dataset.advGroup;
  el.replaceChildren(...parts);
}
