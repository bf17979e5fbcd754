// Classroom and sharing tools of the full page (index.html):
// - "Present": large type, high contrast, the lab filling the projector (hash `present=1`);
// - the teacher's panel: tick the controls the class should see → a link `#…&controls=eta,attack&present=1`. The
//   `controls` list hides exactly the controls it does not name, with the same names and meaning as the
//   <adversarial-lab controls="…"> attribute (CONTROLS below adds the page-only ones: norm, draw, upload, share);
// - the teacher's panel's lesson preset: the link as the page is now, or a fresh digit lesson, or a photo lesson
//   (the ImageNet model, a sample photo, FGSM from η = 0; or PGD towards "airliner"), so a link opens in photo mode;
// - "Step by step": draw → predict → add noise → flip → why linear → defences, each step pointing at its part of
//   the page; the last two link the lessons (#lesson=linear, #lesson=defences). With the photo model loaded (or
//   the teacher's pick of the guide's Photos path, which loads it) the photo path: take a photo → predict (dog,
//   pig or neither) → add noise → flip → why so little noise (η·m·n over 150 528 numbers, #lesson=scale);
// - "Embed": the iframe snippet and the web-component snippet for the current state;
// - figure export (figure.js): the view as a 2× PNG and the curve as SVG, captioned.
import { t, applyTranslations } from './i18n.js';
import { CONTROL_KEYS, FIRST_VIEW, STATE, etaString, parseHash, snippetAttributes } from './state.js';
import { exportPng, exportSvg } from './figure.js';
import { LESSONS } from './lessons/router.js';

/**
 * The parts of index.html each control a classroom link may name stands for: the state keys that are controls
 * (state.js's table, CONTROL_KEYS) and three page-only parts (draw, upload, share).
 */
export const PAGE_CONTROLS = {
  model: ['#model-select'],
  lang: ['#lang-select'],
  attack: ['#attack-select', '#attack-desc'],
  target: ['#target-select', '.target-search'],
  norm: ['#norm-select'],
  eta: ['.eta-block'],
  sample: ['#sample-button', '#gallery', '#photo-gallery'],
  draw: ['.drop-zone', '.brush', '#clear-button', '#draw-hint'],
  upload: ['.file-button', '#invert-select', '[data-i18n="input.dropHint"]', '#input-note', '#camera-button', '#camera-row', '#photo-hint'],
  share: ['.actions', '#share-status'],
};
export const CONTROL_NAMES = [...CONTROL_KEYS, ...Object.keys(PAGE_CONTROLS).filter((k) => !CONTROL_KEYS.includes(k))];
const controlLabel = (name) => STATE.find((r) => r.key === name)?.label ?? `control.${name}`;

/** The photo model (www/models/index.json) and ImageNet's class 404, "airliner". */
export const PHOTO_MODEL = 'imagenet-efficientnet-lite0';
export const AIRLINER = 404;

/**
 * The teacher panel's lesson presets: the link keys each one sets (null: drop the key), or null for the page as it
 * is now. The photo lesson starts at η = 0 on a sample photo, so the class adds the noise itself; the
 * airliner lesson uses PGD, which reaches "airliner" within 2/255 where FGSM does not.
 */
export const PRESETS = {
  current: null,
  digits: { model: 'mnist-cnn', attack: 'fgsm', eta: '0.1', sample: String(FIRST_VIEW.sample), target: null, norm: null },
  // Sample photo 3, the cameraman: 94 % "tripod", and "harmonica" from 0.2/255 on.
  photo: { model: PHOTO_MODEL, attack: 'fgsm', eta: '0', sample: '3', target: null, norm: null },
  airliner: { model: PHOTO_MODEL, attack: 'pgd', eta: etaString(2 / 255), sample: '0', target: String(AIRLINER), norm: null },
};

