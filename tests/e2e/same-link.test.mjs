// Issue 14: one `#…` link, three front ends, one answer. For the same link the full page (index.html), the
// <adversarial-lab> widget (embed.html maps the hash onto one) and the CLI (`advlab attack … --json`) give the same
// clean prediction, the same FGSM flip η and the same adversarial class, under L∞ and under L2. The L2 case pins
// the bug this issue fixed: the L2 step rule lived only in www/attacks.js, so PGD under L2 differed from the CLI;
// now the page sends {eta, norm, seed} and both resolve the rest with AttackParams::resolve.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, openPage, advlab, ROOT } from './helpers.mjs';

let env;
before(async () => {
  env = await launch();
});
after(async () => {
  await env?.close();
});

const index = JSON.parse(fs.readFileSync(`${ROOT}/www/models/index.json`, 'utf8'));
const MODEL = index.models.find((m) => m.id === 'mnist-cnn') ?? index.models[0];
const SEED = 7;

/** What a front end shows: the clean class, the flip η ("none" or a number) and the adversarial class. */
async function readView(page) {
  const read = (testid, attr) => page.locator(`[data-testid="${testid}"]`).first().getAttribute(attr);
  return {
    clean: Number(await read('prediction', 'data-class')),
    flip: await read('flip-eta', 'data-eta'),
    adv: Number(await read('adv-prediction', 'data-class')),
  };
}

/** The page (index.html) for a hash, once the flip point and the adversarial answer (job included) are in. */
async function onPage(hash, { job }) {
  const page = await openPage(env, { hash });
  try {
    await page.waitForSelector('[data-testid="flip-eta"][data-eta]', { timeout: 30000 });
    if (job) await page.waitForFunction(() => globalThis.advlab.R.adv?.steps !== undefined, null, { timeout: 60000 });
    await page.waitForSelector('[data-testid="adv-prediction"][data-class]', { timeout: 30000 });
    const v = await readView(page);
    v.l2 = await page.evaluate(() => globalThis.advlab.R.adv.l2);
    return v;
  } finally {
    await page.context().close();
  }
}

/** The widget (embed.html) for the same hash. */
async function onWidget(hash) {
  const page = await openPage(env, { path: 'embed.html', hash });
  try {
    await page.waitForSelector('adversarial-lab[data-ready="true"]', { timeout: 60000 });
    await page.locator('[data-testid="flip-eta"][data-eta]').waitFor({ timeout: 30000 });
    await page.locator('[data-testid="adv-prediction"][data-class]').waitFor({ timeout: 60000 });
    return await readView(page);
  } finally {
    await page.context().close();
  }
}

/** The CLI for the same settings; the flip search ends where the page's does (min(1, the slider's end)). */
async function onCli({ attack, norm, eta, sample }) {
  const maxEta = norm === 'l2' ? 1 : 0.5;
  const args = ['attack', '--model', `www/models/${MODEL.file}`, '--sample', String(sample), '--attack', attack, '--eta', String(eta)];
  args.push('--norm', norm, '--seed', String(SEED), '--max-eta', String(maxEta), '--json');
  const out = JSON.parse(await advlab(args));
  return { clean: out.pred_before, flip: out.flip_eta, adv: out.pred_after, l2: out.l2, linf: out.linf };
}

const sameFlip = (view, cli, what) => {
  if (cli === null || cli === undefined) assert.equal(view, 'none', `${what}: no flip in the CLI`);
  else assert.ok(Math.abs(Number(view) - cli) <= 0.001 + 1e-9, `${what}: ${view} vs the CLI's ${cli}`);
};

// Test images whose FGSM flip point lies inside the page's search range in each norm (L∞: up to 0.5; L2: up to 1).
for (const [norm, eta, sample] of [
  ['linf', 0.2, 42],
  ['l2', 3, 18],
]) {
  test(`one link, page = widget = CLI under ${norm}: prediction, FGSM flip η, and the FGSM and PGD adversarial classes`, async (t) => {
    const base = `model=${MODEL.id}&sample=${sample}&seed=${SEED}&eta=${eta}${norm === 'l2' ? '&norm=l2' : ''}`;
    // FGSM: the flip η is the direction's; its adversarial class is one forward pass at η.
    const fgsmHash = `${base}&attack=fgsm`;
    const [page, widget, cli] = [await onPage(fgsmHash, { job: false }), await onWidget(fgsmHash), await onCli({ attack: 'fgsm', norm, eta, sample })];
    t.diagnostic(`fgsm ${norm} η=${eta}: page ${JSON.stringify(page)}, widget ${JSON.stringify(widget)}, CLI ${JSON.stringify(cli)}`);
    assert.notEqual(cli.flip, null, `test image ${sample} flips under ${norm} within the search range`);
    for (const [name, v] of [['page', page], ['widget', widget]]) {
      assert.equal(v.clean, cli.clean, `${name}: clean class`);
      sameFlip(v.flip, cli.flip, `${name}: flip η`);
      assert.equal(v.adv, cli.adv, `${name}: FGSM adversarial class at η = ${eta}`);
    }
    // PGD: an iterative job whose step size the engine derives from η and the norm (2.5·η/40 under L2).
    const pgdHash = `${base}&attack=pgd`;
    const [pPage, pWidget, pCli] = [await onPage(pgdHash, { job: true }), await onWidget(pgdHash), await onCli({ attack: 'pgd', norm, eta, sample })];
    t.diagnostic(`pgd ${norm} η=${eta}: page ${JSON.stringify(pPage)}, widget ${JSON.stringify(pWidget)}, CLI ${JSON.stringify(pCli)}`);
    for (const [name, v] of [['page', pPage], ['widget', pWidget]]) {
      assert.equal(v.clean, pCli.clean, `${name}: clean class`);
      assert.equal(v.adv, pCli.adv, `${name}: PGD adversarial class at η = ${eta}`);
    }
    // The same parameters give the same perturbation: its L2 length agrees (the step rule is the engine's alone).
    assert.ok(Math.abs(pPage.l2 - pCli.l2) <= 1e-3 * Math.max(1, pCli.l2), `PGD ‖δ‖₂: page ${pPage.l2}, CLI ${pCli.l2}`);
  });
}