/** The guide's two paths: each step's i18n key (`step.<key>.title|text|more|link`), what it highlights, its lesson. */
export const STEPS = {
  digits: [
    { key: 'draw', focus: ['.input-card'] },
    { key: 'predict', focus: ['#prediction'] },
    { key: 'noise', focus: ['.eta-block'] },
    { key: 'flip', focus: ['.flip-card'] },
    { key: 'linear', focus: ['.flip-card'], lesson: 'linear' },
    { key: 'defences', focus: [], lesson: 'defences' },
  ],
  photo: [
    { key: 'photoTake', focus: ['.input-card'] },
    { key: 'photoPredict', focus: ['#group-verdict', '#prediction'] },
    { key: 'photoNoise', focus: ['.eta-block'] },
    { key: 'photoFlip', focus: ['.slider-wrap', '#adv-prediction'] },
    { key: 'photoWhy', focus: ['#flip-eta'], more: true, lesson: 'scale' },
  ],
};
const pageMode = () => (document.body.dataset.mode === 'photo' ? 'photo' : 'digits');

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'i18n') el.dataset.i18n = v;
    else if (v !== null && v !== undefined) el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

/** The element that a selector's control lives in: a select's label (.field), else the element itself. */
function holder(sel) {
  const el = document.querySelector(sel);
  if (!el) return null;
  return el.matches('select') ? el.closest('.field') || el : el;
}

/** Tags each control's parts with data-control once. */
function tagControls() {
  for (const [name, sels] of Object.entries(PAGE_CONTROLS)) {
    for (const sel of sels) {
      const el = holder(sel);
      if (el) el.dataset.control = name;
    }
  }
}

/** Shows exactly the controls that `list` names (a comma list or null for all). */
export function applyControls(list) {
  const show = list === null || list === undefined ? null : new Set(String(list).split(',').filter(Boolean));
  for (const el of document.querySelectorAll('[data-control]')) {
    el.classList.toggle('control-off', show !== null && !show.has(el.dataset.control));
  }
  // The input card with none of its controls left (a projected lesson on one test image) steps aside entirely.
  const input = document.querySelector('.input-card');
  const anyInput = show === null || ['draw', 'upload', 'sample'].some((c) => show.has(c));
  if (input) input.classList.toggle('control-off', !anyInput);
  // In photo mode the drop zone holds the photo and the camera's preview, not a drawing pad: it stays with the
  // input card whenever a photo can be chosen (upload, camera or sample photos).
  const zone = document.querySelector('.drop-zone');
  if (zone && pageMode() === 'photo') zone.classList.toggle('control-off', !anyInput);
}

/**
 * What a state shows: present mode shows the panels, the verdict, the slider and the flip chart and nothing else
 * (of the controls, only those the link names, or the slider alone); a classroom link (one naming its
 * `controls`) hides the teacher's chrome (the toolbar, the lesson links, the teacher panel and the guide) unless
 * it carries teacher=1.
 */
export function applyView(S) {
  const classroom = S.controls !== null && S.controls !== undefined && !S.teacher;
  document.body.classList.toggle('classroom', classroom);
  applyControls(S.controls ?? (S.present ? 'eta' : null));
  setPresent(S.present);
}

export function setPresent(on) {
  document.body.classList.toggle('present', !!on);
  const b = $('present-button');
  if (b) {
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.dataset.i18n = on ? 'classroom.presentOff' : 'classroom.present';
    b.textContent = t(b.dataset.i18n);
  }
}

/** The page's base URL (the folder holding index.html and embed.html). */
function baseUrl() {
  return new URL('./', location.href.split('#')[0]).href;
}

/** The width at which the Embed dialog measures the widget: a typical article column. */
export const EMBED_WIDTH = 700;

/**
 * The height of embed.html for `hash` at `width` CSS pixels: loaded in an invisible same-origin iframe until the
 * widget is ready, then its document's height. null when it cannot be measured (the snippet keeps its guess).
 */
export async function measureEmbed(hash, width = EMBED_WIDTH) {
  const f = document.createElement('iframe');
  f.className = 'embed-measure';
  f.width = width;
  f.tabIndex = -1;
  f.ariaHidden = 'true';
  f.src = `${baseUrl()}embed.html${hash}`;
  document.body.append(f);
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  let h = null;
  for (let i = 0; i < 300 && h === null; i++) {
    await wait(100);
    if (f.contentDocument?.body?.dataset.ready === 'true') {
      await wait(150); // the widget's first render after its answer
      h = Math.ceil(f.contentDocument.documentElement.scrollHeight) + 4;
    }
  }
  f.remove();
  return h;
}

/** The iframe snippet and the web-component snippet for a state; `height`: the widget's measured height. */
export function snippets(S, height = 900) {
  const hash = location.hash || '';
  const iframe = `<iframe src="${baseUrl()}embed.html${hash}" title="Adversarial Lab" width="100%" height="${height}" frameborder="0" style="border:0;max-width:${EMBED_WIDTH}px" loading="lazy"></iframe>`;
  const attrs = snippetAttributes(S)
    .map(([k, v]) => ` ${k}="${String(v).replace(/"/g, '&quot;')}"`)
    .join('');
  const component = `<script type="module" src="${baseUrl()}www/adversarial-lab.js"></script>\n<adversarial-lab${attrs}></adversarial-lab>`;
  return { iframe, component };
}

function status(el, key) {
  el.dataset.i18n = key;
  el.textContent = t(key);
}

async function copy(text, statusEl) {
  try {
    await navigator.clipboard.writeText(text);
    status(statusEl, 'embed.copied');
  } catch {
    statusEl.textContent = '';
  }
}

/** Wires everything; `S` is the page state (app.js), `save()` writes it into the hash. */
export function initClassroom({ S, save, figureState }) {
  tagControls();
  // The toolbar is in index.html, so nothing moves when this runs (Lighthouse's layout shift).
  const bar = document.querySelector('.classroom-bar');
  const present = $('present-button');
  const teacher = $('teacher-button');
  const steps = $('steps-button');
  const embed = $('embed-button');

  // Teacher panel: one checkbox per control, the link, a copy button.
  const boxes = CONTROL_NAMES.map((name) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', value: name, 'data-testid': `control-${name}` }), ' ', h('span', { i18n: controlLabel(name) })),
  );
  const preset = h(
    'select',
    { id: 'classroom-preset', 'data-testid': 'classroom-preset', 'aria-describedby': 'classroom-preset-note' },
    ...Object.keys(PRESETS).map((k) => h('option', { value: k, i18n: `classroom.preset.${k}` })),
  );
  const presetNote = h('p', { class: 'hint small preset-note', id: 'classroom-preset-note', i18n: 'classroom.presetPhotoNote', hidden: '' });
  const presentBox = h('input', { type: 'checkbox', id: 'teacher-present', 'data-testid': 'teacher-present' });
  const link = h('input', { type: 'text', readonly: '', class: 'link', id: 'classroom-link', 'data-testid': 'classroom-link', 'aria-labelledby': 'teacher-title' });
  const linkStatus = h('span', { class: 'small', 'aria-live': 'polite' });
  const copyLink = h('button', { type: 'button', class: 'secondary small', i18n: 'classroom.copy' });
  const panel = h(
    'section',
    { class: 'card teacher-panel', id: 'teacher-panel', hidden: '', 'aria-labelledby': 'teacher-title' },
    h('h2', { id: 'teacher-title', i18n: 'classroom.title' }),
    h('label', { class: 'field preset' }, h('span', { i18n: 'classroom.preset' }), preset),
    presetNote,
    h('p', { class: 'hint small', i18n: 'classroom.help' }),
    h('div', { class: 'checks' }, ...boxes),
    h('label', { class: 'check' }, presentBox, ' ', h('span', { i18n: 'classroom.presentLink' })),
    h('div', { class: 'row' }, link, copyLink, linkStatus),
    h('p', { class: 'hint small', i18n: 'classroom.teacherHint' }),
  );
  document.querySelector('.notices')?.after(panel);

  const classroomLink = () => {
    const chosen = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    const q = new URLSearchParams(location.hash.replace(/^#/, ''));
    for (const [k, v] of Object.entries(PRESETS[preset.value] ?? {})) {
      if (v === null) q.delete(k);
      else q.set(k, v);
    }
    if (PRESETS[preset.value]) q.delete('lesson');
    q.set('controls', chosen.join(','));
    if (presentBox.checked) q.set('present', '1');
    else q.delete('present');
    q.delete('teacher');
    return `${location.href.split('#')[0]}#${q.toString().replace(/%2C/g, ',')}`;
  };
  const refreshLink = () => {
    link.value = classroomLink();
    presetNote.hidden = PRESETS[preset.value]?.model !== PHOTO_MODEL;
  };
  const fillBoxes = () => {
    const show = S.controls === null || S.controls === undefined ? null : S.controls.split(',');
    for (const b of boxes) {
      const i = b.querySelector('input');
      i.checked = show === null || show.includes(i.value);
    }
    presentBox.checked = !!S.present;
    preset.value = 'current';
    refreshLink();
  };
  panel.addEventListener('change', refreshLink);
  copyLink.addEventListener('click', () => copy(link.value, linkStatus));
  teacher.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    teacher.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) {
      fillBoxes();
      panel.querySelector('input')?.focus();
    }
  });

  present.addEventListener('click', () => {
    S.present = !S.present;
    applyView(S);
    save();
    if (S.present) document.documentElement.requestFullscreen?.().catch(() => {});
    else if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
  });

  // Step by step.
  let step = 0;
  let path = pageMode();
  const stepTitle = h('h2', { id: 'step-title' });
  const stepText = h('p', { class: 'step-text', 'data-testid': 'step-text' });
  const stepMore = h('p', { class: 'step-more', 'data-testid': 'step-more' });
  const stepCount = h('p', { class: 'small step-count' });
  const stepLink = h('a', { class: 'lesson-link', href: '#lesson=linear' });
  const pathButton = (p) => h('button', { type: 'button', class: 'secondary small', 'data-path': p, 'data-testid': `steps-path-${p}`, 'aria-pressed': 'false', i18n: `classroom.path.${p}` });
  const pathButtons = { digits: pathButton('digits'), photo: pathButton('photo') };
  const back = h('button', { type: 'button', class: 'secondary', i18n: 'classroom.prev' });
  const next = h('button', { type: 'button', i18n: 'classroom.next' });
  const close = h('button', { type: 'button', class: 'secondary', i18n: 'classroom.close' });
  const guide = h(
    'aside',
    { class: 'card step-guide', id: 'step-guide', 'data-testid': 'step-guide', hidden: '', 'aria-labelledby': 'step-title', 'aria-live': 'polite' },
    h(
      'div',
      { class: 'row step-head' },
      stepCount,
      h('div', { class: 'step-paths', role: 'group', 'aria-labelledby': 'step-path-label' }, h('span', { class: 'small', id: 'step-path-label', i18n: 'classroom.path' }), pathButtons.digits, pathButtons.photo),
    ),
    stepTitle,
    stepText,
    stepMore,
    stepLink,
    h('div', { class: 'row' }, back, next, close),
  );
  document.querySelector('.notices')?.after(guide);
  const unfocus = () => {
    for (const el of document.querySelectorAll('.step-focus')) el.classList.remove('step-focus');
  };
  // The guide stays at the top of the window while the page scrolls to each step's part: keep that part clear of it.
  const clearance = () => {
    document.documentElement.style.scrollPaddingTop = guide.hidden ? '' : `${Math.ceil(guide.getBoundingClientRect().height) + 16}px`;
  };
  const showStep = () => {
    const list = STEPS[path];
    step = Math.min(step, list.length - 1);
    const s = list[step];
    guide.dataset.path = path;
    guide.dataset.step = s.key;
    for (const [p, b] of Object.entries(pathButtons)) b.setAttribute('aria-pressed', String(p === path));
    stepCount.textContent = t('classroom.stepOf', { n: step + 1, total: list.length });
    stepTitle.textContent = t(`step.${s.key}.title`);
    stepText.textContent = t(`step.${s.key}.text`);
    stepMore.hidden = !s.more;
    if (s.more) stepMore.textContent = t(`step.${s.key}.more`);
    stepLink.hidden = !s.lesson;
    if (s.lesson) {
      stepLink.href = `#lesson=${s.lesson}`;
      stepLink.dataset.lesson = s.lesson;
      stepLink.textContent = t(`step.${s.key}.link`);
    }
    back.disabled = step === 0;
    next.disabled = step === list.length - 1;
    unfocus();
    // Only the parts that are on screen (the photo path's parts show once the photo model is in).
    const targets = s.focus.map((sel) => document.querySelector(sel)).filter((el) => el?.checkVisibility?.() ?? !!el);
    for (const el of targets) el.classList.add('step-focus');
    clearance();
    // Already all in view below the guide: stay; else the first part comes up under the guide.
    const top = guide.checkVisibility() ? guide.getBoundingClientRect().bottom : 0;
    const inView = targets.every((el) => {
      const r = el.getBoundingClientRect();
      return r.top >= top && r.bottom <= innerHeight;
    });
    if (!inView) targets[0]?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  };
  // A language switch (app.js re-translates data-i18n elements and sets <html lang>): redo the texts set here.
  new MutationObserver(() => {
    if (!guide.hidden) showStep();
    setPresent(document.body.classList.contains('present'));
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  // Digits ↔ photos (the model menu, a link, the guide's own path buttons): the guide follows the page, from its
  // first step when the path changes; the controls a classroom link hides follow too (the photo's drop zone).
  new MutationObserver(() => {
    applyControls(S.controls ?? (S.present ? 'eta' : null));
    const mode = pageMode();
    if (mode === path && !guide.hidden) return showStep(); // the photo path's parts have just appeared
    if (mode === path) return;
    path = mode;
    step = 0;
    if (!guide.hidden) showStep();
  }).observe(document.body, { attributes: true, attributeFilter: ['data-mode'] });
  for (const [p, b] of Object.entries(pathButtons)) {
    b.addEventListener('click', () => {
      if (p === path) return;
      path = p;
      step = 0;
      showStep();
      // The other path needs the other kind of model: load the lesson preset's one (the photo model shows its
      // download progress), keeping the language and the link's classroom keys.
      if (pageMode() !== p) {
        const q = new URLSearchParams(location.hash.replace(/^#/, ''));
        for (const [k, v] of Object.entries(PRESETS[p])) {
          if (v === null) q.delete(k);
          else q.set(k, v);
        }
        location.hash = q.toString().replace(/%2C/g, ',');
      }
    });
  }
  // A step's lesson link keeps the lab's state in the hash beside the lesson (as the lesson menu does), and the
  // lesson's card comes into view.
  stepLink.addEventListener('click', () => {
    const name = stepLink.dataset.lesson;
    if (LESSONS[name] !== 'inline') return; // a page lesson (defences) takes the whole page and the hash
    const q = new URLSearchParams(location.hash.replace(/^#/, ''));
    q.set('lesson', name);
    stepLink.href = `#${q.toString().replace(/%2C/g, ',')}`;
    setTimeout(() => {
      stepLink.href = `#lesson=${name}`;
      document.getElementById(`lesson-${name}`)?.scrollIntoView({ block: 'start' });
    }, 120);
  });
  steps.addEventListener('click', () => {
    guide.hidden = !guide.hidden;
    if (!guide.hidden) {
      step = 0;
      path = pageMode();
      showStep();
      next.focus();
    } else {
      unfocus();
      clearance();
    }
  });
  back.addEventListener('click', () => {
    step = Math.max(0, step - 1);
    showStep();
  });
  next.addEventListener('click', () => {
    step = Math.min(STEPS[path].length - 1, step + 1);
    showStep();
  });
  close.addEventListener('click', () => {
    guide.hidden = true;
    unfocus();
    clearance();
    steps.focus();
  });

  // Embed dialog.
  const iframeBox = h('textarea', { readonly: '', rows: '3', 'data-testid': 'embed-iframe', 'aria-labelledby': 'embed-iframe-label' });
  const compBox = h('textarea', { readonly: '', rows: '3', 'data-testid': 'embed-component', 'aria-labelledby': 'embed-component-label' });
  const embedStatus = h('span', { class: 'small', 'aria-live': 'polite' });
  const copyIframe = h('button', { type: 'button', class: 'secondary small', i18n: 'embed.copy' });
  const copyComp = h('button', { type: 'button', class: 'secondary small', i18n: 'embed.copy' });
  const closeEmbed = h('button', { type: 'button', class: 'secondary', i18n: 'embed.close' });
  const dialog = h(
    'dialog',
    { class: 'embed-dialog', 'data-testid': 'embed-dialog', 'aria-labelledby': 'embed-title' },
    h('h2', { id: 'embed-title', i18n: 'embed.title' }),
    h('p', { id: 'embed-iframe-label', i18n: 'embed.iframe' }),
    h('p', { class: 'hint small', i18n: 'embed.iframeHelp' }),
    iframeBox,
    copyIframe,
    h('p', { id: 'embed-component-label', i18n: 'embed.component' }),
    h('p', { class: 'hint small', i18n: 'embed.componentHelp' }),
    compBox,
    copyComp,
    h('div', { class: 'row' }, closeEmbed, embedStatus),
  );
  document.body.append(dialog);
  // Each box as tall as its text, so no line is cut.
  const fit = (box) => {
    box.style.height = 'auto';
    box.style.height = `${box.scrollHeight + 4}px`;
  };
  let measuring = 0;
  embed.addEventListener('click', async () => {
    save();
    const fill = (height) => {
      const s = snippets(S, height);
      iframeBox.value = s.iframe;
      compBox.value = s.component;
      fit(iframeBox);
      fit(compBox);
    };
    fill(undefined);
    delete dialog.dataset.measured;
    embedStatus.textContent = '';
    dialog.showModal();
    fit(iframeBox);
    fit(compBox);
    const run = ++measuring;
    status(embedStatus, 'embed.measuring');
    const height = await measureEmbed(location.hash || '');
    if (run !== measuring) return;
    if (height) fill(height);
    dialog.dataset.measured = height ? String(height) : 'failed';
    embedStatus.textContent = '';
  });
  copyIframe.addEventListener('click', () => copy(iframeBox.value, embedStatus));
  copyComp.addEventListener('click', () => copy(compBox.value, embedStatus));
  closeEmbed.addEventListener('click', () => dialog.close());

  // Figure export, next to Copy link / Download.
  const pngButton = $('figure-png'); // in index.html, as the toolbar
  const svgButton = $('figure-svg');
  pngButton.addEventListener('click', async () => {
    save();
    const card = document.querySelector('.panels-card');
    const size = await exportPng(card, figureState());
    document.body.dataset.figure = `${size.width}x${size.height}`;
  });
  svgButton.addEventListener('click', () => {
    save();
    exportSvg($('curve'), figureState());
  });

  applyTranslations(bar);
  applyTranslations(panel);
  applyTranslations(guide);
  applyTranslations(dialog);
  applyTranslations(document.querySelector('.actions') || bar);
  applyView(S);

  // A link typed or pasted by hand: app.js applies the rest of the state.
  window.addEventListener('hashchange', () => {
    const { state } = parseHash(location.hash);
    S.controls = state.controls;
    S.present = state.present;
    S.teacher = state.teacher;
    applyView(S);
  });
}
